"""After the run: compare what the clients were told with what the database and the receivers hold."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import psycopg

from .sinks import Received
from .traffic import Load, Write

TICKET_WRITES = ("api_create", "webhook_create", "mail_new")
MESSAGE_WRITES = ("api_reply", "api_note", "mail_reply", "chat_start", "chat_message", "webhook_message")


@dataclass
class Window:
    name: str
    start: float
    end: float
    detail: str = ""


@dataclass
class Check:
    name: str
    passed: bool
    summary: str
    problems: list[str] = field(default_factory=list)


def _by_token(rows: list[tuple[Any, ...]], run: str, text_index: int) -> dict[str, list[tuple[Any, ...]]]:
    pattern = re.compile(rf"{re.escape(run)}-[a-z]\d{{6}}")
    found: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        for token in set(pattern.findall(str(row[text_index]))):
            found[token].append(row)
    return found


def _judge(write: Write, count: int) -> str:
    """'' when ``count`` rows are right for the write's outcome, else what is wrong."""
    if write.outcome == "accepted":
        return "" if count == 1 else ("lost" if count == 0 else f"doubled ×{count}")
    if write.outcome == "unknown":
        return "" if count <= 1 else f"doubled ×{count} (no answer)"
    return "" if count == 0 else f"refused ({write.statuses}) but written ×{count}"


def _write_check(name: str, writes: list[Write], counts: dict[str, int], extra: dict[str, str]) -> Check:
    problems: list[str] = []
    outcomes = Counter(w.outcome for w in writes)
    for write in writes:
        verdict = _judge(write, counts.get(write.token, 0)) or extra.get(write.token, "")
        if verdict:
            problems.append(
                f"{write.kind} {write.token} {sorted(write.tickets)} statuses={write.statuses}: {verdict}"
            )
    summary = (
        f"{outcomes['accepted']} accepted, {outcomes['refused']} refused, {outcomes['unknown']} without answer; "
        f"{len(problems)} wrong"
    )
    return Check(name, not problems, summary, problems)


def check_tickets(conn: psycopg.Connection[Any], load: Load) -> Check:
    rows = conn.execute(
        "SELECT number, subject FROM tickets_ticket WHERE subject LIKE %s", (f"{load.facts.run}-%",)
    ).fetchall()
    found = _by_token(rows, load.facts.run, 1)
    writes = [w for w in load.writes if w.kind in TICKET_WRITES]
    mismatch = {}
    for write in writes:
        numbers = {row[0] for row in found.get(write.token, [])}
        if write.outcome == "accepted" and write.tickets and numbers and numbers != write.tickets:
            mismatch[write.token] = f"answered {sorted(write.tickets)} but stored {sorted(numbers)}"
    return _write_check(
        "tickets: none lost, none doubled",
        writes,
        {token: len(rows) for token, rows in found.items()},
        mismatch,
    )


def check_messages(conn: psycopg.Connection[Any], load: Load) -> list[Check]:
    run = load.facts.run
    rows = conn.execute(
        "SELECT m.id, t.number, m.body FROM tickets_ticketmessage m JOIN tickets_ticket t ON t.id = m.ticket_id "
        "WHERE m.body LIKE %s",
        (f"%{run}-%",),
    ).fetchall()
    found = _by_token(rows, run, 2)
    writes = [w for w in load.writes if w.kind in MESSAGE_WRITES]
    wrong_place = {}
    for write in writes:
        stored = found.get(write.token, [])
        if write.outcome != "accepted" or len(stored) != 1:
            continue
        message_id, number, _ = stored[0]
        if write.message_id is not None and write.message_id != message_id:
            wrong_place[write.token] = f"answered message {write.message_id} but stored {message_id}"
        elif (
            write.kind in ("api_reply", "api_note", "mail_reply")
            and write.tickets
            and number not in write.tickets
        ):
            wrong_place[write.token] = f"meant for {sorted(write.tickets)} but on {number}"
    checks = [
        _write_check(
            "messages: none lost, none doubled (ticket thread)",
            writes,
            {token: len(rows) for token, rows in found.items()},
            wrong_place,
        )
    ]
    chat_rows = conn.execute(
        "SELECT id, body FROM chat_chatmessage WHERE body LIKE %s", (f"%{run}-%",)
    ).fetchall()
    chat_found = _by_token(chat_rows, run, 1)
    checks.append(
        _write_check(
            "chat lines: none lost, none doubled (conversation)",
            [w for w in load.writes if w.kind in ("chat_start", "chat_message")],
            {token: len(rows) for token, rows in chat_found.items()},
            {},
        )
    )
    return checks


def check_transitions(conn: psycopg.Connection[Any], load: Load) -> Check:
    rows = conn.execute(
        "SELECT t.number, c.to_status, c.note FROM tickets_ticketstatuschange c "
        "JOIN tickets_ticket t ON t.id = c.ticket_id WHERE c.note LIKE %s",
        (f"{load.facts.run}-%",),
    ).fetchall()
    found = _by_token(rows, load.facts.run, 2)
    writes = [w for w in load.writes if w.kind == "api_transition"]
    wrong = {}
    for write in writes:
        stored = found.get(write.token, [])
        if write.outcome == "accepted" and len(stored) == 1 and stored[0][1] != write.to_status:
            wrong[write.token] = f"asked for {write.to_status}, stored {stored[0][1]}"
    return _write_check(
        "transitions: none lost, none doubled",
        writes,
        {token: len(rows) for token, rows in found.items()},
        wrong,
    )


def check_mail_intake(conn: psycopg.Connection[Any], since: float) -> Check:
    rows = conn.execute(
        "SELECT status, count(*) FROM mail_inboundemail WHERE created_at >= to_timestamp(%s) GROUP BY status",
        (since,),
    ).fetchall()
    counts = dict(rows)
    bad = {k: v for k, v in counts.items() if k != "imported"}
    return Check(
        "mail intake: every posted e-mail imported",
        not bad,
        ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none",
        [f"{v} e-mail(s) {k}" for k, v in bad.items()],
    )


def check_server_errors(load: Load, windows: list[Window], grace: float, t0: float) -> Check:
    errors = [r for r in load.requests if r.status >= 500]
    outside = [r for r in errors if not any(w.start - 1 <= r.at <= w.end + grace for w in windows)]
    no_answer = [r for r in load.requests if r.status == 0]
    no_answer_outside = [
        r for r in no_answer if not any(w.start - 1 <= r.at <= w.end + grace for w in windows)
    ]
    problems = [
        f"{r.kind} {r.status or r.error} at +{r.at - t0:.1f} s ({r.ident} {r.ticket})" for r in outside
    ]
    problems += [
        f"{r.kind} no answer at +{r.at - t0:.1f} s: {r.error} ({r.ident})" for r in no_answer_outside
    ]
    return Check(
        f"no 5xx outside the fault windows (+{grace:.0f} s grace)",
        not outside and not no_answer_outside,
        f"{len(errors)} 5xx in all ({len(outside)} outside); {len(no_answer)} without answer "
        f"({len(no_answer_outside)} outside)",
        problems,
    )


def _delivery_check(
    name: str,
    db: dict[str, str],
    details: dict[str, str],
    received: list[Received],
    *,
    duplicates_documented: bool,
    what: str,
) -> Check:
    copies = Counter(item.ident for item in received)
    undelivered = sorted(ident for ident, status in db.items() if status not in ("sent", "delivered"))
    missing = sorted(
        ident for ident, status in db.items() if status in ("sent", "delivered") and not copies[ident]
    )
    phantom = sorted(ident for ident in copies if ident not in db)
    doubled = {ident: n for ident, n in copies.items() if n > 1}
    statuses = Counter(db.values())
    problems = [f"{what} {ident}: {db[ident]} ({details.get(ident, '')})" for ident in undelivered]
    problems += [f"{what} {ident}: marked delivered but never received" for ident in missing]
    problems += [f"{what} {ident}: received but not in the database" for ident in phantom]
    dup_text = (
        f"{len(doubled)} delivered more than once ({sum(doubled.values()) - len(doubled)} extra copies)"
    )
    if doubled and not duplicates_documented:
        problems += [f"{what} {ident}: received ×{n}" for ident, n in sorted(doubled.items())]
    elif doubled:
        dup_text += ", at-least-once as documented, de-duplicable by id"
    summary = (
        f"{len(db)} in the database ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}); "
        f"{len(copies)} distinct received; {dup_text}"
    )
    return Check(name, not problems, summary, problems)


def check_outbound(
    conn: psycopg.Connection[Any],
    since: float,
    mail: list[Received],
    hooks: list[Received],
    bad_signatures: int,
) -> list[Check]:
    mail_rows = conn.execute(
        "SELECT o.message_id, o.status, t.number, o.kind, o.attempts, o.claimed_at, o.last_error "
        "FROM mail_outboundemail o JOIN tickets_ticket t ON t.id = o.ticket_id "
        "WHERE o.created_at >= to_timestamp(%s)",
        (since,),
    ).fetchall()
    mail_db = {row[0]: row[1] for row in mail_rows}
    mail_details = {
        row[0]: f"{row[3]} for {row[2]}, {row[4]} attempt(s), claimed {row[5]:%H:%M:%S}"
        if row[5]
        else f"{row[3]} for {row[2]}, {row[4]} attempt(s), {row[6][:80]}"
        for row in mail_rows
    }
    hook_rows = conn.execute(
        "SELECT d.event_id, d.status, d.event_type, d.attempts, d.last_error "
        "FROM webhooks_webhookdelivery d WHERE d.created_at >= to_timestamp(%s)",
        (since,),
    ).fetchall()
    hook_db = {str(row[0]): row[1] for row in hook_rows}
    hook_details = {str(row[0]): f"{row[2]}, {row[3]} attempt(s), {row[4][:80]}" for row in hook_rows}
    hook_check = _delivery_check(
        "outbound webhooks: every one delivered",
        hook_db,
        hook_details,
        hooks,
        duplicates_documented=True,
        what="delivery",
    )
    if bad_signatures:
        hook_check.passed = False
        hook_check.problems.append(f"{bad_signatures} deliveries with a bad signature")
    return [
        _delivery_check(
            "outbound e-mail: every one delivered, once",
            mail_db,
            mail_details,
            mail,
            duplicates_documented=False,
            what="e-mail",
        ),
        hook_check,
    ]


def check_notified(load: Load, mail: list[Received], hooks: list[Received]) -> Check:
    """From the outside: every ticket the clients opened was announced by e-mail and webhook, and
    every public reply reached the webhook receiver."""
    mailed = {item.ticket for item in mail}
    opened = {item.ticket for item in hooks if item.kind == "ticket.opened"}
    messages = {item.extra.get("message_id") for item in hooks if item.kind == "ticket.message_added"}
    problems = []
    tickets = sorted(
        {n for w in load.writes if w.kind in TICKET_WRITES and w.outcome == "accepted" for n in w.tickets}
    )
    for number in tickets:
        if number not in mailed:
            problems.append(f"{number}: no e-mail received for it")
        if number not in opened:
            problems.append(f"{number}: no ticket.opened webhook received")
    replies = [w for w in load.writes if w.kind == "api_reply" and w.outcome == "accepted" and w.message_id]
    problems += [
        f"reply {w.message_id} on {sorted(w.tickets)}: no ticket.message_added webhook"
        for w in replies
        if w.message_id not in messages
    ]
    return Check(
        "every new ticket announced (mail + webhook), every reply sent out",
        not problems,
        f"{len(tickets)} tickets, {len(replies)} public replies; {len(problems)} missing",
        problems,
    )


def check_traffic_got_through(load: Load) -> Check:
    """Guard the guard: when the API changes under the harness (a new signing scheme, a renamed
    field, a throttle) writes are refused and the loss checks above would pass on nothing."""
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for write in load.writes:
        by_kind[write.kind][write.outcome] += 1
    problems = [
        f"{kind}: only {outcomes['accepted']} of {outcomes.total()} accepted"
        for kind, outcomes in sorted(by_kind.items())
        if outcomes["accepted"] < 0.5 * outcomes.total()
    ]
    return Check(
        "every kind of traffic got through (≥ 50 % accepted)",
        not problems and bool(by_kind),
        ", ".join(f"{kind} {o['accepted']}/{o.total()}" for kind, o in sorted(by_kind.items())),
        problems,
    )
