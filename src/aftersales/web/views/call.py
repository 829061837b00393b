"""The "log a phone call" form: find or create the caller, open a phone ticket in one submit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from aftersales.channels.phone.forms import CallDetailsForm, recorded_on_message
from aftersales.channels.phone.selectors import caller_find, caller_open_tickets, caller_recent_calls
from aftersales.channels.phone.services import call_log_on_ticket, phone_call_log_with_record
from aftersales.core.errors import ApplicationError
from aftersales.core.roles import Capability
from aftersales.customers.models import Customer

from .. import selectors
from ..forms import PhoneCallForm
from .common import current_user, report_error, staff_required


def _require_phone_desk(request: HttpRequest) -> None:
    """Taking calls is desk work (opening tickets for customers); the caller lookup shows a
    customer's contacts and tickets by phone number, so it is not for technicians or the parts
    clerk either."""
    if not current_user(request).can(Capability.TICKET_CREATE_FOR_CUSTOMER):
        raise DjangoPermissionDenied


def _caller_context(request: HttpRequest, customer: Customer | None, phone: str) -> dict[str, Any]:
    user = current_user(request)
    return {
        "caller": customer,
        "phone": phone,
        "caller_products": selectors.installed_products_of(customer_id=customer.pk if customer else None),
        "caller_tickets": selectors.customer_recent_tickets(user=user, customer=customer) if customer else [],
        "caller_contacts": selectors.customer_contacts(customer=customer) if customer else [],
        "caller_open_tickets": caller_open_tickets(user=user, customer=customer) if customer else [],
        "caller_calls": caller_recent_calls(customer=customer) if customer else [],
    }


@staff_required
@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    """HTMX: as the agent types the number, show who is calling (or the new-customer fields)."""
    _require_phone_desk(request)
    phone = request.GET.get("phone", "").strip()[:32]
    customer = caller_find(phone=phone) if phone else None
    context = _caller_context(request, customer, phone)
    context["searched"] = sum(ch.isdigit() for ch in phone) >= 5
    context["form"] = PhoneCallForm(initial={"phone": phone}, products=context["caller_products"])
    return render(request, "web/console/_caller.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def log_call(request: HttpRequest) -> HttpResponse:
    _require_phone_desk(request)
    user = current_user(request)
    form = PhoneCallForm(request.POST or None)
    call_form = CallDetailsForm(request.POST or None)
    customer: Customer | None = None
    if request.method == "POST":
        phone = request.POST.get("phone", "")
        customer = caller_find(phone=phone) if phone else None
        form.set_products(selectors.installed_products_of(customer_id=customer.pk if customer else None))
        if call_form.is_valid() and call_form.cleaned_data["attach_to"]:
            # The call is about a ticket the caller already has: no new ticket.
            try:
                ticket, _call = call_log_on_ticket(
                    actor=user,
                    ticket_number=call_form.cleaned_data["attach_to"],
                    phone=phone,
                    notes=request.POST.get("notes", ""),
                    **call_form.details(),
                )
            except ApplicationError as exc:
                report_error(request, exc)
            else:
                messages.success(request, recorded_on_message(ticket.number))
                return redirect("web:console-ticket", number=ticket.number)
        valid = [form.is_valid(), call_form.is_valid()]  # both, so both show their errors
        if all(valid) and not call_form.cleaned_data["attach_to"]:
            data = form.cleaned_data
            try:
                ticket, _call = phone_call_log_with_record(
                    actor=user,
                    phone=data["phone"],
                    subject=data["subject"],
                    notes=data["notes"],
                    type=data["type"],
                    priority=data["priority"],
                    customer_id=data.get("customer_id") or None,
                    customer_name=data.get("customer_name") or "",
                    installed_product_id=data["installed_product"] or None,
                    **call_form.details(),
                )
            except ApplicationError as exc:
                report_error(request, exc)
            else:
                messages.success(request, _("Ticket %(number)s was opened.") % {"number": ticket.number})
                return redirect("web:console-ticket", number=ticket.number)
    phone_value = form["phone"].value() or ""
    context = _caller_context(request, customer, str(phone_value))
    context["form"] = form
    context["call_form"] = call_form
    context["nav"] = "call"
    context["searched"] = bool(customer) or sum(ch.isdigit() for ch in str(phone_value)) >= 5
    return render(request, "web/console/call.html", context)
