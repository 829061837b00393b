"""REST endpoints for customers."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import EmailStr, Field

from aftersales.core.api_schemas import (
    ERROR_RESPONSES,
    NonEmptyText120,
    RefOut,
    StrictSchema,
    Text32,
    Text100,
    Text200,
    Text5000,
)
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import Region
from aftersales.core.roles import Capability
from aftersales.shell.views import api_user

from . import services
from .models import Customer
from .selectors import (
    customer_get_for_user,
    customer_possible_duplicates,
    customer_search,
    customer_with_identities,
    customers_with_identities,
    visible_customers,
)

router = Router(tags=["customers"])
ERRORS = ERROR_RESPONSES


class CustomerIn(StrictSchema):
    name: NonEmptyText120
    kind: Literal["person", "company"] = "person"
    phone: Text32 = ""
    email: EmailStr | Literal[""] = ""
    value_tier: Literal["high_value", "core", "potential"] = "potential"
    region: int | None = Field(default=None, gt=0, lt=2**62)
    notes: Text5000 = ""


class CustomerPatchIn(StrictSchema):
    name: NonEmptyText120 | None = None
    kind: Literal["person", "company"] | None = None
    phone: Text32 | None = None
    email: EmailStr | Literal[""] | None = None
    value_tier: Literal["high_value", "core", "potential"] | None = None
    region: int | None = Field(default=None, gt=0, lt=2**62)
    notes: Text5000 | None = None
    version: int | None = Field(default=None, ge=1, lt=2**31)


class IdentityOut(Schema):
    kind: Literal["email", "phone", "wechat_openid"]
    value: str
    is_routing: bool
    channel: str
    created_at: dt.datetime


class ContactOut(Schema):
    id: int
    name: str
    phone: str
    email: str
    wechat_openid: str
    is_primary: bool
    identities: list[IdentityOut]


class CustomerOut(Schema):
    id: int
    code: str
    kind: str
    name: str
    phone: str
    email: str
    value_tier: str | None = Field(description="staff only; null for the customer's own login")
    region: RefOut | None
    notes: str | None = Field(description="staff only; null for the customer's own login")
    version: int
    created_at: dt.datetime
    merged_into: int | None
    merged_at: dt.datetime | None
    contacts: list[ContactOut]


class DuplicateOut(Schema):
    customer: CustomerOut
    reasons: list[str]


class DuplicateListOut(Schema):
    items: list[DuplicateOut]


class CustomerMergeIn(StrictSchema):
    source_id: int = Field(..., gt=0, lt=2**62, description="the duplicate, merged into this customer")


class CustomerPageOut(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


def customer_out(customer: Customer, *, for_customer: bool = False) -> dict:
    """``for_customer``: the customer reading its own record sees neither how the organisation
    ranks it (value tier) nor what staff noted about it."""
    region = customer.region
    return {
        "id": customer.pk,
        "code": customer.code,
        "kind": customer.kind,
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "value_tier": None if for_customer else customer.value_tier,
        "region": None
        if region is None
        else {"id": region.pk, "code": region.code, "name": region.display_name},
        "notes": None if for_customer else customer.notes,
        "version": customer.version,
        "created_at": customer.created_at,
        "merged_into": customer.merged_into_id,
        "merged_at": customer.merged_at,
        "contacts": [
            {
                "id": c.pk,
                "name": c.name,
                "phone": c.phone,
                "email": c.email,
                "wechat_openid": c.wechat_openid,
                "is_primary": c.is_primary,
                "identities": [
                    {
                        "kind": i.kind,
                        "value": i.value,
                        "is_routing": i.is_routing,
                        "channel": i.channel,
                        "created_at": i.created_at,
                    }
                    for i in c.identities.all()
                ],
            }
            for c in customer.contacts.all()
        ],
    }


def _region(pk: int | None) -> Region | None:
    if pk is None:
        return None
    region = Region.objects.filter(pk=pk).first()
    if region is None:
        raise ValidationFailed(details={"region": _("No such record: %(id)s.") % {"id": pk}})
    return region


@router.get("", response={200: CustomerPageOut, **ERRORS}, summary="Search customers")
def list_customers(
    request: HttpRequest,
    q: Text200 = "",
    cursor: Text100 | None = None,
    limit: int = Query(25, ge=1, le=100),
) -> Any:
    user = api_user(request)
    page, next_cursor = customer_search(user=user, q=q, cursor=cursor, limit=limit)
    return {
        "items": [customer_out(c, for_customer=user.is_customer) for c in page],
        "next_cursor": next_cursor,
    }


@router.post("", response={201: CustomerOut, **ERRORS}, summary="Create a customer")
def create_customer(request: HttpRequest, payload: CustomerIn) -> Any:
    customer = services.customer_create(
        actor=api_user(request),
        name=payload.name,
        kind=payload.kind,
        phone=payload.phone,
        email=str(payload.email),
        value_tier=payload.value_tier,
        region=_region(payload.region),
        notes=payload.notes,
    )
    return Status(201, customer_out(customer_with_identities(customer)))


@router.get("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="Read a customer")
def read_customer(request: HttpRequest, customer_id: int = Path(..., gt=0, lt=2**62)) -> Any:
    user = api_user(request)
    return customer_out(
        customer_with_identities(customer_get_for_user(user=user, customer_id=customer_id)),
        for_customer=user.is_customer,
    )


@router.patch("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="Edit a customer")
def patch_customer(
    request: HttpRequest, payload: CustomerPatchIn, customer_id: int = Path(..., gt=0, lt=2**62)
) -> Any:
    user = api_user(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    changes: dict[str, Any] = {}
    for name in payload.model_fields_set - {"version"}:
        value = getattr(payload, name)
        if name == "region":
            changes[name] = _region(value)
        elif value is None:
            raise ValidationFailed(details={name: _("This field cannot be empty.")})
        else:
            changes[name] = str(value) if name == "email" else value
    customer = services.customer_update(
        customer=customer, actor=user, changes=changes, expected_version=payload.version
    )
    return customer_out(customer_with_identities(customer))


@router.get(
    "/{customer_id}/duplicates",
    response={200: DuplicateListOut, **ERRORS},
    summary="Customers that may be the same as this one",
)
def list_duplicates(request: HttpRequest, customer_id: int = Path(..., gt=0, lt=2**62)) -> Any:
    user = api_user(request)
    if not user.can(Capability.CUSTOMER_VIEW):
        raise PermissionDenied()
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    candidates = customer_possible_duplicates(user=user, customer=customer)
    loaded = customers_with_identities([c.customer.pk for c in candidates])
    return {
        "items": [{"customer": customer_out(loaded[c.customer.pk]), "reasons": c.reasons} for c in candidates]
    }


@router.post(
    "/{customer_id}/merge",
    response={200: CustomerOut, **ERRORS},
    summary="Merge a duplicate into this customer (supervisors and administrators)",
)
def merge_customer(
    request: HttpRequest, payload: CustomerMergeIn, customer_id: int = Path(..., gt=0, lt=2**62)
) -> Any:
    user = api_user(request)
    if not services.can_merge_customers(user):
        raise PermissionDenied()
    target = customer_get_for_user(user=user, customer_id=customer_id)
    source = visible_customers(user).filter(pk=payload.source_id).first()
    if source is None:
        raise ValidationFailed(
            details={"source_id": _("No such record: %(id)s.") % {"id": payload.source_id}}
        )
    merged = services.customer_merge(actor=user, source=source, target=target)
    return customer_out(customer_with_identities(merged))
