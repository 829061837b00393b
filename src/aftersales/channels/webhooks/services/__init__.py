"""Every write of the webhooks app."""

from .inbound import InboundResult, inbound_delivery_refuse, inbound_receive
from .outbound import (
    webhook_deliveries_due,
    webhook_deliveries_for_event,
    webhook_delivery_attempt,
    webhook_delivery_retry_now,
)

__all__ = [
    "InboundResult",
    "inbound_delivery_refuse",
    "inbound_receive",
    "webhook_deliveries_due",
    "webhook_deliveries_for_event",
    "webhook_delivery_attempt",
    "webhook_delivery_retry_now",
]
