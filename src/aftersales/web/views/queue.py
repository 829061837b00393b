"""The working queue: tabs with counts, filters and sort remembered per user, saved views, bulk
actions with per-ticket outcomes, and the current view as CSV or XLSX."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aftersales.core.errors import ApplicationError, NotFound
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.models import Priority, SavedView
from aftersales.tickets.selectors_saved_views import saved_view_get_for_user, saved_views_for
from aftersales.tickets.services import BulkRequest, saved_view_delete, saved_view_save, tickets_bulk_apply
from aftersales.tickets.sorting import SORT_NEWEST, sort_key

from .. import selectors
from ..exports import csv_chunks, export_rows, xlsx_file
from ..queue_forms import ASSIGN_ME, QUEUE_FILTER_FIELDS, BulkActionForm, QueueViewForm, SavedViewForm
from .common import (
    current_user,
    form_error_lines,
    is_htmx,
    refuse_if_forbidden,
    report_staff_error,
    staff_required,
)

QUEUE_LABELS = {
    selectors.QUEUE_MINE: gettext_lazy("Mine"),
    selectors.QUEUE_TEAM: gettext_lazy("My team"),
    selectors.QUEUE_UNASSIGNED: gettext_lazy("Unassigned"),
    selectors.QUEUE_AT_RISK: gettext_lazy("By time to breach"),
    selectors.QUEUE_ALL: gettext_lazy("All"),
}
# Per queue, the query string last used: coming back to a tab shows it as it was left.
STATE_SESSION_KEY = "queue_state"
STATE_FIELDS = (*QUEUE_FILTER_FIELDS, "sort")


def _kept(data: QueryDict) -> dict[str, str]:
    return {key: value for key in STATE_FIELDS if (value := (data.get(key) or "").strip())}


def _parse(data: QueryDict, teams: list[Any]) -> tuple[QueueViewForm, selectors.QueueFilters, str]:
    form = QueueViewForm(data, teams=teams)
    filters = selectors.QueueFilters()
    sort = SORT_NEWEST
    if form.is_valid():
        cleaned = form.cleaned_data
        filters.status = [cleaned["status"]] if cleaned["status"] else []
        filters.type = [cleaned["type"]] if cleaned["type"] else []
        filters.priority = [cleaned["priority"]] if cleaned["priority"] else []
        filters.channel = [cleaned["channel"]] if cleaned["channel"] else []
        filters.team = cleaned["team"]
        filters.q = cleaned["q"] or None
        sort = cleaned["sort"] or SORT_NEWEST
    return form, filters, sort


def _queue_url(name: str, params: dict[str, str] | None = None) -> str:
    url = reverse("web:console-queue", args=[name])
    return f"{url}?{urlencode(params)}" if params else url


def saved_view_params(view: SavedView) -> dict[str, str]:
    # The sort is always written, so the address never looks empty (an empty one restores the
    # remembered state instead of the view).
    return {**{key: str(value) for key, value in view.filters.items()}, "sort": view.sort or SORT_NEWEST}


def _tabs(user: User, queues: tuple[str, ...], team_ids: list[int], current: str) -> list[dict[str, Any]]:
    counts = selectors.queue_tab_counts(user=user, queues=queues, team_ids=team_ids)
    return [
        {
            "name": name,
            "label": QUEUE_LABELS[name],
            "count": counts[name],
            "count_label": f"{selectors.TAB_COUNT_CAP}+"
            if counts[name] > selectors.TAB_COUNT_CAP
            else str(counts[name]),
            "is_active": name == current,
        }
        for name in queues
    ]


@staff_required
@require_GET
def queue(request: HttpRequest, name: str = selectors.QUEUE_MINE) -> HttpResponse:
    user = current_user(request)
    queues = selectors.queues_for(user)
    if name not in queues:
        return redirect("web:console-queue", name=selectors.QUEUE_MINE)
    remembered: dict[str, str] = dict(request.session.get(STATE_SESSION_KEY) or {})
    if "reset" in request.GET:
        remembered.pop(name, None)
        request.session[STATE_SESSION_KEY] = remembered
        return redirect(_queue_url(name))
    kept = _kept(request.GET)
    if any(key in request.GET for key in STATE_FIELDS):
        if remembered.get(name, "") != urlencode(kept):
            remembered[name] = urlencode(kept)
            request.session[STATE_SESSION_KEY] = remembered
    elif remembered.get(name) and not request.GET.get("cursor"):
        return redirect(f"{_queue_url(name)}?{remembered[name]}")

    teams = selectors.active_teams()
    form, filters, sort = _parse(request.GET, teams)
    team_ids = selectors.user_team_ids(user) if selectors.QUEUE_TEAM in queues else []
    page = None
    error = None
    try:
        page = selectors.queue_page(
            user=user,
            queue=name,
            filters=filters,
            cursor=request.GET.get("cursor") or None,
            sort=sort,
            team_ids=team_ids,
        )
    except ApplicationError as exc:
        error = exc
    if page is not None:
        selectors.attach_sla_badges(page.items)
    paging = {key: str(value) for key, value in request.GET.items() if key != "cursor" and value}
    context: dict[str, Any] = {
        "nav": "queues",
        "queue_name": name,
        "queue_label": QUEUE_LABELS[name],
        "queue_tabs": _tabs(user, queues, team_ids, name),
        "form": form,
        "page": page,
        "error": error,
        "is_filtered": bool(kept),
        "is_sortable": name != selectors.QUEUE_AT_RISK,
        "is_later_page": bool(request.GET.get("cursor")),
        "first_page_query": urlencode(paging),
        "next_page_query": urlencode({**paging, "cursor": page.next_cursor})
        if page and page.next_cursor
        else "",
        "export_query": urlencode(kept),
        "current_query": urlencode(kept),
        "can_bulk": user.can(Capability.TICKET_EDIT) or user.can(Capability.TICKET_TRANSITION),
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "queue-results":
        context["tabs_out_of_band"] = True
        return render(request, "web/console/_queue_results.html", context)
    can_assign = user.can(Capability.TICKET_ASSIGN)
    views = saved_views_for(user)
    context.update(
        {
            "saved_views": [
                {
                    "view": view,
                    "url": _queue_url(view.queue, saved_view_params(view)),
                    "is_own": view.owner_id == user.pk,
                    "is_active": view.queue == name
                    and saved_view_params(view) == {"sort": SORT_NEWEST, **kept},
                    "can_delete": view.owner_id == user.pk
                    or (view.is_shared and user.can(Capability.VIEW_SHARE)),
                }
                for view in views
            ],
            "saved_view_form": SavedViewForm(initial={"query": urlencode(kept)}),
            "can_share_views": user.can(Capability.VIEW_SHARE),
            "bulk_form": BulkActionForm(),
            "can_assign": can_assign,
            "staff": selectors.assignable_staff() if can_assign else [],
            "statuses": TicketStatus.choices,
            "priorities": Priority.choices,
        }
    )
    return render(request, "web/console/queue.html", context)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _assignee(value: str, user: User) -> tuple[User | None, str | None]:
    """The member of staff chosen in the bulk bar ("me", an id, or nobody to unassign)."""
    if not value:
        return None, None
    if value == ASSIGN_ME:
        return user, None
    assignee = User.objects.filter(pk=int(value), is_active=True).first()
    if assignee is None:
        return None, _("Choose a member of staff.")
    return assignee, None


@staff_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Apply one action to the checked tickets; each ticket is done or refused on its own."""
    user = current_user(request)
    back = _safe_next(request, reverse("web:console"))
    form = BulkActionForm(request.POST)
    errors: list[str] = []
    outcomes: list[Any] = []
    if not form.is_valid():
        errors = form_error_lines(form)
    else:
        data = form.cleaned_data
        assignee, problem = _assignee(data["assignee"], user)
        if problem:
            errors = [problem]
        else:
            try:
                outcomes = tickets_bulk_apply(
                    actor=user,
                    numbers=data["numbers"],
                    request=BulkRequest(
                        action=data["action"],
                        assignee=assignee,
                        to_status=data["to_status"],
                        priority=data["priority"],
                        tag=data["tag"],
                        into=data["into"].strip().upper(),
                    ),
                )
            except ApplicationError as exc:
                refuse_if_forbidden(exc)
                errors = [str(exc.message), *(str(v) for v in exc.details.values() if isinstance(v, str))]
    context = {
        "nav": "queues",
        "outcomes": outcomes,
        "errors": errors,
        "done": sum(1 for outcome in outcomes if outcome.ok),
        "refused": sum(1 for outcome in outcomes if not outcome.ok),
        "back": back,
    }
    if is_htmx(request):
        response = render(request, "web/console/_bulk_results.html", context)
        if outcomes:
            response["HX-Trigger"] = "queue-refresh"
        return response
    return render(request, "web/console/bulk_results.html", context)


@staff_required
@require_GET
def export(request: HttpRequest, name: str) -> HttpResponse:
    """The queue as shown (same filters and sort, the user's own scope) as CSV or XLSX."""
    user = current_user(request)
    queues = selectors.queues_for(user)
    if name not in queues:
        return redirect("web:console-queue", name=selectors.QUEUE_MINE)
    _form, filters, sort = _parse(request.GET, selectors.active_teams())
    qs = selectors.queue_queryset(user=user, queue=name, filters=filters)
    if name == selectors.QUEUE_AT_RISK:
        order = ["sla__next_due_at", "id"]
    else:
        key = sort_key(sort)
        qs = key.annotate(qs)
        order = key.order()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"tickets-{name}-{stamp}"
    if request.GET.get("as") == "xlsx":
        # The role gates are typed for plain responses; a file or a stream answers the same way.
        return cast(
            HttpResponse,
            FileResponse(
                xlsx_file(export_rows(qs, order=order), title=str(QUEUE_LABELS[name])),
                as_attachment=True,
                filename=f"{filename}.xlsx",
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
        )
    response = StreamingHttpResponse(
        csv_chunks(export_rows(qs, order=order)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return cast(HttpResponse, response)


@staff_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    name = request.POST.get("queue") or selectors.QUEUE_MINE
    if name not in selectors.queues_for(user):
        name = selectors.QUEUE_MINE
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        for line in form_error_lines(form):
            messages.error(request, line)
        return redirect(_safe_next(request, _queue_url(name)))
    view_form, _filters, sort = _parse(QueryDict(form.cleaned_data["query"]), selectors.active_teams())
    filters = {
        key: str(view_form.cleaned_data[key])
        for key in QUEUE_FILTER_FIELDS
        if view_form.is_valid() and view_form.cleaned_data.get(key) not in (None, "")
    }
    try:
        view = saved_view_save(
            actor=user,
            name=form.cleaned_data["name"],
            queue=name,
            filters=filters,
            sort=sort,
            is_shared=form.cleaned_data["is_shared"],
        )
    except ApplicationError as exc:
        report_staff_error(request, exc)
        return redirect(_safe_next(request, _queue_url(name)))
    messages.success(request, _("The view “%(name)s” was saved.") % {"name": view.name})
    return redirect(_queue_url(view.queue, saved_view_params(view)))


@staff_required
@require_POST
def saved_view_remove(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    back = _safe_next(request, reverse("web:console"))
    raw = (request.POST.get("view") or "").strip()
    if not raw.isdigit() or len(raw) > 12:
        messages.error(request, _("No such view."))
        return redirect(back)
    try:
        view = saved_view_get_for_user(view_id=int(raw), user=user)
    except NotFound:  # deleted meanwhile (another tab), or never one this user could see
        messages.error(request, _("No such view."))
        return redirect(back)
    name = view.name
    try:
        saved_view_delete(actor=user, view=view)
    except ApplicationError as exc:
        report_staff_error(request, exc)
        return redirect(back)
    messages.success(request, _("The view “%(name)s” was deleted.") % {"name": name})
    return redirect(back)
