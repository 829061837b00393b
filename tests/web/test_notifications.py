"""Notifications summarised: one group per kind and day ("12 SLA breaches today"), each ticket once,
read a group at a time; two queries for the summary whatever the number of notices."""

from __future__ import annotations

import datetime as dt

import pytest

from aftersales.core.errors import ValidationFailed
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.sla.models import SlaClock, SlaNotification
from aftersales.sla.notifications import sla_notifications_mark_read
from aftersales.sla.selectors import notification_groups
from tests.factories import TicketFactory, UserFactory

NOW = dt.datetime(2026, 3, 3, 6, 0, tzinfo=dt.UTC)  # 14:00 in Shanghai
TARGETS = ["first_response", "resolution", "stage_accept"]


def notice(user, ticket, kind: str, at: dt.datetime, target: str = "resolution", read: bool = False):
    clock = SlaClock.objects.create(
        ticket=ticket,
        target=target,
        status="met",
        target_seconds=3600,
        warn_after_seconds=2700,
        started_at=at - dt.timedelta(hours=1),
        due_at=at,
        warn_at=at,
        breached_at=at if kind == "breach" else None,
    )
    return SlaNotification.objects.create(
        user=user, ticket=ticket, clock=clock, kind=kind, created_at=at, read_at=at if read else None
    )


@pytest.fixture
def day(db, time_machine):
    """12 breaches today on 9 tickets, 3 warnings yesterday (Shanghai time), one read breach."""
    time_machine.move_to(NOW, tick=False)
    supervisor = UserFactory(role=Role.SUPERVISOR)
    tickets = [TicketFactory(subject=f"漏水 {index}") for index in range(9)]
    for index in range(12):
        ticket = tickets[index % 9]
        notice(supervisor, ticket, "breach", NOW - dt.timedelta(minutes=index), target=TARGETS[index // 9])
    # 2026-03-02 23:30 in Shanghai: yesterday, though the same UTC day as "today".
    for index in range(3):
        notice(supervisor, tickets[index], "warning", dt.datetime(2026, 3, 2, 15, 30 + index, tzinfo=dt.UTC))
    notice(supervisor, tickets[0], "breach", NOW - dt.timedelta(days=3), read=True)
    return {"user": supervisor, "tickets": tickets}


def test_notices_are_grouped_by_kind_and_local_day_with_each_ticket_once(day, django_assert_num_queries):
    with django_assert_num_queries(2):
        groups = notification_groups(user=day["user"])
    summary = [(g.kind, g.day.isoformat(), g.count, g.ticket_count, len(g.tickets), g.more) for g in groups]
    assert summary == [("breach", "2026-03-03", 12, 9, 9, 0), ("warning", "2026-03-02", 3, 3, 3, 0)]
    first = groups[0].tickets[0]
    assert (first.number, first.count) == (day["tickets"][0].number, 2)


def test_a_group_lists_its_most_recent_tickets_and_counts_the_rest(day):
    groups = notification_groups(user=day["user"], tickets_per_group=4)
    assert [len(g.tickets) for g in groups] == [4, 3]
    assert groups[0].more == 5
    assert [t.number for t in groups[0].tickets] == [t.number for t in day["tickets"][:4]]


def test_read_notices_show_only_when_asked(day):
    assert len(notification_groups(user=day["user"])) == 2
    everything = notification_groups(user=day["user"], unread_only=False)
    assert [(g.kind, g.day.isoformat(), g.unread) for g in everything][-1] == ("breach", "2026-02-28", 0)


def test_the_page_summarises_instead_of_listing_every_notice(login, day):
    body = login(day["user"]).get("/console/notifications/").content.decode()
    assert "12 SLA breaches today" in body and "on 9 tickets" in body
    assert "3 SLA warnings yesterday" in body
    assert body.count('name="kind" value="breach"') == 1
    zh = login(day["user"], "zh-hans").get("/console/notifications/").content.decode()
    assert "今天 12 次 SLA 超时" in zh and "涉及 9 张工单" in zh and "本组标为已读" in zh


def test_one_group_is_marked_read_and_the_others_stay(login, day):
    client = login(day["user"])
    response = client.post("/console/notifications/", {"kind": "breach", "day": "2026-03-03"}, follow=True)
    assert "Marked 12 notices read." in response.content.decode()
    unread = SlaNotification.objects.filter(user=day["user"], read_at__isnull=True)
    assert sorted(unread.values_list("kind", flat=True)) == ["warning"] * 3
    event = AuditEvent.objects.filter(action="sla.notifications.read").latest("id")
    assert event.after == {"count": 12, "kind": "breach", "day": "2026-03-03"}


def test_mark_all_read_still_reads_everything(login, day):
    login(day["user"]).post("/console/notifications/")
    assert not SlaNotification.objects.filter(user=day["user"], read_at__isnull=True).exists()


def test_marking_read_touches_only_the_users_own_notices(day):
    other = UserFactory(role=Role.SUPERVISOR)
    notice(other, day["tickets"][0], "breach", NOW)
    assert sla_notifications_mark_read(user=day["user"], kind="breach") == 12
    assert SlaNotification.objects.filter(user=other, read_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    "data", [{"kind": "panic"}, {"day": "yesterday"}, {"kind": "breach", "day": "2026-02-31"}]
)
def test_a_bad_group_is_a_clear_message_and_changes_nothing(login, day, data):
    client = login(day["user"], "zh-hans")
    response = client.post("/console/notifications/", data, follow=True)
    assert response.status_code == 200
    assert 'class="flash-item flash-error"' in response.content.decode()
    assert SlaNotification.objects.filter(user=day["user"], read_at__isnull=True).count() == 15
    assert client.get("/console/notifications/", data).status_code == 200


def test_the_service_refuses_an_unknown_kind(day):
    with pytest.raises(ValidationFailed):
        sla_notifications_mark_read(user=day["user"], kind="panic")


def test_one_group_opened_on_its_own_lists_all_its_tickets(login, day):
    response = login(day["user"]).get("/console/notifications/", {"kind": "breach", "day": "2026-03-03"})
    groups = response.context["groups"]
    assert [(g.kind, len(g.tickets)) for g in groups] == [("breach", 9)]
