"""Every write of the mail channel goes through these services."""

from .intake import (
    IntakeResult,
    inbound_accept,
    inbound_discard,
    inbound_ingest,
    inbound_process_next,
    inbound_process_pending,
    inbound_reimport,
)
from .outbound import outbound_due_for_sending, outbound_queue, outbound_send

__all__ = [
    "IntakeResult",
    "inbound_accept",
    "inbound_discard",
    "inbound_ingest",
    "inbound_process_next",
    "inbound_process_pending",
    "inbound_reimport",
    "outbound_queue",
    "outbound_send",
    "outbound_due_for_sending",
]
