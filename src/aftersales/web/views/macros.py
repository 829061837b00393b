"""Canned replies on the console: managing them (supervisors the shared ones, everyone its own)
and the picker on the ticket page that inserts a macro's text or applies the whole macro."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.core.errors import ApplicationError, NotFound
from aftersales.core.models import Team, User
from aftersales.macros.models import Macro, MacroScope
from aftersales.macros.selectors import (
    macro_get_manageable,
    macro_get_usable,
    macro_list_for_manager,
    macro_preview,
    macros_usable_by,
    manageable_teams,
    may_manage_shared_macros,
    may_write_personal_macros,
)
from aftersales.macros.services import macro_apply, macro_archive, macro_create, macro_update
from aftersales.tickets.models import Priority
from aftersales.tickets.selectors import ticket_get_for_user

from ..forms import MessageForm
from ..forms_macros import MacroForm, placeholder_help, status_label
from ..selectors import active_teams, assignable_staff
from .common import (
    current_user,
    fetch_or_404,
    is_htmx,
    report_form_errors,
    report_staff_error,
    staff_required,
)
from .console import ticket_context


def _require_macros(user: User) -> None:
    if not may_write_personal_macros(user):
        raise DjangoPermissionDenied


def _scopes(user: User) -> list[str]:
    scopes = [MacroScope.PERSONAL.value]
    if may_manage_shared_macros(user):
        scopes = [MacroScope.TEAM.value, MacroScope.GLOBAL.value, *scopes]
    return scopes


def _form(user: User, data: Any = None, initial: dict[str, Any] | None = None) -> MacroForm:
    staff = assignable_staff()
    return MacroForm(
        data,
        initial=initial,
        teams=list(manageable_teams(user).order_by("code")),
        all_teams=active_teams(),
        staff=staff,
        scopes=_scopes(user),
    )


def _values(form: MacroForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "body_zh": data["body_zh"],
        "body_en": data["body_en"],
        "message_kind": data["message_kind"],
        "set_priority": data["set_priority"] or "",
        "add_tags": data["add_tags"],
        "set_team": Team.objects.filter(pk=data["set_team"]).first() if data["set_team"] else None,
        "set_assignee": User.objects.filter(pk=data["set_assignee"]).first()
        if data["set_assignee"]
        else None,
        "set_status": data["set_status"] or "",
    }


def _manageable(user: User, macro_id: int) -> Macro:
    """404 for a macro the user cannot see; 403 for one it uses but may not change."""
    try:
        return macro_get_manageable(user=user, macro_id=macro_id)
    except NotFound:
        if macros_usable_by(user).filter(pk=macro_id).exists():
            raise DjangoPermissionDenied from None
        raise Http404 from None


def _page(
    request: HttpRequest, form: MacroForm, macro: Macro | None, errors: dict[str, Any] | None = None
) -> HttpResponse:
    return render(
        request,
        "web/console/macro_form.html",
        {
            "nav": "macros",
            "form": form,
            "macro": macro,
            "placeholders": placeholder_help(),
            "field_errors": errors or {},
        },
    )


@staff_required
@require_GET
def macro_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    _require_macros(user)
    macros = macro_list_for_manager(user)
    for macro in macros:
        macro.status_label = status_label(macro.set_status) if macro.set_status else ""  # type: ignore[attr-defined]
        macro.priority_label = Priority(macro.set_priority).label if macro.set_priority else ""  # type: ignore[attr-defined]
    return render(
        request,
        "web/console/macros.html",
        {"nav": "macros", "macros": macros, "may_manage_shared": may_manage_shared_macros(user)},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def macro_new(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    _require_macros(user)
    if request.method == "GET":
        return _page(request, _form(user, initial={"scope": _scopes(user)[-1]}), None)
    form = _form(user, request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
        return _page(request, form, None)
    data = form.cleaned_data
    team = Team.objects.filter(pk=data["team"]).first() if data["team"] else None
    try:
        macro = macro_create(actor=user, scope=data["scope"], team=team, **_values(form))
    except ApplicationError as exc:
        report_staff_error(request, exc)
        return _page(request, form, None, exc.details)
    messages.success(request, _("The canned reply “%(name)s” was saved.") % {"name": macro.name})
    return redirect("web:console-macros")


@staff_required
@require_http_methods(["GET", "POST"])
def macro_edit(request: HttpRequest, macro_id: int) -> HttpResponse:
    user = current_user(request)
    _require_macros(user)
    macro = _manageable(user, macro_id)
    if request.method == "GET":
        initial = {
            "name": macro.name,
            "scope": macro.scope,
            "team": macro.team_id,
            "message_kind": macro.message_kind,
            "body_zh": macro.body_zh,
            "body_en": macro.body_en,
            "set_priority": macro.set_priority,
            "add_tags": ", ".join(macro.add_tags),
            "set_team": macro.set_team_id,
            "set_assignee": macro.set_assignee_id,
            "set_status": macro.set_status,
            "version": macro.version,
        }
        return _page(request, _form(user, initial=initial), macro)
    form = _form(user, request.POST)
    form.fields["scope"].required = False
    if not form.is_valid():
        report_form_errors(request, form)
        return _page(request, form, macro)
    changes = _values(form)
    if macro.scope == MacroScope.TEAM and form.cleaned_data["team"] != macro.team_id:
        changes["team"] = Team.objects.filter(pk=form.cleaned_data["team"]).first()
    if not macro.is_active:
        changes["is_active"] = True  # saving an archived reply brings it back
    try:
        macro_update(macro=macro, actor=user, changes=changes, expected_version=form.cleaned_data["version"])
    except ApplicationError as exc:
        report_staff_error(request, exc)
        return _page(request, form, macro, exc.details)
    messages.success(request, _("The canned reply “%(name)s” was saved.") % {"name": macro.name})
    return redirect("web:console-macros")


@staff_required
@require_POST
def macro_archive_view(request: HttpRequest, macro_id: int) -> HttpResponse:
    user = current_user(request)
    _require_macros(user)
    macro = _manageable(user, macro_id)
    try:
        macro_archive(macro=macro, actor=user)
    except ApplicationError as exc:
        report_staff_error(request, exc)
    else:
        messages.success(request, _("The canned reply “%(name)s” was archived.") % {"name": macro.name})
    return redirect("web:console-macros")


def _ticket(request: HttpRequest, number: str) -> Any:
    user = current_user(request)
    return fetch_or_404(lambda: ticket_get_for_user(number=number, user=user, for_detail=True))


def _chosen(request: HttpRequest, user: User, source: Any) -> Macro | None:
    raw = (source.get("macro") or "").strip()
    if not raw.isdigit():
        return None
    return fetch_or_404(lambda: macro_get_usable(user=user, macro_id=int(raw)))


@staff_required
@require_http_methods(["GET", "POST"])
def ticket_macro(request: HttpRequest, number: str) -> HttpResponse:
    """GET ``?macro=``: the macro's reply, filled for this ticket, put in the composer to edit
    and send (the use is counted when it is sent). POST: apply the whole macro now."""
    user = current_user(request)
    _require_macros(user)
    ticket = _ticket(request, number)
    source = request.GET if request.method == "GET" else request.POST
    macro = _chosen(request, user, source)
    if macro is None:
        messages.error(request, _("Choose a canned reply."))
        return redirect("web:console-ticket", number=ticket.number)
    if request.method == "GET":
        preview = macro_preview(macro=macro, ticket=ticket, actor=user)
        form = MessageForm(initial={"body": preview.body, "kind": preview.message_kind, "macro": macro.pk})
        context = ticket_context(request, ticket, message_form=form, inserted_macro=macro)
        if is_htmx(request):
            return render(request, "web/console/_conversation.html", context)
        return render(request, "web/console/ticket.html", context)
    version = source.get("version") or ""
    try:
        applied = macro_apply(
            macro=macro,
            ticket=ticket,
            actor=user,
            expected_version=int(version) if version.isdigit() else None,
        )
    except ApplicationError as exc:
        report_staff_error(request, exc)
    else:
        messages.success(request, _("The canned reply “%(name)s” was applied.") % {"name": macro.name})
        ticket = applied.ticket
    return redirect("web:console-ticket", number=ticket.number)
