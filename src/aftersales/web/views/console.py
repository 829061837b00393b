"""The agent console: the ticket page (reads only; writes are in console_actions; the queue is in
``queue``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from aftersales.core.roles import Capability
from aftersales.core.selectors import audit_events_for
from aftersales.macros.selectors import macros_usable_by, may_write_personal_macros
from aftersales.sla.selectors import ticket_sla_summary
from aftersales.tickets.lifecycle import allowed_targets
from aftersales.tickets.models import Ticket, TicketMessage
from aftersales.tickets.selectors import (
    attachments_for_user,
    ticket_get_for_user,
    ticket_status_history,
    ticket_thread_for_user,
)

from .. import selectors
from ..forms import AttachmentForm, MessageForm, TicketEditForm, TicketNumberForm
from ..presenters import stage_timeline
from .common import current_user, fetch_or_404, staff_required


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Staff land in the console, customers in the portal, visitors on the sign-in page."""
    user = request.user
    if not user.is_authenticated:
        return redirect(f"{reverse('web:login')}?{urlencode({'next': '/'})}")
    if getattr(user, "is_customer", False):
        return redirect("web:portal")
    return redirect("web:console")


def ticket_context(request: HttpRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """Everything the ticket page shows; the HTMX partials reuse it."""
    user = current_user(request)
    can_edit = user.can(Capability.TICKET_EDIT) and not ticket.is_final
    teams = selectors.active_teams() if can_edit else []
    staff = selectors.assignable_staff() if can_edit else []
    edit_form = extra.pop("edit_form", None) or TicketEditForm(
        initial={
            "version": ticket.version,
            "subject": ticket.subject,
            "type": ticket.type,
            "priority": ticket.priority,
            "channel": ticket.channel,
            "team": ticket.team_id,
            "assignee": ticket.assignee_id,
        },
        teams=teams,
        staff=staff,
    )
    product = ticket.installed_product
    can_reply = user.can(Capability.TICKET_REPLY)
    context: dict[str, Any] = {
        "nav": "queues",
        "ticket": ticket,
        "thread": ticket_thread_for_user(ticket=ticket, user=user),
        "stages": stage_timeline(ticket_status_history(ticket=ticket), now=timezone.now()),
        "attachments": attachments_for_user(ticket=ticket, user=user),
        "targets": [] if not user.can(Capability.TICKET_TRANSITION) else allowed_targets(ticket.status),
        "can_edit": can_edit,
        "can_merge": user.can(Capability.TICKET_MERGE) and not ticket.is_final,
        "can_note": user.can(Capability.TICKET_INTERNAL_NOTE),
        "can_reply": can_reply,
        "is_open_for_replies": not ticket.is_final,
        "edit_form": edit_form,
        "message_form": extra.pop("message_form", None)
        or MessageForm(
            initial={
                "kind": TicketMessage.Kind.REPLY
                if can_reply and not ticket.is_final
                else TicketMessage.Kind.NOTE
            }
        ),
        "attachment_form": AttachmentForm(),
        "number_form": TicketNumberForm(),
        "contacts": selectors.customer_contacts(customer=ticket.customer),
        "service_address": selectors.service_address(ticket=ticket),
        "other_tickets": selectors.customer_other_tickets(user=user, ticket=ticket),
        "linked": selectors.linked_tickets(user=user, ticket=ticket),
        "sla": ticket_sla_summary(ticket),
        "audit_events": audit_events_for(obj=ticket, user=user, limit=50)
        if user.can(Capability.AUDIT_VIEW)
        else None,
        "product": product,
        "macros": list(macros_usable_by(user).only("id", "name", "scope").order_by("scope", "name", "id"))
        if may_write_personal_macros(user) and not ticket.is_final
        else [],
        "warranty_status": product.warranty_status() if product else None,
        "warranty_ends_on": product.warranty_ends_on if product else None,
    }
    context.update(extra)
    return context


@staff_required
@require_GET
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    user = current_user(request)
    ticket = fetch_or_404(lambda: ticket_get_for_user(number=number, user=user, for_detail=True))
    return render(request, "web/console/ticket.html", ticket_context(request, ticket))
