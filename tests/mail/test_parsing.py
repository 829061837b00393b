"""The parser over a corpus shaped like real mail, and over random bytes."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.channels.mail.models import InboundEmail, InboundStatus
from aftersales.channels.mail.parsing import (
    MailParseError,
    decode_bytes,
    decode_header_value,
    html_to_text,
    parse_message,
    strip_quoted,
)
from aftersales.channels.mail.services import inbound_ingest
from tests.mail.conftest import corpus, corpus_files


def test_gb2312_body_and_encoded_word_headers():
    parsed = parse_message(corpus("01_gb2312_plain.eml"))
    assert parsed.from_name == "张三"
    assert parsed.from_address == "zhangsan@example.cn"
    assert parsed.subject == "热水器不出热水，请尽快上门维修"
    assert "显示故障代码 E1" in parsed.text
    assert parsed.message_id == "20261123091200.1A2B3C@example.cn"


def test_gbk_text_labelled_gb2312_is_read_as_gb18030():
    parsed = parse_message(corpus("02_gbk_labelled_gb2312.eml"))
    # 堃 and 镕 are outside GB2312: a strict gb2312 decoder would lose them.
    assert parsed.from_name == "王堃"
    assert "堃" in parsed.subject
    assert "镕铸件也松动了" in parsed.text


def test_big5_body_and_header():
    parsed = parse_message(corpus("03_big5.eml"))
    assert parsed.from_name == "陳大文"
    assert parsed.subject == "馬桶沖水閥漏水"
    assert "請派師傅來維修" in parsed.text


def test_missing_charset_is_detected():
    parsed = parse_message(corpus("04_utf8_no_charset.eml"))
    assert "水龙头滴水不止" in parsed.text


def test_q_encoded_gb2312_subject_and_8bit_body():
    parsed = parse_message(corpus("21_q_encoded_gb2312_subject.eml"))
    assert parsed.from_name == "钱七"
    assert parsed.subject == "花洒出水小"
    assert "已经清洗过滤网" in parsed.text


def test_html_only_mail_becomes_readable_text_without_scripts():
    parsed = parse_message(corpus("05_html_only.eml"))
    assert "The basin tap in my bathroom is leaking & the cabinet is wet." in parsed.text
    assert "Model: LQ-3300" in parsed.text
    assert "alert" not in parsed.text
    assert "color: red" not in parsed.text
    assert "<" not in parsed.text


def test_inline_image_and_alternative_text():
    parsed = parse_message(corpus("06_inline_image.eml"))
    assert parsed.text == "浴室柜门板开裂，见照片。"
    assert len(parsed.attachments) == 1
    image = parsed.attachments[0]
    assert (image.filename, image.content_type, image.content_id, image.is_inline) == (
        "photo.png",
        "image/png",
        "photo1@example.com",
        True,
    )
    assert image.data.startswith(b"\x89PNG")


def test_attachments_with_rfc2231_chinese_name():
    parsed = parse_message(corpus("07_attachments.eml"))
    names = [(a.filename, a.content_type) for a in parsed.attachments]
    assert names == [("发票.pdf", "application/pdf"), ("setup.exe", "application/x-msdownload")]


def test_forwarded_chain_is_kept():
    parsed = parse_message(corpus("08_forwarded.eml"))
    assert parsed.is_forward
    assert parsed.subject == "Fwd: 安装预约确认"
    assert "nobody came" in parsed.reply_text
    assert "We will come on Saturday at 10:00." in parsed.reply_text
    assert "Installer team." in parsed.reply_text  # the attached message/rfc822 too


@pytest.mark.parametrize(
    ("name", "new_text", "quoted"),
    [
        ("09_reply_gmail_en.eml", "Tuesday afternoon works for me.", "technician"),
        ("10_reply_qq_zh.eml", "好的，周二下午在家。", "师傅什么时候"),
        ("11_reply_163_zh.eml", "师傅已经修好了，谢谢。", "请确认"),
        ("12_reply_outlook_zh.eml", "收到，下周一可以安装。", "何时方便"),
        ("13_reply_outlook_en.eml", "Monday is fine.", "When may we"),
    ],
)
def test_quoted_history_is_stripped(name, new_text, quoted):
    parsed = parse_message(corpus(name))
    assert parsed.reply_text == new_text
    assert quoted in parsed.text


@pytest.mark.parametrize(
    "text",
    [
        "Yes.\n\nOn 2026-11-23, Service wrote:\n> old",
        "好的\n\n在 2026年11月23日 星期一 18:00，客服 <s@lanquan.cn> 写道：\n> 旧内容",
        "好的\n\n于2026年11月23日周一 18:00写道：\n旧内容",
        "好的\n------------------&nbsp;原始邮件&nbsp;------------------".replace("&nbsp;", " ")
        + "\n发件人: a",
        "OK\n\n________________________________\nFrom: a\nSent: b\nTo: c",
        "好\n\n发件人：客服\n时间：2026-11-23\n收件人：我\n主题：旧",
    ],
)
def test_strip_quoted_variants(text):
    assert strip_quoted(text) in {"Yes.", "好的", "OK", "好"}


def test_a_from_line_alone_is_not_a_quote():
    text = "From: the kitchen to the bathroom the pipe leaks.\nPlease come."
    assert strip_quoted(text) == text


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("14_autoreply_zh.eml", "auto-submitted: auto-replied"),
        ("15_autoreply_outlook.eml", "auto-reply subject with X-Auto-Response-Suppress"),
        ("16_bounce.eml", "bounce: delivery report"),
        ("17_precedence_bulk.eml", "precedence: bulk"),
    ],
)
def test_auto_replies_and_bounces_are_recognised(name, reason):
    assert parse_message(corpus(name)).auto_reason == reason


@pytest.mark.parametrize(
    "subject", ["自动回复：您的邮件", "Out of Office: back Monday", "Automatic reply: x", "AutoReply"]
)
def test_auto_reply_subjects_count_only_with_a_header_hint(subject):
    raw = f"From: a@example.com\nSubject: {subject}\nX-Auto-Response-Suppress: All\n\nbody\n".encode()
    assert parse_message(raw).auto_reason == "auto-reply subject with X-Auto-Response-Suppress"
    # The subject alone is a customer writing about it.
    raw = f"From: a@example.com\nSubject: {subject}\n\nbody\n".encode()
    assert parse_message(raw).auto_reason == ""


def test_ordinary_mail_is_not_an_auto_reply():
    for path in corpus_files():
        if path.name[:2] in {"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13"}:
            assert parse_message(path.read_bytes()).auto_reason == "", path.name


def test_malformed_messages_raise_parse_errors():
    with pytest.raises(MailParseError, match="no sender"):
        parse_message(corpus("18_malformed_no_from.eml"))
    with pytest.raises(MailParseError):
        parse_message(corpus("19_malformed_garbage.eml"))


def test_broken_mime_is_read_as_far_as_possible():
    parsed = parse_message(corpus("20_malformed_broken_mime.eml"))
    assert parsed.from_address == "broken@example.com"
    assert parsed.subject.startswith("洗衣机中断")
    assert parsed.date is None


def test_decode_bytes_fallbacks():
    assert decode_bytes("中文".encode("gbk"), "utf-8") == "中文"
    assert decode_bytes("中文".encode(), "gb2312") == "中文"
    assert decode_bytes("繁體".encode("big5"), None) in {"繁體", "繁體".encode("big5").decode("gb18030")}
    assert decode_bytes("繁體".encode("big5"), "big5") == "繁體"
    assert decode_bytes("café".encode("latin-1"), "iso-8859-1") == "café"
    assert decode_bytes(b"\xff\xfe\xfa", "x-unknown-charset") != ""


def test_decode_header_value_survives_junk():
    assert decode_header_value("=?gb2312?B?not-base64?=") != ""
    assert decode_header_value("=?no-such-charset?Q?abc?=") == "abc"
    assert decode_header_value(None) == ""


def test_html_to_text_keeps_line_structure():
    assert html_to_text("<p>a</p><p>b<br>c</p>") == "a\n\nb\nc"


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise_anything_but_parse_errors(data):
    with contextlib.suppress(MailParseError):
        parse_message(data)


_header_noise = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=80)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    subject=_header_noise,
    body=st.binary(max_size=500),
    charset=st.sampled_from(["gb2312", "big5", "utf-8", "x", ""]),
)
def test_mail_shaped_random_input_never_escapes(subject, body, charset):
    raw = (
        b"From: =?" + charset.encode() + b"?B?" + subject.encode()[:40] + b"?= <x@example.com>\r\n"
        b"Subject: "
        + subject.encode()
        + b"\r\nContent-Type: text/plain; charset="
        + charset.encode()
        + b"\r\n\r\n"
        + body
    )
    try:
        parsed = parse_message(raw)
    except MailParseError:
        return
    assert isinstance(parsed.text, str)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.binary(min_size=1, max_size=2000))
def test_random_bytes_through_the_intake_are_stored_never_raised(data):
    result = inbound_ingest(raw=data)
    assert result.inbound.pk is not None
    assert InboundEmail.objects.filter(pk=result.inbound.pk).exists()
    assert result.status in {InboundStatus.QUARANTINED, InboundStatus.IMPORTED, InboundStatus.IGNORED}
    with result.inbound.raw.open("rb") as handle:
        assert handle.read() == data
