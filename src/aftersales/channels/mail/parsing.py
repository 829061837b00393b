"""Reading real-world mail: structure, charsets, encoded words, HTML, quoted history, auto-replies.

Pure functions over bytes; nothing here touches the database. ``parse_message`` raises
``MailParseError`` for a message that cannot be read, which the intake quarantines.
"""

from __future__ import annotations

import datetime as dt
import email
import email.utils
import html as html_lib
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header
from email.message import Message

import nh3

LATIN_CHARSETS = frozenset({"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"})
# Mail clients label GBK and GB18030 text "gb2312"; Taiwanese and Hong Kong mail labels
# big5hkscs or cp950 text "big5". Decode with the superset so no character is lost.
CHARSET_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "hz",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "unknown-8bit": "",
    "x-unknown": "",
}
FALLBACK_CHARSETS = ("utf-8", "gb18030", "big5hkscs")
# 7-bit encodings: their bytes are always valid ASCII (so valid UTF-8), so the declared codec must
# be tried before UTF-8 or the escapes (``~{…~}``, ``ESC $ B``, ``+…-``) are shown as they are.
SEVEN_BIT_CHARSETS = frozenset({"hz", "iso-2022-jp", "iso-2022-jp-2", "iso-2022-kr", "iso-2022-cn", "utf-7"})


class MailParseError(Exception):
    """The message cannot be read; ``reason`` says why (kept with the quarantined source)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    is_inline: bool = False


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: str
    references: list[str]
    from_address: str
    from_name: str
    to_addresses: list[str]
    subject: str
    date: dt.datetime | None
    text: str
    reply_text: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_reason: str = ""
    loop_tokens: list[str] = field(default_factory=list)
    is_forward: bool = False
    authentication_results: list[str] = field(default_factory=list)


def _normalise_charset(charset: str | None) -> str:
    name = (charset or "").strip().strip('"').lower()
    return CHARSET_SUPERSETS.get(name, name)


def _codec_exists(name: str) -> bool:
    import codecs

    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Text from bytes whose declared charset may be wrong or missing; never raises."""
    charset = _normalise_charset(declared)
    candidates: list[str] = []
    if charset in SEVEN_BIT_CHARSETS and _codec_exists(charset):
        candidates.append(charset)
    elif charset and charset not in LATIN_CHARSETS and _codec_exists(charset):
        # UTF-8 first even when something else is declared: valid UTF-8 is almost never an accident.
        candidates += ["utf-8", charset] if charset != "utf-8" else ["utf-8"]
    candidates += [c for c in FALLBACK_CHARSETS if c not in candidates]
    if charset in LATIN_CHARSETS:
        candidates.append("cp1252")
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    if charset and _codec_exists(charset):
        return data.decode(charset, errors="replace")
    return data.decode("utf-8", errors="replace")


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def decode_header_value(value: object) -> str:
    """An RFC 2047 header as text, decoding each encoded word with the charset rules above."""
    if value is None:
        return ""
    text = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        # Raw 8-bit header bytes (common from Chinese clients): the parser kept them as surrogates.
        text = decode_bytes(text.encode("ascii", "surrogateescape"), None)
    if "=?" not in text:
        return _clean_header(text)
    try:
        parts = decode_header(text)
    except Exception:  # noqa: BLE001 - a malformed header is read as it stands
        return _clean_header(text)
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    return _clean_header("".join(out))


def _clean_header(text: str) -> str:
    text = re.sub(r"\s*\r?\n\s*", " ", text)
    return "".join(ch for ch in text if ch.isprintable() or ch == " ").strip()


def _raw_header(message: Message, name: str) -> str:
    """The header as sent (encoded words intact), so our decoder chooses the charsets."""
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def _raw_headers(message: Message, name: str) -> list[str]:
    return [str(value) for key, value in message.raw_items() if key.lower() == name.lower()]


_MSGID = re.compile(r"<([^<>\s]{1,250})>")


def _ascii_id_text(value: str) -> str:
    """Message-ID text as printable ASCII: any other byte (raw 8-bit, or a surrogate the parser
    kept for one) becomes ``%XX``, so the same bytes always give the same, storable id."""
    data = value.encode("utf-8", "surrogateescape")
    return "".join(
        chr(byte) if 0x20 <= byte < 0x7F or byte in (0x09, 0x0A, 0x0D) else f"%{byte:02X}" for byte in data
    )


def message_ids(value: str) -> list[str]:
    value = _ascii_id_text(value or "")
    found = _MSGID.findall(value)
    if not found and value and value.strip() and " " not in value.strip():
        found = [value.strip().strip("<>")]
    return [mid[:250] for mid in found]


def html_to_text(markup: str) -> str:
    """Readable text from HTML mail: block elements become line breaks, everything else is dropped."""
    markup = re.sub(r"(?is)<(head|style|script|title)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>", "\n", markup)
    markup = re.sub(r"(?i)</(p|div|tr|li|h[1-6]|blockquote|table|pre)\s*>", "\n", markup)
    markup = re.sub(r"(?i)<(p|div|tr|li|h[1-6]|blockquote|table|pre)\b[^>]*>", "\n", markup)
    markup = re.sub(r"(?i)</t[dh]\s*>", " ", markup)
    markup = re.sub(r"(?i)<img\b[^>]*\balt=\"([^\"]*)\"[^>]*>", r"[\1]", markup)
    text = nh3.clean(markup, tags=set(), clean_content_tags={"script", "style"})
    text = html_lib.unescape(text).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()


# Quoted history: the first line that introduces it ends the new text.
_QUOTE_HEADERS = [
    re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded by|Reply message)\s*-{2,}", re.I),
    re.compile(r"^\s*-{2,}\s*原始邮件\s*-{2,}"),
    re.compile(r"^\s*-{2,}\s*(回复的原邮件|原邮件)\s*-{2,}"),
    re.compile(r"^\s*_{8,}\s*$"),  # Outlook's separator line before the From:/Sent: block
    re.compile(r"^.{0,300}\bwrote\s*:\s*$", re.I),
    re.compile(r"^.{0,300}写道\s*[:：]\s*$"),
]
_FROM_LINE = re.compile(r"^\s*\*?(From|发件人|寄件者)\s*\*?\s*[:：]", re.I)
_BLOCK_LINE = re.compile(
    r"^\s*\*?(Sent|Date|To|Subject|Cc|发送时间|时间|日期|收件人|主题|抄送|寄件日期|收件者)\s*\*?\s*[:：]",
    re.I,
)
_ON_START = re.compile(r"^\s*(On\s|在\s*\d|于\s*\d)", re.I)
_FORWARD_SUBJECT = re.compile(r"^\s*(fw|fwd|转发|轉寄|转寄)\s*[:：]", re.I)


def _is_quote_header(lines: list[str], index: int) -> bool:
    line = lines[index]
    for pattern in _QUOTE_HEADERS:
        if pattern.match(line):
            return True
    if _ON_START.match(line) and index + 1 < len(lines):
        # "On Mon, 3 Nov 2026 at 10:00, Li Lei <li@example.com>\nwrote:" wrapped over two lines.
        joined = f"{line} {lines[index + 1]}"
        if re.match(r"^.{0,400}(\bwrote|写道)\s*[:：]\s*$", joined, re.I):
            return True
    if _FROM_LINE.match(line):
        following = [candidate for candidate in lines[index + 1 : index + 5] if candidate.strip()]
        return sum(1 for candidate in following if _BLOCK_LINE.match(candidate)) >= 2
    return False


def strip_quoted(text: str) -> str:
    """The new part of a reply: everything before the quoted history, without "> " lines."""
    lines = text.splitlines()
    cut = len(lines)
    for index in range(len(lines)):
        if _is_quote_header(lines, index):
            cut = index
            break
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    result = "\n".join(kept).strip()
    return result or text.strip()


_AUTO_SUBJECT = re.compile(
    r"^\s*(自动回复|自動回覆|自动答复|自动应答|auto(matic)?[ -]?(reply|response|answer)|out of (the )?office|"
    r"autoreply|vacation|休假|不在办公室|delivery status notification|undeliver|退信|系统退信|mail delivery failed)",
    re.I,
)
_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster)@", re.I)


def _auto_reason(message: Message, from_address: str, subject: str) -> str:
    """Why the message is an auto-reply or a bounce, from its headers and structure; else "".

    A subject alone never decides: customers write about auto-reply settings, "vacation mode" and
    bounced mail. It only counts together with a weak header hint (Outlook's
    ``X-Auto-Response-Suppress``, a mailing list's ``List-Id``/``List-Unsubscribe``).
    """
    auto_submitted = decode_header_value(_raw_header(message, "Auto-Submitted")).lower()
    if auto_submitted and auto_submitted != "no":
        return f"auto-submitted: {auto_submitted[:40]}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        value = decode_header_value(_raw_header(message, name)).lower()
        if value and value not in ("no", "false", "0"):
            return f"auto-reply header {name}"
    precedence = decode_header_value(_raw_header(message, "Precedence")).lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"precedence: {precedence}"
    if message.get_content_type() == "multipart/report":
        return "bounce: delivery report"
    if _BOUNCE_SENDERS.match(from_address):
        return "bounce: sender " + from_address.split("@")[0].lower()
    if _raw_header(message, "Return-Path").strip() == "<>":
        return "bounce: null return path"
    if _AUTO_SUBJECT.match(subject):
        hints = [
            name
            for name in ("X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe")
            if _raw_header(message, name).strip()
        ]
        if hints:
            return f"auto-reply subject with {hints[0]}"
    return ""


def _rfc2231_param(header_value: str, name: str) -> str | None:
    """A (possibly RFC 2231 continued and encoded) parameter of a raw MIME header, or None.

    The sections' percent-decoded bytes are joined before the charset decodes them, so a
    character split across ``name*0*=`` and ``name*1*=`` comes out whole (the modern parser
    decodes each section on its own).
    """
    holder = Message()  # compat32: joins the continuations as bytes (latin-1) first
    holder["Content-Disposition"] = header_value
    value = holder.get_param(name, header="content-disposition")
    if value is None:
        return None
    if isinstance(value, tuple):
        charset, _language, text = value
        data = text.encode("latin-1", "surrogateescape")
        return decode_bytes(data, charset or None)
    text = email.utils.unquote(str(value))
    return decode_header_value(text)


def _part_filename(part: Message) -> str:
    name: str | None = None
    for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        raw = _raw_header(part, header)
        if raw and "*" in raw:
            try:
                name = _rfc2231_param(raw, param)
            except Exception:  # noqa: BLE001 - a broken parameter: fall back to the parser's reading
                name = None
            if name:
                break
    if not name:
        try:
            name = part.get_filename() or ""
        except Exception:  # noqa: BLE001 - a broken RFC 2231 parameter leaves the file unnamed
            name = ""
    return decode_header_value(name)[:200]


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - bad base64 / quoted-printable: keep what is there
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


@dataclass
class _Collected:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)


def _collect(part: Message, into: _Collected, depth: int = 0) -> None:
    if depth > 20:
        raise MailParseError("MIME nesting deeper than 20 levels")
    content_type = part.get_content_type()
    disposition = (part.get_content_disposition() or "").lower()
    if content_type.startswith("multipart/") and not part.is_multipart():
        # The boundary is missing or never appears: the parser keeps the body as one string.
        # That is the text the sender wrote, not an attachment.
        undivided = _payload(part)
        if undivided.strip():
            into.plain.append(decode_bytes(undivided, part.get_param("charset")))  # type: ignore[arg-type]
        return
    if part.is_multipart() and content_type != "message/rfc822":
        children = [child for child in (part.get_payload() or []) if isinstance(child, Message)]
        if content_type == "multipart/alternative":
            # The richest alternative we can read: plain text if present (what the sender wrote),
            # else HTML; nested multipart/related alternatives carry the inline images.
            plain = [c for c in children if c.get_content_type() == "text/plain"]
            chosen = plain[-1:] or [c for c in children if c.get_content_type() != "text/plain"][-1:]
            for child in children:
                if child in chosen or child.is_multipart():
                    _collect(child, into, depth + 1)
            return
        for child in children:
            _collect(child, into, depth + 1)
        return
    if content_type == "message/rfc822":
        inner_parts = part.get_payload()
        inner = inner_parts[0] if isinstance(inner_parts, list) and inner_parts else None
        if isinstance(inner, Message):
            nested = _Collected()
            _collect(inner, nested, depth + 1)
            header = "\n".join(
                f"{label}: {decode_header_value(_raw_header(inner, label))}"
                for label in ("From", "Date", "Subject", "To")
                if _raw_header(inner, label)
            )
            body = _body_text(nested)
            into.forwarded.append(f"---------- Forwarded message ----------\n{header}\n\n{body}".strip())
            into.attachments.extend(nested.attachments)
        return
    filename = _part_filename(part)
    if (
        content_type in ("text/plain", "text/html")
        and disposition != "attachment"
        and not (filename and disposition == "inline" and content_type == "text/html")
    ):
        text = decode_bytes(_payload(part), part.get_param("charset"))  # type: ignore[arg-type]
        (into.plain if content_type == "text/plain" else into.html).append(text)
        return
    data = _payload(part)
    if not data:
        return
    content_id = decode_header_value(part.get("Content-ID", "")).strip("<> ")[:200]
    if not filename:
        extension = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif"}.get(content_type, "")
        filename = (content_id.split("@")[0] if content_id else "attachment") + extension
    into.attachments.append(
        ParsedAttachment(
            filename=filename,
            content_type=content_type,
            data=data,
            content_id=content_id,
            is_inline=disposition == "inline" or bool(content_id),
        )
    )


def _body_text(collected: _Collected) -> str:
    if collected.plain:
        text = "\n\n".join(t.strip() for t in collected.plain if t.strip())
    else:
        text = "\n\n".join(html_to_text(t) for t in collected.html)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    blocks = [text.strip(), *collected.forwarded]
    return "\n\n".join(block for block in blocks if block)


def _address(message: Message) -> tuple[str, str]:
    raw_from = _raw_header(message, "From") or _raw_header(message, "Sender")
    decoded = decode_header_value(raw_from)
    name, address = email.utils.parseaddr(decoded)
    if not address or "@" not in address:
        # parseaddr trips over some encoded display names; try the address alone.
        match = re.search(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+", raw_from)
        address = match.group(0) if match else ""
    return name.strip().strip('"')[:120], address.strip().lower()[:254]


def parse_message(raw: bytes) -> ParsedEmail:
    """Read a raw RFC 5322 message; raise ``MailParseError`` if it cannot be used."""
    message: Message
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
        # Touch the structure once: the modern policy parses lazily and may fail on access.
        message.get_content_type()
        list(message.walk())
    except Exception:  # noqa: BLE001 - fall back to the forgiving compat32 policy
        try:
            message = email.message_from_bytes(raw, policy=policy.compat32)
        except Exception as exc:  # noqa: BLE001
            raise MailParseError(f"unreadable MIME structure: {exc.__class__.__name__}") from exc
    try:
        return _parse(message)
    except MailParseError:
        raise
    except Exception:  # noqa: BLE001 - the modern policy trips over something: retry with compat32
        try:
            return _parse(email.message_from_bytes(raw, policy=policy.compat32))
        except MailParseError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise MailParseError(f"unreadable message: {exc.__class__.__name__}: {exc}"[:300]) from exc


def _parse(message: Message) -> ParsedEmail:
    from_name, from_address = _address(message)
    if not from_address:
        raise MailParseError("no sender address (From)")
    subject = decode_header_value(_raw_header(message, "Subject"))[:255]
    collected = _Collected()
    _collect(message, collected)
    text = _body_text(collected)
    is_forward = bool(_FORWARD_SUBJECT.match(subject))
    reply_text = text if is_forward else strip_quoted(text)
    mid = message_ids(_raw_header(message, "Message-ID"))
    in_reply_to = message_ids(_raw_header(message, "In-Reply-To"))
    references = message_ids(" ".join(_raw_headers(message, "References")))
    to_addresses = [
        address.lower()
        for _name, address in email.utils.getaddresses(
            [decode_header_value(v) for v in _raw_headers(message, "To") + _raw_headers(message, "Cc")]
        )
        if address
    ]
    date: dt.datetime | None
    try:
        date = email.utils.parsedate_to_datetime(_raw_header(message, "Date"))
        if date is not None and date.tzinfo is None:
            date = None
    except (TypeError, ValueError, IndexError):
        date = None
    return ParsedEmail(
        message_id=mid[0] if mid else "",
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=references,
        from_address=from_address,
        from_name=from_name,
        to_addresses=to_addresses,
        subject=subject,
        date=date,
        text=text,
        reply_text=reply_text,
        attachments=collected.attachments,
        auto_reason=_auto_reason(message, from_address, subject),
        loop_tokens=[decode_header_value(v).lower() for v in _raw_headers(message, "X-Loop")],
        is_forward=is_forward,
        authentication_results=[
            decode_header_value(v) for v in _raw_headers(message, "Authentication-Results")
        ],
    )


def quick_message_id(raw: bytes) -> str:
    """The Message-ID from the header block alone, for deduplicating even unparseable mail."""
    head = raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    match = re.search(rb"(?im)^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]{1,250}>)", head)
    if not match:
        return ""
    found = message_ids(match.group(1).decode("ascii", "surrogateescape"))
    return found[0] if found else ""


def peek_headers(raw: bytes) -> tuple[str, str]:
    """(From, Subject) of a message that cannot be parsed, for the quarantine list; never raises."""
    try:
        message = email.message_from_bytes(raw[:65536], policy=policy.compat32)
        sender = decode_header_value(_raw_header(message, "From"))
        subject = decode_header_value(_raw_header(message, "Subject"))
    except Exception:  # noqa: BLE001 - best effort only
        return "", ""
    return sender[:254], subject[:255]
