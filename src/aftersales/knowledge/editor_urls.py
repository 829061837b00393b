"""Knowledge base editor pages (KB-CORE)."""

urlpatterns: list = []
