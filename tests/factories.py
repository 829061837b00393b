"""factory_boy factories for the domain; deterministic through factory's own sequence."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from aftersales.assets.models import InstalledProduct, ProductModel
from aftersales.core.models import Region, Team, User
from aftersales.core.roles import Role
from aftersales.customers.models import Address, Contact, Customer
from aftersales.tickets.models import Ticket, TicketStatusChange
from aftersales.tickets.search import index_ticket

PASSWORD = "correct-horse-9"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"region-{n}")
    name = factory.Sequence(lambda n: f"区域{n}")
    name_en = factory.Sequence(lambda n: f"Region {n}")
    level = Region.Level.CITY


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda o: o.username)
    display_name = factory.Sequence(lambda n: f"员工{n}")
    role = Role.AGENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def persist_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save(update_fields=["password"])


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"team-{n}")
    name = factory.Sequence(lambda n: f"服务组{n}")
    name_en = factory.Sequence(lambda n: f"Team {n}")
    kind = Team.Kind.CUSTOMER_SERVICE


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"CF{n:06d}")
    name = factory.Sequence(lambda n: f"客户{n}")
    phone = factory.Sequence(lambda n: f"1380000{n:04d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.LazyAttribute(lambda o: o.customer.name)
    phone = factory.LazyAttribute(lambda o: o.customer.phone)
    email = factory.LazyAttribute(lambda o: o.customer.email)
    is_primary = True


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    line = factory.Sequence(lambda n: f"上海市浦东新区世纪大道{n}号")
    is_default = True


class ProductModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductModel
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"PM-{n:03d}")
    name = factory.Sequence(lambda n: f"智能马桶 {n} 型")
    name_en = factory.Sequence(lambda n: f"Smart toilet model {n}")
    category = "smart_toilet"
    warranty_months = 36


class InstalledProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InstalledProduct

    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    product_model = factory.SubFactory(ProductModelFactory)
    customer = factory.SubFactory(CustomerFactory)
    purchased_on = dt.date(2025, 3, 1)
    installed_on = dt.date(2025, 3, 5)


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket in status NEW with its opening status change, as ``ticket_open`` would leave it."""

    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"TF{n:07d}")
    subject = factory.Sequence(lambda n: f"马桶漏水 {n}")
    description = "冲水后底座漏水"
    customer = factory.SubFactory(CustomerFactory)
    customer_tier = factory.LazyAttribute(lambda o: o.customer.value_tier)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyAttribute(lambda o: o.created_at)
    status_changed_at = factory.LazyAttribute(lambda o: o.created_at)

    @factory.post_generation
    def opening_event(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            TicketStatusChange.objects.create(
                ticket=obj, from_status="", to_status=obj.status, occurred_at=obj.created_at
            )
            index_ticket(obj)  # its search document, as ticket_open writes it


def customer_user(customer: Customer | None = None, **kwargs: object) -> User:
    """A portal login linked to a contact of ``customer``."""
    customer = customer or CustomerFactory()
    user = UserFactory(role=Role.CUSTOMER, **kwargs)
    ContactFactory(customer=customer, user=user, is_primary=False)
    return user
