"""E-mail pages."""

from django.urls import path

from . import views

app_name = "mail"
urlpatterns = [
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/<int:inbound_id>/raw/", views.raw_source, name="quarantine-raw"),
    path("quarantine/<int:inbound_id>/reimport/", views.reimport, name="quarantine-reimport"),
    path("quarantine/<int:inbound_id>/discard/", views.discard, name="quarantine-discard"),
]
