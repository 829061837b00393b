"""The customer portal: my tickets, a new request, a ticket's progress and the conversation."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.core.errors import ApplicationError, ValidationFailed
from aftersales.tickets.models import Channel, Ticket
from aftersales.tickets.selectors import (
    TicketFilters,
    attachments_for_user,
    ticket_get_for_user,
    ticket_list_for_user,
    ticket_status_history,
    ticket_thread_for_user,
)
from aftersales.tickets.services import attachment_add, ticket_add_message, ticket_open, ticket_transition

from .. import selectors
from ..forms import CustomerReplyForm, PortalTicketForm, TransitionForm
from ..presenters import customer_actions, progress_steps
from .common import current_user, customer_required, fetch_or_404, report_error, report_form_errors


@customer_required
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    customer = selectors.portal_customer(user)
    page = None
    if customer is not None:
        try:
            page = ticket_list_for_user(
                user=user, filters=TicketFilters(), cursor=request.GET.get("cursor") or None
            )
        except ApplicationError as exc:
            report_error(request, exc)
    return render(
        request,
        "web/portal/list.html",
        {"nav": "list", "customer": customer, "page": page, "is_later_page": bool(request.GET.get("cursor"))},
    )


@customer_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    customer = selectors.portal_customer(user)
    if customer is None:
        return redirect("web:portal")
    products = selectors.installed_products_of(customer_id=customer.pk)
    form = PortalTicketForm(request.POST or None, request.FILES or None, products=products)
    if request.method == "POST":
        if not form.is_valid():
            report_form_errors(request, form)
        else:
            data = form.cleaned_data
            product = next((p for p in products if p.pk == data["installed_product"]), None)
            try:
                # A refused attachment must not leave a half-submitted request behind.
                with transaction.atomic():
                    if data["installed_product"] and product is None:
                        raise ValidationFailed(
                            details={"installed_product": _("Choose one of your products.")}
                        )
                    ticket = ticket_open(
                        actor=user,
                        customer=customer,
                        subject=data["subject"],
                        description=data["description"],
                        type=data["type"],
                        channel=Channel.WEB,
                        installed_product=product,
                    )
                    if data["attachment"]:
                        attachment_add(ticket=ticket, actor=user, upload=data["attachment"])
            except ApplicationError as exc:
                report_error(request, exc)
            else:
                messages.success(
                    request, _("Thank you. Your request %(number)s was received.") % {"number": ticket.number}
                )
                return redirect("web:portal-ticket", number=ticket.number)
    return render(request, "web/portal/new.html", {"nav": "new", "form": form, "customer": customer})


def _portal_ticket(request: HttpRequest, number: str) -> Ticket:
    user = current_user(request)
    return fetch_or_404(lambda: ticket_get_for_user(number=number, user=user, for_detail=True))


@customer_required
@require_GET
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    user = current_user(request)
    ticket = _portal_ticket(request, number)
    context = {
        "nav": "list",
        "ticket": ticket,
        "steps": progress_steps(ticket_status_history(ticket=ticket), current_status=ticket.status),
        "thread": [m for m in ticket_thread_for_user(ticket=ticket, user=user) if m.is_public],
        "attachments": attachments_for_user(ticket=ticket, user=user),
        "actions": customer_actions(ticket.status),
        "reply_form": CustomerReplyForm(),
    }
    return render(request, "web/portal/ticket.html", context)


@customer_required
@require_POST
def reply(request: HttpRequest, number: str) -> HttpResponse:
    user = current_user(request)
    ticket = _portal_ticket(request, number)
    form = CustomerReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        report_form_errors(request, form)
        return redirect("web:portal-ticket", number=ticket.number)
    try:
        with transaction.atomic():
            message = ticket_add_message(ticket=ticket, actor=user, body=form.cleaned_data["body"])
            if form.cleaned_data["attachment"]:
                attachment_add(
                    ticket=ticket, actor=user, upload=form.cleaned_data["attachment"], message=message
                )
    except ApplicationError as exc:
        report_error(request, exc)
    else:
        messages.success(request, _("Your reply was sent."))
    return redirect("web:portal-ticket", number=ticket.number)


@customer_required
@require_POST
def transition(request: HttpRequest, number: str) -> HttpResponse:
    """Confirm a resolution, say it is not solved, or withdraw a request: the service decides."""
    user = current_user(request)
    ticket = _portal_ticket(request, number)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
        return redirect("web:portal-ticket", number=ticket.number)
    try:
        ticket_transition(
            ticket=ticket,
            actor=user,
            to_status=form.cleaned_data["to_status"],
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
        )
    except ApplicationError as exc:
        report_error(request, exc)
    else:
        messages.success(request, _("Thank you, your answer was recorded."))
    return redirect("web:portal-ticket", number=ticket.number)
