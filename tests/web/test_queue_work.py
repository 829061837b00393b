"""Working a queue in the console: tab counts, remembered filters and sort, saved views, bulk
actions with per-ticket outcomes, and export of the current view to CSV and XLSX."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.tickets.models import SavedView, Ticket
from aftersales.tickets.services import saved_view_save
from tests.factories import CustomerFactory, TeamFactory, TicketFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "queue-results"}


def _tab_counts(body: str) -> dict[str, str]:
    return dict(
        re.findall(r'data-queue-tab="([a-z-]+)"[^>]*>[^<]*<span class="tab-count"[^>]*>([^<]+)<', body)
    )


def _numbers(body: str) -> list[str]:
    return re.findall(r'class="num"><a href="/console/tickets/([^/]+)/"', body)


def test_tabs_show_how_many_tickets_each_queue_holds(login, agent):
    team = TeamFactory()
    team.members.add(agent)
    TicketFactory(assignee=agent)
    TicketFactory(assignee=agent, status="closed", closed_at=timezone.now())  # not open work
    TicketFactory(team=team)
    TicketFactory()
    body = login(agent).get("/console/queue/mine/").content.decode()
    assert _tab_counts(body) == {"mine": "1", "team": "1", "unassigned": "2", "at-risk": "0", "all": "4"}


def test_tab_counts_are_capped_and_read_in_one_query(login, agent, settings, monkeypatch):
    from aftersales.web import selectors

    monkeypatch.setattr(selectors, "TAB_COUNT_CAP", 3)
    for _ in range(5):
        TicketFactory()
    client = login(agent)
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/console/queue/all/").content.decode()
    counting = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"] and "capped" in q["sql"]]
    assert len(counting) == 1
    assert "LIMIT 4" in counting[0]
    assert _tab_counts(body)["all"] == "3+"


@pytest.mark.parametrize("queue", ["all", "mine", "team", "at-risk"])
def test_the_list_page_costs_the_same_queries_whatever_the_number_of_tickets(login, agent, queue):
    team = TeamFactory()
    team.members.add(agent)
    saved_view_save(actor=agent, name="Urgent", queue="all", filters={"priority": "urgent"})
    client = login(agent)
    client.get(f"/console/queue/{queue}/")  # the session settles

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/console/queue/{queue}/").status_code == 200
        return len(queries)

    for index in range(3):
        TicketFactory(team=team, assignee=agent if index % 2 else None)
    few = count()
    for index in range(40):
        TicketFactory(team=team, assignee=agent if index % 2 else None, customer=CustomerFactory())
    assert count() == few <= 10


def test_filters_and_sort_are_remembered_per_queue_until_cleared(login, agent):
    client = login(agent)
    response = client.get("/console/queue/all/", {"priority": "urgent", "sort": "oldest"})
    assert response.status_code == 200
    again = client.get("/console/queue/all/")
    assert again.status_code == 302
    assert again["Location"] == "/console/queue/all/?priority=urgent&sort=oldest"
    assert client.get("/console/queue/mine/").status_code == 200  # another queue keeps its own
    cleared = client.get("/console/queue/all/", {"reset": "1"})
    assert cleared["Location"] == "/console/queue/all/"
    assert client.get("/console/queue/all/").status_code == 200


def test_sorting_by_priority_pages_through_every_ticket_once(login, agent):
    made = [TicketFactory(priority=p) for p in ["low", "urgent", "normal", "high"] * 8]
    client = login(agent)
    seen: list[str] = []
    query = {"sort": "priority"}
    while True:
        body = client.get("/console/queue/all/", query).content.decode()
        seen.extend(_numbers(body))
        match = re.search(r'href="\?([^"]*cursor=[^"]+)"[^>]*class="next"', body)
        if not match:
            break
        query = dict(pair.split("=", 1) for pair in match.group(1).replace("&amp;", "&").split("&"))
    assert sorted(seen) == sorted(t.number for t in made)
    priorities = [Ticket.objects.get(number=n).priority for n in seen]
    assert priorities == ["urgent"] * 8 + ["high"] * 8 + ["normal"] * 8 + ["low"] * 8


def test_a_forged_sort_cursor_is_a_message_not_a_500(login, agent):
    response = login(agent).get("/console/queue/all/", {"sort": "updated", "cursor": "dXBkYXRlZDp4OjE"})
    assert response.status_code == 200


def test_bulk_from_the_console_shows_each_tickets_outcome(login, agent):
    fresh = TicketFactory()
    cancelled = TicketFactory(status="cancelled")
    response = login(agent, "zh-hans").post(
        "/console/bulk/",
        {"number": [fresh.number, cancelled.number], "action": "stage", "to_status": "accepted"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Trigger"] == "queue-refresh"
    assert 'data-outcome="done"' in body and 'data-outcome="invalid_transition"' in body
    assert "1 张工单已完成" in body and "1 张被拒绝" in body
    assert "不能从“已取消”转到“已受理”" in body or "已取消" in body
    assert Ticket.objects.get(pk=fresh.pk).status == "accepted"


def test_bulk_without_htmx_is_a_page_with_the_outcomes_and_a_way_back(login, agent):
    ticket = TicketFactory()
    response = login(agent).post(
        "/console/bulk/",
        {
            "number": [ticket.number],
            "action": "assign",
            "assignee": "me",
            "next": "/console/queue/all/?sort=oldest",
        },
    )
    body = response.content.decode()
    assert "1 ticket done" in body
    assert 'href="/console/queue/all/?sort=oldest"' in body
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == agent.pk


def test_bulk_refuses_bad_input_with_a_message(login, agent):
    client = login(agent)
    nothing = client.post("/console/bulk/", {"action": "priority", "priority": "high"}).content.decode()
    assert "Select at least one ticket." in nothing
    odd = client.post("/console/bulk/", {"number": ["T/1"], "action": "priority", "priority": "high"})
    assert odd.status_code == 200 and "Not a ticket number." in odd.content.decode()
    bad = client.post("/console/bulk/", {"number": ["T1"], "action": "assign", "assignee": "x"})
    assert bad.status_code == 200 and "Choose a member of staff." in bad.content.decode()
    off_site = client.post(
        "/console/bulk/", {"number": ["T1"], "action": "tag", "tag": "a", "next": "https://evil.example/"}
    )
    assert "evil.example" not in off_site.content.decode()


def test_technician_sees_refusals_for_what_it_may_not_do(login, technician):
    own = TicketFactory(assignee=technician)
    body = (
        login(technician)
        .post("/console/bulk/", {"number": [own.number], "action": "priority", "priority": "urgent"})
        .content.decode()
    )
    assert 'data-outcome="permission_denied"' in body
    assert "You are not allowed to do this." in body


def test_customer_cannot_bulk(login, portal_user):
    ticket = TicketFactory()
    response = login(portal_user).post(
        "/console/bulk/", {"number": [ticket.number], "action": "stage", "to_status": "cancelled"}
    )
    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).status == "new"


def test_saved_views_from_the_console(login, agent, supervisor):
    supervisor_client = login(supervisor)
    response = supervisor_client.post(
        "/console/views/",
        {
            "name": "待处理紧急",
            "queue": "all",
            "query": "priority=urgent&sort=oldest&bogus=1",
            "is_shared": "on",
        },
    )
    view = SavedView.objects.get()
    assert (view.filters, view.sort, view.is_shared) == ({"priority": "urgent"}, "oldest", True)
    assert response["Location"] == "/console/queue/all/?priority=urgent&sort=oldest"

    agent_page = login(agent).get("/console/queue/all/").content.decode()
    assert "待处理紧急" in agent_page and "shared" in agent_page
    assert f'name="view" value="{view.pk}"' not in agent_page  # not the agent's to delete
    # An agent's attempt to share is refused (the checkbox is not offered to it).
    assert 'name="is_shared"' not in agent_page
    assert (
        login(agent).post("/console/views/", {"name": "x", "queue": "all", "is_shared": "on"}).status_code
        == 403
    )

    assert supervisor_client.post("/console/views/delete/", {"view": view.pk}).status_code == 302
    assert not SavedView.objects.exists()
    gone = login(agent).post("/console/views/delete/", {"view": view.pk}, follow=True)
    assert "No such view." in gone.content.decode()


def _export(client, queue: str, **query):
    response = client.get(f"/console/queue/{queue}/export/", query)
    assert response.status_code == 200
    return response


def test_csv_export_has_a_bom_and_the_current_view_in_chinese(login, agent):
    TicketFactory(subject="热水器漏水", priority="urgent", customer=CustomerFactory(name="王先生"))
    TicketFactory(subject='=HYPERLINK("http://x")', priority="urgent")
    TicketFactory(subject="不该导出", priority="low")
    response = _export(login(agent, "zh-hans"), "all", priority="urgent", sort="oldest")
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:5] == ["编号", "主题", "客户", "状态", "优先级"]
    assert [row[1] for row in rows[1:]] == ["热水器漏水", '\'=HYPERLINK("http://x")']
    assert rows[1][2] == "王先生" and rows[1][4] == "紧急"


def test_xlsx_export_in_english_is_scoped_to_what_the_user_sees(login, technician):
    own = TicketFactory(assignee=technician, subject="Leaking boiler", priority="high")
    TicketFactory(subject="Someone else's job")
    response = _export(login(technician, "en"), "all", **{"as": "xlsx"})
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:5] == ["Number", "Subject", "Customer", "Status", "Priority"]
    assert [row[0] for row in rows[1:]] == [own.number]
    assert rows[1][4] == "High" and rows[1][10].year >= 2026


def test_export_of_a_queue_a_role_does_not_have_sends_it_back(login, technician):
    assert login(technician).get("/console/queue/unassigned/export/").status_code == 302


def test_export_is_bounded(login, agent, monkeypatch):
    from aftersales.web import exports

    monkeypatch.setattr(exports, "MAX_EXPORT_ROWS", 3)
    for _ in range(5):
        TicketFactory()
    raw = b"".join(_export(login(agent, "en"), "all").streaming_content)
    assert len(raw.decode("utf-8-sig").strip().splitlines()) == 1 + 3


def test_the_page_offers_selection_shortcuts_and_exports(login, agent):
    TicketFactory()
    body = login(agent, "zh-hans").get("/console/queue/all/").content.decode()
    assert 'form="bulk-form"' in body and "data-select-all" in body
    assert 'id="shortcuts-help"' in body and "键盘快捷键" in body
    assert "/static/web/queue.js" in body and "<script>" not in body
    assert "export/?as=csv" in body and "as=xlsx" in body


def test_htmx_refresh_updates_the_tab_counts_too(login, agent):
    TicketFactory()
    body = login(agent).get("/console/queue/all/", {"q": ""}, headers=HTMX).content.decode()
    assert 'id="queue-tabs"' in body and 'hx-swap-oob="true"' in body
    assert "<html" not in body
