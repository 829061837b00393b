"""Reads behind each role's home page: counted and grouped in the database, a fixed number of
queries whatever the number of tickets (``tests/web/test_homes.py`` pins them).

Every read starts from the tickets the user may see (``visible_tickets``), computed once per page:
a supervisor's scope costs a few queries of its own, so it is not asked again for each panel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.functions import ExtractHour
from django.utils import timezone
from django.utils.translation import get_language, gettext

from aftersales.channels.chat.models import Conversation, ConversationStatus
from aftersales.channels.chat.services import may_take_chats
from aftersales.core.models import Team, User
from aftersales.core.roles import Capability, Role
from aftersales.customers.models import Address
from aftersales.sla.models import SlaClock, SlaState, SlaTarget
from aftersales.tickets.lifecycle import OPEN_STATUSES, TicketStatus
from aftersales.tickets.models import Ticket, TicketType
from aftersales.tickets.selectors import visible_tickets

HOME_AGENT = "agent"
HOME_SUPERVISOR = "supervisor"
HOME_TECHNICIAN = "technician"
HOME_PARTS = "parts"
HOMES = (HOME_AGENT, HOME_SUPERVISOR, HOME_TECHNICIAN, HOME_PARTS)

OPEN_STATUS_VALUES = sorted(str(status) for status in OPEN_STATUSES)
LIST_LIMIT = 10
DUE_SOON = dt.timedelta(hours=4)
TECHNICIAN_JOB_LIMIT = 50
PEOPLE_LIMIT = 200
CHART_PEOPLE = 15

AT_RISK = Q(sla__state=SlaState.WARNING)
BREACHED = Q(sla__state=SlaState.BREACHED)


def home_for(user: User) -> str:
    """The home a role lands on: leads (admin, supervisor) on the team's, the desk on its own work,
    a technician on its jobs, a parts clerk on what to pick and receive."""
    if user.is_superuser or user.can(Capability.REPORT_VIEW):
        return HOME_SUPERVISOR
    if user.role == Role.TECHNICIAN:
        return HOME_TECHNICIAN
    if user.role == Role.PARTS_CLERK:
        return HOME_PARTS
    return HOME_AGENT


def may_open_home(user: User, home: str) -> bool:
    """An administrator may open every home; otherwise each home is for those who do its work."""
    if user.is_superuser or user.role == Role.ADMIN:
        return home in HOMES
    if home == HOME_SUPERVISOR:
        return user.can(Capability.REPORT_VIEW)
    if home == HOME_AGENT:
        return user.can(Capability.TICKET_CREATE_FOR_CUSTOMER)
    if home == HOME_TECHNICIAN:
        return user.role == Role.TECHNICIAN
    if home == HOME_PARTS:
        return user.role == Role.PARTS_CLERK
    return False


def local_midnight(now: dt.datetime) -> dt.datetime:
    """The start of today in the site's time zone (Asia/Shanghai by default), as an aware time."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _open(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.filter(status__in=OPEN_STATUS_VALUES)


def _by_due(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Soonest (or most overdue) promise first; tickets without a running promise last."""
    return qs.order_by(F("sla__next_due_at").asc(nulls_last=True), "id")


def _with_sla_badges(tickets: list[Ticket]) -> list[Ticket]:
    """Give each ticket ``sla_state`` and ``sla_due_at`` from its ``sla`` row loaded alongside (the
    queue pages' badge fields), with no query of its own."""
    for ticket in tickets:
        try:
            sla = ticket.sla
        except ObjectDoesNotExist:
            sla = None
        ticket.sla_state = sla.state if sla else ""  # type: ignore[attr-defined]
        ticket.sla_due_at = sla.next_due_at if sla else None  # type: ignore[attr-defined]
    return tickets


def _my_team_ids(user: User) -> QuerySet[Team, Any]:
    """The teams the user belongs to or leads, as a subquery (no query of its own)."""
    return Team.objects.filter(Q(members=user) | Q(lead=user)).values("pk")


# --- agent -----------------------------------------------------------------------------------------


@dataclass
class AgentHome:
    my_open: int
    my_at_risk: int
    my_breached: int
    team_unassigned: int
    due_soon_count: int
    my_work: list[Ticket]
    due_soon: list[Ticket]
    may_chat: bool
    chats_waiting: int = 0
    my_active_chats: int = 0
    waiting_chats: list[Conversation] = field(default_factory=list)


def agent_home(*, user: User, now: dt.datetime | None = None) -> AgentHome:
    """My work (open tickets assigned to me, soonest promise first), what falls due within four
    hours (mine, and my teams' unassigned), and the chats waiting for an agent.

    Five queries (three without the chat): the counts, my work, due soon, the chats' counts and
    the oldest waiting chats.
    """
    now = now or timezone.now()
    base = _open(visible_tickets(user))
    mine = Q(assignee=user)
    team_unassigned = Q(assignee__isnull=True, team__in=_my_team_ids(user))
    due = Q(sla__next_due_at__lte=now + DUE_SOON)
    counts = base.aggregate(
        my_open=Count("pk", filter=mine),
        my_at_risk=Count("pk", filter=mine & AT_RISK),
        my_breached=Count("pk", filter=mine & BREACHED),
        team_unassigned=Count("pk", filter=team_unassigned),
        due_soon=Count("pk", filter=(mine | team_unassigned) & due),
    )
    related = ("sla", "customer", "team", "assignee")
    my_work = _with_sla_badges(list(_by_due(base.filter(mine).select_related(*related))[:LIST_LIMIT]))
    due_soon = _with_sla_badges(
        list(_by_due(base.filter((mine | team_unassigned) & due).select_related(*related))[:LIST_LIMIT])
    )
    home = AgentHome(
        my_open=counts["my_open"],
        my_at_risk=counts["my_at_risk"],
        my_breached=counts["my_breached"],
        team_unassigned=counts["team_unassigned"],
        due_soon_count=counts["due_soon"],
        my_work=my_work,
        due_soon=due_soon,
        may_chat=may_take_chats(user),
    )
    if home.may_chat:
        waiting = ConversationStatus.WAITING
        totals = Conversation.objects.filter(
            Q(status=waiting) | Q(status=ConversationStatus.ACTIVE, assigned_agent=user)
        ).aggregate(
            waiting=Count("pk", filter=Q(status=waiting)),
            mine=Count("pk", filter=Q(status=ConversationStatus.ACTIVE)),
        )
        home.chats_waiting = totals["waiting"]
        home.my_active_chats = totals["mine"]
        home.waiting_chats = list(
            Conversation.objects.filter(status=waiting)
            .select_related("channel", "ticket")
            .order_by(F("waiting_since").asc(nulls_last=True), "id")[:LIST_LIMIT]
        )
    return home


# --- supervisor ------------------------------------------------------------------------------------


@dataclass
class Load:
    """Open tickets in one bucket (a team, a person): how many, and how many at risk or breached."""

    key: int | None
    label: str
    total: int = 0
    unassigned: int = 0
    at_risk: int = 0
    breached: int = 0

    @property
    def on_track(self) -> int:
        return self.total - self.at_risk - self.breached


@dataclass
class SupervisorHome:
    open_total: int
    unassigned: int
    at_risk: int
    breached_open: int
    breaches_today: int
    teams: list[Load]
    people: list[Load]
    at_risk_tickets: list[Ticket]
    latest_breaches: list[SlaClock]
    breaches_by_hour: list[dict[str, Any]]  # {"hour": 0-23, "target": str, "count": int}
    since: dt.datetime


def _person_label(row: dict[str, Any], prefix: str = "") -> str:
    display = row.get(f"{prefix}display_name") or ""
    full = f"{row.get(f'{prefix}last_name') or ''}{row.get(f'{prefix}first_name') or ''}".strip()
    return display or full or row.get(f"{prefix}username") or ""


def _bucket_counts() -> dict[str, Count]:
    return {
        "total": Count("pk"),
        "unassigned": Count("pk", filter=Q(assignee__isnull=True)),
        "at_risk": Count("pk", filter=AT_RISK),
        "breached": Count("pk", filter=BREACHED),
    }


def supervisor_home(*, user: User, now: dt.datetime | None = None) -> SupervisorHome:
    """The team's day: open backlog per team, load per person (idle people included), the promises
    at risk, and today's breaches by hour. Counted by the database, a fixed number of queries.
    """
    now = now or timezone.now()
    visible = visible_tickets(user)  # a supervisor's scope is worked out here, once
    base = _open(visible)
    team_rows: Any = base.values("team_id", "team__name", "team__name_en").annotate(**_bucket_counts())
    teams = [
        Load(
            key=row["team_id"],
            label=_bilingual(row["team__name"], row["team__name_en"]),
            total=row["total"],
            unassigned=row["unassigned"],
            at_risk=row["at_risk"],
            breached=row["breached"],
        )
        for row in team_rows
    ]
    teams.sort(key=lambda load: (load.key is None, -load.total, load.label))

    # People: the members of the supervisor's teams (everyone who works tickets when it leads the
    # whole organisation), with nothing assigned or not, plus anyone holding a ticket it sees.
    people_qs = User.objects.filter(is_active=True, role__in=[Role.AGENT, Role.TECHNICIAN])
    my_team_ids = list(Team.objects.filter(Q(members=user) | Q(lead=user)).values_list("pk", flat=True))
    if my_team_ids and not (user.is_superuser or user.role == Role.ADMIN):
        people_qs = people_qs.filter(teams__in=my_team_ids)
    name_fields = ("username", "display_name", "first_name", "last_name")
    people: dict[int, Load] = {
        row["pk"]: Load(key=row["pk"], label=_person_label(row))
        for row in people_qs.distinct().order_by("pk").values("pk", *name_fields)[:PEOPLE_LIMIT]
    }
    load_rows = (
        base.filter(assignee__isnull=False)
        .values("assignee_id", *(f"assignee__{name}" for name in name_fields))
        .annotate(**_bucket_counts())
    )
    for row in load_rows:
        load = people.setdefault(
            row["assignee_id"], Load(key=row["assignee_id"], label=_person_label(row, "assignee__"))
        )
        load.total, load.at_risk, load.breached = row["total"], row["at_risk"], row["breached"]
    people_list = sorted(people.values(), key=lambda load: (-load.total, -load.breached, load.label))

    at_risk_tickets = _with_sla_badges(
        list(
            _by_due(base.filter(AT_RISK | BREACHED).select_related("sla", "customer", "team", "assignee"))[
                :LIST_LIMIT
            ]
        )
    )

    since = local_midnight(now)
    clocks = SlaClock.objects.filter(breached_at__gte=since, ticket__merged_into__isnull=True)
    if visible.query.where:  # scoped: only the clocks of tickets the user sees
        clocks = clocks.filter(ticket__in=visible.values("pk"))
    by_hour: list[dict[str, Any]] = [
        dict(row)
        for row in clocks.annotate(hour=ExtractHour("breached_at", tzinfo=timezone.get_current_timezone()))
        .values("hour", "target")
        .annotate(count=Count("pk"))
        .order_by("hour", "target")
    ]
    latest_breaches = list(
        clocks.select_related("ticket", "ticket__assignee").order_by("-breached_at", "-id")[:LIST_LIMIT]
    )
    return SupervisorHome(
        open_total=sum(load.total for load in teams),
        unassigned=sum(load.unassigned for load in teams),
        at_risk=sum(load.at_risk for load in teams),
        breached_open=sum(load.breached for load in teams),
        breaches_today=sum(row["count"] for row in by_hour),
        teams=teams,
        people=people_list,
        at_risk_tickets=at_risk_tickets,
        latest_breaches=latest_breaches,
        breaches_by_hour=by_hour,
        since=since,
    )


def _bilingual(name: str | None, name_en: str | None) -> str:
    if name is None:
        return gettext("No team")
    if name_en and (get_language() or "").startswith("en"):
        return name_en
    return name


def supervisor_chart_data(home: SupervisorHome) -> dict[str, Any]:
    """What the page's charts draw (``json_script``; ``web/homes.js`` renders it with ECharts).
    Labels are translated here so the script holds no text of its own."""
    series_names = {
        "on_track": gettext("On track or no SLA"),
        "at_risk": gettext("At risk"),
        "breached": gettext("Breached"),
    }
    people = home.people[:CHART_PEOPLE]
    hours = list(range(24))
    targets = sorted({row["target"] for row in home.breaches_by_hour})
    by_target = {target: [0] * 24 for target in targets}
    for row in home.breaches_by_hour:
        by_target[row["target"]][int(row["hour"])] += row["count"]
    return {
        "labels": series_names,
        "teams": {
            "categories": [load.label for load in home.teams],
            "on_track": [load.on_track for load in home.teams],
            "at_risk": [load.at_risk for load in home.teams],
            "breached": [load.breached for load in home.teams],
        },
        "people": {
            "categories": [load.label for load in people],
            "on_track": [load.on_track for load in people],
            "at_risk": [load.at_risk for load in people],
            "breached": [load.breached for load in people],
        },
        "breaches": {
            "categories": [f"{hour:02d}" for hour in hours],
            "series": [
                {"name": str(SlaTarget(target).label), "data": by_target[target]} for target in targets
            ],
            "empty": gettext("No breaches today"),
        },
    }


# --- technician ------------------------------------------------------------------------------------


@dataclass
class TechnicianHome:
    open_total: int
    in_service: int
    waiting: int
    at_risk: int
    breached: int
    jobs: list[Ticket]


def technician_home(*, user: User) -> TechnicianHome:
    """Today's jobs: for now the open tickets assigned to the technician, soonest promise first, with
    the customer's address and a number to call (the field-service issue adds appointments).
    Three queries: the counts, the jobs, the customers' addresses."""
    base = _open(visible_tickets(user)).filter(assignee=user)
    counts = base.aggregate(
        open_total=Count("pk"),
        in_service=Count("pk", filter=Q(status=TicketStatus.IN_SERVICE)),
        waiting=Count("pk", filter=Q(status=TicketStatus.WAITING_ON_CUSTOMER)),
        at_risk=Count("pk", filter=AT_RISK),
        breached=Count("pk", filter=BREACHED),
    )
    jobs = _with_sla_badges(
        list(
            _by_due(
                base.select_related(
                    "sla", "customer", "contact", "region", "installed_product__product_model"
                ).prefetch_related(
                    Prefetch(
                        "customer__addresses",
                        queryset=Address.objects.select_related("region").order_by("-is_default", "id"),
                    )
                )
            )[:TECHNICIAN_JOB_LIMIT]
        )
    )
    return TechnicianHome(jobs=jobs, **counts)


# --- parts clerk -----------------------------------------------------------------------------------

# Until the spare-parts issue brings reservations and a stock ledger, the clerk's home lists the
# open work that exists now and usually needs parts: repairs, installations and maintenance once a
# solution is proposed or the service is under way, and returns/exchanges on their way back.
PARTS_WORK_TYPES = (TicketType.REPAIR, TicketType.INSTALLATION, TicketType.MAINTENANCE)
PARTS_WORK_STAGES = (TicketStatus.SOLUTION_PROPOSED, TicketStatus.IN_SERVICE)


@dataclass
class PartsHome:
    may_need_parts_count: int
    returns_count: int
    may_need_parts: list[Ticket]
    returns: list[Ticket]


def parts_home(*, user: User) -> PartsHome:
    """Three queries: the two counts, then each list."""
    base = _open(visible_tickets(user))
    needs_parts = Q(type__in=PARTS_WORK_TYPES, status__in=PARTS_WORK_STAGES)
    returns = Q(type=TicketType.RETURN_EXCHANGE)
    counts = base.aggregate(needs_parts=Count("pk", filter=needs_parts), returns=Count("pk", filter=returns))
    related = ("sla", "customer", "assignee", "installed_product__product_model")
    return PartsHome(
        may_need_parts_count=counts["needs_parts"],
        returns_count=counts["returns"],
        may_need_parts=_with_sla_badges(
            list(_by_due(base.filter(needs_parts).select_related(*related))[:LIST_LIMIT])
        ),
        returns=_with_sla_badges(list(_by_due(base.filter(returns).select_related(*related))[:LIST_LIMIT])),
    )
