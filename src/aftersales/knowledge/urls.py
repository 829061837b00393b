"""Knowledge base pages: the public help centre, the answer bot, suggestions, reports and the editor."""

from django.urls import include, path

app_name = "knowledge"
urlpatterns: list = [
    path("console/kb/", include("aftersales.knowledge.editor_urls")),
]
