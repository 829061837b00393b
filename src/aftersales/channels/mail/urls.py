"""E-mail pages."""

app_name = "mail"
urlpatterns: list = []
