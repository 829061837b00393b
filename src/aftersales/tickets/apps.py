from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "aftersales.tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from aftersales.core.events import subscribe
        from aftersales.customers.events import CustomersMerged, CustomerTierChanged

        from .services import tickets_follow_customer_merge, tickets_follow_customer_tier

        def follow(event: CustomerTierChanged) -> None:
            tickets_follow_customer_tier(customer_id=event.customer.pk, tier=event.to_tier, actor=event.actor)

        subscribe(CustomerTierChanged, follow)

        def follow_merge(event: CustomersMerged) -> None:
            tickets_follow_customer_merge(
                source_id=event.source.pk, target_id=event.target.pk, actor=event.actor
            )

        subscribe(CustomersMerged, follow_merge)
