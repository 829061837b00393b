"""The customer list: search, filters, a total and keyset pages, scoped like tickets."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from aftersales.core.errors import ApplicationError
from aftersales.core.models import Region
from aftersales.core.roles import Capability
from aftersales.tickets.selectors_customers import CustomerFilters, customer_list_for_user

from ..forms_customers import CustomerFilterForm
from .common import current_user, is_htmx, staff_required


def region_choices() -> list[Region]:
    return list(Region.objects.order_by("level", "code"))


@staff_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if not user.can(Capability.CUSTOMER_VIEW):
        raise DjangoPermissionDenied
    form = CustomerFilterForm(request.GET, regions=region_choices())
    filters = CustomerFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters.q = data["q"] or ""
        filters.region_id = data["region"]
        filters.tier = data["tier"] or ""
        filters.has_open_tickets = {"yes": True, "no": False}.get(data["open_tickets"])
    page = None
    error = None
    try:
        page = customer_list_for_user(user=user, filters=filters, cursor=request.GET.get("cursor") or None)
    except ApplicationError as exc:
        error = exc
    kept = {key: str(value) for key, value in request.GET.items() if key != "cursor" and value}
    context = {
        "nav": "customers",
        "form": form,
        "page": page,
        "error": error,
        "is_filtered": bool(kept),
        "is_later_page": bool(request.GET.get("cursor")),
        "first_page_query": urlencode(kept),
        "next_page_query": urlencode({**kept, "cursor": page.next_cursor})
        if page and page.next_cursor
        else "",
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "customer-results":
        return render(request, "web/console/_customer_results.html", context)
    return render(request, "web/console/customers.html", context)
