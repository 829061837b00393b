from __future__ import annotations

import pytest
from django.test import Client

from aftersales.core.models import AuditEvent, Region
from aftersales.core.roles import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_configuration_changed_in_the_admin_is_audited():
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    assert client.login(username=admin.username, password=PASSWORD)
    response = client.post(
        "/admin/core/region/add/", {"code": "east", "name": "华东", "name_en": "East China", "level": "area"}
    )
    assert response.status_code == 302, response.content[:500]
    region = Region.objects.get(code="east")
    client.post(
        f"/admin/core/region/{region.pk}/change/",
        {"code": "east", "name": "华东区", "name_en": "East China", "level": "area"},
    )
    events = list(AuditEvent.objects.filter(object_type="core.region").order_by("id"))
    assert [e.action for e in events] == ["admin.add", "admin.change"]
    assert events[1].before == {"name": "华东"} and events[1].after == {"name": "华东区"}
    assert events[1].actor == admin


def test_tickets_cannot_be_edited_in_the_admin():
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    client.login(username=admin.username, password=PASSWORD)
    assert client.get("/admin/tickets/ticket/add/").status_code == 403
