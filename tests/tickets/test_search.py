"""Ticket search: words (jieba-segmented Chinese, stemmed English), phones in any spelling, e-mail,
serial and ticket numbers; scoped like the ticket list; kept up to date by the services."""

from __future__ import annotations

import pytest
from django.db import connection

from aftersales.core.roles import Role
from aftersales.customers.models import ContactIdentity, IdentityKind
from aftersales.tickets import search
from aftersales.tickets.models import TicketSearchDocument
from aftersales.tickets.selectors import (
    TicketFilters,
    ticket_count_capped,
    ticket_list_for_user,
    visible_tickets,
)
from aftersales.tickets.services import ticket_add_message, ticket_merge, ticket_open, ticket_update
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InstalledProductFactory,
    RegionFactory,
    TeamFactory,
    UserFactory,
    customer_user,
)

pytestmark = pytest.mark.django_db


def found(user, q: str, **filters) -> list[str]:
    page = ticket_list_for_user(user=user, filters=TicketFilters(q=q, **filters), limit=100)
    return [ticket.subject for ticket in page.items]


def open_(agent, subject: str, description: str = "", **kwargs):
    customer = kwargs.pop("customer", None) or CustomerFactory(phone="", email="")
    return ticket_open(actor=agent, customer=customer, subject=subject, description=description, **kwargs)


def test_a_chinese_word_finds_the_ticket_whose_text_contains_it_segmented(agent):
    open_(agent, "热水器底部漏水", "用了两年，今天开始滴水")
    open_(agent, "马桶冲水无力")
    assert found(agent, "漏水") == ["热水器底部漏水"]
    assert found(agent, "热水器") == ["热水器底部漏水"]
    assert found(agent, "热水器漏水") == ["热水器底部漏水"]  # every word must occur, anywhere
    assert found(agent, "马桶漏水") == []
    assert found(agent, "滴水") == ["热水器底部漏水"]  # the description counts


def test_english_words_are_stemmed_and_case_folded(agent):
    open_(agent, "Water heater LEAKING at the bottom", "Installed last year")
    open_(agent, "Toilet flush weak")
    assert found(agent, "leak") == ["Water heater LEAKING at the bottom"]
    assert found(agent, "leaks heater") == ["Water heater LEAKING at the bottom"]
    assert found(agent, "installation") == ["Water heater LEAKING at the bottom"]
    assert found(agent, "leak toilet") == []


@pytest.mark.parametrize(
    "typed",
    ["+86 138-0013-8000", "13800138000", "138 0013 8000", "0086 138 0013 8000", "(+86) 138.0013.8000"],
)
def test_a_phone_in_any_spelling_finds_the_customers_tickets(agent, typed):
    caller = CustomerFactory(phone="138-0013-8000", email="")
    other = CustomerFactory(phone="13900139000", email="")
    open_(agent, "净水器滤芯更换", customer=caller)
    open_(agent, "洗衣机不排水", customer=other)
    assert found(agent, typed) == ["净水器滤芯更换"]


def test_a_phone_found_through_a_contact_identity_and_written_in_a_message(agent):
    customer = CustomerFactory(phone="", email="")
    contact = ContactFactory(customer=customer, phone="", email="")
    ContactIdentity.objects.create(contact=contact, kind=IdentityKind.PHONE, value="+8613700137000")
    open_(agent, "空调不制冷", customer=customer)
    mentioned = open_(agent, "冰箱异响")
    ticket_add_message(ticket=mentioned, actor=agent, body="请回电 137 0013 7000 或邮件 Wang.Li@Example.COM")
    assert sorted(found(agent, "+86 137 0013 7000")) == ["冰箱异响", "空调不制冷"]
    assert found(agent, "wang.li@example.com") == ["冰箱异响"]


def test_an_email_finds_the_customers_tickets_case_insensitively(agent):
    customer = CustomerFactory(phone="", email="Zhang.Wei@Example.com")
    open_(agent, "燃气灶打不着火", customer=customer)
    open_(agent, "油烟机噪音大")
    assert found(agent, "zhang.wei@example.com") == ["燃气灶打不着火"]
    assert found(agent, "ZHANG.WEI@EXAMPLE.COM") == ["燃气灶打不着火"]
    assert found(agent, "nobody@example.com") == []


def test_a_serial_number_or_a_ticket_number_finds_the_ticket(agent):
    customer = CustomerFactory(phone="", email="")
    product = InstalledProductFactory(customer=customer, serial_number="LQ2026A0042")
    with_product = open_(agent, "智能马桶加热失灵", customer=customer, installed_product=product)
    other = open_(agent, "花洒出水小")
    assert found(agent, "LQ2026A0042") == ["智能马桶加热失灵"]
    assert found(agent, "lq2026a0042") == ["智能马桶加热失灵"]
    assert found(agent, other.number) == ["花洒出水小"]
    assert found(agent, other.number.lower()) == ["花洒出水小"]
    assert with_product.number not in found(agent, other.number)


def test_a_new_message_is_searchable_at_once_and_notes_only_for_staff(agent):
    customer = CustomerFactory(phone="", email="")
    login = customer_user(customer)
    ticket = open_(agent, "洗碗机报错", customer=customer)
    assert found(agent, "E4") == []
    ticket_add_message(ticket=ticket, actor=agent, body="故障码 E4，进水阀堵塞")
    assert found(agent, "进水阀") == ["洗碗机报错"]
    assert found(login, "进水阀") == ["洗碗机报错"]
    ticket_add_message(ticket=ticket, actor=agent, body="内部：怀疑电磁阀老化", kind="note")
    assert found(agent, "电磁阀") == ["洗碗机报错"]
    assert found(login, "电磁阀") == []  # a customer never finds a ticket by a staff note


def test_an_edited_subject_and_a_merge_update_the_document(agent):
    customer = CustomerFactory(phone="", email="")
    ticket = open_(agent, "热水器不点火", customer=customer)
    ticket_update(ticket=ticket, actor=agent, changes={"subject": "热水器显示E1"})
    assert found(agent, "点火") == []
    assert found(agent, "显示") == ["热水器显示E1"]
    source = open_(agent, "再次来电", customer=customer)
    ticket_add_message(ticket=source, actor=agent, body="水压不足")
    ticket_merge(source=source, target=ticket, actor=agent)
    assert "热水器显示E1" in found(agent, "水压")


def test_search_is_scoped_like_the_ticket_list(agent):
    east, north = RegionFactory(name="华东"), RegionFactory(name="华北")
    team = TeamFactory()
    supervisor = UserFactory(role=Role.SUPERVISOR)
    supervisor.regions.add(east)
    technician = UserFactory(role=Role.TECHNICIAN)
    open_(agent, "上海的热水器漏水", region=east)
    open_(agent, "北京的热水器漏水", region=north, team=team)
    open_(agent, "技师的热水器漏水", region=north, assignee=technician)
    someone = customer_user(CustomerFactory(phone="", email=""))
    assert sorted(found(agent, "漏水")) == ["上海的热水器漏水", "北京的热水器漏水", "技师的热水器漏水"]
    assert found(supervisor, "漏水") == ["上海的热水器漏水"]
    assert found(technician, "漏水") == ["技师的热水器漏水"]
    assert found(someone, "漏水") == []
    assert found(agent, "漏水", team=team.pk) == ["北京的热水器漏水"]  # filters still apply


def test_the_total_counts_every_page_and_is_capped(agent, monkeypatch):
    customer = CustomerFactory(phone="", email="")
    for index in range(5):
        open_(agent, f"净水器漏水 {index}", customer=customer)
    page = ticket_list_for_user(user=agent, filters=TicketFilters(q="净水器"), limit=2)
    assert (len(page.items), page.total, page.total_is_capped) == (2, 5, False)
    assert ticket_count_capped(visible_tickets(agent), cap=3) == (3, True)
    monkeypatch.setattr(search, "COUNT_CAP", 4)
    page = ticket_list_for_user(user=agent, filters=TicketFilters(q="净水器"), limit=2)
    assert (page.total, page.total_is_capped) == (4, True)
    plain = ticket_list_for_user(user=agent, filters=TicketFilters(), limit=2)
    assert plain.total is None


@pytest.mark.parametrize("q", ["的", "!!!", "'\"&|:*()", "a:B & !c", "NEAR(x y)", "x" * 400])
def test_odd_queries_answer_without_error(agent, q):
    open_(agent, "热水器漏水")
    page = ticket_list_for_user(user=agent, filters=TicketFilters(q=q))
    assert page.items == [] and page.total == 0


def forget_documents() -> None:
    """As before the search existed: no document, and (SQLite) nothing in the FTS table."""
    TicketSearchDocument.objects.all().delete()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {search.FTS_TABLE}")  # noqa: S608 - our own table name


def test_reindex_rebuilds_missing_documents(agent):
    ticket = open_(agent, "壁挂炉水压低")
    ticket_add_message(ticket=ticket, actor=agent, body="补水后恢复")
    forget_documents()
    assert found(agent, "补水") == []
    assert search.reindex_tickets() == 1
    assert found(agent, "补水") == ["壁挂炉水压低"]
    assert found(agent, "壁挂炉") == ["壁挂炉水压低"]


def test_a_message_on_a_ticket_without_a_document_builds_it(agent):
    ticket = open_(agent, "电热水器漏电")
    forget_documents()
    ticket_add_message(ticket=ticket, actor=agent, body="已断电")
    assert found(agent, "漏电") == ["电热水器漏电"]
    assert found(agent, "断电") == ["电热水器漏电"]


def test_a_long_chinese_word_is_searched_without_its_parts_and_still_finds_the_ticket(agent):
    assert search.plan_query("电热水器 卫浴").terms == ["电热水器", "卫浴"]
    open_(agent, "电热水器不加热", "卫浴间的电热水器")
    assert found(agent, "电热水器 卫浴") == ["电热水器不加热"]
    assert found(agent, "热水器") == ["电热水器不加热"]
