from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PhoneConfig(AppConfig):
    name = "aftersales.channels.phone"
    label = "phone"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        from aftersales.core.events import subscribe
        from aftersales.customers.events import CustomersMerged

        from .services import call_records_follow_customer_merge

        def follow_merge(event: CustomersMerged) -> None:
            call_records_follow_customer_merge(
                source_id=event.source.pk, target_id=event.target.pk, actor=event.actor
            )

        subscribe(CustomersMerged, follow_merge)
