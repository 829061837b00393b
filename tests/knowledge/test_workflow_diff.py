"""The diff between two versions: lines, then words, Chinese character by character."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.knowledge import services
from aftersales.knowledge.diff import CHANGE, DELETE, EQUAL, INSERT, Segment, text_diff, version_diff

from .core_factories import published_article, reviewer, writer


def _rebuild(lines, keep):
    """The old (keep=DELETE) or new (keep=INSERT) text from the diff lines."""
    out = []
    for line in lines:
        if line.kind == EQUAL:
            out.append(line.text)
        elif line.kind == CHANGE:
            out.append("".join(s.text for s in line.segments if s.kind in (EQUAL, keep)))
        elif line.kind == keep:
            out.append(line.text)
    return "\n".join(out)


def test_unchanged_text_is_all_equal():
    lines = text_diff("a\nb", "a\nb")
    assert [line.kind for line in lines] == [EQUAL, EQUAL]
    assert [(line.old_number, line.new_number) for line in lines] == [(1, 1), (2, 2)]


def test_inserted_and_deleted_lines():
    lines = text_diff("one\ntwo\nthree", "one\nthree\nfour")
    assert [(line.kind, line.text) for line in lines] == [
        (EQUAL, "one"),
        (DELETE, "two"),
        (EQUAL, "three"),
        (INSERT, "four"),
    ]
    assert lines[1].old_number == 2 and lines[1].new_number is None
    assert lines[3].old_number is None and lines[3].new_number == 3


def test_an_edited_english_line_marks_only_the_changed_words():
    (line,) = text_diff("Open the cover and rinse the filter.", "Open the lid and rinse the filter.")
    assert line.kind == CHANGE
    assert line.segments == [
        Segment(EQUAL, "Open the "),
        Segment(DELETE, "cover"),
        Segment(INSERT, "lid"),
        Segment(EQUAL, " and rinse the filter."),
    ]


def test_an_edited_chinese_line_marks_only_the_changed_characters():
    (line,) = text_diff("先关闭进水阀，再更换滤芯。", "先关闭进水阀，再清洗滤芯。")
    assert line.kind == CHANGE
    assert line.segments == [
        Segment(EQUAL, "先关闭进水阀，再"),
        Segment(DELETE, "更换"),
        Segment(INSERT, "清洗"),
        Segment(EQUAL, "滤芯。"),
    ]


def test_a_rewritten_line_is_shown_as_deleted_and_inserted():
    lines = text_diff("完全不同的内容", "Something else entirely")
    assert [line.kind for line in lines] == [DELETE, INSERT]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(st.text(alphabet="ab 清洗滤芯。\t", max_size=12), max_size=6),
    st.lists(st.text(alphabet="ab 清洗滤芯。\t", max_size=12), max_size=6),
)
def test_the_diff_reproduces_both_texts(old_lines, new_lines):
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    lines = text_diff(old, new)
    assert _rebuild(lines, DELETE) == (old if old_lines else "")
    assert _rebuild(lines, INSERT) == (new if new_lines else "")


@pytest.mark.django_db
def test_version_diff_between_any_two_versions():
    author, approver = writer(), reviewer()
    article, v1 = published_article(
        actor=author, approver=approver, locale="zh-hans", title="清洗滤网", body="第一步\n第二步"
    )
    v2 = services.version_save_draft(
        actor=author, article=article, title="清洗滤网", body="第一步\n第二步（新）\n第三步"
    )
    fields = {field.name: field for field in version_diff(v1, v2)}
    assert not fields["title"].changed
    assert fields["body"].changed
    assert [line.kind for line in fields["body"].lines] == [EQUAL, CHANGE, INSERT]
    backwards = {field.name: field for field in version_diff(v2, v1)}
    assert [line.kind for line in backwards["body"].lines] == [EQUAL, CHANGE, DELETE]
