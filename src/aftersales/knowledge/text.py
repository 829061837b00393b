"""Text helpers of knowledge-base search: Markdown to plain text and the domain synonyms.

The tokenizer itself (jieba for Chinese, Snowball stems for English, model numbers kept whole) is
``aftersales.core.segmentation``, shared with the ticket search; it is re-exported here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from aftersales.core.segmentation import (
    CHINESE_STOP_WORDS,
    ENGLISH_STOP_WORDS,
    PRODUCT_TERMS,
    Token,
    is_cjk_term,
    is_latin_term,
    is_model_span,
    normalize,
    segmenter,
    stem,
    token_spans,
    tokenize,
)

__all__ = [
    "CHINESE_STOP_WORDS",
    "ENGLISH_STOP_WORDS",
    "PRODUCT_TERMS",
    "SYNONYMS",
    "SynonymRule",
    "Token",
    "expand_synonyms",
    "is_cjk_term",
    "is_latin_term",
    "is_model_span",
    "markdown_to_text",
    "normalize",
    "segmenter",
    "stem",
    "synonym_rules",
    "token_spans",
    "tokenize",
]

SYNONYMS = Path(__file__).resolve().parent / "dictionary" / "synonyms.txt"

# --- Markdown to plain text (for the index and snippets) -----------------------------------------

_MD_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I), " "),
    (re.compile(r"```.*?```", re.S), " "),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"<[^>]{1,200}>"), " "),
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.M), ""),
    (re.compile(r"^\s{0,3}>\s?", re.M), ""),
    (re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.M), ""),
    (re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.M), ""),
    (re.compile(r"\|"), " "),
    (re.compile(r"(\*\*|__|\*|`|~~)"), ""),
    (re.compile(r"[ \t]+"), " "),
    (re.compile(r"\n{2,}"), "\n"),
)


def markdown_to_text(markdown: str) -> str:
    text = markdown or ""
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return text.strip()


# --- synonyms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynonymRule:
    source: frozenset[str]  # all of these terms in the query …
    targets: tuple[tuple[str, ...], ...]  # … add these phrases (each a tuple of terms)


@functools.lru_cache(maxsize=1)
def synonym_rules() -> tuple[SynonymRule, ...]:
    """Query expansions of the product domain, from ``dictionary/synonyms.txt``.

    ``a, b, c`` makes the phrases equivalent; ``a => b, c`` adds b and c when a is asked for (a
    colloquial phrase → the manual's words), not the other way round. A phrase applies when all of
    its terms are in the query.
    """
    rules: dict[frozenset[str], list[tuple[str, ...]]] = {}

    def add(source: str, targets: list[str]) -> None:
        keys = frozenset(tokenize(source))
        if not keys:
            return
        groups = rules.setdefault(keys, [])
        for target in targets:
            terms = tuple(dict.fromkeys(t for t in tokenize(target) if t not in keys))
            if terms and terms not in groups:
                groups.append(terms)

    if SYNONYMS.exists():
        for raw in SYNONYMS.read_text(encoding="utf-8").splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if "=>" in line:
                left, right = line.split("=>", 1)
                targets = [t.strip() for t in right.split(",") if t.strip()]
                for source in (s.strip() for s in left.split(",") if s.strip()):
                    add(source, targets)
            else:
                phrases = [p.strip() for p in line.split(",") if p.strip()]
                for phrase in phrases:
                    add(phrase, [other for other in phrases if other != phrase])
    return tuple(SynonymRule(source, tuple(groups)) for source, groups in rules.items() if groups)


def expand_synonyms(terms: list[str]) -> list[tuple[str, ...]]:
    """The phrases the synonym rules add to a query made of ``terms``."""
    present = set(terms)
    added: list[tuple[str, ...]] = []
    for rule in synonym_rules():
        if rule.source <= present:
            added.extend(group for group in rule.targets if group not in added)
    return added
