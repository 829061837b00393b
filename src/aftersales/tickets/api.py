"""REST endpoints for tickets: thin; they parse, authorise, call a service or selector, render."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Path, Query, Router, Status
from ninja.files import UploadedFile

from aftersales.assets.models import InstalledProduct
from aftersales.core.api_schemas import ERROR_RESPONSES, Text40, Text100, Text200
from aftersales.core.errors import NotFound, PermissionDenied, ValidationFailed
from aftersales.core.idempotency import request_fingerprint, run_idempotent
from aftersales.core.models import Region, Team, User
from aftersales.core.paging import decode_cursor, encode_cursor
from aftersales.core.roles import Capability
from aftersales.core.selectors import audit_events_for
from aftersales.customers.models import Contact, Customer
from aftersales.customers.selectors import customer_get_for_user
from aftersales.shell.views import api_user

from . import services
from .models import Attachment, TicketMessage
from .schemas import (
    AttachmentOut,
    AuditPageOut,
    ChannelIn,
    LinkIn,
    MessageIn,
    MessageOut,
    MessagePageOut,
    PriorityIn,
    StatusIn,
    TicketCreateIn,
    TicketMergeIn,
    TicketOut,
    TicketPageOut,
    TicketPatchIn,
    TicketTypeIn,
    TimelineOut,
    TransitionIn,
    message_out,
    status_change_out,
    ticket_list_item_out,
    ticket_out,
    user_ref,
)
from .selectors import (
    TicketFilters,
    attachments_for_user,
    customer_id_for,
    ticket_get_for_user,
    ticket_list_for_user,
    ticket_status_history,
    ticket_thread_for_user,
)

router = Router(tags=["tickets"])
ERRORS = ERROR_RESPONSES


def _lookup(model: Any, pk: int | None, field: str) -> Any:
    """``model`` is a model class or a queryset; an unknown id is a validation error."""
    if pk is None:
        return None
    queryset = model if isinstance(model, QuerySet) else model._default_manager.all()
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationFailed(details={field: _("No such record: %(id)s.") % {"id": pk}})
    return obj


def _staff_lookup(pk: int | None) -> User | None:
    return _lookup(User, pk, "assignee")


def _parse_if_match(request: HttpRequest) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit() or len(value) > 9:
        raise ValidationFailed(details={"If-Match": _('Send the ticket\'s version, e.g. "3".')})
    return int(value)


def _detail(number: str, user: User) -> dict:
    ticket = ticket_get_for_user(number=number, user=user, for_detail=True)
    return ticket_out(ticket, for_customer=user.is_customer)


@router.post("", response={201: TicketOut, **ERRORS}, summary="Open a ticket")
def create_ticket(request: HttpRequest, payload: TicketCreateIn) -> Any:
    user = api_user(request)

    def produce(*, as_json: bool) -> tuple[int, Any]:
        if user.is_customer:
            if payload.customer is not None and payload.customer != customer_id_for(user):
                raise NotFound(details={"customer": payload.customer})
            customer_id = customer_id_for(user)
            if customer_id is None:
                raise PermissionDenied()
            customer = Customer.objects.select_related("region").get(pk=customer_id)
        else:
            if payload.customer is None:
                raise ValidationFailed(details={"customer": _("A customer is required.")})
            customer = customer_get_for_user(user=user, customer_id=payload.customer)
        ticket = services.ticket_open(
            actor=user,
            customer=customer,
            subject=payload.subject,
            description=payload.description,
            type=payload.type,
            channel=payload.channel,
            priority=payload.priority,
            contact=_lookup(Contact, payload.contact, "contact"),
            installed_product=_lookup(
                InstalledProduct.objects.select_related("product_model", "address__region"),
                payload.installed_product,
                "installed_product",
            ),
            region=_lookup(Region, payload.region, "region"),
            team=_lookup(Team, payload.team, "team"),
            assignee=_staff_lookup(payload.assignee),
            tags=payload.tags,
        )
        # The answer is built from the ticket just written: no second read of what we already hold.
        tags = sorted({name.strip() for name in payload.tags if name.strip()})
        body = ticket_out(ticket, tags=tags, for_customer=user.is_customer)
        if as_json:  # kept for replays, so it must be plain JSON
            body = TicketOut.model_validate(body).model_dump(mode="json")
        return 201, body

    key = request.headers.get("Idempotency-Key")
    if key is None:
        # ticket_open is the transaction; the lookups before it only read.
        status, body = produce(as_json=False)
        return Status(status, body)
    status, body, replayed = run_idempotent(
        user=user,
        scope="POST /tickets",
        key=key,
        fingerprint=request_fingerprint(request.body),
        produce=partial(produce, as_json=True),
    )
    return Status(status, body)


@router.get(
    "",
    response={200: TicketPageOut, **ERRORS},
    summary="List tickets (newest first, cursor paging)",
    description="`q` searches: every word must occur in the subject, description or thread (Chinese "
    "cut by jieba, English stemmed; staff also match internal notes), or `q` is a phone number in "
    "any spelling, an e-mail address, a serial number or a ticket number. With `q` the page also "
    "carries `total` (exact up to 1,000, then `total_is_capped`).",
)
def list_tickets(
    request: HttpRequest,
    status: list[StatusIn] = Query(default_factory=list),  # noqa: B008
    type: list[TicketTypeIn] = Query(default_factory=list),  # noqa: A002,B008
    priority: list[PriorityIn] = Query(default_factory=list),  # noqa: B008
    channel: list[ChannelIn] = Query(default_factory=list),  # noqa: B008
    team: int | None = Query(None, gt=0, lt=2**62),
    assignee: int | None = Query(None, gt=0, lt=2**62),
    unassigned: bool = False,
    customer: int | None = Query(None, gt=0, lt=2**62),
    region: int | None = Query(None, gt=0, lt=2**62),
    tag: Text40 | None = None,
    q: Text200 | None = None,
    cursor: Text100 | None = None,
    limit: int = Query(25, ge=1, le=100),
) -> Any:
    filters = TicketFilters(
        status=list(status),
        type=list(type),
        priority=list(priority),
        channel=list(channel),
        team=team,
        assignee=assignee,
        unassigned=unassigned,
        customer=customer,
        region=region,
        tag=tag,
        q=q,
    )
    user = api_user(request)
    page = ticket_list_for_user(user=user, filters=filters, cursor=cursor, limit=limit)
    return {
        "items": [ticket_list_item_out(t, for_customer=user.is_customer) for t in page.items],
        "next_cursor": page.next_cursor,
        "total": page.total,
        "total_is_capped": page.total_is_capped,
    }


@router.get("/{number}", response={200: TicketOut, **ERRORS}, summary="Read a ticket")
def read_ticket(request: HttpRequest, number: str, response: HttpResponse) -> Any:
    body = _detail(number, api_user(request))
    response["ETag"] = f'"{body["version"]}"'
    return body


@router.patch("/{number}", response={200: TicketOut, **ERRORS}, summary="Edit a ticket (If-Match: version)")
def patch_ticket(request: HttpRequest, number: str, payload: TicketPatchIn, response: HttpResponse) -> Any:
    user = api_user(request)
    ticket = ticket_get_for_user(number=number, user=user, for_detail=True)
    sent = payload.model_fields_set
    expected_version = _parse_if_match(request)
    if expected_version is None and "version" in sent:
        expected_version = payload.version
    resolvers = {
        "contact": lambda v: _lookup(Contact, v, "contact"),
        "installed_product": lambda v: _lookup(InstalledProduct, v, "installed_product"),
        "region": lambda v: _lookup(Region, v, "region"),
        "team": lambda v: _lookup(Team, v, "team"),
        "assignee": _staff_lookup,
    }
    changes: dict[str, Any] = {}
    for name in sent - {"version", "tags"}:
        value = getattr(payload, name)
        if name in resolvers:
            changes[name] = resolvers[name](value)
        elif value is None:
            raise ValidationFailed(details={name: _("This field cannot be empty.")})
        else:
            changes[name] = value
    tags = payload.tags if "tags" in sent else None
    if "tags" in sent and tags is None:
        tags = []
    services.ticket_update(
        ticket=ticket, actor=user, changes=changes, expected_version=expected_version, tags=tags
    )
    body = _detail(number, user)
    response["ETag"] = f'"{body["version"]}"'
    return body


@router.post(
    "/{number}/transition", response={200: TicketOut, **ERRORS}, summary="Move a ticket to another stage"
)
def transition_ticket(request: HttpRequest, number: str, payload: TransitionIn) -> Any:
    user = api_user(request)
    ticket = ticket_get_for_user(number=number, user=user)
    expected_version = _parse_if_match(request) or payload.version
    services.ticket_transition(
        ticket=ticket, actor=user, to_status=payload.to, note=payload.note, expected_version=expected_version
    )
    return _detail(number, user)


@router.get("/{number}/messages", response={200: MessagePageOut, **ERRORS}, summary="The ticket's thread")
def list_messages(
    request: HttpRequest,
    number: str,
    cursor: Text100 | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> Any:
    user = api_user(request)
    ticket = ticket_get_for_user(number=number, user=user)
    messages = ticket_thread_for_user(ticket=ticket, user=user)
    if cursor:
        after = decode_cursor(cursor)
        messages = [m for m in messages if m.pk > after]
    page = messages[:limit]
    next_cursor = encode_cursor(page[-1].pk) if len(messages) > limit else None
    return {
        "items": [message_out(m, ticket.number, for_customer=user.is_customer) for m in page],
        "next_cursor": next_cursor,
    }


@router.post(
    "/{number}/messages", response={201: MessageOut, **ERRORS}, summary="Reply or add an internal note"
)
def add_message(request: HttpRequest, number: str, payload: MessageIn) -> Any:
    user = api_user(request)
    ticket = ticket_get_for_user(number=number, user=user)
    message = services.ticket_add_message(
        ticket=ticket,
        actor=user,
        body=payload.body,
        kind=payload.kind,
        channel="api" if not user.is_customer else "",
    )
    return Status(201, message_out(message, ticket.number, for_customer=user.is_customer))


@router.get(
    "/{number}/timeline", response={200: TimelineOut, **ERRORS}, summary="Stage changes with durations"
)
def timeline(request: HttpRequest, number: str) -> Any:
    user = api_user(request)
    ticket = ticket_get_for_user(number=number, user=user)
    return {
        "items": [
            status_change_out(c, for_customer=user.is_customer) for c in ticket_status_history(ticket=ticket)
        ],
        "next_cursor": None,
    }


@router.get("/{number}/audit", response={200: AuditPageOut, **ERRORS}, summary="Who changed what and when")
def audit_trail(request: HttpRequest, number: str) -> Any:
    user = api_user(request)
    ticket = ticket_get_for_user(number=number, user=user)
    events = audit_events_for(obj=ticket, user=user)
    return {
        "items": [
            {
                "occurred_at": e.occurred_at,
                "actor": user_ref(e.actor),
                "action": e.action,
                "before": e.before,
                "after": e.after,
            }
            for e in events
        ],
        "next_cursor": None,
    }


@router.post("/{number}/attachments", response={201: AttachmentOut, **ERRORS}, summary="Upload an attachment")
def upload_attachment(
    request: HttpRequest,
    number: str,
    file: File[UploadedFile],
    message: int | None = Form(None, gt=0, lt=2**62),  # noqa: B008
    internal: bool = Form(False),  # noqa: B008
) -> Any:
    user = api_user(request)
    ticket = ticket_get_for_user(number=number, user=user)
    message_obj = None
    if message is not None:
        message_obj = TicketMessage.objects.filter(pk=message, ticket=ticket).first()
        if message_obj is None:
            raise ValidationFailed(details={"message": _("No such message on this ticket.")})
    attachment = services.attachment_add(
        ticket=ticket,
        actor=user,
        upload=file,
        message=message_obj,
        is_internal=internal and user.can(Capability.TICKET_INTERNAL_NOTE),
    )
    return Status(
        201,
        {
            "id": attachment.pk,
            "name": attachment.original_name,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "url": f"/api/v1/tickets/{ticket.number}/attachments/{attachment.pk}",
        },
    )


@router.get("/{number}/attachments/{attachment_id}", response=ERRORS, summary="Download an attachment")
def download_attachment(
    request: HttpRequest, number: str, attachment_id: int = Path(..., gt=0, lt=2**62)
) -> Any:
    user = api_user(request)
    ticket = ticket_get_for_user(number=number, user=user)
    attachment = next(
        (a for a in attachments_for_user(ticket=ticket, user=user) if a.pk == attachment_id), None
    )
    if attachment is None:
        raise NotFound()
    return attachment_file_response(attachment)


def attachment_file_response(attachment: Attachment) -> FileResponse:
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@router.post("/{number}/merge", response={200: TicketOut, **ERRORS}, summary="Merge this ticket into another")
def merge_ticket(request: HttpRequest, number: str, payload: TicketMergeIn) -> Any:
    user = api_user(request)
    source = ticket_get_for_user(number=number, user=user)
    target = ticket_get_for_user(number=payload.into, user=user)
    services.ticket_merge(source=source, target=target, actor=user)
    return _detail(target.number, user)


@router.post("/{number}/links", response={200: TicketOut, **ERRORS}, summary="Link a related ticket")
def link_ticket(request: HttpRequest, number: str, payload: LinkIn) -> Any:
    user = api_user(request)
    ticket = ticket_get_for_user(number=number, user=user)
    other = ticket_get_for_user(number=payload.other, user=user)
    services.ticket_link(ticket=ticket, other=other, actor=user)
    return _detail(ticket.number, user)
