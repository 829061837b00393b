"""Ticket search: any words of the subject, description and thread, a phone in any spelling, an
e-mail address, a serial number or a ticket number.

How it works (docs/ticket-search.md tells the longer story):

* **Document.** Every ticket has one ``TicketSearchDocument`` row holding its terms, cut by the
  same tokenizer as the knowledge base (``core.segmentation``: jieba in search mode with the
  product dictionary, Snowball stems, model numbers kept whole), space-separated. Public words
  (subject, description, public replies, customer and contact names, the product's serial and
  model) and internal notes are kept apart, so a customer's search never matches a staff note.
  Phone numbers written anywhere in the text add their national digits as one term
  (``138 0013 8000`` → ``13800138000``) and e-mail addresses a hashed term, so both are found
  however they were written.
* **Upkeep.** The ticket services write the document in their own transaction: ``ticket_open``
  and ``ticket_update`` (re)build it, ``ticket_add_message`` appends the message's terms,
  ``ticket_merge`` rebuilds both tickets. ``aftersales tickets_reindex`` (also run by
  ``seed_demo``) rebuilds every document.
* **Index.** PostgreSQL: a stored generated ``tsvector`` column (public terms weight A, notes D;
  ``simple`` configuration, so our terms are taken as they are) under a GIN index. SQLite: an FTS5
  table (``tickets_search_fts``, rowid = ticket id) with the two columns.
* **Query.** All terms of the words typed must occur (AND). A phone or an e-mail is also looked up
  through the customers' normalised identities and their indexed phone/e-mail columns; a word
  that may be a serial number through the installed products' unique serial; a ticket number
  exactly. The candidates are one ``id IN (… UNION …)`` subquery, so the ticket list keeps its
  scope, its filters, its newest-first order and its keyset paging.
* **Count.** ``ticket_list_for_user`` reads the ids of at most ``COUNT_CAP + 1`` matches first:
  their number is the total (exact up to 1,000, then "more than 1,000"), and when not capped the
  page is read from them.
"""

# SQL here is assembled from our own table and column names; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models.expressions import RawSQL

from aftersales.assets.models import InstalledProduct
from aftersales.core.segmentation import is_cjk_term, tokenize
from aftersales.customers.identity import normalize_email, normalize_phone, phone_spellings
from aftersales.customers.models import Contact, ContactIdentity, Customer, IdentityKind

from .models import Ticket, TicketMessage, TicketSearchDocument

FTS_TABLE = "tickets_search_fts"
COUNT_CAP = 1_000
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 12
# A document stops growing at this many characters of terms (a thread of thousands of messages):
# the words of its first messages are what a ticket is found by.
MAX_TERMS_CHARS = 200_000

_PHONE_IN_TEXT = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d \-().]{5,22}\d(?!\w)")
_PHONE_QUERY = re.compile(r"^[+(\d][\d \-().+]*\d$")
_EMAIL_IN_TEXT = re.compile(r"[^\s@<>()\[\],;:\"']{1,64}@[^\s@<>()\[\],;:\"']{1,190}\.[A-Za-z]{2,24}")
# One word with a digit in it may be a serial number; letters then digits may be a ticket number.
_SERIAL_QUERY = re.compile(r"^(?=[^ ]*\d)[A-Za-z0-9][A-Za-z0-9\-_./]{3,63}$")
_NUMBER_QUERY = re.compile(r"^[A-Za-z]{0,4}\d{3,16}$")
_MIN_PHONE_DIGITS = 7


# --- terms ---------------------------------------------------------------------------------------


def phone_term(value: str) -> str:
    """The term a phone number is indexed and searched by: its national digits (``""`` if none)."""
    canonical = normalize_phone(value)
    if not canonical.startswith("+"):
        return ""
    digits = canonical[3:] if canonical.startswith("+86") else canonical[1:]
    return digits if len(digits) >= _MIN_PHONE_DIGITS else ""


def email_term(value: str) -> str:
    """The term an e-mail address is indexed and searched by (letters and digits only)."""
    canonical = normalize_email(value)
    if not canonical:
        return ""
    return "em" + hashlib.blake2s(canonical.encode("utf-8"), digest_size=8).hexdigest()


def text_terms(text: str) -> list[str]:
    """Every term of ``text``: its words, plus one term per phone number and e-mail address."""
    if not text:
        return []
    if len(text) <= _CACHED_TEXT_CHARS:
        return list(_cached_text_terms(text))
    return _text_terms(text)


# Short texts recur (greetings, "已安排师傅上门", a bulk load's templates): cut each once.
_CACHED_TEXT_CHARS = 300


@functools.lru_cache(maxsize=8192)
def _cached_text_terms(text: str) -> tuple[str, ...]:
    return tuple(_text_terms(text))


def _text_terms(text: str) -> list[str]:
    terms = tokenize(text)
    for match in _PHONE_IN_TEXT.finditer(text):
        term = phone_term(match.group(0))
        if term:
            terms.append(term)
    if "@" in text:
        for match in _EMAIL_IN_TEXT.finditer(text):
            term = email_term(match.group(0))
            if term:
                terms.append(term)
    return terms


def _join(terms: Iterable[str]) -> str:
    return " ".join(dict.fromkeys(term for term in terms if term))


# --- upkeep (called by the ticket services, inside their transaction) ---------------------------


def _public_terms(ticket: Ticket, replies: Iterable[str]) -> list[str]:
    """Subject, description, the customer and contact, the serial number, then the replies.

    Reads only what the ticket already holds (the services pass the objects they loaded), so a new
    ticket is indexed with one INSERT.
    """
    terms = text_terms(ticket.subject) + text_terms(ticket.description)
    # Names, and the phone and e-mail as typed on the customer and contact records (the query also
    # looks the customers' normalised identities up, which may be added later).
    people: list[Customer | Contact] = [ticket.customer]
    if ticket.contact_id is not None and ticket.contact is not None:
        people.append(ticket.contact)
    for person in people:
        terms += tokenize(person.name)
        terms += [term for term in (phone_term(person.phone), email_term(person.email)) if term]
    if ticket.installed_product_id is not None and ticket.installed_product is not None:
        terms += tokenize(ticket.installed_product.serial_number)
    for body in replies:
        terms += text_terms(body)
    return terms


def _fts_replace(cursor: CursorWrapper, rows: list[tuple[int, str, str]]) -> None:
    placeholders = ", ".join(["%s"] * len(rows))
    cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({placeholders})", [row[0] for row in rows])
    cursor.executemany(
        f"INSERT INTO {FTS_TABLE} (rowid, public_terms, note_terms) VALUES (%s, %s, %s)",
        rows,
    )


def _store(rows: list[tuple[int, str, str]]) -> None:
    """Replace the documents of these tickets (``(ticket_id, public_terms, note_terms)``)."""
    if not rows:
        return
    rows = [(pk, public[:MAX_TERMS_CHARS], notes[:MAX_TERMS_CHARS]) for pk, public, notes in rows]
    ids = [row[0] for row in rows]
    TicketSearchDocument.objects.filter(ticket_id__in=ids).delete()
    TicketSearchDocument.objects.bulk_create(
        [
            TicketSearchDocument(ticket_id=pk, public_terms=public, note_terms=notes)
            for pk, public, notes in rows
        ]
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            _fts_replace(cursor, rows)


def index_new_ticket(ticket: Ticket) -> None:
    """The first document of a ticket ``ticket_open`` just wrote (no thread yet): one INSERT."""
    public = _join(_public_terms(ticket, ()))[:MAX_TERMS_CHARS]
    TicketSearchDocument.objects.bulk_create(
        [TicketSearchDocument(ticket_id=ticket.pk, public_terms=public, note_terms="")]
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [ticket.pk])
            cursor.execute(
                f"INSERT INTO {FTS_TABLE} (rowid, public_terms, note_terms) VALUES (%s, %s, '')",
                [ticket.pk, public],
            )


def index_ticket(ticket: Ticket) -> None:
    """(Re)build the search document of ``ticket`` from the ticket and its whole thread."""
    reindex_tickets([ticket.pk])


def index_message(message: TicketMessage) -> None:
    """Append the terms of a new reply or note to its ticket's document, without reading it.

    System events are not indexed. A ticket without a document yet (written before the index
    existed) gets its whole document built.
    """
    if message.kind == TicketMessage.Kind.EVENT:
        return
    added = _join(text_terms(message.body))
    if not added:
        return
    column = "public_terms" if message.kind == TicketMessage.Kind.REPLY else "note_terms"
    table = TicketSearchDocument._meta.db_table
    with connection.cursor() as cursor:
        # A document already at the size limit stays as it is (the row still exists: no rebuild).
        cursor.execute(
            f"UPDATE {table} SET {column} = CASE WHEN length({column}) < %s "
            f"THEN {column} || ' ' || %s ELSE {column} END WHERE ticket_id = %s",
            [MAX_TERMS_CHARS, added, message.ticket_id],
        )
        if cursor.rowcount == 0:
            index_ticket(message.ticket)
            return
        if connection.vendor == "sqlite":
            cursor.execute(
                f"UPDATE {FTS_TABLE} SET {column} = (SELECT {column} FROM {table} WHERE ticket_id = %s) "
                "WHERE rowid = %s",
                [message.ticket_id, message.ticket_id],
            )


def reindex_tickets(ticket_ids: Iterable[int] | None = None, *, batch_size: int = 500) -> int:
    """Rebuild the documents of ``ticket_ids`` (every ticket when ``None``); returns how many.

    Batched: one read of the tickets, one of their messages and one bulk write per batch.
    """
    if ticket_ids is None:
        ids = list(Ticket.objects.order_by("id").values_list("id", flat=True))
    else:
        ids = sorted(set(ticket_ids))
    done = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        tickets = Ticket.objects.filter(pk__in=chunk).select_related(
            "customer", "contact", "installed_product"
        )
        replies: dict[int, list[str]] = {pk: [] for pk in chunk}
        notes: dict[int, list[str]] = {pk: [] for pk in chunk}
        messages = (
            TicketMessage.objects.filter(ticket_id__in=chunk)
            .exclude(kind=TicketMessage.Kind.EVENT)
            .order_by("id")
            .values_list("ticket_id", "kind", "body")
        )
        for ticket_id, kind, body in messages:
            (replies if kind == TicketMessage.Kind.REPLY else notes)[ticket_id].append(body)
        rows = []
        for ticket in tickets:
            note_terms: list[str] = []
            for body in notes[ticket.pk]:
                note_terms += text_terms(body)
            rows.append((ticket.pk, _join(_public_terms(ticket, replies[ticket.pk])), _join(note_terms)))
        _store(rows)
        done += len(rows)
    return done


# --- queries -------------------------------------------------------------------------------------


@dataclass
class SearchPlan:
    """What a query string asks for: index terms (all must match) and identifiers to look up."""

    terms: list[str] = field(default_factory=list)
    phones: set[str] = field(default_factory=set)  # canonical (+86…)
    emails: set[str] = field(default_factory=set)  # canonical (lower-case)
    serials: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.phones or self.emails or self.serials or self.numbers)

    @property
    def is_lookup(self) -> bool:
        """A phone, e-mail, serial or ticket number: few matches, found through several indexes."""
        return bool(self.phones or self.emails or self.serials or self.numbers)


def plan_query(query: str) -> SearchPlan:
    text = (query or "").strip()[:MAX_QUERY_CHARS]
    plan = SearchPlan()
    if not text:
        return plan
    if "@" in text and " " not in text and normalize_email(text):
        plan.emails.add(normalize_email(text))
        plan.terms = [email_term(text)]
        return plan
    digits = sum(char.isdigit() for char in text)
    if _PHONE_QUERY.match(text) and digits >= _MIN_PHONE_DIGITS and phone_term(text):
        plan.phones.add(normalize_phone(text))
        plan.terms = [phone_term(text)]
        if " " not in text:  # a serial or ticket number may be all digits
            plan.serials.add(text)
            plan.numbers.add(text.upper())
        return plan
    if " " not in text and _SERIAL_QUERY.match(text):
        plan.serials.add(text)
    if _NUMBER_QUERY.match(text):
        plan.numbers.add(text.upper())
    plan.terms = _without_parts(list(dict.fromkeys(text_terms(text))))[:MAX_QUERY_TERMS]
    return plan


def _without_parts(terms: list[str]) -> list[str]:
    """Drop the Chinese terms that are part of a longer query term (jieba's search mode adds
    ``电热``, ``热水``, ``水器``, ``热水器`` for ``电热水器``): a document holding the long word holds
    them too, and PostgreSQL, taking the terms as independent, would guess five matches for sixty
    thousand and pick a plan for five."""
    cjk = [term for term in terms if is_cjk_term(term)]
    return [term for term in terms if not (is_cjk_term(term) and any(term != o and term in o for o in cjk))]


def _quote_tsquery(term: str, weight: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'" + weight


def _quote_fts(term: str, column: str) -> str:
    phrase = '"' + term.replace('"', '""') + '"'
    return f"{column} : {phrase}" if column else phrase


def _text_match_sql(terms: list[str], *, include_notes: bool) -> tuple[str, list[object]]:
    if connection.vendor == "postgresql":
        weight = "" if include_notes else ":A"
        tsquery = " & ".join(_quote_tsquery(term, weight) for term in terms)
        table = TicketSearchDocument._meta.db_table
        return f"SELECT ticket_id FROM {table} WHERE document @@ to_tsquery('simple', %s)", [tsquery]
    column = "" if include_notes else "public_terms"
    match = " AND ".join(_quote_fts(term, column) for term in terms)
    return f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [match]


def _in_list(values: Iterable[object]) -> tuple[str, list[object]]:
    items = list(values)
    return ", ".join(["%s"] * len(items)), items


def candidate_sql(plan: SearchPlan, *, include_notes: bool) -> tuple[str, list[object]]:
    """One subquery of the ids of every ticket ``plan`` matches (before scope and filters)."""
    ticket_table = Ticket._meta.db_table
    parts: list[str] = []
    params: list[object] = []
    if plan.terms:
        sql, sql_params = _text_match_sql(plan.terms, include_notes=include_notes)
        parts.append(sql)
        params += sql_params
    if plan.numbers:
        placeholders, values = _in_list(sorted(plan.numbers))
        parts.append(f"SELECT id FROM {ticket_table} WHERE number IN ({placeholders})")
        params += values
    customers: list[str] = []
    customer_params: list[object] = []
    identity = ContactIdentity._meta.db_table
    contact = Contact._meta.db_table
    customer = Customer._meta.db_table
    for kind, values_set, column, spellings in (
        (IdentityKind.PHONE, plan.phones, "phone", _phone_spellings),
        (IdentityKind.EMAIL, plan.emails, "email", _email_spellings),
    ):
        if not values_set:
            continue
        placeholders, values = _in_list(sorted(values_set))
        customers.append(
            f"SELECT c.customer_id FROM {identity} i JOIN {contact} c ON c.id = i.contact_id "
            f"WHERE i.kind = %s AND i.value IN ({placeholders})"
        )
        customer_params += [str(kind), *values]
        typed_placeholders, typed = _in_list(sorted(spellings(values_set)))
        customers.append(f"SELECT id FROM {customer} WHERE {column} IN ({typed_placeholders})")
        customers.append(f"SELECT customer_id FROM {contact} WHERE {column} IN ({typed_placeholders})")
        customer_params += typed + typed
    if customers:
        parts.append(f"SELECT id FROM {ticket_table} WHERE customer_id IN ({' UNION '.join(customers)})")
        params += customer_params
    if plan.serials:
        product = InstalledProduct._meta.db_table
        placeholders, values = _in_list(sorted(_serial_spellings(plan.serials)))
        parts.append(
            f"SELECT id FROM {ticket_table} WHERE installed_product_id IN "
            f"(SELECT id FROM {product} WHERE serial_number IN ({placeholders}))"
        )
        params += values
    return " UNION ".join(parts), params


def _phone_spellings(canonicals: set[str]) -> set[str]:
    spellings: set[str] = set()
    for canonical in canonicals:
        spellings |= phone_spellings(canonical)
    return spellings


def _email_spellings(canonicals: set[str]) -> set[str]:
    return {spelling for value in canonicals for spelling in (value, value.upper())} | {
        f"{local}@{domain.upper()}" for local, _, domain in (value.partition("@") for value in canonicals)
    }


def _serial_spellings(serials: set[str]) -> set[str]:
    return {spelling for value in serials for spelling in (value, value.upper(), value.lower())}


def search_condition(query: str, *, include_notes: bool) -> RawSQL | list[int] | None:
    """The ``pk__in`` value selecting the tickets ``query`` matches; ``None`` matches nothing.

    Words stay a subquery: PostgreSQL's GIN statistics let it walk the newest tickets for a common
    word and the index for a rare one. A lookup (phone, e-mail, serial, number) unions several
    small index lookups whose size the planner cannot guess, and it guessed big (a merge join
    over every ticket id for four matches): its ids are read first, in one query, and the list is
    handed over, unless there are more than ``COUNT_CAP`` of them.
    """
    plan = plan_query(query)
    if plan.is_empty:
        return None
    sql, params = candidate_sql(plan, include_notes=include_notes)
    if plan.is_lookup:
        with connection.cursor() as cursor:
            lookup_params: list[Any] = [*params, COUNT_CAP + 1]
            cursor.execute(f"SELECT * FROM ({sql}) AS candidates LIMIT %s", lookup_params)
            ids = [row[0] for row in cursor.fetchall()]
        if len(ids) <= COUNT_CAP:
            return ids
    return RawSQL(sql, params)  # noqa: S611 - every value is a parameter; table names are our own
