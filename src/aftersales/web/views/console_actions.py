"""Writes from the ticket page; each one parses a form and calls one ticket service."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.core.errors import ApplicationError, ValidationFailed
from aftersales.core.models import Team, User
from aftersales.macros.selectors import macro_get_usable
from aftersales.macros.services import macro_send_reply
from aftersales.tickets.models import Ticket
from aftersales.tickets.selectors import ticket_get_for_user
from aftersales.tickets.services import (
    attachment_add,
    ticket_add_message,
    ticket_link,
    ticket_merge,
    ticket_transition,
    ticket_update,
)

from ..forms import AttachmentForm, MessageForm, TicketEditForm, TicketNumberForm, TransitionForm
from ..presenters import error_lines
from ..selectors import active_teams, assignable_staff, status_label
from .common import (
    current_user,
    fetch_or_404,
    form_error_lines,
    is_htmx,
    refuse_if_forbidden,
    report_error,
    report_form_errors,
    report_staff_error,
    staff_required,
)
from .console import ticket_context


def _ticket(request: HttpRequest, number: str) -> Ticket:
    user = current_user(request)
    return fetch_or_404(lambda: ticket_get_for_user(number=number, user=user, for_detail=True))


def _back(ticket: Ticket) -> HttpResponse:
    return redirect("web:console-ticket", number=ticket.number)


@staff_required
@require_POST
def reply(request: HttpRequest, number: str) -> HttpResponse:
    """A public reply or an internal note; with HTMX only the conversation is swapped."""
    ticket = _ticket(request, number)
    form = MessageForm(request.POST)
    error_messages: list[str] = []
    if not form.is_valid():
        error_messages = form_error_lines(form)
    else:
        try:
            macro_id = form.cleaned_data.get("macro")
            if macro_id:
                user = current_user(request)
                macro_send_reply(
                    macro=macro_get_usable(user=user, macro_id=macro_id),
                    ticket=ticket,
                    actor=user,
                    body=form.cleaned_data["body"],
                    kind=form.cleaned_data["kind"],
                )
            else:
                ticket_add_message(
                    ticket=ticket,
                    actor=current_user(request),
                    body=form.cleaned_data["body"],
                    kind=form.cleaned_data["kind"],
                )
        except ApplicationError as exc:
            refuse_if_forbidden(exc)
            error_messages = error_lines(exc)
        else:
            form = MessageForm(initial={"kind": form.cleaned_data["kind"]})
    if not is_htmx(request):
        for line in error_messages:
            messages.error(request, line)
        if not error_messages:
            messages.success(request, _("Your message was added."))
        return _back(ticket)
    ticket.refresh_from_db()
    context = ticket_context(request, ticket, message_form=form, conversation_errors=error_messages)
    return render(request, "web/console/_conversation.html", context)


@staff_required
@require_POST
def transition(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket(request, number)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
        return _back(ticket)
    try:
        ticket_transition(
            ticket=ticket,
            actor=current_user(request),
            to_status=form.cleaned_data["to_status"],
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
        )
    except ApplicationError as exc:
        report_staff_error(request, exc)
    else:
        messages.success(
            request, _("Status changed to “%(status)s”.") % {"status": status_label(ticket.status)}
        )
    return _back(ticket)


@staff_required
@require_POST
def edit(request: HttpRequest, number: str) -> HttpResponse:
    """Edit fields and assignment, guarded by the version the form was rendered with."""
    ticket = _ticket(request, number)
    form = TicketEditForm(request.POST, teams=active_teams(), staff=assignable_staff())
    if not form.is_valid():
        report_form_errors(request, form)
        return _back(ticket)
    data = form.cleaned_data
    team = Team.objects.filter(pk=data["team"]).first() if data["team"] else None
    assignee = User.objects.filter(pk=data["assignee"]).first() if data["assignee"] else None
    changes = {
        "subject": data["subject"],
        "type": data["type"],
        "priority": data["priority"],
        "channel": data["channel"],
        "team": team,
        "assignee": assignee,
    }
    try:
        ticket_update(
            ticket=ticket, actor=current_user(request), changes=changes, expected_version=data["version"]
        )
    except ApplicationError as exc:
        report_staff_error(request, exc)
    else:
        messages.success(request, _("The ticket was saved."))
    return _back(ticket)


@staff_required
@require_POST
def upload(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket(request, number)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        report_form_errors(request, form)
        return _back(ticket)
    try:
        attachment_add(
            ticket=ticket,
            actor=current_user(request),
            upload=form.cleaned_data["file"],
            is_internal=form.cleaned_data["is_internal"],
        )
    except ApplicationError as exc:
        report_staff_error(request, exc)
    else:
        messages.success(request, _("The file was attached."))
    return _back(ticket)


def _other_ticket(request: HttpRequest, ticket: Ticket) -> Ticket | None:
    form = TicketNumberForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
        return None
    user = current_user(request)
    try:
        return ticket_get_for_user(number=form.cleaned_data["number"], user=user)
    except ApplicationError:
        report_error(
            request, ValidationFailed(details={"number": _("No ticket %(number)s.") % form.cleaned_data})
        )
        return None


@staff_required
@require_POST
def merge(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket(request, number)
    target = _other_ticket(request, ticket)
    if target is None:
        return _back(ticket)
    try:
        ticket_merge(source=ticket, target=target, actor=current_user(request))
    except ApplicationError as exc:
        report_staff_error(request, exc)
        return _back(ticket)
    messages.success(request, _("%(source)s was merged into this ticket.") % {"source": ticket.number})
    return _back(target)


@staff_required
@require_POST
def link(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket(request, number)
    other = _other_ticket(request, ticket)
    if other is None:
        return _back(ticket)
    try:
        ticket_link(ticket=ticket, other=other, actor=current_user(request))
    except ApplicationError as exc:
        report_staff_error(request, exc)
    else:
        messages.success(request, _("Linked to %(number)s.") % {"number": other.number})
    return _back(ticket)
