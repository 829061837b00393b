"""Telephony pages."""

app_name = "phone"
urlpatterns: list = []
