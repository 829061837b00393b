"""Editing on the customer page: the customer's fields, contacts, addresses and installed
products. Each POST parses one form and calls one service, then returns to the page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.assets.models import InstalledProduct, ProductModel
from aftersales.assets.services import installed_product_register, installed_product_update
from aftersales.core.errors import ApplicationError
from aftersales.core.models import Region, User
from aftersales.core.roles import Capability
from aftersales.customers.models import Address, Contact, Customer
from aftersales.customers.selectors import customer_get_by_code_for_user
from aftersales.customers.services import (
    address_add,
    address_update,
    contact_add,
    contact_update,
    customer_update,
)

from ..forms_customers import AddressForm, ContactForm, CustomerEditForm, InstalledProductForm
from .common import current_user, fetch_or_404, report_form_errors, report_staff_error, staff_required
from .customer_list import region_choices

PRODUCTS_SHOWN = 50


def customer_edit_context(*, user: User, customer: Customer, addresses: list[Address]) -> dict[str, Any]:
    """The forms and installed products of the customer page (read-only for who may not edit)."""
    can_edit = user.can(Capability.CUSTOMER_EDIT) and not customer.merged_into_id
    can_edit_products = user.can(Capability.ASSET_EDIT) and not customer.merged_into_id
    products = list(
        InstalledProduct.objects.filter(customer=customer)
        .select_related("product_model", "address")
        .order_by("-id")[:PRODUCTS_SHOWN]
    )
    context: dict[str, Any] = {
        "can_edit_customer": can_edit,
        "can_edit_products": can_edit_products,
        "products": products,
    }
    regions = region_choices() if can_edit else []
    if can_edit:
        context["customer_form"] = CustomerEditForm(
            initial={
                "version": customer.version,
                "name": customer.name,
                "kind": customer.kind,
                "phone": customer.phone,
                "email": customer.email,
                "region": customer.region_id,
                "value_tier": customer.value_tier,
                "notes": customer.notes,
            },
            regions=regions,
            may_set_tier=True,
        )
        context["contact_forms"] = [
            (
                contact,
                ContactForm(
                    initial={
                        "contact_id": contact.pk,
                        "name": contact.name,
                        "phone": contact.phone,
                        "email": contact.email,
                        "is_primary": contact.is_primary,
                    },
                    auto_id=f"id_contact{contact.pk}_%s",
                ),
            )
            for contact in customer.contacts.all()
        ]
        context["new_contact_form"] = ContactForm(auto_id="id_new_contact_%s")
        context["address_forms"] = [
            (
                address,
                AddressForm(
                    initial={
                        "address_id": address.pk,
                        "label": address.label,
                        "line": address.line,
                        "region": address.region_id,
                        "postal_code": address.postal_code,
                        "is_default": address.is_default,
                    },
                    regions=regions,
                    auto_id=f"id_address{address.pk}_%s",
                ),
            )
            for address in addresses
        ]
        context["new_address_form"] = AddressForm(regions=regions, auto_id="id_new_address_%s")
    if can_edit_products:
        models = list(ProductModel.objects.filter(is_active=True).order_by("code"))
        context["product_forms"] = [
            (
                product,
                InstalledProductForm(
                    initial={
                        "product_id": product.pk,
                        "product_model": product.product_model_id,
                        "serial_number": product.serial_number,
                        "address": product.address_id,
                        "purchased_on": product.purchased_on,
                        "installed_on": product.installed_on,
                        "notes": product.notes,
                    },
                    models=models
                    if any(m.pk == product.product_model_id for m in models)
                    else [*models, product.product_model],
                    addresses=addresses,
                    auto_id=f"id_product{product.pk}_%s",
                ),
            )
            for product in products
        ]
        context["new_product_form"] = InstalledProductForm(
            models=models, addresses=addresses, auto_id="id_new_product_%s"
        )
    return context


def _customer(request: HttpRequest, code: str) -> tuple[User, Customer]:
    user = current_user(request)
    return user, fetch_or_404(lambda: customer_get_by_code_for_user(user=user, code=code))


def _back(customer: Customer, anchor: str = "") -> HttpResponse:
    response = redirect("web:console-customer", code=customer.code)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _region(region_id: int | None) -> Region | None:
    return Region.objects.filter(pk=region_id).first() if region_id else None


@staff_required
@require_POST
def customer_edit(request: HttpRequest, code: str) -> HttpResponse:
    user, customer = _customer(request, code)
    if not user.can(Capability.CUSTOMER_EDIT):
        raise DjangoPermissionDenied
    form = CustomerEditForm(request.POST, regions=region_choices(), may_set_tier=True)
    if not form.is_valid():
        report_form_errors(request, form)
        return _back(customer, "edit-customer")
    data = form.cleaned_data
    changes: dict[str, Any] = {
        "name": data["name"],
        "kind": data["kind"],
        "phone": data["phone"].strip(),
        "email": data["email"].strip().lower(),
        "region": _region(data["region"]),
        "notes": data["notes"],
    }
    if data.get("value_tier"):
        changes["value_tier"] = data["value_tier"]
    try:
        customer_update(customer=customer, actor=user, changes=changes, expected_version=data["version"])
    except ApplicationError as exc:
        report_staff_error(request, exc)
    else:
        messages.success(request, _("The customer was saved."))
    return _back(customer)


@staff_required
@require_POST
def contact_save(request: HttpRequest, code: str) -> HttpResponse:
    """Add a contact, or edit the one named by ``contact_id``."""
    user, customer = _customer(request, code)
    if not user.can(Capability.CUSTOMER_EDIT):
        raise DjangoPermissionDenied
    form = ContactForm(request.POST)
    if not form.is_valid():
        report_form_errors(request, form)
        return _back(customer, "contacts")
    data = form.cleaned_data
    try:
        if data["contact_id"]:
            contact = Contact.objects.filter(pk=data["contact_id"], customer=customer).first()
            if contact is None:
                raise Http404
            contact.customer = customer
            contact_update(
                contact=contact,
                actor=user,
                changes={
                    "name": data["name"],
                    "phone": data["phone"],
                    "email": data["email"],
                    "is_primary": data["is_primary"],
                },
            )
        else:
            contact = contact_add(
                customer=customer, actor=user, name=data["name"], phone=data["phone"], email=data["email"]
            )
            if data["is_primary"] and not contact.is_primary:
                contact_update(contact=contact, actor=user, changes={"is_primary": True})
    except ApplicationError as exc:
        report_staff_error(request, exc)
    else:
        messages.success(request, _("The contact was saved."))
    return _back(customer, "contacts")


@staff_required
@require_POST
def address_save(request: HttpRequest, code: str) -> HttpResponse:
    """Add an address, or edit the one named by ``address_id``."""
    user, customer = _customer(request, code)
    if not user.can(Capability.CUSTOMER_EDIT):
        raise DjangoPermissionDenied
    form = AddressForm(request.POST, regions=region_choices())
    if not form.is_valid():
        report_form_errors(request, form)
        return _back(customer, "contacts")
    data = form.cleaned_data
    region = _region(data["region"])
    try:
        if data["address_id"]:
            address = Address.objects.filter(pk=data["address_id"], customer=customer).first()
            if address is None:
                raise Http404
            address.customer = customer
            address_update(
                address=address,
                actor=user,
                changes={
                    "label": data["label"],
                    "line": data["line"],
                    "region": region,
                    "postal_code": data["postal_code"],
                    "is_default": data["is_default"],
                },
            )
        else:
            address_add(
                customer=customer,
                actor=user,
                line=data["line"],
                region=region,
                label=data["label"],
                postal_code=data["postal_code"],
                is_default=data["is_default"],
            )
    except ApplicationError as exc:
        report_staff_error(request, exc)
    else:
        messages.success(request, _("The address was saved."))
    return _back(customer, "contacts")


@staff_required
@require_POST
def product_save(request: HttpRequest, code: str) -> HttpResponse:
    """Register an installed product, or correct the one named by ``product_id``."""
    user, customer = _customer(request, code)
    if not user.can(Capability.ASSET_EDIT):
        raise DjangoPermissionDenied
    addresses = list(customer.addresses.order_by("-is_default", "id"))
    models = list(ProductModel.objects.order_by("code"))
    form = InstalledProductForm(request.POST, models=models, addresses=addresses)
    if not form.is_valid():
        report_form_errors(request, form)
        return _back(customer, "products")
    data = form.cleaned_data
    model = next(m for m in models if m.pk == data["product_model"])
    address = next((a for a in addresses if a.pk == data["address"]), None)
    try:
        if data["product_id"]:
            product = InstalledProduct.objects.filter(pk=data["product_id"], customer=customer).first()
            if product is None:
                raise Http404
            installed_product_update(
                product=product,
                actor=user,
                changes={
                    "product_model": model,
                    "serial_number": data["serial_number"],
                    "address": address,
                    "purchased_on": data["purchased_on"],
                    "installed_on": data["installed_on"],
                    "notes": data["notes"],
                },
            )
        else:
            installed_product_register(
                actor=user,
                customer=customer,
                product_model=model,
                serial_number=data["serial_number"],
                purchased_on=data["purchased_on"],
                installed_on=data["installed_on"],
                address=address,
                notes=data["notes"],
            )
    except ApplicationError as exc:
        report_staff_error(request, exc)
    else:
        messages.success(request, _("The installed product was saved."))
    return _back(customer, "products")
