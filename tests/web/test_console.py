"""The agent console: access matrix, queues, the ticket page and its actions."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aftersales.core.roles import Role
from aftersales.tickets.models import Attachment, Ticket, TicketLink, TicketMessage
from aftersales.tickets.services import attachment_add, ticket_transition
from tests.factories import CustomerFactory, TeamFactory, TicketFactory, UserFactory, customer_user

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_anonymous_visitor_ends_on_a_chinese_sign_in_page():
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-Hans").get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/login/")
    assert "登录" in response.content.decode()


def test_sign_in_page_speaks_english_when_asked():
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/login/")
    body = response.content.decode()
    assert "Sign in" in body
    assert "登录" not in body


def test_switching_language_sets_the_cookie_and_returns():
    response = Client().post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert response.cookies["django_language"].value == "en"


def test_signing_in_with_an_email_sends_staff_to_the_console(agent):
    response = Client().post(
        "/login/", {"username": agent.username, "password": "correct-horse-9"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/console/"


def test_home_sends_customers_to_the_portal(login, portal_user):
    response = login(portal_user).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


@pytest.mark.parametrize(
    "path", ["/console/", "/console/queue/all/", "/console/call/", "/console/tickets/T1/"]
)
def test_customer_cannot_open_the_console(login, portal_user, path):
    assert login(portal_user).get(path).status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in_from_the_console():
    response = Client().get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/console/")


def test_technician_sees_only_assigned_jobs(login, technician):
    mine = TicketFactory(assignee=technician, subject="我的工单")
    TicketFactory(subject="别人的工单")
    client = login(technician)
    body = client.get("/console/queue/all/").content.decode()
    assert mine.number in body
    assert "别人的工单" not in body
    assert client.get("/console/queue/unassigned/").status_code == 302  # not a technician's queue


def test_technician_gets_404_for_a_job_of_someone_else(login, technician):
    other = TicketFactory()
    assert login(technician).get(f"/console/tickets/{other.number}/").status_code == 404


def test_queues_split_work_by_assignee_and_team(login, agent):
    team = TeamFactory()
    team.members.add(agent)
    mine = TicketFactory(assignee=agent)
    team_ticket = TicketFactory(team=team)
    unassigned = TicketFactory()
    closed_mine = TicketFactory(assignee=agent, status="cancelled")
    client = login(agent)

    def numbers(path: str) -> set[str]:
        return set(re.findall(r"TF\d{7}", client.get(path).content.decode()))

    assert numbers("/console/queue/mine/") == {mine.number}
    assert numbers("/console/queue/team/") == {team_ticket.number}
    assert numbers("/console/queue/unassigned/") == {team_ticket.number, unassigned.number}
    assert numbers("/console/queue/all/") == {
        mine.number,
        team_ticket.number,
        unassigned.number,
        closed_mine.number,
    }


def test_queue_filters_and_keyset_paging(login, agent):
    tickets = [TicketFactory(priority="high" if i % 2 else "normal") for i in range(30)]
    client = login(agent)
    first = client.get("/console/queue/all/").content.decode()
    assert tickets[-1].number in first
    assert tickets[0].number not in first
    cursor = re.search(r'href="\?cursor=([\w-]+)"', first).group(1)
    second = client.get("/console/queue/all/", {"cursor": cursor}).content.decode()
    assert tickets[0].number in second
    assert tickets[-1].number not in second

    high = client.get("/console/queue/all/", {"priority": "high"}).content.decode()
    assert set(re.findall(r"TF\d{7}", high)) == {t.number for t in tickets if t.priority == "high"}


def test_htmx_filter_returns_only_the_results(login, agent):
    TicketFactory(subject="水箱异响")
    response = login(agent).get(
        "/console/queue/all/", {"q": "水箱"}, headers={"HX-Request": "true", "HX-Target": "queue-results"}
    )
    body = response.content.decode()
    assert "水箱异响" in body
    assert "<html" not in body


def test_a_broken_cursor_shows_an_error_not_a_500(login, agent):
    response = login(agent).get("/console/queue/all/", {"cursor": "!!!"})
    assert response.status_code == 200
    assert "flash-error" in response.content.decode()


@pytest.mark.parametrize("queue", ["all", "mine", "unassigned", "team"])
def test_queue_page_query_count_is_pinned(login, agent, django_assert_max_num_queries, queue):
    """Session, user, unread notices, team options, the user's teams, the page, its SLA badges, the
    tab counts (one query for every tab), the saved views and the staff to assign to: 10."""
    team = TeamFactory()
    team.members.add(agent)
    for index in range(30):
        TicketFactory(team=team, assignee=agent if index % 2 else None, customer=CustomerFactory())
    client = login(agent)
    with django_assert_max_num_queries(10):
        response = client.get(f"/console/queue/{queue}/")
    assert response.status_code == 200
    assert response.content.decode().count('class="num"') == (25 if queue in ("all", "team") else 15)


def test_ticket_page_shows_thread_notes_timeline_and_panels(login, agent, customer, product):
    ticket = TicketFactory(customer=customer, installed_product=product)
    TicketMessage.objects.create(ticket=ticket, kind="note", author=agent, body="内部：先查水压")
    TicketMessage.objects.create(ticket=ticket, kind="reply", author=agent, body="您好，我们已收到")
    ticket_transition(ticket=ticket, actor=agent, to_status="accepted")
    other = TicketFactory(customer=customer, subject="另一张工单")
    body = login(agent, "zh-hans").get(f"/console/tickets/{ticket.number}/").content.decode()
    assert "msg-note" in body and "内部：先查水压" in body
    assert "您好，我们已收到" in body
    assert "阶段时间线" in body and "已受理" in body
    assert product.serial_number in body and "保修" in body
    assert other.number in body
    assert 'data-target="diagnosing"' in body


def test_agent_replies_with_htmx_and_gets_the_conversation_back(login, agent):
    ticket = TicketFactory()
    response = login(agent).post(
        f"/console/tickets/{ticket.number}/reply/",
        {"body": "已安排工程师", "kind": "reply"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'id="conversation"' in response.content.decode()
    assert "已安排工程师" in response.content.decode()
    message = TicketMessage.objects.get(ticket=ticket)
    assert (message.kind, message.author) == ("reply", agent)


def test_empty_reply_shows_an_error_and_adds_nothing(login, agent):
    ticket = TicketFactory()
    response = login(agent).post(
        f"/console/tickets/{ticket.number}/reply/",
        {"body": "   ", "kind": "reply"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "flash-error" in response.content.decode()
    assert TicketMessage.objects.filter(ticket=ticket).count() == 0


def test_transition_moves_the_ticket(login, agent):
    ticket = TicketFactory()
    response = login(agent).post(
        f"/console/tickets/{ticket.number}/transition/",
        {"to_status": "accepted", "version": ticket.version},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == "accepted"
    assert "Status changed" in response.content.decode()


def test_illegal_transition_is_refused_with_a_message_and_changes_nothing(login, agent):
    ticket = TicketFactory()
    response = login(agent, "zh-hans").post(
        f"/console/tickets/{ticket.number}/transition/",
        {"to_status": "closed", "version": ticket.version},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert ticket.version == 1
    assert "工单不能从“新建”变更为“已关闭”" in response.content.decode()


def test_stale_edit_says_someone_else_changed_it_and_changes_nothing(login, agent):
    ticket = TicketFactory()
    ticket_transition(
        ticket=ticket, actor=agent, to_status="accepted"
    )  # version 1 → 2 behind the form's back
    response = login(agent).post(
        f"/console/tickets/{ticket.number}/edit/",
        {"version": 1, "subject": "改过的主题", "type": "repair", "priority": "urgent", "channel": "web"},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.subject != "改过的主题"
    assert ticket.priority == "normal"
    assert "changed by someone else" in response.content.decode()


def test_edit_assigns_team_and_assignee(login, agent):
    ticket = TicketFactory()
    team = TeamFactory()
    technician = UserFactory(role=Role.TECHNICIAN)
    login(agent).post(
        f"/console/tickets/{ticket.number}/edit/",
        {
            "version": ticket.version,
            "subject": ticket.subject,
            "type": "repair",
            "priority": "high",
            "channel": "phone",
            "team": team.pk,
            "assignee": technician.pk,
        },
    )
    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee, ticket.priority, ticket.version) == (team, technician, "high", 2)


def test_attachment_upload_and_download_check_access(login, agent, customer, portal_user):
    ticket = TicketFactory(customer=customer)
    client = login(agent)
    upload = SimpleUploadedFile("照片.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    client.post(f"/console/tickets/{ticket.number}/attachments/", {"file": upload})
    attachment = Attachment.objects.get(ticket=ticket)
    response = client.get(f"/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert login(portal_user).get(f"/attachments/{attachment.pk}/").status_code == 200
    stranger = customer_user(CustomerFactory())
    assert login(stranger).get(f"/attachments/{attachment.pk}/").status_code == 404


def test_internal_attachment_is_hidden_from_the_customer(login, agent, customer, portal_user):
    ticket = TicketFactory(customer=customer)
    upload = SimpleUploadedFile("notes.txt", "内部资料".encode(), content_type="text/plain")
    attachment = attachment_add(ticket=ticket, actor=agent, upload=upload, is_internal=True)
    assert login(portal_user).get(f"/attachments/{attachment.pk}/").status_code == 404


def test_refused_upload_shows_an_error(login, agent):
    ticket = TicketFactory()
    upload = SimpleUploadedFile("virus.png", b"MZ\x90\x00not a png", content_type="image/png")
    response = login(agent).post(
        f"/console/tickets/{ticket.number}/attachments/", {"file": upload}, follow=True
    )
    assert "flash-error" in response.content.decode()
    assert not Attachment.objects.exists()


def test_merge_and_link(login, agent, customer):
    source = TicketFactory(customer=customer)
    target = TicketFactory(customer=customer)
    related = TicketFactory()
    client = login(agent)
    client.post(f"/console/tickets/{target.number}/link/", {"number": related.number})
    assert TicketLink.objects.filter(from_ticket=target, to_ticket=related).exists()
    response = client.post(f"/console/tickets/{source.number}/merge/", {"number": target.number.lower()})
    assert response["Location"] == f"/console/tickets/{target.number}/"
    source.refresh_from_db()
    assert (source.status, source.merged_into) == ("closed", target)


def test_merge_into_an_unknown_ticket_shows_an_error(login, agent):
    source = TicketFactory()
    response = login(agent).post(
        f"/console/tickets/{source.number}/merge/", {"number": "T9999999"}, follow=True
    )
    assert "T9999999" in response.content.decode()
    source.refresh_from_db()
    assert source.status == "new"


def test_admin_link_only_for_accounts_the_admin_lets_in(login, agent):
    supervisor = UserFactory(role=Role.SUPERVISOR)
    administrator = UserFactory(role=Role.ADMIN, is_staff=True)
    assert "/admin/" not in login(agent).get("/console/").content.decode()
    assert "/admin/" not in login(supervisor).get("/console/").content.decode()
    assert "/admin/" in login(administrator).get("/console/").content.decode()


def test_console_in_chinese_has_no_untranslated_chrome(login, agent):
    TicketFactory(assignee=agent)
    body = login(agent, "zh-hans").get("/console/").content.decode()
    for english in ("Queues", "Log a phone call", "Any status", "Next page", "Subject", "Sign out"):
        assert english not in body
    assert "工单队列" in body
    assert Ticket.objects.count() == 1


def test_supervisors_see_the_change_history_agents_do_not(login, agent):
    from aftersales.tickets.services import ticket_open, ticket_update

    supervisor = UserFactory(role=Role.SUPERVISOR)
    ticket = ticket_open(actor=agent, customer=CustomerFactory(), subject="历史记录")
    ticket_update(ticket=ticket, actor=agent, changes={"priority": "urgent"})
    page = login(supervisor, "zh-hans").get(f"/console/tickets/{ticket.number}/").content.decode()
    assert "变更记录" in page and "ticket.update" in page and "normal → urgent" in page
    assert "ticket.update" not in login(agent).get(f"/console/tickets/{ticket.number}/").content.decode()


def test_the_at_risk_queue_lists_open_tickets_soonest_due_first_with_badges(login, agent, time_machine):
    from aftersales.tickets.services import ticket_open, ticket_transition

    time_machine.move_to("2026-03-03 10:00:00+08:00", tick=False)
    customer = CustomerFactory()
    normal = ticket_open(actor=agent, customer=customer, subject="普通咨询", priority="normal")
    ticket_transition(ticket=normal, actor=agent, to_status="accepted")  # its 5-minute acceptance is met
    time_machine.move_to("2026-03-03 10:01:00+08:00", tick=False)
    urgent = ticket_open(actor=agent, customer=customer, subject="紧急漏水", priority="urgent", type="repair")
    page = login(agent, "zh-hans").get("/console/queue/at-risk/").content.decode()
    assert page.index(urgent.number) < page.index(normal.number)
    assert 'class="sla sla-on_track"' in page and "data-due=" in page
    time_machine.move_to("2026-03-03 11:30:00+08:00", tick=False)
    later = login(agent, "zh-hans").get(f"/console/tickets/{normal.number}/").content.decode()
    assert "服务时效" in later
    assert "sla-breached" in later


def test_sla_compliance_report_page(login, agent, supervisor):
    assert login(agent).get("/console/reports/sla/").status_code == 403  # reports need report.view
    response = login(supervisor, "zh-hans").get("/console/reports/sla/", {"group_by": "type"})
    assert response.status_code == 200
    assert "时效达成率" in response.content.decode()
    bad = login(supervisor).get("/console/reports/sla/", {"group_by": "planet", "from": "yesterday"})
    assert bad.status_code == 200 and "flash-error" in bad.content.decode()


def test_a_supervisor_reads_and_clears_its_sla_notifications(login, agent, time_machine):
    from aftersales.sla.models import SlaNotification
    from aftersales.sla.sweep import sla_sweep
    from aftersales.tickets.services import ticket_open

    supervisor = UserFactory(role=Role.SUPERVISOR)
    team = TeamFactory(lead=supervisor)
    team.members.add(supervisor)
    time_machine.move_to("2026-03-03 10:00:00+08:00", tick=False)
    ticket = ticket_open(
        actor=agent, customer=CustomerFactory(), subject="紧急：漏水", priority="urgent", team=team
    )
    time_machine.move_to("2026-03-03 12:00:00+08:00", tick=False)
    sla_sweep()
    assert SlaNotification.objects.filter(user=supervisor, ticket=ticket).exists()
    client = login(supervisor, "zh-hans")
    page = client.get("/console/notifications/").content.decode()
    assert ticket.number in page and "通知" in page
    client.post("/console/notifications/")
    assert not SlaNotification.objects.filter(user=supervisor, read_at__isnull=True).exists()
    assert ticket.number not in client.get("/console/notifications/").content.decode()
