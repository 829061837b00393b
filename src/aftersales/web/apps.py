from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "aftersales.web"
    label = "web"
    verbose_name = _("Console and portal")

    def ready(self) -> None:
        from .navigation import register_navigation

        register_navigation()
