from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import ApplicationError, Conflict

from .lifecycle import TicketStatus


class InvalidTransition(ApplicationError):
    code = "invalid_transition"
    status = 409

    def __init__(self, *, from_status: str, to_status: str):
        labels = dict(TicketStatus.choices)
        super().__init__(
            _("A ticket cannot move from “%(from)s” to “%(to)s”.")
            % {"from": labels.get(from_status, from_status), "to": labels.get(to_status, to_status)},
            details={"from_status": from_status, "to_status": to_status},
        )


class StaleTicket(Conflict):
    code = "stale_version"

    def __init__(self, *, number: str, current_version: int | None = None):
        super().__init__(
            _("Ticket %(number)s was changed by someone else; reload it and try again.") % {"number": number},
            details={"number": number, "current_version": current_version},
        )


class TicketClosed(ApplicationError):
    code = "ticket_closed"
    status = 409
    default_message = _("This ticket is closed and can no longer be changed.")
