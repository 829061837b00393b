"""The customer portal: own tickets only, submitting, progress, replies and confirming a fix."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aftersales.tickets.models import Attachment, Ticket, TicketMessage
from aftersales.tickets.services import ticket_transition
from tests.factories import CustomerFactory, InstalledProductFactory, TicketFactory, customer_user

pytestmark = pytest.mark.django_db


def test_portal_lists_only_my_tickets(login, customer, portal_user):
    mine = TicketFactory(customer=customer, subject="我的马桶")
    TicketFactory(subject="别人的马桶")
    body = login(portal_user).get("/portal/").content.decode()
    assert mine.number in body
    assert "别人的马桶" not in body


def test_customer_gets_404_for_another_customers_ticket(login, portal_user):
    other = TicketFactory()
    client = login(portal_user)
    assert client.get(f"/portal/tickets/{other.number}/").status_code == 404
    assert client.post(f"/portal/tickets/{other.number}/reply/", {"body": "hi"}).status_code == 404
    assert not TicketMessage.objects.filter(ticket=other).exists()


def test_staff_are_sent_from_the_portal_to_the_console(login, agent):
    response = login(agent).get("/portal/")
    assert response.status_code == 302
    assert response["Location"] == "/console/"


def test_customer_submits_a_ticket_with_product_and_attachment(login, customer, portal_user, product):
    photo = SimpleUploadedFile("漏水.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100, content_type="image/jpeg")
    response = login(portal_user).post(
        "/portal/new/",
        {
            "subject": "马桶漏水",
            "type": "repair",
            "installed_product": product.pk,
            "description": "底座漏水",
            "attachment": photo,
        },
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/portal/tickets/{ticket.number}/"
    assert (ticket.customer, ticket.installed_product, ticket.channel, ticket.type) == (
        customer,
        product,
        "web",
        "repair",
    )
    assert Attachment.objects.get().ticket == ticket


def test_bad_submission_shows_an_error_and_creates_nothing(login, portal_user):
    response = login(portal_user, "zh-hans").post(
        "/portal/new/", {"subject": "", "type": "repair", "description": "x"}
    )
    assert response.status_code == 200
    assert "flash-error" in response.content.decode()
    assert not Ticket.objects.exists()


def test_refused_attachment_leaves_no_half_submitted_ticket(login, portal_user):
    bad = SimpleUploadedFile("x.exe", b"MZ\x90\x00", content_type="application/x-msdownload")
    response = login(portal_user).post(
        "/portal/new/", {"subject": "坏文件", "type": "repair", "description": "x", "attachment": bad}
    )
    assert response.status_code == 200
    assert "flash-error" in response.content.decode()
    assert not Ticket.objects.exists()


def test_choosing_someone_elses_product_is_refused(login, portal_user):
    foreign = InstalledProductFactory(customer=CustomerFactory())
    response = login(portal_user).post(
        "/portal/new/",
        {"subject": "x", "type": "repair", "description": "x", "installed_product": foreign.pk},
    )
    assert response.status_code == 200
    assert not Ticket.objects.exists()


def test_ticket_page_hides_internal_notes_and_shows_progress(login, agent, customer, portal_user):
    ticket = TicketFactory(customer=customer)
    ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    TicketMessage.objects.create(ticket=ticket, kind="note", author=agent, body="秘密内部备注")
    TicketMessage.objects.create(ticket=ticket, kind="reply", author=agent, body="工程师明天上门")
    body = login(portal_user, "zh-hans").get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert "秘密内部备注" not in body
    assert "工程师明天上门" in body
    assert "处理进度" in body
    assert body.count("step step-done") == 1  # new
    assert body.count("step step-current") == 1  # accepted


def test_customer_reply_is_added(login, customer, portal_user):
    ticket = TicketFactory(customer=customer)
    login(portal_user).post(f"/portal/tickets/{ticket.number}/reply/", {"body": "还是漏水"})
    message = TicketMessage.objects.get(ticket=ticket)
    assert (message.body, message.is_from_customer, message.kind) == ("还是漏水", True, "reply")


def test_customer_confirms_a_resolved_ticket(login, agent, customer, portal_user):
    ticket = TicketFactory(customer=customer)
    for status in ("accepted", "resolved"):
        ticket = ticket_transition(ticket=ticket, actor=agent, to_status=status)
    client = login(portal_user)
    assert 'data-action="confirm"' in client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    client.post(
        f"/portal/tickets/{ticket.number}/transition/", {"to_status": "closed", "version": ticket.version}
    )
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_customer_says_not_solved_and_the_ticket_reopens(login, agent, customer, portal_user):
    ticket = TicketFactory(customer=customer)
    for status in ("accepted", "resolved"):
        ticket = ticket_transition(ticket=ticket, actor=agent, to_status=status)
    login(portal_user).post(
        f"/portal/tickets/{ticket.number}/transition/", {"to_status": "reopened", "version": ticket.version}
    )
    ticket.refresh_from_db()
    assert ticket.status == "reopened"


def test_customer_may_not_move_a_ticket_the_desk_is_working(login, agent, customer, portal_user):
    ticket = ticket_transition(ticket=TicketFactory(customer=customer), actor=agent, to_status="accepted")
    response = login(portal_user).post(
        f"/portal/tickets/{ticket.number}/transition/",
        {"to_status": "resolved", "version": ticket.version},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == "accepted"
    assert "flash-error" in response.content.decode()


def test_portal_without_a_customer_link_explains_itself(login):
    from aftersales.core.roles import Role
    from tests.factories import UserFactory

    lonely = UserFactory(role=Role.CUSTOMER)
    response = login(lonely).get("/portal/")
    assert response.status_code == 200
    assert "not linked" in response.content.decode()


def test_portal_in_chinese(login, customer):
    user = customer_user(customer)
    TicketFactory(customer=customer)
    body = login(user, "zh-hans").get("/portal/").content.decode()
    assert "我的服务申请" in body
    assert "My requests" not in body
