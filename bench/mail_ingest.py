"""E-mail intake benchmark: parse and store 10,000 messages from a local maildir.

Builds (once per run) a maildir of ``--messages`` generated messages shaped like the support mail
of a Chinese manufacturer: new requests in GB2312/GBK/Big5/UTF-8, HTML-only mail, photos attached,
replies into existing tickets (In-Reply-To and quoted history in Chinese and English),
auto-replies and bounces, a few malformed ones. Then, for SQLite (a fresh file) and PostgreSQL (a
database of its own, ``aftersales_bench_mail``), it migrates an empty database and feeds every
message through the same pipeline the IMAP poller and the HTTP endpoint use
(``inbound_ingest``: parse, dedupe, customer, ticket or reply, attachments, SLA clocks, the
receipt in the outbox), one transaction per message, in one process, and prints messages/s.
The figures are written to ``docs/benchmarks.md`` under "E-mail intake".

    .venv/bin/python bench/mail_ingest.py                     # both databases, ~3 min
    .venv/bin/python bench/mail_ingest.py --databases sqlite --messages 2000
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import mailbox
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from email.header import Header
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- mail-bench:begin -->", "<!-- mail-bench:end -->"
DATABASE = "aftersales_bench_mail"
SERVER = "postgres://postgres@127.0.0.1:5432"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PRODUCTS = ["燃气热水器 JSQ-16", "智能马桶 LQ-900", "淋浴花洒 LQ-2201", "浴室柜 LQ-3300", "恒温龙头 LQ-1180"]
FAULTS = ["漏水", "不出热水", "显示故障代码 E1", "冲水无力", "面板开裂", "噪音很大", "无法开机"]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴婷"]


def _header(text: str, charset: str) -> str:
    return Header(text, charset).encode()


def _b64(text: str, charset: str) -> str:
    return base64.encodebytes(text.encode(charset)).decode()


def build_messages(count: int, seed: int) -> list[bytes]:
    """``count`` messages; about a third are replies to earlier ones, so they thread into tickets."""
    rnd = random.Random(seed)
    sent: list[tuple[str, str, str]] = []  # (message id, sender, subject) of new requests
    messages: list[bytes] = []
    start = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    for index in range(count):
        date = (start + dt.timedelta(minutes=index)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        message_id = f"bench-{seed}-{index}@mail.example.cn"
        roll = rnd.random()
        if sent and roll < 0.33:
            parent_id, sender, subject = rnd.choice(sent)
            body = rnd.choice(
                [
                    f"师傅明天下午可以上门吗？\n\n在 2026年11月20日 10:00，澜泉客服 <service@lanquan.cn> 写道：\n> {subject}\n> 请问何时方便？",
                    f"Tuesday works.\n\nOn Mon, 23 Nov 2026 at 18:00, Service <service@lanquan.cn> wrote:\n> {subject}",
                    f"好的，谢谢。\n\n------------------ 原始邮件 ------------------\n发件人: 澜泉客服\n发送时间: 2026年11月20日\n收件人: 我\n主题: {subject}\n\n旧内容",
                ]
            )
            raw = (
                f"From: {sender}\nTo: service@lanquan.cn\nSubject: {_header('回复：' + subject, 'utf-8')}\n"
                f"Date: {date}\nMessage-ID: <{message_id}>\nIn-Reply-To: <{parent_id}>\nReferences: <{parent_id}>\n"
                f"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
                f"{_b64(body, 'utf-8')}"
            ).encode()
            messages.append(raw)
            continue
        customer = rnd.randrange(4000)
        name = rnd.choice(NAMES)
        sender_address = f"customer{customer}@example.cn"
        product, fault = rnd.choice(PRODUCTS), rnd.choice(FAULTS)
        subject = f"{product}{fault}"
        text = f"您好：\n\n我家的{product}{fault}，麻烦尽快安排师傅上门。\n地址：上海市浦东新区张杨路{customer}号。\n\n{name}"
        if roll < 0.55:
            charset = rnd.choice(["gb2312", "gbk", "gb18030"])
            raw = (
                f"From: {_header(name, 'gb2312')} <{sender_address}>\nTo: service@lanquan.cn\n"
                f"Subject: {_header(subject, 'gb2312')}\nDate: {date}\nMessage-ID: <{message_id}>\n"
                f"MIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: base64\n\n"
                f"{_b64(text, 'gb18030')}"
            ).encode()
        elif roll < 0.65:
            traditional = "你好，馬桶沖水閥漏水，請派師傅來維修。"
            raw = (
                f"From: {_header('陳大文', 'big5')} <{sender_address}>\nTo: service@lanquan.cn\n"
                f"Subject: {_header('馬桶漏水', 'big5')}\nDate: {date}\nMessage-ID: <{message_id}>\n"
                f"MIME-Version: 1.0\nContent-Type: text/plain; charset=big5\nContent-Transfer-Encoding: base64\n\n"
                f"{_b64(traditional, 'big5')}"
            ).encode()
            subject = "馬桶漏水"
        elif roll < 0.78:
            html = "".join(f"<p>{line}</p>" for line in text.splitlines()) + "<style>p{}</style>"
            raw = (
                f"From: {name} <{sender_address}>\nTo: service@lanquan.cn\nSubject: {_header(subject, 'utf-8')}\n"
                f"Date: {date}\nMessage-ID: <{message_id}>\nMIME-Version: 1.0\n"
                f"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n{_b64(html, 'utf-8')}"
            ).encode()
        elif roll < 0.90:
            raw = (
                f"From: {name} <{sender_address}>\nTo: service@lanquan.cn\nSubject: {_header(subject + '（附照片）', 'utf-8')}\n"
                f"Date: {date}\nMessage-ID: <{message_id}>\nMIME-Version: 1.0\n"
                f'Content-Type: multipart/mixed; boundary="b{index}"\n\n--b{index}\n'
                f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n{_b64(text, 'utf-8')}\n"
                f"--b{index}\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n"
                f'Content-Disposition: attachment; filename="photo{index}.png"\n\n'
                f"{base64.encodebytes(PNG + index.to_bytes(4, 'big')).decode()}\n--b{index}--\n"
            ).encode()
        elif roll < 0.96:
            raw = (
                f"From: {name} <{sender_address}>\nTo: service@lanquan.cn\nSubject: {_header('自动回复：' + subject, 'utf-8')}\n"
                f"Date: {date}\nMessage-ID: <{message_id}>\nAuto-Submitted: auto-replied\n"
                f"Content-Type: text/plain; charset=utf-8\n\n我正在休假。\n"
            ).encode()
            messages.append(raw)
            continue
        elif roll < 0.98:
            raw = (
                f"From: MAILER-DAEMON@mx.example.cn\nTo: service@lanquan.cn\nSubject: Undelivered Mail\n"
                f"Date: {date}\nMessage-ID: <{message_id}>\n"
                f'Content-Type: multipart/report; report-type=delivery-status; boundary="r{index}"\n\n'
                f"--r{index}\nContent-Type: text/plain\n\nbounced\n--r{index}--\n"
            ).encode()
            messages.append(raw)
            continue
        else:
            raw = (
                f"To: service@lanquan.cn\nSubject: broken {index}\nMessage-ID: <{message_id}>\n\n".encode()
                + bytes(rnd.randrange(256) for _ in range(300))
            )
            messages.append(raw)
            continue
        messages.append(raw)
        sent.append((message_id, f"{name} <{sender_address}>", subject))
    return messages


def build_maildir(path: Path, count: int, seed: int) -> None:
    if path.exists():
        shutil.rmtree(path)
    box = mailbox.Maildir(str(path), create=True)
    for raw in build_messages(count, seed):
        box.add(raw)
    box.close()


def _sender(raw: bytes) -> bytes:
    head = raw.split(b"\n\n", 1)[0]
    for line in head.split(b"\n"):
        if line.lower().startswith(b"from:"):
            return line.rsplit(b"<", 1)[-1].strip(b"> \r")
    return b""


def run_ingest(maildir: Path, worker: int, workers: int, stage: str) -> dict[str, object]:
    """In a child process (Django configured by the environment): one stage for this worker's share.

    Messages are shared out by sender, as a deployment shares mailboxes among pollers: worker N
    reads mailbox ``bench-N``, so one customer's conversation stays in order in one mailbox.
    ``accept`` is stage 1 (what the poller does per message: parse, dedupe, store, commit);
    ``process`` is stage 2 (the mailbox's pending messages become tickets and replies, in order).
    """
    import zlib

    import django

    django.setup()
    from django.db import connection

    from aftersales.channels.mail.models import Mailbox
    from aftersales.channels.mail.services import inbound_accept, inbound_process_pending

    mailbox_row = Mailbox.objects.get(name=f"bench-{worker}")
    outcomes: dict[str, int] = {}
    if stage == "accept":
        box = mailbox.Maildir(str(maildir), create=False)
        raws = [box.get_bytes(key) for key in box.iterkeys()]
        # Maildir keys do not keep the order; order by Message-ID number so replies follow requests.
        raws.sort(
            key=lambda raw: int(raw.split(b"Message-ID: <bench-", 1)[1].split(b"-", 2)[1].split(b"@")[0])
        )
        mine = [raw for raw in raws if zlib.crc32(_sender(raw)) % workers == worker]
        started = time.time()
        cpu = time.process_time()
        for raw in mine:
            result = inbound_accept(raw=raw, mailbox=mailbox_row)
            key = "duplicate" if result.duplicate else result.status
            outcomes[key] = outcomes.get(key, 0) + 1
        count = len(mine)
    else:
        started = time.time()
        cpu = time.process_time()
        rows = inbound_process_pending(mailbox=mailbox_row)
        for row in rows:
            outcomes[row.status] = outcomes.get(row.status, 0) + 1
        count = len(rows)
    return {
        "vendor": connection.vendor,
        "messages": count,
        "started": started,
        "ended": time.time(),
        "cpu": time.process_time() - cpu,
        "outcomes": outcomes,
    }


def totals(env: dict[str, str]) -> dict[str, int]:
    code = (
        "import django, json; django.setup();"
        "from aftersales.channels.mail.models import InboundEmail, OutboundEmail;"
        "from aftersales.tickets.models import Ticket, TicketMessage;"
        "print(json.dumps({'tickets': Ticket.objects.count(),"
        " 'replies': TicketMessage.objects.filter(channel='email').count(),"
        " 'inbound_rows': InboundEmail.objects.count(), 'outbox_rows': OutboundEmail.objects.count()}))"
    )
    output = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure(env: dict[str, str], maildir: Path, workers: int, stage: str) -> dict[str, object]:
    load = os.getloadavg()[0]
    children = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--ingest",
                str(maildir),
                "--worker",
                str(worker),
                "--workers",
                str(workers),
                "--stage",
                stage,
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for worker in range(workers)
    ]
    parts = []
    for child in children:
        output, _ = child.communicate()
        if child.returncode:
            raise SystemExit(f"an ingest worker failed ({child.returncode})")
        parts.append(json.loads(output.strip().splitlines()[-1]))
    messages = sum(int(part["messages"]) for part in parts)
    seconds = max(float(part["ended"]) for part in parts) - min(float(part["started"]) for part in parts)
    outcomes: dict[str, int] = {}
    for part in parts:
        for key, value in part["outcomes"].items():
            outcomes[key] = outcomes.get(key, 0) + value
    return {
        "vendor": parts[0]["vendor"],
        "stage": stage,
        "load": f"{load:.1f}–{os.getloadavg()[0]:.1f}",
        "workers": workers,
        "messages": messages,
        "seconds": round(seconds, 1),
        "per_second": round(messages / seconds, 1),
        "cpu_ms_per_message": round(sum(float(part["cpu"]) for part in parts) / messages * 1000, 1),
        "outcomes": outcomes,
    }


def prepare(database: str, work: Path) -> dict[str, str]:
    data_dir = work / f"data-{database}"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    env = {
        **os.environ,
        "AFTERSALES_DATA_DIR": str(data_dir),
        "AFTERSALES_LOG_LEVEL": "ERROR",
        "AFTERSALES_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
        "AFTERSALES_MAIL_FROM": "service@lanquan.cn",
    }
    if database == "postgresql":
        import psycopg

        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        env["AFTERSALES_DATABASE_URL"] = f"{SERVER}/{DATABASE}"
    else:
        env["AFTERSALES_DATABASE_URL"] = ""
    subprocess.run([BIN / "aftersales", "migrate", "--noinput", "-v", "0"], env=env, check=True)
    code = (
        "import django; django.setup();"
        "from aftersales.channels.mail.models import Mailbox;"
        "[Mailbox.objects.create(name=f'bench-{i}', address=f'service{i}@lanquan.cn') for i in range(8)]"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return env


def parse_only(maildir: Path) -> dict[str, float]:
    """The parser alone (no database), one process: what reading the mail costs."""
    sys.path.insert(0, str(ROOT / "src"))
    from aftersales.channels.mail.parsing import MailParseError, parse_message

    box = mailbox.Maildir(str(maildir), create=False)
    raws = [box.get_bytes(key) for key in box.iterkeys()]
    started = time.perf_counter()
    for raw in raws:
        with contextlib.suppress(MailParseError):
            parse_message(raw)
    seconds = time.perf_counter() - started
    return {"messages": len(raws), "seconds": round(seconds, 2), "per_second": round(len(raws) / seconds, 1)}


def render(results: list[dict[str, Any]], count: int, parsing: dict[str, float] | None = None) -> str:
    lines = [
        "## E-mail intake",
        "",
        f"Run {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M')} UTC: `.venv/bin/python bench/mail_ingest.py` on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. A maildir of "
        f"{count:,} generated messages (GB2312/GBK/Big5/UTF-8 requests, HTML-only, photos attached, "
        "about a third replies threaded by In-Reply-To with quoted history, auto-replies, bounces, "
        "malformed ones) goes through the two stages of the intake into an empty, migrated database, "
        "shared out by sender over two mailboxes, one process each (as two pollers):",
        "",
        "- **accept** (stage 1, `inbound_accept`, what the IMAP poller does per message before it moves "
        "`last_uid`): parse, dedupe by unique key, store the raw source and a `pending` row, commit;",
        "- **process** (stage 2, `inbound_process_pending`, the poller after each batch or the "
        "`mail.process_inbound` task): each pending message of the mailbox in order, one transaction "
        "each: identify or create the customer, open the ticket (SLA clocks, webhooks, audit) or add "
        "the reply, store attachments, write the receipt to the outbox.",
        "",
        "End-to-end counts the two stages one after the other (messages ÷ (accept s + process s)).",
        "",
        "| database | stage | processes | messages | seconds | messages/s | CPU ms/message | load average (1 min, start–end) | outcomes |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for result in results:
        for stage in ("accept", "process"):
            part = result[stage]
            outcomes = ", ".join(f"{key} {value}" for key, value in sorted(part["outcomes"].items()))
            lines.append(
                f"| {part['vendor']} | {stage} | {part['workers']} | {part['messages']:,} | {part['seconds']} | "
                f"**{part['per_second']}** | {part['cpu_ms_per_message']} | {part['load']} | {outcomes} |"
            )
        accepted, processed = result["accept"], result["process"]
        seconds = float(accepted["seconds"]) + float(processed["seconds"])
        lines.append(
            f"| {accepted['vendor']} | end-to-end | {accepted['workers']} | {accepted['messages']:,} | "
            f"{seconds:.1f} | **{accepted['messages'] / seconds:.1f}** | "
            f"{float(accepted['cpu_ms_per_message']) + float(processed['cpu_ms_per_message']) * processed['messages'] / accepted['messages']:.1f} | | "
            f"tickets {processed['tickets']:,}, replies {processed['replies']:,}, outbox rows {processed['outbox_rows']:,} |"
        )
    if parsing:
        lines += [
            "",
            f"The parser alone (MIME, charsets, HTML to text, quote stripping; no database), one process: "
            f"{parsing['messages']:,} messages in {parsing['seconds']} s, **{parsing['per_second']} messages/s**.",
        ]
    lines += ["", "Target: ≥ 200 messages/s on 2 cores."]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    else:
        DOC.write_text(doc.rstrip("\n") + f"\n\n{BEGIN}\n{text}\n{END}\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="ingest processes (one run each)")
    parser.add_argument("--ingest", help=argparse.SUPPRESS)  # a child process: the maildir path
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--stage", default="accept", choices=["accept", "process"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest:
        workers = args.workers[0] if args.workers else 1
        print(json.dumps(run_ingest(Path(args.ingest), args.worker, workers, args.stage)))
        return
    work = Path(os.environ.get("BENCH_DATA_DIR", "/tmp/aftersales-bench-mail"))
    work.mkdir(parents=True, exist_ok=True)
    maildir = work / "maildir"
    started = time.perf_counter()
    build_maildir(maildir, args.messages, args.seed)
    print(
        f"maildir of {args.messages:,} messages built in {time.perf_counter() - started:.1f} s: {maildir}",
        flush=True,
    )
    parsing = parse_only(maildir)
    print(f"parser alone: {parsing}", flush=True)
    results = []
    for database in args.databases:
        for workers in args.workers:
            env = prepare(database, work)
            accepted = measure(env, maildir, workers, "accept")
            print(f"{database} accept: {accepted}", flush=True)
            processed = measure(env, maildir, workers, "process")
            processed.update(totals(env))
            print(f"{database} process: {processed}", flush=True)
            results.append({"accept": accepted, "process": processed})
    text = render(results, args.messages, parsing)
    print(text)
    if not args.no_doc:
        write_doc(text)
        print(f"written to {DOC}")


if __name__ == "__main__":
    main()
