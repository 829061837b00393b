"""Every write to tickets goes through these services."""

from .bulk import BulkOutcome, BulkRequest, tickets_bulk_apply
from .customer_merge import tickets_follow_customer_merge
from .intake import phone_call_log
from .lifecycle import ticket_open, ticket_transition, ticket_update, tickets_follow_customer_tier
from .relations import ticket_link, ticket_merge, ticket_unlink
from .saved_views import saved_view_delete, saved_view_save
from .thread import attachment_add, ticket_add_message

__all__ = [
    "BulkOutcome",
    "BulkRequest",
    "attachment_add",
    "phone_call_log",
    "saved_view_delete",
    "saved_view_save",
    "ticket_add_message",
    "ticket_link",
    "ticket_merge",
    "ticket_open",
    "ticket_transition",
    "ticket_unlink",
    "ticket_update",
    "tickets_follow_customer_merge",
    "tickets_bulk_apply",
    "tickets_follow_customer_tier",
]
