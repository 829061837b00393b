"""REST endpoints for the installed base."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from aftersales.core.api_schemas import (
    ERROR_RESPONSES,
    NonEmptyText40,
    NonEmptyText64,
    StrictSchema,
    Text64,
    Text100,
    Text5000,
)
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.core.models import User
from aftersales.core.paging import keyset_page
from aftersales.customers.models import Address
from aftersales.customers.selectors import customer_get_for_user, visible_customers
from aftersales.shell.views import api_user

from . import services
from .models import InstalledProduct, ProductModel

router = Router(tags=["installed products"])
ERRORS = ERROR_RESPONSES


class InstalledProductIn(StrictSchema):
    serial_number: NonEmptyText64
    product_model: NonEmptyText40
    customer: int = Field(gt=0, lt=2**62)
    address: int | None = Field(default=None, gt=0, lt=2**62)
    purchased_on: dt.date | None = None
    installed_on: dt.date | None = None
    notes: Text5000 = ""


class InstalledProductOut(Schema):
    id: int
    serial_number: str
    product_model: str
    product_name: str
    category: str
    customer_id: int
    address_id: int | None
    purchased_on: dt.date | None
    installed_on: dt.date | None
    warranty_months: int
    warranty_ends_on: dt.date | None
    warranty_status: str


class InstalledProductPageOut(Schema):
    items: list[InstalledProductOut]
    next_cursor: str | None


def installed_product_out(product: InstalledProduct) -> dict:
    model = product.product_model
    return {
        "id": product.pk,
        "serial_number": product.serial_number,
        "product_model": model.code,
        "product_name": model.display_name,
        "category": model.category,
        "customer_id": product.customer_id,
        "address_id": product.address_id,
        "purchased_on": product.purchased_on,
        "installed_on": product.installed_on,
        "warranty_months": model.warranty_months,
        "warranty_ends_on": product.warranty_ends_on,
        "warranty_status": product.warranty_status(),
    }


def _visible(user: User) -> QuerySet[InstalledProduct]:
    return InstalledProduct.objects.filter(customer__in=visible_customers(user)).select_related(
        "product_model"
    )


@router.get("", response={200: InstalledProductPageOut, **ERRORS}, summary="List installed products")
def list_installed_products(
    request: HttpRequest,
    customer: int | None = Query(None, gt=0, lt=2**62),
    serial_number: Text64 | None = None,
    cursor: Text100 | None = None,
    limit: int = Query(25, ge=1, le=100),
) -> Any:
    qs = _visible(api_user(request))
    if customer is not None:
        qs = qs.filter(customer_id=customer)
    if serial_number:
        qs = qs.filter(serial_number=serial_number)
    page, next_cursor = keyset_page(qs, cursor=cursor, limit=limit)
    return {"items": [installed_product_out(p) for p in page], "next_cursor": next_cursor}


@router.post("", response={201: InstalledProductOut, **ERRORS}, summary="Register an installed product")
def register_installed_product(request: HttpRequest, payload: InstalledProductIn) -> Any:
    user = api_user(request)
    customer = customer_get_for_user(user=user, customer_id=payload.customer)
    model = ProductModel.objects.filter(code=payload.product_model).first()
    if model is None:
        raise ValidationFailed(details={"product_model": _("No product model with this code.")})
    address = None
    if payload.address is not None:
        address = Address.objects.filter(pk=payload.address, customer=customer).first()
        if address is None:
            raise ValidationFailed(details={"address": _("No such address for this customer.")})
    product = services.installed_product_register(
        actor=user,
        customer=customer,
        product_model=model,
        serial_number=payload.serial_number,
        purchased_on=payload.purchased_on,
        installed_on=payload.installed_on,
        address=address,
        notes=payload.notes,
    )
    return Status(201, installed_product_out(product))


@router.get(
    "/{product_id}", response={200: InstalledProductOut, **ERRORS}, summary="Read an installed product"
)
def read_installed_product(request: HttpRequest, product_id: int = Path(..., gt=0, lt=2**62)) -> Any:
    product = _visible(api_user(request)).filter(pk=product_id).first()
    if product is None:
        raise NotFound()
    return installed_product_out(product)
