"""The customer base: persons and companies, contacts, addresses and installed products (bulk)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from aftersales.assets.models import InstalledProduct
from aftersales.core.models import User
from aftersales.customers.identity import normalize_email, normalize_phone
from aftersales.customers.models import Address, Contact, ContactIdentity, Customer, IdentityKind, ValueTier

from .catalogue import COMMUNITIES, COMPANY_KINDS, COMPANY_WORDS, PRODUCTS, STREETS
from .organisation import Organisation, mobile_number, person_name

# Value tiers (RFM): companies buy more and are more often high-value; overall ≈ 20/50/30.
PERSON_TIERS = ((ValueTier.HIGH_VALUE, 15), (ValueTier.CORE, 50), (ValueTier.POTENTIAL, 35))
COMPANY_TIERS = ((ValueTier.HIGH_VALUE, 55), (ValueTier.CORE, 40), (ValueTier.POTENTIAL, 5))
COMPANY_SHARE = 0.12
# How often a customer calls, relative to a potential private customer.
TICKET_WEIGHT: dict[str, float] = {ValueTier.HIGH_VALUE: 2.0, ValueTier.CORE: 1.3, ValueTier.POTENTIAL: 1.0}
# One customer in seven also writes through WeChat, one in eleven from a second e-mail address;
# a few private customers were registered twice (the previous customer again, found by the same
# e-mail address or number and the same name and region) so the console has duplicates to merge.
# Decided by the customer's position, not by ``rng``, so the rest of the demo stays as it was.
WECHAT_EVERY, SECOND_EMAIL_EVERY = 7, 11
DUPLICATE_EVERY, DUPLICATE_AT, MAX_DUPLICATES = 97, 50, 8


@dataclass(slots=True)
class OwnedProduct:
    id: int
    product_index: int  # into catalogue.PRODUCTS
    serial_number: str
    purchased_on: dt.date


@dataclass(slots=True)
class CustomerInfo:
    """What ticket generation needs to know about a customer, without touching the database."""

    id: int
    name: str
    tier: str
    is_company: bool
    place_index: int
    region_id: int
    contact_id: int
    portal_user_id: int | None
    products: list[OwnedProduct] = field(default_factory=list)


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _jitter(rng: random.Random, value: Decimal, spread: float) -> Decimal:
    return (value + Decimal(str(round(rng.uniform(-spread, spread), 6)))).quantize(Decimal("0.000001"))


def build_customers(
    *,
    rng: random.Random,
    org: Organisation,
    count: int,
    first_number: int,
    newest_purchase: dt.date,
    portal_user: User | None,
    batch_size: int,
    progress: Callable[[int], None],
) -> list[CustomerInfo]:
    """Create ``count`` customers numbered from ``first_number``; the first one owns ``portal_user``.

    Every product was bought on or before ``newest_purchase`` (before the ticket window), so a
    ticket never mentions a product the customer did not have yet.
    """
    place_weights = [place.city.weight for place in org.places]
    product_weights = [p.weight for p in PRODUCTS]
    infos: list[CustomerInfo] = []
    routed: set[tuple[str, str]] = set()
    previous: Customer | None = None
    for start in range(0, count, batch_size):
        customers: list[Customer] = []
        contacts: list[Contact] = []
        addresses: list[Address] = []
        pending: list[tuple[CustomerInfo, Customer, Contact, Address, list[tuple[int, dt.date, int]]]] = []
        for k in range(start, min(count, start + batch_size)):
            number = first_number + k
            is_demo_customer = k == 0 and portal_user is not None
            is_company = not is_demo_customer and rng.random() < COMPANY_SHARE
            place_index = (
                0 if is_demo_customer else rng.choices(range(len(org.places)), weights=place_weights)[0]
            )
            place = org.places[place_index]
            contact_name = portal_user.display_name if is_demo_customer and portal_user else person_name(rng)
            if is_company:
                name = f"{place.city.name}{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_KINDS)}"
                tier = _weighted(rng, COMPANY_TIERS)
            else:
                name = contact_name
                tier = ValueTier.CORE if is_demo_customer else _weighted(rng, PERSON_TIERS)
            code = f"C{number:07d}"
            phone = mobile_number(rng)
            email = (
                portal_user.email
                if is_demo_customer and portal_user
                else (f"{code.lower()}@example.com" if rng.random() < 0.6 else "")
            )
            owned = []
            for _ in range(
                rng.randint(3, 8) if is_company else rng.choices((1, 2, 3), weights=(50, 35, 15))[0]
            ):
                purchased = newest_purchase - dt.timedelta(days=rng.randint(0, 1500))
                owned.append(
                    (
                        rng.choices(range(len(PRODUCTS)), weights=product_weights)[0],
                        purchased,
                        rng.randint(0, 15),
                    )
                )
            first_purchase = min(p[1] for p in owned)
            since = dt.datetime.combine(first_purchase, dt.time(10, 0), tzinfo=dt.UTC)
            region = place.region
            if (
                k % DUPLICATE_EVERY == DUPLICATE_AT
                and k // DUPLICATE_EVERY < MAX_DUPLICATES
                and previous is not None
                and previous.kind == "person"
                and not is_company
                and not is_demo_customer
            ):
                # The previous customer registered again: same name and region, and either the
                # same e-mail address typed differently or the same number written another way.
                name = contact_name = previous.name
                region = previous.region or place.region
                if previous.email:
                    email = previous.email.upper()
                else:
                    phone = f"+86 {previous.phone[:3]}-{previous.phone[3:7]}-{previous.phone[7:]}"
            customer = Customer(
                code=code,
                kind="company" if is_company else "person",
                name=name,
                phone=phone,
                email=email,
                value_tier=tier,
                region=region,
                created_at=since,
                updated_at=since,
            )
            previous = customer
            contact = Contact(
                customer=customer,
                name=contact_name,
                phone=phone,
                email=email,
                wechat_openid=f"oWX_demo_{number:07d}" if k % WECHAT_EVERY == 3 else "",
                is_primary=True,
                user=portal_user if is_demo_customer else None,
            )
            district = rng.choice(place.city.districts)
            if is_company:
                line = f"{place.city.name}{district}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
            else:
                line = (
                    f"{place.city.name}{district}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
                    f"{rng.choice(COMMUNITIES)}{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{rng.randint(1, 32)}0{rng.randint(1, 4)}室"
                )
            address = Address(
                customer=customer,
                label="公司" if is_company else "家",
                region=place.region,
                line=line,
                latitude=_jitter(rng, place.latitude, 0.06),
                longitude=_jitter(rng, place.longitude, 0.08),
                is_default=True,
            )
            info = CustomerInfo(
                id=0,
                name=name,
                tier=tier,
                is_company=is_company,
                place_index=place_index,
                region_id=place.region.pk,
                contact_id=0,
                portal_user_id=portal_user.pk if is_demo_customer and portal_user else None,
            )
            customers.append(customer)
            contacts.append(contact)
            addresses.append(address)
            pending.append((info, customer, contact, address, owned))
            if is_company:
                contacts.append(Contact(customer=customer, name=person_name(rng), phone=mobile_number(rng)))
        Customer.objects.bulk_create(customers)
        Contact.objects.bulk_create(contacts)
        Address.objects.bulk_create(addresses)
        ContactIdentity.objects.bulk_create(_identities(contacts, routed))
        units: list[InstalledProduct] = []
        for info, customer, contact, address, owned in pending:
            info.id, info.contact_id = customer.pk, contact.pk
            number = int(customer.code[1:])
            for j, (product_index, purchased, install_delay) in enumerate(owned):
                product, model = org.products[product_index]
                serial = f"{product.code.replace('-', '')}{purchased:%y%m}{number:07d}{j:02d}"
                units.append(
                    InstalledProduct(
                        serial_number=serial,
                        product_model=model,
                        customer=customer,
                        address=address,
                        purchased_on=purchased,
                        installed_on=purchased + dt.timedelta(days=install_delay),
                        created_at=dt.datetime.combine(purchased, dt.time(10, 0), tzinfo=dt.UTC),
                    )
                )
                info.products.append(OwnedProduct(0, product_index, serial, purchased))
            infos.append(info)
        InstalledProduct.objects.bulk_create(units)
        unit_iter = iter(units)
        for info, *_rest in pending:
            for owned_product in info.products:
                owned_product.id = next(unit_iter).pk
        progress(len(pending))
    return infos


def _identities(contacts: list[Contact], routed: set[tuple[str, str]]) -> list[ContactIdentity]:
    """The contacts' identities as ``customer_identify`` would have recorded them: the first
    holder of a value receives inbound contacts with it, later holders are duplicates."""
    wanted: list[tuple[Contact, str, str]] = []
    for contact in contacts:
        values = [
            (IdentityKind.PHONE, normalize_phone(contact.phone)),
            (IdentityKind.EMAIL, normalize_email(contact.email)),
            (IdentityKind.WECHAT_OPENID, contact.wechat_openid),
        ]
        number = int(contact.customer.code[1:])
        if contact.is_primary and number % SECOND_EMAIL_EVERY == 5:
            values.append((IdentityKind.EMAIL, f"{contact.customer.code.lower()}@qq.example.cn"))
        wanted.extend((contact, kind, value) for kind, value in values if value)
    values_wanted = {value for _contact, _kind, value in wanted}
    taken = set(
        ContactIdentity.objects.filter(is_routing=True, value__in=values_wanted).values_list("kind", "value")
    )
    rows: list[ContactIdentity] = []
    seen: set[tuple[int, str, str]] = set()
    for contact, kind, value in wanted:
        if (contact.pk, kind, value) in seen:
            continue
        seen.add((contact.pk, kind, value))
        is_routing = (kind, value) not in routed and (kind, value) not in taken
        routed.add((kind, value))
        rows.append(
            ContactIdentity(contact=contact, kind=kind, value=value, is_routing=is_routing, channel="")
        )
    return rows
