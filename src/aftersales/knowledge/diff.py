"""What changed between two versions of an article: title, summary and body.

Lines are compared first; inside a changed line the words are compared, and Chinese (which has
no spaces) character by character, so "更换滤芯" → "清洗滤芯" marks only 更换/清洗. The result is
plain data for a template: fields → lines → segments of equal / insert / delete text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .models import ArticleVersion

EQUAL, INSERT, DELETE, CHANGE = "equal", "insert", "delete", "change"

# A token is a run of Latin letters/digits, a run of spaces, or any other single character
# (each Han character, each punctuation mark).
_TOKEN_RE = re.compile(r"[A-Za-z0-9_\u00C0-\u024F]+|\s+|.", re.DOTALL)
# Below this similarity two paired lines are shown as one deleted and one inserted line.
_INLINE_MIN_RATIO = 0.35


@dataclass(frozen=True)
class Segment:
    kind: str  # equal | insert | delete
    text: str


@dataclass(frozen=True)
class DiffLine:
    kind: str  # equal | insert | delete | change (one line edited: segments mix all three)
    old_number: int | None
    new_number: int | None
    segments: list[Segment]

    @property
    def text(self) -> str:
        return "".join(segment.text for segment in self.segments)


@dataclass(frozen=True)
class FieldDiff:
    name: str  # title | summary | body
    label: str
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(line.kind != EQUAL for line in self.lines)

    @property
    def insertions(self) -> int:
        return sum(1 for line in self.lines if line.kind in (INSERT, CHANGE))

    @property
    def deletions(self) -> int:
        return sum(1 for line in self.lines if line.kind in (DELETE, CHANGE))


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def _merge(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for segment in segments:
        if not segment.text:
            continue
        if merged and merged[-1].kind == segment.kind:
            merged[-1] = Segment(segment.kind, merged[-1].text + segment.text)
        else:
            merged.append(segment)
    return merged


def inline_diff(old: str, new: str) -> tuple[list[Segment], float]:
    """Segments turning ``old`` into ``new`` token by token, and how similar the two are (0..1)."""
    old_tokens, new_tokens = tokens(old), tokens(new)
    matcher = SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(Segment(EQUAL, "".join(old_tokens[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            segments.append(Segment(DELETE, "".join(old_tokens[i1:i2])))
        if tag in ("insert", "replace"):
            segments.append(Segment(INSERT, "".join(new_tokens[j1:j2])))
    return _merge(segments), matcher.ratio()


def text_diff(old: str, new: str) -> list[DiffLine]:
    """A line diff of two texts, with word/character segments inside each edited line."""
    old_lines = old.replace("\r\n", "\n").split("\n") if old else []
    new_lines = new.replace("\r\n", "\n").split("\n") if new else []
    matcher = SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    lines: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                text = old_lines[i1 + offset]
                lines.append(DiffLine(EQUAL, i1 + offset + 1, j1 + offset + 1, [Segment(EQUAL, text)]))
            continue
        if tag == "replace":
            # Pair the edited lines in order; what is left over was deleted or inserted.
            pairs = min(i2 - i1, j2 - j1)
            for offset in range(pairs):
                old_text, new_text = old_lines[i1 + offset], new_lines[j1 + offset]
                segments, ratio = inline_diff(old_text, new_text)
                if ratio >= _INLINE_MIN_RATIO:
                    lines.append(DiffLine(CHANGE, i1 + offset + 1, j1 + offset + 1, segments))
                else:
                    lines.append(DiffLine(DELETE, i1 + offset + 1, None, [Segment(DELETE, old_text)]))
                    lines.append(DiffLine(INSERT, None, j1 + offset + 1, [Segment(INSERT, new_text)]))
            i1, j1 = i1 + pairs, j1 + pairs
        lines.extend(
            DiffLine(DELETE, index + 1, None, [Segment(DELETE, old_lines[index])]) for index in range(i1, i2)
        )
        lines.extend(
            DiffLine(INSERT, None, index + 1, [Segment(INSERT, new_lines[index])]) for index in range(j1, j2)
        )
    return lines


def version_diff(a: ArticleVersion, b: ArticleVersion) -> list[FieldDiff]:
    """What changed from version ``a`` to version ``b`` (any two versions, in either order)."""
    return [
        FieldDiff("title", str(_("Title")), text_diff(a.title, b.title)),
        FieldDiff("summary", str(_("Summary")), text_diff(a.summary, b.summary)),
        FieldDiff("body", str(_("Body")), text_diff(a.body, b.body)),
    ]
