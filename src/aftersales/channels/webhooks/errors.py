"""Why a webhook request is refused: each a stable ``code`` with a message in the caller's language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import ApplicationError, BadRequest, Conflict, NotFound

from .signing import SignatureInvalid, TimestampOutOfRange

__all__ = [
    "DuplicateEvent",
    "DuplicateSignedBody",
    "EventIdMissing",
    "ExternalRefExists",
    "MalformedJson",
    "MethodNotAllowed",
    "SignatureInvalid",
    "TicketNotFound",
    "TimestampOutOfRange",
    "UnknownSource",
]


class UnknownSource(NotFound):
    code = "unknown_source"
    default_message = _("No active webhook source has this key.")


class MethodNotAllowed(ApplicationError):
    code = "method_not_allowed"
    status = 405
    default_message = _("Send events with POST.")


class MalformedJson(BadRequest):
    code = "malformed_json"
    default_message = _("The body is not a JSON object.")


class EventIdMissing(BadRequest):
    code = "event_id_missing"
    default_message = _("Send a unique event id of 1 to 100 printable characters in X-Aftersales-Event-Id.")


class DuplicateEvent(Conflict):
    code = "duplicate_event"
    default_message = _("This event id was already accepted; the event was not processed again.")


class DuplicateSignedBody(Conflict):
    code = "duplicate_signed_body"
    default_message = _(
        "This signed body was already accepted under another event id; it was not processed again."
    )


class ExternalRefExists(Conflict):
    code = "external_ref_exists"
    default_message = _("A ticket with this external id already exists.")


class TicketNotFound(NotFound):
    code = "ticket_not_found"
    default_message = _("No ticket of this source has this reference.")
