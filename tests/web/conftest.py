from __future__ import annotations

import pytest
from django.test import Client

from aftersales.core.models import User
from aftersales.core.roles import Role
from tests.factories import (
    CustomerFactory,
    InstalledProductFactory,
    TeamFactory,
    UserFactory,
    customer_user,
)


@pytest.fixture
def login():
    """A test client signed in as ``user``, speaking ``language``."""

    def make(user: User, language: str = "en") -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def team(db):
    return TeamFactory()


@pytest.fixture
def technician(db) -> User:
    return UserFactory(role=Role.TECHNICIAN)


@pytest.fixture
def supervisor(db) -> User:
    return UserFactory(role=Role.SUPERVISOR)


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def portal_user(customer) -> User:
    return customer_user(customer)


@pytest.fixture
def product(customer):
    return InstalledProductFactory(customer=customer)
