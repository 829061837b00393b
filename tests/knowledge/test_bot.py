"""The answer bot: answer / clarify / hand-over, deflection, and the ticket a hand-over opens."""

from __future__ import annotations

import pytest

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.customers.services import customer_identify
from aftersales.knowledge import bot
from aftersales.knowledge.models import (
    BotOutcome,
    SearchQueryLog,
    TicketArticleUse,
)
from aftersales.tickets.models import Channel, Ticket, TicketMessage
from tests.factories import CustomerFactory, TicketFactory, customer_user

from .web_support import build_library, revise

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(db):
    return build_library()


def start(locale: str = "en", channel: str = "help", **kwargs):
    return bot.bot_session_start(channel=channel, locale=locale, **kwargs)


def test_confident_question_is_answered_with_the_relevant_steps_and_a_link(library):
    session = start("en")
    reply = bot.bot_ask(session=session, question="My water heater shows E1, what should I do?")
    assert reply.kind == "answer"
    assert [s.article_id for s in reply.sources] == [library["e1_en"].pk]
    assert reply.sources[0].url == "/help/en/a/water-heater-e1/"
    assert reply.sources[0].title == "The water heater shows error E1"
    # The extract: the explanation and the steps — not the whole article (the warranty part is left out).
    assert "Check that the gas valve is open" in reply.text
    assert "three-year warranty" not in reply.text
    assert "##" not in reply.text


def test_chinese_question_is_answered_in_chinese(library):
    session = start("zh-hans")
    reply = bot.bot_ask(session=session, question="热水器显示E1怎么办")
    assert reply.kind == "answer"
    assert reply.sources[0].article_id == library["e1_zh"].pk
    assert reply.text.startswith("来自帮助中心")
    assert "确认燃气阀门已经打开" in reply.text
    assert "保修期内上门免费" not in reply.text


def test_both_turns_are_recorded_in_the_transcript(library):
    session = start("en")
    bot.bot_ask(session=session, question="water heater E1")
    session.refresh_from_db()
    assert [t["role"] for t in session.transcript] == ["customer", "bot"]
    assert session.transcript[0]["text"] == "water heater E1"
    assert session.transcript[1]["kind"] == "answer"
    assert session.transcript[1]["sources"] == [library["e1_en"].pk]
    assert SearchQueryLog.objects.filter(source="bot", query="water heater E1", results__gt=0).exists()


def test_close_articles_make_the_bot_ask_which_one_and_the_choice_is_answered(library):
    session = start("en")
    reply = bot.bot_ask(session=session, question="How do I clean the shower head?")
    assert reply.kind == "clarify"
    assert sorted(reply.options) == ["Cleaning the shower head filter", "Cleaning the shower head nozzles"]
    assert {s.article_id for s in reply.sources} == {library["nozzle"].pk, library["filter"].pk}

    chosen = bot.bot_ask(session=session, question="Cleaning the shower head filter")
    assert chosen.kind == "answer"
    assert chosen.sources[0].article_id == library["filter"].pk
    assert "filter screen" in chosen.text


def test_a_clarifying_question_can_be_answered_with_the_option_number(library):
    session = start("en")
    reply = bot.bot_ask(session=session, question="clean shower head")
    assert reply.kind == "clarify"
    chosen = bot.bot_ask(session=session, question="2")
    assert chosen.kind == "answer"
    assert chosen.sources[0].title == reply.options[1]


def test_nothing_matching_hands_over(library):
    session = start("en")
    reply = bot.bot_ask(session=session, question="Can I pay my invoice with bitcoin?")
    assert reply.kind == "handover"
    assert reply.sources == []


@pytest.mark.parametrize(
    "question",
    ["转人工", "我要找人工客服", "能不能让真人跟我说", "I want to talk to a human", "agent please"],
)
def test_asking_for_a_person_hands_over_at_once_without_searching(library, question):
    session = start("zh-hans" if any("\u4e00" <= ch <= "\u9fff" for ch in question) else "en")
    reply = bot.bot_ask(session=session, question=question)
    assert reply.kind == "handover"
    assert not SearchQueryLog.objects.filter(source="bot").exists()


def test_person_words_are_not_found_inside_other_words():
    assert not bot.asks_for_person("The agenda of the installation")
    assert not bot.asks_for_person("personal data")
    assert bot.asks_for_person("Can a person call me?")


def test_drafts_and_internal_articles_are_never_answered_with(library):
    revise(
        library["nozzle"],
        title="Cleaning nozzles (draft)",
        body="SECRET DRAFT TEXT about nozzles",
        publish_it=False,
    )
    session = start("en")
    for question in ("water heater recall", "ignition electrode repair pricing", "rub the rubber nozzles"):
        reply = bot.bot_ask(session=session, question=question)
        assert "SECRET" not in reply.text
        assert library["internal"].pk not in [s.article_id for s in reply.sources]
        assert library["draft"].pk not in [s.article_id for s in reply.sources]


def test_a_weak_match_is_offered_as_a_question_not_as_an_answer(library):
    # "limescale" matches only the nozzle article; the other words match nothing: unsure → ask.
    session = start("en")
    reply = bot.bot_ask(session=session, question="limescale on my bathroom mirror and the tiles")
    assert reply.kind in ("clarify", "handover")
    assert reply.kind != "answer"


def test_confirmed_answer_is_a_deflection(library):
    session = start("en")
    bot.bot_ask(session=session, question="water heater E1")
    bot.bot_resolve(session=session, solved=True)
    session.refresh_from_db()
    assert session.outcome == BotOutcome.DEFLECTED
    assert session.ticket is None
    assert session.transcript[-1]["kind"] == "resolved"


def test_not_solved_keeps_the_conversation_open(library):
    session = start("en")
    bot.bot_ask(session=session, question="water heater E1")
    bot.bot_resolve(session=session, solved=False)
    assert session.outcome == BotOutcome.OPEN


def test_nothing_to_confirm_before_an_answer(library):
    session = start("en")
    with pytest.raises(Conflict):
        bot.bot_resolve(session=session, solved=True)
    session.refresh_from_db()
    assert session.outcome == BotOutcome.OPEN


def test_empty_or_overlong_questions_are_refused(library):
    session = start("en")
    with pytest.raises(ValidationFailed):
        bot.bot_ask(session=session, question="   ")
    with pytest.raises(ValidationFailed):
        bot.bot_ask(session=session, question="x" * 1001)
    session.refresh_from_db()
    assert session.transcript == []


def test_unknown_channel_is_refused():
    with pytest.raises(ValidationFailed):
        bot.bot_session_start(channel="fax", locale="en")


def test_portal_hand_over_opens_a_ticket_carrying_the_conversation(library):
    user = customer_user()
    session = start("en", channel="portal", user=user)
    assert session.customer == user.contact.customer
    bot.bot_ask(session=session, question="water heater E1")
    bot.bot_ask(session=session, question="It still shows E1, I want to talk to a person")
    session = bot.bot_hand_over(session=session, actor=user)

    ticket = Ticket.objects.get()
    assert session.outcome == BotOutcome.HANDED_OVER
    assert session.ticket == ticket
    assert ticket.customer == user.contact.customer
    assert ticket.channel == Channel.WEB
    assert ticket.subject == "Help request: water heater E1"
    assert "water heater E1" in ticket.description
    assert "It still shows E1, I want to talk to a person" in ticket.description
    assert "Check that the gas valve is open" in ticket.description
    assert "/help/en/a/water-heater-e1/" in ticket.description
    use = TicketArticleUse.objects.get()
    assert (use.ticket, use.article, use.via) == (ticket, library["e1_en"], "bot")
    assert use.version == library["e1_en"].published_version


def test_hand_over_twice_opens_one_ticket(library):
    user = customer_user()
    session = start("en", channel="portal", user=user)
    bot.bot_ask(session=session, question="转人工")
    bot.bot_hand_over(session=session, actor=user)
    bot.bot_hand_over(session=session, actor=user)
    assert Ticket.objects.count() == 1


def test_a_visitor_without_contact_details_cannot_be_handed_over(library):
    session = start("en")
    bot.bot_ask(session=session, question="human please")
    with pytest.raises(ValidationFailed) as error:
        bot.bot_hand_over(session=session)
    assert "contact" in error.value.details
    session.refresh_from_db()
    assert session.outcome == BotOutcome.OPEN
    assert not Ticket.objects.exists()


def test_an_identified_visitor_is_handed_over_without_a_login(library):
    session = start("zh-hans")
    bot.bot_ask(session=session, question="马桶冲水没力气")
    bot.bot_ask(session=session, question="转人工")
    customer, contact, created = customer_identify(
        actor=None, name="王女士", phone="13800138000", channel="web"
    )
    bot.bot_hand_over(session=session, customer=customer, contact=contact)
    ticket = Ticket.objects.get()
    assert created
    assert ticket.customer == customer
    assert ticket.contact == contact
    assert ticket.subject == "求助：马桶冲水没力气"
    assert "马桶冲水没力气" in ticket.description and "转人工" in ticket.description
    assert TicketArticleUse.objects.filter(ticket=ticket, article=library["flush"], via="bot").exists()


def test_chat_hand_over_links_the_chats_ticket_and_notes_the_conversation(library):
    ticket = TicketFactory(customer=CustomerFactory(), channel=Channel.CHAT)
    session = start("en", channel="chat", customer=ticket.customer)
    bot.bot_ask(session=session, question="water heater E1")
    bot.bot_hand_over(session=session, ticket=ticket)
    session.refresh_from_db()
    assert session.ticket == ticket
    assert Ticket.objects.count() == 1
    note = TicketMessage.objects.get(ticket=ticket, kind=TicketMessage.Kind.NOTE)
    assert "water heater E1" in note.body
    assert TicketArticleUse.objects.filter(ticket=ticket, via="bot").count() == 1


def test_no_more_questions_after_the_hand_over(library):
    user = customer_user()
    session = start("en", channel="portal", user=user)
    bot.bot_ask(session=session, question="agent")
    bot.bot_hand_over(session=session, actor=user)
    with pytest.raises(Conflict):
        bot.bot_ask(session=session, question="water heater E1")


def test_clarify_options_are_not_recorded_as_used_articles(library):
    user = customer_user()
    session = start("en", channel="portal", user=user)
    assert bot.bot_ask(session=session, question="clean shower head").kind == "clarify"
    bot.bot_hand_over(session=session, actor=user)
    assert not TicketArticleUse.objects.exists()


def test_term_coverage_and_content_terms():
    assert bot.content_terms("How do I clean the shower head?", "en") == ["clean", "shower", "head"]
    terms = bot.content_terms("热水器显示E1怎么办", "zh-hans")
    assert "怎么办" not in terms and "e1" in terms
    assert bot.term_coverage(["clean", "shower"], "Cleaning a shower", "en") == 1.0
    assert bot.term_coverage(["clean", "filter"], "Cleaning a shower", "en") == 0.5
    assert bot.term_coverage([], "anything", "en") == 0.0


def test_domain_synonyms_count_as_covered():
    # "tap" is the customer's word for the manual's "faucet" (dictionary/synonyms.txt).
    assert bot.term_coverage(["tap", "drip"], "The faucet drips", "en") == 1.0
    assert bot.term_coverage(["厕所", "漏水"], "马桶底座漏水", "zh-hans") == 1.0
    assert bot.term_coverage(["tap"], "A shower head", "en") == 0.0
