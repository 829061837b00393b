"""The customer list and the editable customer page in Chromium at 390×844 and 1440×900, in both
languages: search by a phone number typed another way, open the customer, edit it, register an
installed product. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import pytest

from aftersales.assets.models import InstalledProduct
from aftersales.core.roles import Role
from aftersales.customers.models import Customer
from aftersales.customers.services import customer_identify
from tests.browser_support import CJK, main_overflow, shoot, sign_in
from tests.factories import (
    AddressFactory,
    CustomerFactory,
    InstalledProductFactory,
    ProductModelFactory,
    RegionFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
SIZES = [(390, 844), (1440, 900)]


@pytest.fixture
def book(transactional_db):
    agent = UserFactory(role=Role.AGENT, display_name="张敏")
    hangzhou = RegionFactory(code="hz", name="杭州", name_en="Hangzhou")
    customer, _contact, _ = customer_identify(
        actor=None,
        name="杭州西湖酒店工程部",
        phone="+86 139-0571-8888",
        email="engineering@westlake-hotel.example.cn",
    )
    Customer.objects.filter(pk=customer.pk).update(region=hangzhou, value_tier="high_value", kind="company")
    address = AddressFactory(customer=customer, line="浙江省杭州市西湖区北山街 78 号")
    InstalledProductFactory(customer=customer, address=address)
    TicketFactory(customer=customer, subject="客房热水器不出热水")
    for index in range(12):
        other = CustomerFactory(name=f"客户{index:02d}", region=hangzhou if index % 2 else None)
        if index % 3 == 0:
            TicketFactory(customer=other)
    model = ProductModelFactory(code="WH-90", name="燃气热水器 90", name_en="Gas water heater 90")
    return {"agent": agent, "customer": customer, "model": model}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_customer_list_search_and_edit(open_page, book, language, width, height):
    tag = f"{'zh' if language == 'zh-hans' else 'en'}-{width}"
    customer = book["customer"]
    page = open_page(language, width=width, height=height)
    sign_in(page, book["agent"].username, wait=True)
    page.goto("/console/customers/")
    assert page.get_attribute("#customer-total", "data-total") == "13"
    assert main_overflow(page) == []
    shoot(page, f"customer-list-{tag}")

    page.fill("#id_q", "0571 8888")  # too short for a number: nothing
    page.fill("#id_q", "13905718888")
    page.press("#id_q", "Enter")
    page.wait_for_function("() => document.querySelector('#customer-total').dataset.total === '1'")
    assert page.locator("#customer-list tbody tr[data-code]").count() == 1
    assert main_overflow(page) == []
    shoot(page, f"customer-list-search-{tag}")

    page.click(f"#customer-list a[href='/console/customers/{customer.code}/']")
    page.wait_for_selector("#products")
    assert "客房热水器不出热水" in page.text_content("#customer-tickets")
    assert main_overflow(page) == []
    shoot(page, f"customer-page-edit-{tag}")

    page.click("#edit-customer summary")
    page.fill("#id_notes", "前台转工程部，上午上门")
    page.click("#save-customer")
    page.wait_for_selector(".flash-success")
    assert Customer.objects.get(pk=customer.pk).notes == "前台转工程部，上午上门"

    page.click("#add-product summary")
    page.select_option("#id_new_product_product_model", str(book["model"].pk))
    page.fill("#id_new_product_serial_number", f"WH90-{tag}")
    page.fill("#id_new_product_purchased_on", "2026-05-01")
    page.fill("#id_new_product_installed_on", "2026-05-03")
    page.click("#add-product button[type=submit]")
    page.wait_for_selector(".flash-success")
    assert InstalledProduct.objects.filter(customer=customer, serial_number=f"WH90-{tag}").exists()
    assert page.locator(f"#products [data-serial='WH90-{tag}']").count() == 1
    assert main_overflow(page) == []
    shoot(page, f"customer-page-saved-{tag}")
    if language == "zh-hans":
        main = page.text_content("main")
        assert CJK.search(main)
        for english in ("Installed products", "Edit customer", "Customers", "Register an installed product"):
            assert english not in main, english
