from __future__ import annotations

import datetime as dt

import pytest

from aftersales.assets.models import WarrantyStatus, add_months
from aftersales.assets.services import installed_product_register
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.roles import Role
from tests.factories import CustomerFactory, InstalledProductFactory, ProductModelFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (dt.date(2025, 1, 31), 1, dt.date(2025, 2, 28)),
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),
        (dt.date(2023, 11, 15), 36, dt.date(2026, 11, 15)),
        (dt.date(2025, 12, 1), 1, dt.date(2026, 1, 1)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start, months, end):
    assert add_months(start, months) == end


def test_warranty_runs_from_the_purchase_date_for_the_models_months():
    product = InstalledProductFactory(
        product_model=ProductModelFactory(warranty_months=36),
        purchased_on=dt.date(2023, 11, 24),
        installed_on=dt.date(2023, 12, 1),
    )
    assert product.warranty_ends_on == dt.date(2026, 11, 24)
    assert product.warranty_status(on=dt.date(2026, 11, 23)) == WarrantyStatus.IN_WARRANTY
    assert product.warranty_status(on=dt.date(2026, 11, 24)) == WarrantyStatus.EXPIRED


def test_without_dates_the_warranty_is_unknown():
    product = InstalledProductFactory(purchased_on=None, installed_on=None)
    assert product.warranty_status() == WarrantyStatus.UNKNOWN


def test_registering_checks_serials_dates_and_permissions():
    agent = UserFactory(role=Role.AGENT)
    customer = CustomerFactory()
    model = ProductModelFactory()
    product = installed_product_register(
        actor=agent,
        customer=customer,
        product_model=model,
        serial_number="SN-1",
        purchased_on=dt.date(2025, 5, 1),
        installed_on=dt.date(2025, 5, 3),
    )
    assert product.customer == customer
    with pytest.raises(Conflict):
        installed_product_register(actor=agent, customer=customer, product_model=model, serial_number="SN-1")
    with pytest.raises(ValidationFailed):
        installed_product_register(
            actor=agent,
            customer=customer,
            product_model=model,
            serial_number="SN-2",
            purchased_on=dt.date(2025, 5, 3),
            installed_on=dt.date(2025, 5, 1),
        )
    with pytest.raises(PermissionDenied):
        installed_product_register(
            actor=UserFactory(role=Role.CUSTOMER),
            customer=customer,
            product_model=model,
            serial_number="SN-3",
        )
