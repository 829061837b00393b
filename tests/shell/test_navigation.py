"""The shell's menus show a role only what it may open, every domain page extends the shell (not
``web``), and the shell's base loads no app's tag library (issue 11, item 9)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

import aftersales
from aftersales.core.roles import Role
from aftersales.shell import nav
from aftersales.shell.templatetags.shell_tags import tel_uri
from tests.factories import CustomerFactory, UserFactory, customer_user

SRC = Path(aftersales.__file__).parent
MENU_LINK = re.compile(r'<a href="([^"]+)"[^>]*data-nav="([a-z_]+)"')


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def menu_of(client: Client, path: str) -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200
    return {key: href for href, key in MENU_LINK.findall(page.content.decode())}


EXPECTED = {
    Role.ADMIN: {
        "home",
        "queues",
        "customers",
        "macros",
        "settings",
        "call",
        "chat",
        "kb",
        "reports",
        "first_response",
        "notifications",
        "mail",
        "webhooks",
        "admin",
    },
    Role.SUPERVISOR: {
        "home",
        "queues",
        "customers",
        "call",
        "chat",
        "kb",
        "reports",
        "first_response",
        "macros",
        "notifications",
        "settings",
    },
    Role.AGENT: {"home", "queues", "customers", "call", "chat", "kb", "macros", "notifications"},
    Role.TECHNICIAN: {"home", "queues", "customers", "macros", "notifications"},
    Role.PARTS_CLERK: {"home", "queues", "customers", "macros", "notifications"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_only_the_entries_it_may_open_and_each_opens(role):
    user = UserFactory(role=role, is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
    client = signed_in(user)
    menu = menu_of(client, "/console/")
    assert set(menu) == EXPECTED[role]
    for key, href in menu.items():
        response = client.get(href)
        # Not 403, not sent elsewhere (the knowledge editor used to bounce a technician away).
        assert response.status_code == 200, (role, key, href, response.status_code)


@pytest.mark.django_db
def test_the_technician_is_not_offered_the_chat_or_the_knowledge_editor():
    client = signed_in(UserFactory(role=Role.TECHNICIAN))
    html = client.get("/console/").content.decode()
    assert "/chat/console/" not in html and "/console/kb/" not in html
    assert client.get("/chat/console/").status_code == 403  # what the menu no longer offers


@pytest.mark.django_db
def test_the_portal_menu_opens_for_a_customer_and_marks_the_current_page():
    client = signed_in(customer_user(CustomerFactory()))
    menu = menu_of(client, "/portal/new/")
    assert set(menu) == {"list", "new", "help", "ask"}
    assert menu["help"] == "/help/zh-hans/"
    html = client.get("/portal/new/").content.decode()
    assert re.search(r'class="active" aria-current="page" data-nav="new"', html)
    for href in menu.values():
        assert client.get(href).status_code == 200


@pytest.mark.django_db
def test_badges_count_what_waits():
    from aftersales.channels.mail.models import InboundEmail, InboundStatus

    admin = UserFactory(role=Role.ADMIN)
    InboundEmail.objects.create(
        status=InboundStatus.QUARANTINED, raw="inbound/q.eml", dedupe_key="q", sha256="0" * 64
    )
    items = {item.key: item for item in nav.menu(nav.CONSOLE, admin)}
    assert items["mail"].badge == 1
    assert items["queues"].badge == 0


def test_an_entry_in_an_unknown_area_is_refused():
    with pytest.raises(ValueError):
        nav.register(nav.NavEntry(key="x", area="sidebar", label="x", url_name="web:console"))


def test_domain_templates_extend_the_shell_not_web():
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("templates/**/*.html")
        if "web" not in path.relative_to(SRC).parts[:1]
        and re.search(r'{%\s*extends\s+"web/', path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_shell_base_loads_no_app_tag_library():
    for name in ("base.html", "console.html", "portal.html"):
        text = (SRC / "shell" / "templates" / "shell" / name).read_text(encoding="utf-8")
        libraries = {lib for line in re.findall(r"{%\s*load ([^%]+)%}", text) for lib in line.split()}
        assert libraries <= {"i18n", "static", "shell_tags"}, (name, libraries)
    web_base = (SRC / "web" / "templates" / "web" / "console" / "base.html").read_text(encoding="utf-8")
    assert "mail_tags" not in web_base and "webhooks_tags" not in web_base


def test_one_user_helper_no_copies():
    copies = [
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if re.search(r"^def _user\(", p.read_text(), re.M)
    ]
    assert copies == []


@pytest.mark.parametrize(
    ("number", "uri"),
    [
        ("021-5888 6666", "tel:02158886666"),
        ("+86 138 0013 8000", "tel:+8613800138000"),
        ("", ""),
        ("n/a", ""),
    ],
)
def test_tel_uri(number, uri):
    assert tel_uri(number) == uri


@pytest.mark.django_db
def test_the_favicon_is_served():
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith(".svg")
    assert Client().get(response["Location"]).status_code == 200


@pytest.mark.django_db
def test_the_technician_ticket_page_shows_the_address_and_a_tap_to_call_link():
    from tests.factories import AddressFactory, ContactFactory, InstalledProductFactory, TicketFactory

    technician = UserFactory(role=Role.TECHNICIAN)
    customer = CustomerFactory(phone="021-5888 6666")
    address = AddressFactory(customer=customer, line="上海市浦东新区世纪大道1000号")
    contact = ContactFactory(customer=customer, phone="138 0013 8000")
    ticket = TicketFactory(
        customer=customer,
        contact=contact,
        assignee=technician,
        installed_product=InstalledProductFactory(customer=customer, address=address),
    )
    html = signed_in(technician).get(f"/console/tickets/{ticket.number}/").content.decode()
    assert "上海市浦东新区世纪大道1000号" in html
    assert 'href="tel:13800138000"' in html  # the caller first
    assert 'href="tel:02158886666"' in html
    assert "📎" not in html
