"""The customer page: identities by channel, the whole cross-channel history, possible
duplicates and merging one into this customer (supervisors and administrators)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from aftersales.core.errors import ApplicationError, NotFound
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.customers.models import Customer
from aftersales.customers.selectors import (
    customer_get_by_code_for_user,
    customer_possible_duplicates,
    customer_with_identities,
)
from aftersales.customers.services import can_merge_customers, customer_merge
from aftersales.tickets.selectors_history import (
    HistoryItem,
    customer_history_for_user,
    customer_tickets_for_user,
)

from ..customer_presenters import channel_label, history_rows, identities_by_channel
from .common import current_user, fetch_or_404, report_staff_error, staff_required
from .customer_edit import customer_edit_context

HISTORY_PAGE = 20


def _customer(user: User, code: str) -> Customer:
    return fetch_or_404(lambda: customer_get_by_code_for_user(user=user, code=code))


@staff_required
@require_http_methods(["GET"])
def customer_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = current_user(request)
    if not user.can(Capability.CUSTOMER_VIEW):
        raise DjangoPermissionDenied
    customer = _customer(user, code)
    loaded = customer_with_identities(customer)
    cursor = request.GET.get("cursor") or None
    items: list[HistoryItem] = []
    next_cursor = None
    error = None
    try:
        items, next_cursor = customer_history_for_user(
            user=user, customer_id=customer.pk, cursor=cursor, limit=HISTORY_PAGE
        )
    except ApplicationError as exc:
        error = exc
    tickets = customer_tickets_for_user(user=user, customer_id=customer.pk)
    for ticket in tickets:
        ticket.channel_label = channel_label(ticket.channel)  # type: ignore[attr-defined]
    duplicates = [] if customer.merged_into_id else customer_possible_duplicates(user=user, customer=customer)
    addresses = list(customer.addresses.select_related("region").order_by("-is_default", "id"))
    return render(
        request,
        "web/console/customer.html",
        {
            **customer_edit_context(user=user, customer=loaded, addresses=addresses),
            "nav": "customers",
            "customer": loaded,
            "merged_into": customer.merged_into,
            "identity_groups": identities_by_channel(loaded),
            "addresses": addresses,
            "tickets": tickets,
            "history": history_rows(items),
            "history_error": error,
            "is_later_page": bool(cursor),
            "next_page_query": urlencode({"cursor": next_cursor}) if next_cursor else "",
            "duplicates": duplicates,
            "can_merge": can_merge_customers(user) and not customer.merged_into_id,
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def customer_merge_confirm(request: HttpRequest, code: str) -> HttpResponse:
    """GET: what merging ``?source=`` into this customer will move; POST: merge it."""
    user = current_user(request)
    if not can_merge_customers(user):
        raise DjangoPermissionDenied
    target = _customer(user, code)
    source_code = (request.POST.get("source") or request.GET.get("source") or "").strip()[:20]
    try:
        source = customer_get_by_code_for_user(user=user, code=source_code)
    except NotFound:
        messages.error(request, _("No such customer: %(code)s.") % {"code": source_code})
        return redirect("web:console-customer", code=target.code)
    if request.method == "POST":
        try:
            customer_merge(actor=user, source=source, target=target)
        except ApplicationError as exc:
            report_staff_error(request, exc)
        else:
            messages.success(
                request,
                _("%(source)s was merged into %(target)s.") % {"source": source.code, "target": target.code},
            )
        return redirect("web:console-customer", code=target.code)
    return render(
        request,
        "web/console/customer_merge.html",
        {
            "nav": "customers",
            "target": target,
            "source": customer_with_identities(source),
            "source_ticket_count": len(customer_tickets_for_user(user=user, customer_id=source.pk)),
            "source_address_count": source.addresses.count(),
        },
    )
