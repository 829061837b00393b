"""Knowledge base pages."""

app_name = "knowledge"
urlpatterns: list = []
