"""Suggested answers: the console panel beside the reply form and the portal's new-request form."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.knowledge.models import TicketArticleUse
from tests.factories import PASSWORD, CustomerFactory, TicketFactory, UserFactory, customer_user

from .web_support import build_library

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(db):
    return build_library()


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def ticket(db):
    return TicketFactory(
        customer=CustomerFactory(language="en"),
        subject="Water heater shows E1",
        description="Since this morning the display shows E1 and there is no hot water.",
    )


def test_console_panel_suggests_articles_for_the_ticket_in_the_customers_language(agent, library, ticket):
    response = login(agent).get(f"/console/kb/suggest/{ticket.number}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "The water heater shows error E1" in page
    assert "热水器显示" not in page  # the customer reads English
    assert 'data-extract="Error E1 on the water heater means ignition failed' in page
    assert 'data-url="http://testserver/help/en/a/water-heater-e1/"' in page
    # Staff see internal articles too, marked, linked to the editor and not offered for a reply.
    assert "Ignition electrode repair pricing (internal)" in page
    assert f'href="/console/kb/articles/{library["internal"].pk}/"' in page
    assert page.count('class="button-small secondary kb-insert"') == page.count('class="kb-suggestion"') - 1


def test_the_draft_reply_steers_the_suggestions(agent, library, ticket):
    page = (
        login(agent)
        .get(f"/console/kb/suggest/{ticket.number}/", {"body": "clean the shower head filter screen"})
        .content.decode()
    )
    assert "Cleaning the shower head filter" in page


def test_a_chinese_customer_gets_chinese_suggestions(agent, library):
    ticket = TicketFactory(
        customer=CustomerFactory(language="zh-hans"), subject="热水器显示E1", description="没有热水"
    )
    page = login(agent).get(f"/console/kb/suggest/{ticket.number}/").content.decode()
    assert "热水器显示 E1 故障代码怎么办" in page
    assert "The water heater shows error E1" not in page


def test_insert_records_the_article_on_the_ticket_once(agent, library, ticket):
    client = login(agent)
    url = f"/console/kb/suggest/{ticket.number}/use/"
    for _ in range(2):
        response = client.post(url, {"article": library["e1_en"].pk}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
    use = TicketArticleUse.objects.get()
    assert (use.ticket, use.article, use.via, use.used_by) == (ticket, library["e1_en"], "reply", agent)
    assert use.version == library["e1_en"].published_version
    page = client.get(f"/console/kb/suggest/{ticket.number}/").content.decode()
    assert "Inserted" in page


def test_an_unpublished_article_cannot_be_recorded(agent, library, ticket):
    response = login(agent).post(
        f"/console/kb/suggest/{ticket.number}/use/", {"article": library["draft"].pk}
    )
    assert response.status_code == 404
    response = login(agent).post(f"/console/kb/suggest/{ticket.number}/use/", {"article": "nonsense"})
    assert response.status_code == 404
    assert not TicketArticleUse.objects.exists()


def test_console_suggestions_are_for_staff_only(library, ticket):
    customer = customer_user(ticket.customer)
    assert login(customer).get(f"/console/kb/suggest/{ticket.number}/").status_code == 403
    response = login(customer).post(
        f"/console/kb/suggest/{ticket.number}/use/", {"article": library["e1_en"].pk}
    )
    assert response.status_code == 403
    assert Client().get(f"/console/kb/suggest/{ticket.number}/").status_code == 302
    assert not TicketArticleUse.objects.exists()


def test_a_ticket_outside_the_agents_scope_is_404(library, ticket):
    from aftersales.core.roles import Role

    technician = UserFactory(role=Role.TECHNICIAN)
    assert login(technician).get(f"/console/kb/suggest/{ticket.number}/").status_code == 404
    assert login(technician).get("/console/kb/suggest/NOPE123/").status_code == 404


def test_console_ticket_page_includes_the_panel(agent, library, ticket):
    page = login(agent).get(f"/console/tickets/{ticket.number}/").content.decode()
    assert 'id="kb-suggest"' in page
    assert f'hx-get="/console/kb/suggest/{ticket.number}/"' in page


def test_portal_suggests_public_articles_while_the_customer_writes(library):
    user = customer_user(CustomerFactory(language="en"))
    client = login(user)
    response = client.get("/portal/kb/suggest/", {"subject": "water heater", "description": "shows E1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "The water heater shows error E1" in page
    assert "/help/en/a/water-heater-e1/" in page
    assert "repair pricing" not in page  # internal
    page = client.get("/portal/kb/suggest/", {"subject": "", "description": ""}).content.decode()
    assert "No matching article yet" in page


def test_portal_new_request_page_includes_the_panel(library):
    client = login(customer_user())
    page = client.get("/portal/new/").content.decode()
    assert 'id="kb-portal-suggest"' in page


def test_portal_suggestions_are_for_customers(agent, library):
    # Staff on a customer page are sent to the console, as on every portal page (the shell's rule).
    response = login(agent).get("/portal/kb/suggest/", {"subject": "E1"})
    assert response.status_code == 302 and response["Location"] == "/console/"
    fragment = login(agent).get("/portal/kb/suggest/", {"subject": "E1"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 204 and fragment["HX-Redirect"] == "/console/"
    assert Client().get("/portal/kb/suggest/", {"subject": "E1"}).status_code == 302


def test_portal_menu_leads_to_the_help_centre_and_the_bot(library):
    client = login(customer_user())
    page = client.get("/portal/").content.decode()
    assert 'href="/help/en/"' in page and 'href="/help/en/ask/"' in page
