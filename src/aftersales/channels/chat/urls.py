"""Chat pages."""

app_name = "chat"
urlpatterns: list = []
