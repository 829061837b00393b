from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "aftersales.channels.mail"
    label = "mail"
    verbose_name = _("E-mail")

    def ready(self) -> None:
        from .navigation import register_navigation

        register_navigation()
        from .handlers import register

        register()
