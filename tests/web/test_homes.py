"""A home per role: where each role lands, who may open which home, what each shows, and that
every home costs a fixed number of queries however many tickets there are."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aftersales.channels.chat.models import ChatChannel, Conversation, ConversationStatus
from aftersales.core.roles import Role
from aftersales.sla.models import SlaClock, SlaState, TicketSla
from tests.factories import (
    AddressFactory,
    ContactFactory,
    CustomerFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)

NOW = dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)  # 22:00 in Shanghai


def with_sla(ticket, state: str, due_in: dt.timedelta | None, *, breached_at: dt.datetime | None = None):
    due = NOW + due_in if due_in is not None else None
    TicketSla.objects.create(ticket=ticket, state=state, next_due_at=due)
    if breached_at is not None:
        SlaClock.objects.create(
            ticket=ticket,
            target="resolution",
            target_seconds=3600,
            warn_after_seconds=2700,
            started_at=breached_at - dt.timedelta(hours=1),
            due_at=breached_at,
            warn_at=breached_at - dt.timedelta(minutes=15),
            warned_at=breached_at - dt.timedelta(minutes=15),
            breached_at=breached_at,
        )
    return ticket


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def home_template(response) -> str:
    names = [template.name for template in response.templates if template.name]
    return next(name for name in names if "/home_" in name)


# --- landing and access ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "template"),
    [
        (Role.AGENT, "web/console/home_agent.html"),
        (Role.SUPERVISOR, "web/console/home_supervisor.html"),
        (Role.ADMIN, "web/console/home_supervisor.html"),
        (Role.TECHNICIAN, "web/console/home_technician.html"),
        (Role.PARTS_CLERK, "web/console/home_parts.html"),
    ],
)
def test_the_console_landing_page_is_each_roles_home(login, db, role, template):
    response = login(UserFactory(role=role)).get("/console/")
    assert response.status_code == 200
    assert home_template(response) == template
    assert 'href="/console/queue/mine/"' in response.content.decode()


def test_a_supervisor_no_longer_lands_on_an_empty_mine_queue(login, supervisor):
    body = login(supervisor, "zh-hans").get("/console/").content.decode()
    assert "团队概览" in body and 'data-chart="teams"' in body
    assert 'aria-current="page" data-nav="home">首页' in body


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.ADMIN, {"agent", "supervisor", "technician", "parts"}),
        (Role.SUPERVISOR, {"agent", "supervisor"}),
        (Role.AGENT, {"agent"}),
        (Role.TECHNICIAN, {"technician"}),
        (Role.PARTS_CLERK, {"parts"}),
    ],
)
def test_each_home_opens_for_its_roles_only(login, db, role, allowed):
    client = login(UserFactory(role=role))
    for home in ("agent", "supervisor", "technician", "parts"):
        status = client.get(f"/console/home/{home}/").status_code
        assert status == (200 if home in allowed else 403), (home, status)


def test_a_customer_gets_no_console_home(login, portal_user):
    assert login(portal_user).get("/console/home/agent/").status_code == 403


# --- agent -----------------------------------------------------------------------------------------


def test_the_agent_home_shows_my_work_what_falls_due_and_the_waiting_chats(login, agent, frozen):
    team = TeamFactory()
    team.members.add(agent)
    mine_soon = with_sla(
        TicketFactory(assignee=agent, subject="我的急单"), SlaState.WARNING, dt.timedelta(hours=1)
    )
    mine_later = with_sla(
        TicketFactory(assignee=agent, subject="我的慢单"), SlaState.ON_TRACK, dt.timedelta(hours=30)
    )
    unassigned_soon = with_sla(
        TicketFactory(team=team, subject="组里未分配"), SlaState.ON_TRACK, dt.timedelta(hours=2)
    )
    others = with_sla(
        TicketFactory(assignee=UserFactory(), subject="别人的单"), SlaState.BREACHED, dt.timedelta(hours=-1)
    )
    TicketFactory(assignee=agent, status="closed", closed_at=NOW, subject="已关闭的单")
    channel = ChatChannel.objects.create(name="官网", public_key="home-test")
    Conversation.objects.create(
        channel=channel,
        public_token="t1",
        status=ConversationStatus.WAITING,
        visitor_name="王先生",
        waiting_since=NOW,
    )
    Conversation.objects.create(
        channel=channel, public_token="t2", status=ConversationStatus.ACTIVE, assigned_agent=agent
    )

    response = login(agent).get("/console/")
    home = response.context["home"]

    assert [t.number for t in home.my_work] == [mine_soon.number, mine_later.number]
    assert [t.number for t in home.due_soon] == [mine_soon.number, unassigned_soon.number]
    assert (home.my_open, home.my_at_risk, home.my_breached) == (2, 1, 0)
    assert (home.team_unassigned, home.due_soon_count) == (1, 2)
    assert (home.chats_waiting, home.my_active_chats) == (1, 1)
    body = response.content.decode()
    assert "王先生" in body and others.subject not in body and "已关闭的单" not in body


# --- supervisor ------------------------------------------------------------------------------------


def test_the_supervisor_home_counts_backlog_load_and_todays_breaches_in_its_scope(login, db, frozen):
    supervisor = UserFactory(role=Role.SUPERVISOR)
    team = TeamFactory(lead=supervisor, name="安装组", name_en="Installers")
    busy, idle = UserFactory(display_name="忙碌"), UserFactory(display_name="空闲")
    team.members.add(busy, idle)
    with_sla(TicketFactory(team=team, assignee=busy), SlaState.ON_TRACK, dt.timedelta(hours=5))
    with_sla(TicketFactory(team=team, assignee=busy), SlaState.WARNING, dt.timedelta(minutes=20))
    today = NOW - dt.timedelta(hours=3)  # 19:00 Shanghai
    breached = with_sla(
        TicketFactory(team=team), SlaState.BREACHED, dt.timedelta(hours=-3), breached_at=today
    )
    # Yesterday's breach (Shanghai time) and a ticket of another team are not counted.
    with_sla(
        TicketFactory(team=team, assignee=busy),
        SlaState.BREACHED,
        dt.timedelta(hours=-30),
        breached_at=NOW - dt.timedelta(hours=23),
    )
    with_sla(TicketFactory(team=TeamFactory()), SlaState.BREACHED, dt.timedelta(hours=-1), breached_at=today)

    response = login(supervisor).get("/console/")
    home = response.context["home"]

    assert (home.open_total, home.unassigned, home.at_risk, home.breached_open, home.breaches_today) == (
        4,
        1,
        1,
        2,
        1,
    )
    assert [(load.label, load.total, load.at_risk, load.breached) for load in home.teams] == [
        ("Installers", 4, 1, 2)
    ]
    assert [(load.label, load.total) for load in home.people] == [("忙碌", 3), ("空闲", 0)]
    assert [clock.ticket.number for clock in home.latest_breaches] == [breached.number]
    assert home.breaches_by_hour == [{"hour": 19, "target": "resolution", "count": 1}]
    charts = json.loads(
        re.search(
            r'id="home-charts" type="application/json">(.*?)</script>', response.content.decode()
        ).group(1)
    )
    assert charts["teams"] == {"categories": ["Installers"], "on_track": [1], "at_risk": [1], "breached": [2]}
    assert (
        charts["breaches"]["series"][0]["data"][19] == 1 and sum(charts["breaches"]["series"][0]["data"]) == 1
    )


def test_the_supervisor_charts_are_labelled_in_chinese(login, supervisor, frozen):
    body = login(supervisor, "zh-hans").get("/console/").content.decode()
    charts = json.loads(re.search(r'id="home-charts" type="application/json">(.*?)</script>', body).group(1))
    assert charts["breaches"]["empty"] == "今天没有超时"
    assert charts["labels"] == {"on_track": "正常或无 SLA", "at_risk": "即将超时", "breached": "已超时"}
    assert "/static/shell/vendor/echarts.min.js" in body and "/static/web/homes.js" in body


# --- technician and parts clerk --------------------------------------------------------------------


def test_the_technician_home_lists_its_open_jobs_with_address_and_a_number_to_call(login, technician):
    customer = CustomerFactory(name="浦江酒店")
    AddressFactory(customer=customer, line="上海市黄浦区中山东一路1号")
    contact = ContactFactory(customer=customer, name="李经理", phone="13912345678")
    job = TicketFactory(
        customer=customer, contact=contact, assignee=technician, status="in_service", subject="上门维修"
    )
    TicketFactory(assignee=technician, status="resolved", resolved_at=timezone.now(), subject="已解决的活")
    TicketFactory(assignee=UserFactory(role=Role.TECHNICIAN), subject="别人的活")

    response = login(technician, "zh-hans").get("/console/")
    body = response.content.decode()

    assert [t.number for t in response.context["home"].jobs] == [job.number]
    assert 'href="tel:13912345678"' in body and "中山东一路1号" in body and "李经理" in body
    assert "已解决的活" not in body and "别人的活" not in body


def test_the_parts_home_says_honestly_what_it_cannot_list_yet(login, db):
    clerk = UserFactory(role=Role.PARTS_CLERK)
    repair = TicketFactory(type="repair", status="in_service", subject="换水箱配件")
    exchange = TicketFactory(type="return_exchange", subject="退换货")
    TicketFactory(type="consultation", status="in_service", subject="咨询")
    TicketFactory(type="repair", status="new", subject="新报修")

    response = login(clerk, "zh-hans").get("/console/")
    body = response.content.decode()
    home = response.context["home"]

    assert [t.number for t in home.may_need_parts] == [repair.number]
    assert [t.number for t in home.returns] == [exchange.number]
    assert "备件模块" in body and "暂无拣货单" in body
    assert "咨询" not in body and "新报修" not in body


# --- query counts ----------------------------------------------------------------------------------


def build_day(agent, technician, team, count: int) -> None:
    for index in range(count):
        assignee = [agent, technician, None][index % 3]
        ticket = TicketFactory(
            team=team,
            assignee=assignee,
            customer=CustomerFactory(),
            contact=None,
            type=["repair", "return_exchange", "installation"][index % 3],
            status=["in_service", "new", "solution_proposed"][index % 3],
        )
        AddressFactory(customer=ticket.customer)
        breached_at = timezone.now() - dt.timedelta(minutes=5) if index % 4 == 0 else None
        TicketSla.objects.create(
            ticket=ticket,
            state=SlaState.BREACHED if breached_at else SlaState.WARNING,
            next_due_at=timezone.now() + dt.timedelta(hours=index % 6),
        )
        if breached_at:
            SlaClock.objects.create(
                ticket=ticket,
                target="first_response",
                target_seconds=600,
                warn_after_seconds=400,
                started_at=breached_at - dt.timedelta(minutes=10),
                due_at=breached_at,
                warn_at=breached_at,
                breached_at=breached_at,
            )


# Session, user, the nav's unread notices, then the home's own reads:
#   agent: counts, my work, due soon, chat counts, waiting chats
#   supervisor: its scope (teams, led teams, regions), backlog per team, its teams, people, load per
#     person, at-risk tickets, breaches by hour, latest breaches
#   technician: counts, jobs, their customers' addresses
#   parts: counts, two lists
HOME_QUERIES = {"agent": 8, "supervisor": 13, "technician": 6, "parts": 6}


@pytest.mark.parametrize("home", ["agent", "supervisor", "technician", "parts"])
def test_each_home_costs_a_fixed_number_of_queries(login, db, django_assert_num_queries, home):
    team = TeamFactory()
    agent = UserFactory(role=Role.AGENT)
    technician = UserFactory(role=Role.TECHNICIAN)
    supervisor = UserFactory(role=Role.SUPERVISOR)
    clerk = UserFactory(role=Role.PARTS_CLERK)
    team.members.add(agent, technician)
    team.lead = supervisor
    team.save()
    user = {"agent": agent, "supervisor": supervisor, "technician": technician, "parts": clerk}[home]
    client = login(user)
    build_day(agent, technician, team, 3)
    client.get("/console/")  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        assert client.get("/console/").status_code == 200
    build_day(agent, technician, team, 40)
    with django_assert_num_queries(HOME_QUERIES[home]):
        response = client.get("/console/")
    assert response.status_code == 200
    assert len(few.captured_queries) == HOME_QUERIES[home]
