from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "aftersales.channels.chat"
    label = "chat"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from .navigation import register_navigation

        register_navigation()
        from aftersales.core.events import subscribe
        from aftersales.customers.events import CustomersMerged

        from .services import conversations_follow_customer_merge

        def follow_merge(event: CustomersMerged) -> None:
            conversations_follow_customer_merge(
                source_id=event.source.pk, target_id=event.target.pk, actor=event.actor
            )

        subscribe(CustomersMerged, follow_merge)
