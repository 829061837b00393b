"""Every write to tickets goes through these services."""

from .customer_merge import tickets_follow_customer_merge
from .intake import phone_call_log
from .lifecycle import ticket_open, ticket_transition, ticket_update, tickets_follow_customer_tier
from .relations import ticket_link, ticket_merge, ticket_unlink
from .thread import attachment_add, ticket_add_message

__all__ = [
    "attachment_add",
    "phone_call_log",
    "ticket_add_message",
    "ticket_link",
    "ticket_merge",
    "ticket_open",
    "ticket_transition",
    "ticket_unlink",
    "ticket_update",
    "tickets_follow_customer_merge",
    "tickets_follow_customer_tier",
]
