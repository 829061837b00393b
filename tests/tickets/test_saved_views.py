"""Saved views: personal ones for their owner, shared ones for all staff; every change audited."""

from __future__ import annotations

import pytest

from aftersales.core.errors import NotFound, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.tickets.models import SavedView
from aftersales.tickets.selectors_saved_views import saved_view_get_for_user, saved_views_for
from aftersales.tickets.services import saved_view_delete, saved_view_save
from tests.factories import UserFactory, customer_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor():
    return UserFactory(role=Role.SUPERVISOR)


def test_a_personal_view_is_seen_by_its_owner_only(agent):
    other = UserFactory(role=Role.AGENT)
    view = saved_view_save(
        actor=agent, name="紧急维修", queue="all", filters={"priority": "urgent", "type": "repair"}
    )

    assert saved_views_for(agent) == [view]
    assert saved_views_for(other) == []
    with pytest.raises(NotFound):
        saved_view_get_for_user(view_id=view.pk, user=other)
    event = AuditEvent.objects.get(action="saved_view.create")
    assert event.after["filters"] == {"priority": "urgent", "type": "repair"}


def test_a_shared_view_is_seen_by_every_member_of_staff_but_not_customers(supervisor, agent):
    shared = saved_view_save(
        actor=supervisor, name="Team backlog", queue="team", filters={}, sort="oldest", is_shared=True
    )
    own = saved_view_save(actor=agent, name="Mine urgent", queue="mine", filters={"priority": "urgent"})

    assert saved_views_for(agent) == [own, shared]  # own views first
    assert saved_views_for(UserFactory(role=Role.TECHNICIAN)) == [shared]
    assert saved_views_for(customer_user()) == []


def test_only_those_who_may_share_can_share(agent):
    with pytest.raises(PermissionDenied):
        saved_view_save(actor=agent, name="For all", queue="all", filters={}, is_shared=True)
    assert not SavedView.objects.exists()


def test_a_customer_cannot_save_views():
    with pytest.raises(PermissionDenied):
        saved_view_save(actor=customer_user(), name="x", queue="all", filters={})


def test_saving_under_the_same_name_replaces_the_view(agent):
    first = saved_view_save(actor=agent, name="Queue", queue="all", filters={"priority": "high"})
    second = saved_view_save(
        actor=agent, name="Queue", queue="mine", filters={"status": "new"}, sort="updated"
    )
    assert first.pk == second.pk
    second.refresh_from_db()
    assert (second.queue, second.filters, second.sort) == ("mine", {"status": "new"}, "updated")
    update = AuditEvent.objects.get(action="saved_view.update")
    assert update.before["queue"] == "all" and update.after["queue"] == "mine"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"queue": "../etc"}, "queue"),
        ({"filters": {"password": "x"}}, "filters"),
        ({"filters": {"q": "x" * 101}}, "filters"),
        ({"sort": "drop table"}, "sort"),
    ],
)
def test_bad_views_are_refused(agent, kwargs, field):
    arguments = {"name": "ok", "queue": "all", "filters": {}, **kwargs}
    with pytest.raises(ValidationFailed) as error:
        saved_view_save(actor=agent, **arguments)
    assert field in error.value.details


def test_delete_rules(supervisor, agent):
    personal = saved_view_save(actor=agent, name="Mine", queue="mine", filters={})
    shared = saved_view_save(actor=supervisor, name="Shared", queue="all", filters={}, is_shared=True)

    with pytest.raises(PermissionDenied):
        saved_view_delete(actor=agent, view=shared)  # seen, but not the agent's to withdraw
    saved_view_delete(actor=UserFactory(role=Role.SUPERVISOR), view=shared)  # a lead may
    saved_view_delete(actor=agent, view=personal)

    assert not SavedView.objects.exists()
    assert AuditEvent.objects.filter(action="saved_view.delete").count() == 2
