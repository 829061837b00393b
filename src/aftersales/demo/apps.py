from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo company: a top-layer app, since it writes customers, products and tickets."""

    name = "aftersales.demo"
    label = "demo"
    verbose_name = _("Demo company")
