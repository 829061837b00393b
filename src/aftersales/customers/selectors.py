from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet

from aftersales.core.errors import NotFound
from aftersales.core.models import Region, User
from aftersales.core.paging import keyset_page
from aftersales.core.roles import Capability, Role

from .identity import normalize_email, normalize_openid, normalize_phone, phone_spellings
from .models import Contact, ContactIdentity, Customer, IdentityKind

MAX_DUPLICATES = 20


def region_with_descendants(region_ids: list[int]) -> set[int]:
    """The given regions and every region below them (the table is small: areas, cities)."""
    if not region_ids:
        return set()
    children: dict[int | None, list[int]] = {}
    for region_id, parent_id in Region.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(region_id)
    found: set[int] = set()
    stack = list(region_ids)
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def supervisor_scope(user: User) -> tuple[list[int], set[int]] | None:
    """The teams and regions (with the regions below them) a supervisor answers for; ``None``
    when it has neither, i.e. it supervises the whole organisation. Tickets and customers are
    scoped by the same answer."""
    team_ids = list(user.teams.values_list("id", flat=True)) + list(
        user.led_teams.values_list("id", flat=True)
    )
    region_ids = region_with_descendants(list(user.regions.values_list("id", flat=True)))
    if not team_ids and not region_ids:
        return None
    return team_ids, region_ids


def customer_scope_for(user: User) -> Q | None:
    """A filter for the customers ``user`` may see; ``None`` means every customer.

    The ticket scope seen from the customer (``tickets.selectors.ticket_scope_for``): a supervisor
    of some teams or regions sees the customers of those regions and of the tickets it sees; a
    technician only the customers of the jobs assigned to it. Tickets sit in a higher layer, so
    they are reached through the reverse relation ``tickets`` rather than imported.
    """
    if not user.is_active or not user.can(Capability.CUSTOMER_VIEW):
        return Q(pk__in=[])
    if user.is_superuser or user.role in (Role.ADMIN, Role.AGENT, Role.PARTS_CLERK):
        return None
    if user.role == Role.SUPERVISOR:
        scope = supervisor_scope(user)
        if scope is None:
            return None  # a supervisor of the whole organisation
        team_ids, region_ids = scope
        through_tickets = Customer.objects.filter(
            Q(tickets__team_id__in=team_ids)
            | Q(tickets__region_id__in=region_ids)
            | Q(tickets__assignee=user)
        ).values("pk")
        return Q(region_id__in=region_ids) | Q(pk__in=through_tickets)
    if user.role == Role.TECHNICIAN:
        return Q(pk__in=Customer.objects.filter(tickets__assignee=user).values("pk"))
    return Q(pk__in=[])


def visible_customers(user: User) -> QuerySet[Customer]:
    if user.is_customer:
        contact = getattr(user, "contact", None)
        if contact is None or not user.is_active:
            return Customer.objects.none()
        return Customer.objects.filter(pk=contact.customer_id)
    scope = customer_scope_for(user)
    return Customer.objects.all() if scope is None else Customer.objects.filter(scope)


def customer_get_for_user(*, user: User, customer_id: int) -> Customer:
    customer = visible_customers(user).select_related("region", "merged_into").filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(details={"customer": customer_id})
    return customer


def customer_get_by_code_for_user(*, user: User, code: str) -> Customer:
    customer = visible_customers(user).select_related("region", "merged_into").filter(code=code).first()
    if customer is None:
        raise NotFound(details={"customer": code})
    return customer


def _contacts_with_identities() -> Prefetch:
    contacts = Contact.objects.order_by("-is_primary", "id").prefetch_related(
        Prefetch("identities", queryset=ContactIdentity.objects.order_by("kind", "id"))
    )
    return Prefetch("contacts", queryset=contacts)


def customers_with_identities(customer_ids: list[int]) -> dict[int, Customer]:
    """The customers with their region, contacts and the contacts' identities (three queries)."""
    qs = Customer.objects.select_related("region").prefetch_related(_contacts_with_identities())
    return {customer.pk: customer for customer in qs.filter(pk__in=customer_ids)}


def customer_with_identities(customer: Customer) -> Customer:
    return customers_with_identities([customer.pk])[customer.pk]


def customer_search(
    *, user: User, q: str = "", cursor: str | None = None, limit: int = 25
) -> tuple[list[Customer], str | None]:
    """A page of the customers ``user`` may see matching ``q`` (number, name, phone, e-mail).

    Customers merged into another one are hidden (the one they were merged into is found).
    """
    qs = (
        visible_customers(user)
        .filter(merged_into__isnull=True)
        .select_related("region")
        .prefetch_related(_contacts_with_identities())
    )
    term = q.strip()
    if term:
        condition = (
            Q(code__iexact=term)
            | Q(name__icontains=term)
            | Q(phone__startswith=term)
            | Q(email__iexact=term)
            | Q(contacts__phone__startswith=term)
        )
        identity_values = [
            value for value in (normalize_email(term), normalize_phone(term), normalize_openid(term)) if value
        ]
        if identity_values:
            condition |= Q(contacts__identities__value__in=identity_values)
        qs = qs.filter(condition).distinct()
    return keyset_page(qs, cursor=cursor, limit=limit)


def customer_find_by_phone(*, phone: str) -> Customer | None:
    """Caller lookup for the phone log: the customer whose number (or a contact's) matches.

    The number is compared in its canonical form (``identity.normalize_phone``), the same one
    ``customer_identify`` matches by, so "138 1234 5678", "+86 138-1234-5678" and "0086
    13812345678" find the same customer; records typed before identities existed are found by
    the usual spellings of that number.
    """
    canonical = normalize_phone(phone)
    if not canonical:
        return None
    identity = (
        ContactIdentity.objects.filter(
            kind=IdentityKind.PHONE, value=canonical, contact__customer__merged_into__isnull=True
        )
        .select_related("contact__customer")
        .order_by("-is_routing", "id")
        .first()
    )
    if identity is not None:
        return identity.contact.customer
    spellings = phone_spellings(canonical) | {phone.strip()}
    return (
        Customer.objects.filter(merged_into__isnull=True)
        .filter(Q(phone__in=spellings) | Q(contacts__phone__in=spellings))
        .order_by("-id")
        .distinct()
        .first()
    )


# --- possible duplicates ------------------------------------------------------------------------


@dataclass
class DuplicateCandidate:
    customer: Customer
    reasons: list[str] = field(default_factory=list)  # "email:…", "phone:…", "wechat_openid:…", "name_region"


def _identity_keys_of(customer: Customer) -> set[tuple[str, str]]:
    keys = {
        (row.kind, row.value)
        for row in ContactIdentity.objects.filter(contact__customer=customer).only("kind", "value")
    }
    raw = [(customer.email, customer.phone, "")]
    raw += list(Contact.objects.filter(customer=customer).values_list("email", "phone", "wechat_openid"))
    for email, phone, openid in raw:
        for kind, value in (
            (IdentityKind.EMAIL, normalize_email(email)),
            (IdentityKind.PHONE, normalize_phone(phone)),
            (IdentityKind.WECHAT_OPENID, normalize_openid(openid)),
        ):
            if value:
                keys.add((kind, value))
    return keys


def customer_possible_duplicates(*, user: User, customer: Customer) -> list[DuplicateCandidate]:
    """Other (unmerged) customers that may be the same: a shared e-mail address, phone number or
    WeChat openid (normalised), or the same name in the same region. Staff only, and only
    candidates within the user's scope (a duplicate outside it is not revealed)."""
    if not user.can(Capability.CUSTOMER_VIEW):
        return []
    scope = customer_scope_for(user)
    keys = _identity_keys_of(customer)
    found: dict[int, DuplicateCandidate] = {}

    def note(other: Customer, reason: str) -> None:
        if other.pk == customer.pk or other.merged_into_id is not None:
            return
        candidate = found.setdefault(other.pk, DuplicateCandidate(customer=other))
        if reason not in candidate.reasons:
            candidate.reasons.append(reason)

    if keys:
        condition = Q()
        for kind, value in keys:
            condition |= Q(kind=kind, value=value)
        rows = (
            ContactIdentity.objects.filter(condition)
            .exclude(contact__customer=customer)
            .filter(contact__customer__merged_into__isnull=True)
            .select_related("contact__customer__region")
            .order_by("id")[: MAX_DUPLICATES * 5]
        )
        for row in rows:
            note(row.contact.customer, f"{row.kind}:{row.value}")
        # Fields typed without an identity (bulk loads, staff edits): the same address or number.
        legacy = Q(pk__in=[])
        for kind, value in keys:
            if kind == IdentityKind.EMAIL:
                legacy |= Q(email__iexact=value)
            elif kind == IdentityKind.PHONE:
                legacy |= Q(phone__in=phone_spellings(value))
            else:
                legacy |= Q(wechat_openid=value)
        for contact in (
            Contact.objects.filter(legacy)
            .exclude(customer=customer)
            .select_related("customer__region")
            .order_by("id")[: MAX_DUPLICATES * 5]
        ):
            held = {
                (IdentityKind.EMAIL, normalize_email(contact.email)),
                (IdentityKind.PHONE, normalize_phone(contact.phone)),
                (IdentityKind.WECHAT_OPENID, normalize_openid(contact.wechat_openid)),
            }
            for kind, value in sorted(keys & held):
                note(contact.customer, f"{kind}:{value}")
    if customer.region_id is not None and customer.name.strip():
        for other in (
            Customer.objects.filter(
                name__iexact=customer.name.strip(), region_id=customer.region_id, merged_into__isnull=True
            )
            .exclude(pk=customer.pk)
            .select_related("region")
            .order_by("id")[:MAX_DUPLICATES]
        ):
            note(other, "name_region")
    if scope is not None and found:
        allowed = set(Customer.objects.filter(scope, pk__in=list(found)).values_list("pk", flat=True))
        found = {pk: candidate for pk, candidate in found.items() if pk in allowed}
    return sorted(found.values(), key=lambda c: c.customer.pk)[:MAX_DUPLICATES]
