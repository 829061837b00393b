"""Schemathesis drives every endpoint of the OpenAPI document with generated input.

Whatever it sends, the API must answer with a documented status and never with a server error.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from aftersales.core.roles import Role
from aftersales.core.services import api_token_create
from aftersales.tickets.services import ticket_open
from tests.factories import CustomerFactory, InstalledProductFactory, UserFactory


@pytest.fixture(autouse=True)
def _keep_the_test_connection_open():
    """Django's test client detaches close_old_connections; this WSGI client does not, so do it here."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db):
    admin = UserFactory(role=Role.ADMIN, username="fuzz-admin@example.com")
    customer = CustomerFactory()
    InstalledProductFactory(customer=customer)
    ticket_open(actor=admin, customer=customer, subject="fuzz target")
    _token, raw = api_token_create(user=admin)
    return {"Authorization": f"Bearer {raw}"}


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
# Valid and invalid input both: invalid input must get a documented 4xx, never a 500.
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=True, deterministic=True
)


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_input_makes_the_api_fail(case, bearer):
    case.call_and_validate(
        headers=bearer, checks=[not_a_server_error, status_code_conformance, content_type_conformance]
    )
