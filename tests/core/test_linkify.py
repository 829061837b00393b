from __future__ import annotations

import pytest

from aftersales.core.linkify import linkify

REL = 'rel="nofollow noopener noreferrer" target="_blank"'


def test_an_https_address_becomes_a_link_and_trailing_punctuation_stays_outside():
    assert linkify("说明书见 https://lq.example.cn/manual?id=7&lang=zh。") == (
        f'说明书见 <a href="https://lq.example.cn/manual?id=7&amp;lang=zh" {REL}>'
        "https://lq.example.cn/manual?id=7&amp;lang=zh</a>。"
    )
    assert linkify("see http://a.cn/x.") == f'see <a href="http://a.cn/x" {REL}>http://a.cn/x</a>.'
    assert linkify("(http://a.cn/wiki/A_(b))") == (
        f'(<a href="http://a.cn/wiki/A_(b)" {REL}>http://a.cn/wiki/A_(b)</a>)'
    )


def test_chinese_text_running_on_after_an_address_is_not_part_of_it():
    assert (
        linkify("打开https://lq.cn/a查看") == f'打开<a href="https://lq.cn/a" {REL}>https://lq.cn/a</a>查看'
    )


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "mailto:a@b.cn",
        "ftp://files.example.cn/x",
    ],
)
def test_other_schemes_stay_text(text):
    assert "<a" not in linkify(text)


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script> https://a.cn",
        'https://a.cn/"onmouseover="alert(1)',
        "https://a.cn/'onmouseover='alert(1)",
        "https://a.cn/<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">https://a.cn</a>',
        "https://a.cn/#javascript:alert(1)",
    ],
)
def test_markup_in_the_text_is_escaped_and_never_breaks_out_of_the_attribute(text):
    html = str(linkify(text))
    assert "<script" not in html and "<img" not in html
    assert 'href="javascript' not in html.lower()
    # Every tag left is one of ours, with nothing but href, rel and target.
    import re

    for tag in re.findall(r"<[^>]*>", html):
        assert tag == "</a>" or re.fullmatch(r'<a href="https?://[^"\s<>]*" ' + re.escape(REL) + ">", tag), (
            tag
        )


def test_plain_text_is_only_escaped():
    assert linkify("a < b & c") == "a &lt; b &amp; c"
    assert linkify("") == ""
    assert linkify("http://") == "http://"


def test_the_console_and_the_portal_show_links_in_messages(client, agent):
    from aftersales.tickets.services import ticket_add_message
    from tests.factories import TicketFactory

    ticket = TicketFactory()
    ticket_add_message(
        ticket=ticket, actor=agent, body="教程：https://lq.example.cn/v/7 <b>x</b>", kind="reply"
    )
    client.force_login(agent)

    page = client.get(f"/console/tickets/{ticket.number}/").content.decode()

    assert (
        f'<a href="https://lq.example.cn/v/7" {REL}>https://lq.example.cn/v/7</a> &lt;b&gt;x&lt;/b&gt;'
        in page
    )
