from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    name = "aftersales.assets"
    label = "assets"
    verbose_name = _("Products and installed base")

    def ready(self) -> None:
        from aftersales.core.events import subscribe
        from aftersales.customers.events import CustomersMerged

        from .services import installed_products_follow_customer_merge

        def follow_merge(event: CustomersMerged) -> None:
            installed_products_follow_customer_merge(
                source_id=event.source.pk, target_id=event.target.pk, actor=event.actor
            )

        subscribe(CustomersMerged, follow_merge)
