"""Online channels are promised round the clock (7×24): their shipped policies count on the
always-open calendar, while field work keeps business hours with holidays and 调休."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
import time_machine
from django.apps import apps

from aftersales.core.models import BusinessCalendar
from aftersales.sla.defaults import ONLINE_CALENDAR, install_defaults
from aftersales.sla.models import SlaClock, SlaEscalationRule, SlaPolicy
from aftersales.tickets.services import ticket_open

from .conftest import at

pytestmark = pytest.mark.django_db

ONLINE_POLICIES = {
    "电话首响": "phone",
    "在线客服首响": "chat",
    "社交媒体首响": "social",
    "微信首响": "wechat",
}


def due(ticket, target) -> dt.datetime:
    return SlaClock.objects.get(ticket=ticket, target=target).due_at


def test_the_shipped_online_channel_policies_are_on_the_24x7_calendar():
    for name, channel in ONLINE_POLICIES.items():
        policy = SlaPolicy.objects.get(name=name)
        assert policy.channel == channel
        assert policy.calendar is not None and policy.calendar.code == ONLINE_CALENDAR, name
        assert policy.calendar.is_always_open
    for name in ("默认", "维修", "安装", "邮件首响"):
        assert SlaPolicy.objects.get(name=name).calendar is None  # the business calendar


@pytest.mark.parametrize(("channel", "seconds"), [("chat", 30), ("phone", 60), ("wechat", 7200)])
def test_an_online_contact_on_a_saturday_night_is_due_in_seconds_not_on_monday(
    agent, customer, channel, seconds
):
    saturday_night = at(14, 22)  # 2025-06-14 is a Saturday
    with time_machine.travel(saturday_night, tick=False):
        ticket = ticket_open(actor=agent, customer=customer, subject="在线咨询", channel=channel)
    assert due(ticket, "first_response") == saturday_night + dt.timedelta(seconds=seconds)
    # What the channel policy does not set comes from the default, on business time: 24 business
    # hours from Monday 09:00 is Wednesday 15:00.
    assert due(ticket, "resolution") == at(18, 15)


def test_field_work_keeps_business_hours_and_statutory_holidays(agent, customer):
    # 2025-09-30 17:30, the last working day before National Day (10-01…08).
    with time_machine.travel(dt.datetime(2025, 9, 30, 17, 30, tzinfo=at(1, 0).tzinfo), tick=False):
        ticket = ticket_open(
            actor=agent, customer=customer, subject="热水器安装", type="installation", channel="phone"
        )
    shanghai = at(1, 0).tzinfo
    # On site within 3 business hours: 30 minutes that evening, 2 h 30 after the holiday.
    assert due(ticket, "on_site") == dt.datetime(2025, 10, 9, 11, 30, tzinfo=shanghai)
    # The phone still has to be answered within a minute, holiday or not.
    assert due(ticket, "first_response") == dt.datetime(2025, 9, 30, 17, 31, tzinfo=shanghai)


def test_the_data_migration_moves_existing_online_policies_and_keeps_a_chosen_calendar():
    BusinessCalendar.objects.filter(code=ONLINE_CALENDAR).update(code="renamed")
    chosen = BusinessCalendar.objects.get(code="standard")
    SlaPolicy.objects.filter(name__in=ONLINE_POLICIES).update(calendar=None)
    SlaPolicy.objects.filter(name="电话首响").update(calendar=chosen)
    SlaPolicy.objects.filter(name="微信首响").delete()

    migration = importlib.import_module("aftersales.sla.migrations.0003_online_channels_24x7")
    migration.forwards(apps, None)

    online = BusinessCalendar.objects.get(code=ONLINE_CALENDAR)  # created again
    assert online.is_always_open
    assert SlaPolicy.objects.get(name="电话首响").calendar == chosen
    for name in ("在线客服首响", "社交媒体首响", "微信首响"):
        assert SlaPolicy.objects.get(name=name).calendar == online
    # Running it again (the demo seed does) changes nothing.
    install_defaults(SlaPolicy, SlaEscalationRule, BusinessCalendar)
    assert SlaPolicy.objects.filter(calendar=online).count() == 3
