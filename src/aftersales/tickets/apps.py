from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "aftersales.tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from aftersales.core.events import subscribe
        from aftersales.customers.events import CustomerTierChanged

        from .services import tickets_follow_customer_tier

        def follow(event: CustomerTierChanged) -> None:
            tickets_follow_customer_tier(customer_id=event.customer.pk, tier=event.to_tier, actor=event.actor)

        subscribe(CustomerTierChanged, follow)
