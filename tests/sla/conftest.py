from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from aftersales.core import business_time
from aftersales.core.roles import Role
from tests.factories import CustomerFactory, TeamFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 6) -> dt.datetime:
    """An instant in June 2025 (no statutory holidays after the 2nd), Shanghai time."""
    return dt.datetime(2025, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _fresh_engines():
    business_time.engines_clear()
    yield
    business_time.engines_clear()


@pytest.fixture
def team(db):
    lead = UserFactory(role=Role.SUPERVISOR)
    team = TeamFactory(lead=lead)
    return team


@pytest.fixture
def supervisor(team):
    user = UserFactory(role=Role.SUPERVISOR)
    team.members.add(user)
    return user


@pytest.fixture
def customer(db):
    return CustomerFactory()
