"""The JSON an inbound source sends, one schema per event type (unknown fields are errors)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, model_validator

from aftersales.core.text import clean_text
from aftersales.tickets.models import TicketType

_Clean = AfterValidator(clean_text)
Short = Annotated[str, StringConstraints(max_length=100, strip_whitespace=True), _Clean]
OpenId = Annotated[str, StringConstraints(max_length=64, strip_whitespace=True), _Clean]
PhoneText = Annotated[str, StringConstraints(max_length=32, strip_whitespace=True), _Clean]
EmailText = Annotated[str, StringConstraints(max_length=254, strip_whitespace=True), _Clean]
Name = Annotated[str, StringConstraints(max_length=120, strip_whitespace=True), _Clean]
Subject = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), _Clean]
LongText = Annotated[str, StringConstraints(max_length=20_000, strip_whitespace=True), _Clean]
Body = Annotated[str, StringConstraints(min_length=1, max_length=20_000, strip_whitespace=True), _Clean]
Number = Annotated[str, StringConstraints(max_length=20, strip_whitespace=True), _Clean]
Note = Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True), _Clean]
Serial = Annotated[str, StringConstraints(max_length=64, strip_whitespace=True), _Clean]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerIdentity(_Strict):
    wechat_openid: OpenId = ""
    phone: PhoneText = ""
    email: EmailText = ""
    name: Name = ""

    @model_validator(mode="after")
    def _one_identifier(self) -> CustomerIdentity:
        if not (self.wechat_openid or self.phone or self.email):
            raise ValueError("give at least one of wechat_openid, phone, email")
        if self.email and ("@" not in self.email or " " in self.email):
            raise ValueError("email is not an e-mail address")
        return self


class TicketCreate(_Strict):
    external_id: Short = ""
    customer: CustomerIdentity
    subject: Subject
    description: LongText = ""
    type: Literal[tuple(TicketType.values)] = TicketType.CONSULTATION  # type: ignore[valid-type]
    serial_number: Serial = ""


class _TicketRef(_Strict):
    external_id: Short = ""
    ticket_number: Number = ""

    @model_validator(mode="after")
    def _one_reference(self) -> _TicketRef:
        if not (self.external_id or self.ticket_number):
            raise ValueError("give external_id or ticket_number")
        return self


class TicketMessage(_TicketRef):
    text: Body


class TicketStatusUpdate(_TicketRef):
    # What a customer may say about its ticket through another system.
    status: Literal["confirmed", "rejected", "cancelled"]
    note: Note = ""


EVENT_SCHEMAS: dict[str, type[_Strict]] = {
    "ticket.create": TicketCreate,
    "ticket.message": TicketMessage,
    "ticket.update": TicketStatusUpdate,
}


class Envelope(_Strict):
    type: Literal["ticket.create", "ticket.message", "ticket.update"]
    data: dict[str, Any]
