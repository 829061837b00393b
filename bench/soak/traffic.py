"""The load: closed-loop asyncio clients over httpx, round-robin over the web processes.

Every request is recorded (time, kind, status, latency, ids). Every write carries a unique token
in its text (``<run>-<kind letter><n>``) so the checks can find it in the database afterwards.
Retries are made only where the platform makes them safe: a ticket create with the same
``Idempotency-Key``, a posted e-mail with the same bytes (its Message-ID), an inbound webhook with
the same event id. A reply, transition or chat line that got no answer is "unknown": it may or may
not have happened, but must not have happened twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import itertools
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

import httpx

NEXT_STAGE = {
    "new": "accepted",
    "accepted": "diagnosing",
    "diagnosing": "solution_proposed",
    "solution_proposed": "in_service",
    "in_service": "resolved",
    "waiting_on_customer": "in_service",
    "reopened": "diagnosing",
}
RETRIES = 4
MIX = {
    "api_create": 18,
    "api_reply": 14,
    "api_transition": 12,
    "api_read": 5,
    "mail_new": 10,
    "mail_reply": 8,
    "chat_start": 7,
    "chat_message": 12,
    "webhook_create": 7,
    "webhook_message": 7,
}
SUBJECTS = ["热水器不出热水", "洗碗机漏水", "空调遥控器失灵", "Water heater error E4", "净水器滤芯更换"]


@dataclass
class Request:
    at: float
    kind: str
    status: int  # 0: no answer (connection error or timeout)
    latency: float
    ident: str
    ticket: str = ""
    attempt: int = 1
    error: str = ""


@dataclass
class Write:
    """What one logical write (all its attempts) should have left in the database."""

    kind: str
    token: str
    outcome: str = "unknown"  # accepted | refused | unknown
    tickets: set[str] = field(default_factory=set)
    message_id: int | None = None
    to_status: str = ""
    statuses: list[int] = field(default_factory=list)


@dataclass
class Facts:
    run: str
    ports: list[int]
    agent_token: str
    admin_token: str
    source_key: str
    source_secret: str
    chat_key: str
    customers: list[tuple[int, str]]


class Load:
    def __init__(self, facts: Facts, *, clients: int, think_ms: tuple[int, int], seed: int = 7):
        self.facts = facts
        self.clients = clients
        self.think = think_ms
        self.rng = random.Random(seed)
        self.requests: list[Request] = []
        self.writes: list[Write] = []
        self._counter = itertools.count(1)
        self._ports = itertools.cycle(facts.ports)
        # What the clients know of the world, to write follow-ups.
        self.api_tickets: dict[str, str] = {}  # number → status as last seen
        self.mail_tickets: list[tuple[str, str, str]] = []  # (number or "" if pending, sender, message id)
        self.mail_pending = 0  # posted e-mails answered "pending" (no ticket number yet)
        self.chats: list[str] = []  # conversation tokens
        self.external_ids: list[str] = []
        self.all_tickets: list[str] = []

    # -- plumbing -----------------------------------------------------------------------------

    def token(self, letter: str) -> str:
        return f"{self.facts.run}-{letter}{next(self._counter):06d}"

    def base(self) -> str:
        return f"http://127.0.0.1:{next(self._ports)}"

    async def send(
        self,
        client: httpx.AsyncClient,
        kind: str,
        method: str,
        path: str,
        *,
        ident: str,
        retry: bool,
        ticket: str = "",
        **kwargs: Any,
    ) -> tuple[int, Any, list[int]]:
        """One logical request; with ``retry``, again (same key/bytes/id) after no answer or a 5xx."""
        statuses: list[int] = []
        body: Any = None
        for attempt in range(1, (RETRIES if retry else 1) + 1):
            if "sign" in kwargs:
                kwargs["headers"] = {**kwargs["headers"], **kwargs["sign"]()}
            send_kwargs = {k: v for k, v in kwargs.items() if k != "sign"}
            started, wall = time.monotonic(), time.time()
            status, error = 0, ""
            try:
                response = await client.request(method, self.base() + path, **send_kwargs)
                status = response.status_code
                try:
                    body = response.json()
                except ValueError:
                    body = None
            except httpx.HTTPError as exc:
                error = f"{exc.__class__.__name__}: {exc}"[:200]
            self.requests.append(
                Request(
                    at=wall,
                    kind=kind,
                    status=status,
                    latency=time.monotonic() - started,
                    ident=ident,
                    ticket=ticket,
                    attempt=attempt,
                    error=error,
                )
            )
            statuses.append(status)
            if status and status < 500:
                return status, body, statuses
            await asyncio.sleep(0.5 * attempt)
        return statuses[-1], body, statuses

    @staticmethod
    def settle(write: Write, status: int, statuses: list[int]) -> None:
        write.statuses = statuses
        if 200 <= status < 300:
            write.outcome = "accepted"
        elif 400 <= status < 500:
            write.outcome = "refused"
        else:
            write.outcome = "unknown"

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}

    # -- the actions ----------------------------------------------------------------------------

    async def api_create(self, client: httpx.AsyncClient) -> None:
        token = self.token("c")
        write = Write(kind="api_create", token=token)
        self.writes.append(write)
        customer_id, _ = self.rng.choice(self.facts.customers)
        payload = {
            "subject": f"{token} {self.rng.choice(SUBJECTS)}",
            "description": f"soak {token}: 客户来电报修。",
            "type": self.rng.choice(["repair", "consultation", "installation", "complaint"]),
            "customer": customer_id,
        }
        headers = {**self.bearer(self.facts.agent_token), "Idempotency-Key": str(uuid.uuid4())}
        status, body, statuses = await self.send(
            client,
            "api_create",
            "POST",
            "/api/v1/tickets",
            ident=token,
            retry=True,
            json=payload,
            headers=headers,
        )
        self.settle(write, status, statuses)
        if write.outcome == "accepted" and isinstance(body, dict):
            write.tickets.add(body["number"])
            self.api_tickets[body["number"]] = body.get("status", "new")
            self.all_tickets.append(body["number"])

    async def api_reply(self, client: httpx.AsyncClient) -> None:
        if not self.all_tickets:
            return await self.api_create(client)
        number = self.rng.choice(self.all_tickets)
        token = self.token("r")
        note = self.rng.random() < 0.2
        write = Write(kind="api_note" if note else "api_reply", token=token, tickets={number})
        self.writes.append(write)
        payload = {
            "body": f"{token} 您好，我们已收到您的问题，工程师会尽快联系您。",
            "kind": "note" if note else "reply",
        }
        status, body, statuses = await self.send(
            client,
            "api_reply",
            "POST",
            f"/api/v1/tickets/{number}/messages",
            ident=token,
            ticket=number,
            retry=False,
            json=payload,
            headers=self.bearer(self.facts.admin_token),
        )
        self.settle(write, status, statuses)
        if write.outcome == "accepted" and isinstance(body, dict):
            write.message_id = int(body["id"])
        return None

    async def api_transition(self, client: httpx.AsyncClient) -> None:
        open_ones = [n for n, s in self.api_tickets.items() if s in NEXT_STAGE]
        if not open_ones:
            return await self.api_create(client)
        number = self.rng.choice(open_ones)
        target = NEXT_STAGE[self.api_tickets[number]]
        token = self.token("t")
        write = Write(kind="api_transition", token=token, tickets={number}, to_status=target)
        self.writes.append(write)
        status, body, statuses = await self.send(
            client,
            "api_transition",
            "POST",
            f"/api/v1/tickets/{number}/transition",
            ident=token,
            ticket=number,
            retry=False,
            json={"to": target, "note": token},
            headers=self.bearer(self.facts.admin_token),
        )
        self.settle(write, status, statuses)
        if isinstance(body, dict) and "status" in body:
            self.api_tickets[number] = body["status"]
        elif status == 409:
            await self.api_read(client, number)
        return None

    async def api_read(self, client: httpx.AsyncClient, number: str | None = None) -> None:
        if not self.all_tickets:
            return await self.api_create(client)
        number = number or self.rng.choice(self.all_tickets)
        status, body, _ = await self.send(
            client,
            "api_read",
            "GET",
            f"/api/v1/tickets/{number}",
            ident=number,
            ticket=number,
            retry=False,
            headers=self.bearer(self.facts.admin_token),
        )
        if status == 200 and isinstance(body, dict) and number in self.api_tickets:
            self.api_tickets[number] = body["status"]
        return None

    def _mail(self, *, sender: str, subject: str, text: str, message_id: str, in_reply_to: str = "") -> bytes:
        message = EmailMessage()
        message["From"] = formataddr(("王先生", sender))
        message["To"] = "service@soak.example"
        message["Subject"] = subject
        message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        message["Message-ID"] = f"<{message_id}>"
        if in_reply_to:
            message["In-Reply-To"] = f"<{in_reply_to}>"
            message["References"] = f"<{in_reply_to}>"
        message.set_content(text)
        return bytes(message)

    async def _post_mail(
        self, client: httpx.AsyncClient, kind: str, token: str, raw: bytes, number: str
    ) -> Any:
        write = Write(kind=kind, token=token, tickets={number} if number else set())
        self.writes.append(write)
        status, body, statuses = await self.send(
            client,
            kind,
            "POST",
            "/api/v1/mail/inbound",
            ident=token,
            ticket=number,
            retry=True,
            content=raw,
            headers={**self.bearer(self.facts.admin_token), "Content-Type": "message/rfc822"},
        )
        self.settle(write, status, statuses)
        if write.outcome == "accepted" and isinstance(body, dict) and body.get("ticket"):
            write.tickets.add(body["ticket"])
        return body if write.outcome == "accepted" else None

    async def mail_new(self, client: httpx.AsyncClient) -> None:
        token = self.token("m")
        sender = f"{token.lower()}@mail.soak.example"
        message_id = f"{token}@mail.soak.example"
        raw = self._mail(
            sender=sender,
            subject=f"{token} {self.rng.choice(SUBJECTS)}",
            text=f"{token}\n您好，家里的设备出了问题，麻烦尽快安排师傅上门。\n王先生",
            message_id=message_id,
        )
        body = await self._post_mail(client, "mail_new", token, raw, "")
        if body and body.get("ticket"):
            self.mail_tickets.append((body["ticket"], sender, message_id))
            self.all_tickets.append(body["ticket"])
        elif body and body.get("status") == "pending":
            # Imported moments later by the queue's holder or a task: reply by In-Reply-To alone
            # (replies heaped on the few numbers known would trip the per-sender rate limit).
            self.mail_pending += 1
            self.mail_tickets.append(("", sender, message_id))

    async def mail_reply(self, client: httpx.AsyncClient) -> None:
        if not self.mail_tickets:
            return await self.mail_new(client)
        number, sender, first_id = self.rng.choice(self.mail_tickets)
        token = self.token("n")
        raw = self._mail(
            sender=sender,
            subject=f"Re: [{number}] 补充说明" if number else "Re: 补充说明",
            text=f"{token}\n补充一下：型号是 JSQ30，昨天开始的。\n\n> 原邮件内容",
            message_id=f"{token}@mail.soak.example",
            in_reply_to=first_id,
        )
        await self._post_mail(client, "mail_reply", token, raw, number)
        return None

    async def chat_start(self, client: httpx.AsyncClient) -> None:
        token = self.token("s")
        write = Write(kind="chat_start", token=token)
        self.writes.append(write)
        payload = {
            "body": f"{token} 你好，我的热水器显示故障代码 E4，怎么处理？",
            "name": "访客",
            "email": f"{token.lower()}@chat.soak.example",
            "page_url": "https://www.soak.example/products",
        }
        status, body, statuses = await self.send(
            client,
            "chat_start",
            "POST",
            f"/chat/w/{self.facts.chat_key}/start",
            ident=token,
            retry=False,
            json=payload,
        )
        self.settle(write, status, statuses)
        if write.outcome == "accepted" and isinstance(body, dict):
            self.chats.append(body["token"])

    async def chat_message(self, client: httpx.AsyncClient) -> None:
        if not self.chats:
            return await self.chat_start(client)
        conversation = self.rng.choice(self.chats)
        token = self.token("l")
        write = Write(kind="chat_message", token=token)
        self.writes.append(write)
        status, _, statuses = await self.send(
            client,
            "chat_message",
            "POST",
            f"/chat/w/{self.facts.chat_key}/messages",
            ident=token,
            retry=False,
            json={"body": f"{token} 还在吗？型号 JSQ30-E4。"},
            headers={"X-Chat-Token": conversation},
        )
        self.settle(write, status, statuses)
        return None

    def _signed(self, body: bytes, event_id: str) -> dict[str, Any]:
        def sign() -> dict[str, str]:
            stamp = str(int(time.time()))
            digest = hmac.new(
                self.facts.source_secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256
            ).hexdigest()
            return {"X-Aftersales-Signature": f"t={stamp},v1={digest}"}

        return {
            "content": body,
            "headers": {
                "Content-Type": "application/json",
                "X-Aftersales-Event-Id": event_id,
                "Accept-Language": "en",
            },
            "sign": sign,
        }

    async def _webhook(self, client: httpx.AsyncClient, kind: str, token: str, event: dict[str, Any]) -> Any:
        write = Write(kind=kind, token=token)
        self.writes.append(write)
        body = json.dumps(event, ensure_ascii=False).encode()
        status, answer, statuses = await self.send(
            client,
            kind,
            "POST",
            f"/webhooks/in/{self.facts.source_key}/",
            ident=token,
            retry=True,
            **self._signed(body, f"evt-{token}"),
        )
        if status == 409 and isinstance(answer, dict) and answer.get("code") == "duplicate_event":
            # Our own retry of an event that had been accepted: the first answer is in details.
            status, answer = 201, (answer.get("details") or {}).get("original_result") or {}
        self.settle(write, status, statuses)
        if write.outcome == "accepted" and isinstance(answer, dict):
            number = (answer.get("ticket") or {}).get("number")
            if number:
                write.tickets.add(number)
        return answer if write.outcome == "accepted" else None

    async def webhook_create(self, client: httpx.AsyncClient) -> None:
        token = self.token("w")
        event = {
            "type": "ticket.create",
            "data": {
                "customer": {"email": f"{token.lower()}@shop.soak.example", "name": "网店顾客"},
                "subject": f"{token} {self.rng.choice(SUBJECTS)}",
                "description": "网店售后申请",
                "type": "repair",
                "external_id": token,
            },
        }
        answer = await self._webhook(client, "webhook_create", token, event)
        if answer:
            self.external_ids.append(token)
            number = (answer.get("ticket") or {}).get("number")
            if number:
                self.all_tickets.append(number)

    async def webhook_message(self, client: httpx.AsyncClient) -> None:
        if not self.external_ids:
            return await self.webhook_create(client)
        external_id = self.rng.choice(self.external_ids)
        token = self.token("x")
        event = {
            "type": "ticket.message",
            "data": {"external_id": external_id, "text": f"{token} 已上传照片。"},
        }
        await self._webhook(client, "webhook_message", token, event)
        return None

    # -- the clients ----------------------------------------------------------------------------

    async def client_loop(self, deadline: float, stop: asyncio.Event) -> None:
        kinds = list(MIX)
        weights = [MIX[k] for k in kinds]
        # Idle connections are dropped before gunicorn's 2 s keep-alive closes them, so a request is
        # never written into a connection the server is closing (a false "no answer").
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=2, keepalive_expiry=1.0)
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0), limits=limits) as client:
            while time.monotonic() < deadline and not stop.is_set():
                kind = self.rng.choices(kinds, weights)[0]
                await getattr(self, kind)(client)
                await asyncio.sleep(self.rng.uniform(*self.think) / 1000)

    async def run(self, seconds: float, stop: asyncio.Event) -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(self.client_loop(deadline, stop) for _ in range(self.clients)))
