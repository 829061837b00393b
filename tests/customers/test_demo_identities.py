from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from aftersales.core.roles import Role
from aftersales.customers.models import Contact, ContactIdentity, Customer
from aftersales.customers.selectors import customer_possible_duplicates
from aftersales.customers.services import customer_identify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_demo_customers_have_identities_across_channels_and_a_few_duplicates():
    call_command(
        "seed_demo", "--tickets", "60", "--customers", "300", "--now", "2025-06-30T00:00:00+08:00",
        "--verbosity", "0", stdout=io.StringIO(),
    )  # fmt: skip
    with_phone = Contact.objects.exclude(phone="")
    assert with_phone.filter(identities__kind="phone").distinct().count() == with_phone.count() > 300
    wechat = Contact.objects.exclude(wechat_openid="").first()
    assert wechat is not None
    kinds = set(ContactIdentity.objects.filter(contact=wechat).values_list("kind", flat=True))
    assert {"phone", "wechat_openid"} <= kinds
    # A WeChat message from that openid reaches the seeded customer, not a new one.
    before = Customer.objects.count()
    assert customer_identify(actor=None, wechat_openid=wechat.wechat_openid)[0] == wechat.customer
    assert Customer.objects.count() == before
    agent = UserFactory(role=Role.AGENT)
    duplicated = [
        c
        for c in Customer.objects.filter(contacts__identities__is_routing=False).distinct()
        if customer_possible_duplicates(user=agent, customer=c)
    ]
    assert 1 <= len(duplicated) <= 8
    for customer in duplicated:
        reasons = customer_possible_duplicates(user=agent, customer=customer)[0].reasons
        assert "name_region" in reasons and any(r.startswith(("email:", "phone:")) for r in reasons)
