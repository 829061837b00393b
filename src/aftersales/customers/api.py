"""REST endpoints for customers."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import EmailStr, Field

from aftersales.api.schemas import ERROR_RESPONSES, RefOut, StrictSchema, Text
from aftersales.core.errors import ValidationFailed
from aftersales.core.models import Region, User

from . import services
from .models import Customer
from .selectors import customer_get_for_user, customer_search

router = Router(tags=["customers"])
ERRORS = ERROR_RESPONSES


class CustomerIn(StrictSchema):
    name: Text(120, 1)  # type: ignore[valid-type]
    kind: Literal["person", "company"] = "person"
    phone: Text(32) = ""  # type: ignore[valid-type]
    email: EmailStr | Literal[""] = ""
    value_tier: Literal["high_value", "core", "potential"] = "potential"
    region: int | None = Field(default=None, gt=0, lt=2**62)
    notes: Text(5000) = ""  # type: ignore[valid-type]


class CustomerPatchIn(StrictSchema):
    name: Text(120, 1) | None = None  # type: ignore[valid-type]
    kind: Literal["person", "company"] | None = None
    phone: Text(32) | None = None  # type: ignore[valid-type]
    email: EmailStr | Literal[""] | None = None
    value_tier: Literal["high_value", "core", "potential"] | None = None
    region: int | None = Field(default=None, gt=0, lt=2**62)
    notes: Text(5000) | None = None  # type: ignore[valid-type]
    version: int | None = Field(default=None, ge=1, lt=2**31)


class ContactOut(Schema):
    id: int
    name: str
    phone: str
    email: str
    is_primary: bool


class CustomerOut(Schema):
    id: int
    code: str
    kind: str
    name: str
    phone: str
    email: str
    value_tier: str
    region: RefOut | None
    notes: str
    version: int
    created_at: dt.datetime
    contacts: list[ContactOut]


class CustomerPageOut(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def customer_out(customer: Customer) -> dict:
    region = customer.region
    return {
        "id": customer.pk,
        "code": customer.code,
        "kind": customer.kind,
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "value_tier": customer.value_tier,
        "region": None
        if region is None
        else {"id": region.pk, "code": region.code, "name": region.display_name},
        "notes": customer.notes,
        "version": customer.version,
        "created_at": customer.created_at,
        "contacts": [
            {"id": c.pk, "name": c.name, "phone": c.phone, "email": c.email, "is_primary": c.is_primary}
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
    q: Text(200) = "",  # type: ignore[valid-type]
    cursor: Text(100) | None = None,  # type: ignore[valid-type]
    limit: int = Query(25, ge=1, le=100),
) -> Any:
    page, next_cursor = customer_search(user=_user(request), q=q, cursor=cursor, limit=limit)
    return {"items": [customer_out(c) for c in page], "next_cursor": next_cursor}


@router.post("", response={201: CustomerOut, **ERRORS}, summary="Create a customer")
def create_customer(request: HttpRequest, payload: CustomerIn) -> Any:
    customer = services.customer_create(
        actor=_user(request),
        name=payload.name,
        kind=payload.kind,
        phone=payload.phone,
        email=str(payload.email),
        value_tier=payload.value_tier,
        region=_region(payload.region),
        notes=payload.notes,
    )
    return Status(201, customer_out(customer))


@router.get("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="Read a customer")
def read_customer(request: HttpRequest, customer_id: int = Path(..., gt=0, lt=2**62)) -> Any:
    return customer_out(customer_get_for_user(user=_user(request), customer_id=customer_id))


@router.patch("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="Edit a customer")
def patch_customer(
    request: HttpRequest, payload: CustomerPatchIn, customer_id: int = Path(..., gt=0, lt=2**62)
) -> Any:
    user = _user(request)
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
    return customer_out(customer)
