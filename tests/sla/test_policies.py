from __future__ import annotations

import datetime as dt

import pytest

from aftersales.sla.errors import SlaConfigurationError
from aftersales.sla.models import SlaPolicy
from aftersales.sla.policies import resolve_policies, sla_policy_save

pytestmark = pytest.mark.django_db


def criteria(**kwargs: str) -> dict[str, str]:
    base = {
        "ticket_type": "consultation",
        "priority": "normal",
        "customer_tier": "potential",
        "channel": "web",
    }
    return {**base, **kwargs}


def seconds_for(**kwargs: str) -> dict[str, int]:
    resolution = resolve_policies(criteria(**kwargs), SlaPolicy.objects.filter(is_active=True))
    return {target: applied.seconds for target, applied in resolution.targets.items()}


def test_the_default_policy_fills_every_target_of_an_ordinary_ticket():
    assert seconds_for() == {
        "first_response": 3600,
        "next_response": 4 * 3600,
        "resolution": 24 * 3600,
        "stage_accept": 300,
        "stage_diagnose": 3600,
        "stage_propose": 2 * 3600,
        "stage_complete": 24 * 3600,
    }


@pytest.mark.parametrize(
    ("kwargs", "first_response"),
    [
        ({"priority": "urgent"}, 300),
        ({"ticket_type": "complaint"}, 900),
        ({"channel": "phone"}, 60),
        ({"channel": "chat"}, 30),
        ({"channel": "email"}, 4 * 3600),
        ({"channel": "social"}, 2 * 3600),
        # Equally specific policies: the lower precedence number (the stricter promise) wins.
        ({"channel": "phone", "priority": "urgent"}, 60),
        ({"channel": "email", "priority": "urgent"}, 300),
        ({"channel": "email", "ticket_type": "complaint"}, 900),
        ({"priority": "urgent", "ticket_type": "complaint"}, 300),
    ],
)
def test_first_response_follows_the_documented_precedence(kwargs, first_response):
    assert seconds_for(**kwargs)["first_response"] == first_response


def test_targets_are_resolved_one_by_one_across_policies():
    repair_by_phone = seconds_for(ticket_type="repair", channel="phone")
    assert repair_by_phone["first_response"] == 60
    assert repair_by_phone["resolution"] == 72 * 3600
    installation = seconds_for(ticket_type="installation")
    assert installation["on_site"] == 3 * 3600
    assert installation["resolution"] == 24 * 3600


def test_the_more_specific_policy_wins_whatever_its_precedence():
    sla_policy_save(
        actor=None,
        name="VIP urgent",
        precedence=999,
        priority="urgent",
        customer_tier="high_value",
        first_response=dt.timedelta(minutes=3),
    )
    assert (
        seconds_for(priority="urgent", customer_tier="high_value", channel="phone")["first_response"] == 180
    )
    assert seconds_for(priority="urgent", channel="phone")["first_response"] == 60


def test_inactive_policies_do_not_apply():
    SlaPolicy.objects.filter(channel="phone").update(is_active=False)
    assert seconds_for(channel="phone")["first_response"] == 3600


def test_overlapping_policies_of_equal_precedence_are_refused_and_nothing_is_saved():
    count = SlaPolicy.objects.count()
    with pytest.raises(SlaConfigurationError) as refused:
        sla_policy_save(
            actor=None,
            name="Urgent too",
            precedence=20,
            priority="urgent",
            first_response=dt.timedelta(minutes=2),
        )
    assert refused.value.details["conflicting_policy"] == SlaPolicy.objects.get(priority="urgent").pk
    assert SlaPolicy.objects.count() == count


def test_equal_precedence_is_fine_when_the_policies_cannot_meet():
    sla_policy_save(
        actor=None, name="WeChat", precedence=10, channel="wechat", first_response=dt.timedelta(minutes=1)
    )
    assert seconds_for(channel="wechat")["first_response"] == 60


def test_equal_precedence_is_fine_when_the_policies_set_different_targets():
    sla_policy_save(
        actor=None, name="Urgent resolution", precedence=20, priority="high", resolution=dt.timedelta(hours=8)
    )
    assert seconds_for(priority="high")["resolution"] == 8 * 3600


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"first_response": dt.timedelta(minutes=-5)}, "first_response"),
        ({"resolution": dt.timedelta(0)}, "resolution"),
        ({"first_response": dt.timedelta(minutes=5), "warn_at_percent": 0}, "warn_at_percent"),
        ({"first_response": dt.timedelta(minutes=5), "warn_at_percent": 100}, "warn_at_percent"),
        ({}, "first_response"),
    ],
)
def test_bad_targets_are_refused_with_a_message_and_nothing_is_saved(values, field):
    count = SlaPolicy.objects.count()
    with pytest.raises(SlaConfigurationError) as refused:
        sla_policy_save(actor=None, name="Bad", precedence=500, channel="app", **values)
    assert field in refused.value.details
    assert refused.value.details[field]
    assert SlaPolicy.objects.count() == count


def test_the_admin_form_refuses_an_overlapping_policy(client, admin_user):
    client.force_login(admin_user)
    count = SlaPolicy.objects.count()
    response = client.post(
        "/admin/sla/slapolicy/add/",
        {
            "name": "Phone again",
            "precedence": 10,
            "is_active": "on",
            "channel": "phone",
            "first_response": "00:02:00",
            "warn_at_percent": 75,
        },
    )
    assert response.status_code == 200
    assert "precedence" in response.context["adminform"].form.errors
    assert SlaPolicy.objects.count() == count


def test_the_admin_form_refuses_a_negative_target(client, admin_user):
    client.force_login(admin_user)
    count = SlaPolicy.objects.count()
    response = client.post(
        "/admin/sla/slapolicy/add/",
        {
            "name": "Negative",
            "precedence": 600,
            "is_active": "on",
            "first_response": "-00:02:00",
            "warn_at_percent": 75,
        },
    )
    assert response.status_code == 200
    assert "first_response" in response.context["adminform"].form.errors
    assert SlaPolicy.objects.count() == count
