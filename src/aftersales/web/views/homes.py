"""A home per role: the console's landing page shows the signed-in role its own day; each home
also has its own address (an administrator may open every one)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from aftersales.core.models import User

from .. import home_selectors as homes
from .common import current_user, staff_required


def _agent(user: User) -> tuple[str, dict[str, Any]]:
    home = homes.agent_home(user=user)
    return "web/console/home_agent.html", {"home": home, "due_soon_hours": homes.DUE_SOON.seconds // 3600}


def _supervisor(user: User) -> tuple[str, dict[str, Any]]:
    home = homes.supervisor_home(user=user)
    return "web/console/home_supervisor.html", {
        "home": home,
        "chart_data": homes.supervisor_chart_data(home),
        "chart_people": homes.CHART_PEOPLE,
    }


def _technician(user: User) -> tuple[str, dict[str, Any]]:
    return "web/console/home_technician.html", {"home": homes.technician_home(user=user)}


def _parts(user: User) -> tuple[str, dict[str, Any]]:
    return "web/console/home_parts.html", {"home": homes.parts_home(user=user)}


BUILDERS = {
    homes.HOME_AGENT: _agent,
    homes.HOME_SUPERVISOR: _supervisor,
    homes.HOME_TECHNICIAN: _technician,
    homes.HOME_PARTS: _parts,
}


def render_home(request: HttpRequest, name: str) -> HttpResponse:
    user = current_user(request)
    if not homes.may_open_home(user, name):
        raise PermissionDenied
    template, context = BUILDERS[name](user)
    context.update(
        {"nav": "home", "home_name": name, "own_home": homes.home_for(user), "now": timezone.now()}
    )
    return render(request, template, context)


@staff_required
@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    """``/console/``: every role lands on its own home (a supervisor no longer on an empty queue)."""
    return render_home(request, homes.home_for(current_user(request)))


@staff_required
@require_GET
def agent_home(request: HttpRequest) -> HttpResponse:
    return render_home(request, homes.HOME_AGENT)


@staff_required
@require_GET
def supervisor_home(request: HttpRequest) -> HttpResponse:
    return render_home(request, homes.HOME_SUPERVISOR)


@staff_required
@require_GET
def technician_home(request: HttpRequest) -> HttpResponse:
    return render_home(request, homes.HOME_TECHNICIAN)


@staff_required
@require_GET
def parts_home(request: HttpRequest) -> HttpResponse:
    return render_home(request, homes.HOME_PARTS)
