"""Console settings pages: SLA policies, business calendars and teams, for supervisors and admins,
through the services (validated, audited), with clear translated errors and no 500s."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from aftersales.core.calendar_models import BusinessCalendar
from aftersales.core.models import AuditEvent, Team
from aftersales.core.roles import Role
from aftersales.sla.models import SlaPolicy
from tests.factories import UserFactory, customer_user

pytestmark = pytest.mark.django_db

PAGES = [
    "/console/settings/",
    "/console/settings/sla/",
    "/console/settings/sla/new/",
    "/console/settings/calendars/",
    "/console/settings/teams/",
]


def signed_in(user, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def supervisor():
    return UserFactory(role=Role.SUPERVISOR, display_name="王主管")


@pytest.fixture
def team():
    return Team.objects.create(
        code="repair-east", name="华东维修", name_en="Repair East", kind="repair_service"
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_supervisors_and_admins_open_every_settings_page(supervisor, admin_user, team, language):
    calendar = BusinessCalendar.objects.get(code="standard")
    policy = SlaPolicy.objects.get(name="维修")
    pages = [
        *PAGES,
        f"/console/settings/sla/{policy.pk}/",
        f"/console/settings/calendars/{calendar.pk}/",
        f"/console/settings/teams/{team.pk}/",
    ]
    for user in (supervisor, admin_user):
        client = signed_in(user, language)
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, page
    listing = signed_in(supervisor, language).get("/console/settings/sla/").content.decode()
    if language == "en":
        assert "Repair" in listing and "3 days" in listing and "维修" not in listing
    else:
        assert "维修" in listing and "3 天" in listing and ">Repair<" not in listing
    assert "0:00:00" not in listing


@pytest.mark.parametrize("role", [Role.AGENT, Role.TECHNICIAN, Role.PARTS_CLERK])
def test_other_staff_are_refused_and_have_no_menu_entry(role):
    client = signed_in(UserFactory(role=role))
    for page in PAGES:
        assert client.get(page).status_code == 403, page
    assert "/console/settings/" not in client.get("/console/").content.decode()


def test_a_customer_is_refused(team):
    client = signed_in(customer_user())
    assert client.get("/console/settings/").status_code == 403


def test_a_policy_is_saved_with_durations_typed_in_chinese_and_audited(supervisor):
    client = signed_in(supervisor)
    response = client.post(
        "/console/settings/sla/new/",
        {
            "name": "VIP 报修",
            "name_en": "VIP repair",
            "precedence": 5,
            "is_active": "on",
            "warn_at_percent": 80,
            "ticket_type": "repair",
            "customer_tier": "high_value",
            "first_response": "30 分钟",
            "resolution": "1 天 4 小时",
        },
    )

    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="VIP 报修")
    assert policy.first_response == dt.timedelta(minutes=30)
    assert policy.resolution == dt.timedelta(days=1, hours=4)
    assert AuditEvent.objects.filter(action="sla.policy.create", actor=supervisor).count() == 1
    page = client.get(f"/console/settings/sla/{policy.pk}/").content.decode()
    assert 'value="1 天 4 小时"' in page


@pytest.mark.parametrize(
    ("language", "data", "message"),
    [
        ("zh-hans", {"resolution": "很快"}, "请输入时长"),
        ("en", {"resolution": "soon"}, "Enter a duration"),
        ("zh-hans", {"resolution": "0 分钟"}, "时效目标必须是正的时长"),
        ("en", {"name": "维修", "resolution": "2 days"}, "Another policy has this name."),
        ("zh-hans", {"first_response": "", "resolution": ""}, "至少设置一个时效目标"),
    ],
)
def test_bad_input_is_refused_with_a_translated_message_and_nothing_saved(
    supervisor, language, data, message
):
    client = signed_in(supervisor, language)
    before = (SlaPolicy.objects.count(), AuditEvent.objects.count())

    response = client.post(
        "/console/settings/sla/new/",
        {"name": "新政策", "precedence": 7, "is_active": "on", "warn_at_percent": 75, **data},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert (SlaPolicy.objects.count(), AuditEvent.objects.count()) == before


def test_calendar_hours_and_exceptions_are_changed_through_the_services(supervisor):
    calendar = BusinessCalendar.objects.get(code="standard")
    client = signed_in(supervisor)
    url = f"/console/settings/calendars/{calendar.pk}/"
    hours = {f"day{day}": "09:00-12:00, 13:00-17:30" for day in range(5)} | {"day5": "", "day6": ""}

    assert client.post(url, {"action": "hours", **hours}).status_code == 302
    assert (
        client.post(
            url, {"action": "override", "date": "2031-05-06", "is_working": "0", "note": "公司年会"}
        ).status_code
        == 302
    )

    calendar.refresh_from_db()
    assert sorted((h.weekday, f"{h.start:%H:%M}", f"{h.end:%H:%M}") for h in calendar.working_hours.all())[
        :2
    ] == [
        (0, "09:00", "12:00"),
        (0, "13:00", "17:30"),
    ]
    assert calendar.overrides.filter(date="2031-05-06", is_working=False).exists()
    actions = set(AuditEvent.objects.filter(actor=supervisor).values_list("action", flat=True))
    assert {"calendar.update", "calendar.override_set"} <= actions

    bad = client.post(url, {"action": "hours", **hours, "day0": "9点到5点"})
    assert bad.status_code == 200 and "09:00-12:00, 13:00-18:00" in bad.content.decode()
    reversed_hours = client.post(url, {"action": "hours", **hours, "day1": "18:00-09:00"})
    assert reversed_hours.status_code == 200
    calendar.refresh_from_db()
    assert calendar.working_hours.filter(weekday=1, start="09:00").exists()


def test_team_members_are_added_and_removed_with_an_audit_trail(supervisor, team):
    agent = UserFactory(role=Role.AGENT, display_name="李娜")
    client = signed_in(supervisor)
    url = f"/console/settings/teams/{team.pk}/"

    assert client.post(url, {"action": "add", "user": agent.pk}).status_code == 302
    assert team.members.filter(pk=agent.pk).exists()
    assert client.post(url, {"action": "remove", "user": agent.pk}).status_code == 302
    assert not team.members.filter(pk=agent.pk).exists()
    assert list(
        AuditEvent.objects.filter(actor=supervisor, object_type__icontains="team")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["team.member_add", "team.member_remove"]

    login = customer_user()
    response = client.post(url, {"action": "add", "user": login.pk})
    assert response.status_code == 200  # not a staff member: not offered, refused
    assert not team.members.filter(pk=login.pk).exists()
