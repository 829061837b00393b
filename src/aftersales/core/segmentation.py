"""Tokenisation for full-text search: jieba for Chinese, Snowball stems for English.

One tokenizer serves every index (knowledge-base articles, tickets) and their queries, so both
sides always agree on what a term is. It lives in ``core`` so that the ticket search (below the
knowledge base in the layers) cuts text exactly as the knowledge base does:

* Chinese runs are cut with jieba in search mode (a long word also yields its shorter words:
  ``智能马桶`` → ``智能``, ``马桶``, ``智能马桶``), with a user dictionary of product terms
  (``core/dictionary/product_terms.txt``), so ``恒温阀`` or ``陶瓷阀芯`` stay one word.
* Latin words are lower-cased, stop words dropped and the rest stemmed with the Snowball English
  stemmer (``installing`` / ``installation`` → ``instal``).
* Model numbers stay whole: ``LQ-HS-880`` → ``lqhs880`` (and ``hs880``, ``lq``, ``hs``, ``880``),
  so a customer typing ``HS880``, ``hs-880`` or just ``880`` still finds it. Terms never contain a
  hyphen, so SQLite's ``unicode61`` tokenizer and PostgreSQL's ``simple`` parser both take our
  space-separated terms exactly as they are.

Full-width characters are folded one by one (NFKC per character), so offsets in the original text
stay valid for highlighting.
"""

from __future__ import annotations

import functools
import logging
import re
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import snowballstemmer

if TYPE_CHECKING:
    import jieba

DICTIONARY_DIR = Path(__file__).resolve().parent / "dictionary"
PRODUCT_TERMS = DICTIONARY_DIR / "product_terms.txt"

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+(?:[-_./][^\W_{_CJK}]+)*)")
_SEPARATORS = re.compile(r"[-_./]")
_HAS_DIGIT = re.compile(r"\d")
_LATIN = re.compile(r"^[a-z]+$")


def _word_list(path: Path) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


ENGLISH_STOP_WORDS = _word_list(DICTIONARY_DIR / "stopwords_en.txt")
CHINESE_STOP_WORDS = _word_list(DICTIONARY_DIR / "stopwords_zh.txt")


class Token(NamedTuple):
    term: str  # what the index stores
    surface: str  # the word as written (lower-cased), for "did you mean" and display
    start: int  # offsets into the original text, for highlighting
    end: int


_STEMMER_LOCK = threading.Lock()
_stemmer = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    with _STEMMER_LOCK:  # the Snowball stemmer object keeps state between calls
        return str(_stemmer.stemWord(word))


# --- jieba, loaded once and lazily -------------------------------------------------------------

_jieba_lock = threading.Lock()
_jieba: jieba.Tokenizer | None = None


def _cache_dir() -> Path:
    try:
        from django.conf import settings

        directory = Path(settings.DATA_DIR) / "cache"
    except Exception:  # noqa: BLE001 - outside Django (a script): the system's temporary directory
        directory = Path(tempfile.gettempdir())
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        directory = Path(tempfile.gettempdir())
    return directory


def segmenter() -> jieba.Tokenizer:
    """The jieba tokenizer with the product dictionary; built on first use, then shared.

    jieba ships its dictionary inside the package (nothing is downloaded); the prefix dictionary it
    builds from it is cached as a file in the data directory, so later start-ups load in ~0.3 s.
    """
    global _jieba
    if _jieba is not None:
        return _jieba
    with _jieba_lock:
        if _jieba is None:
            import jieba as jieba_module

            jieba_module.setLogLevel(logging.WARNING)
            tokenizer = jieba_module.Tokenizer()
            tokenizer.tmp_dir = str(_cache_dir())
            tokenizer.cache_file = "jieba-aftersales.cache"
            tokenizer.initialize()
            tokenizer.load_userdict(str(PRODUCT_TERMS))
            _jieba = tokenizer
    return _jieba


# --- normalisation -----------------------------------------------------------------------------


def _fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 else char


def normalize(text: str) -> str:
    """Full-width → half-width, compatibility forms folded, character by character (same length)."""
    if text.isascii():
        return text
    return "".join(_fold_char(char) for char in text)


def _model_terms(word: str) -> list[str]:
    """``lq-hs-880`` → ``lqhs880``, ``hs880``, ``880``, ``lq``, ``hs`` (whole first)."""
    parts = [part for part in _SEPARATORS.split(word) if part]
    terms = ["".join(parts[index:]) for index in range(len(parts))]
    terms += parts
    seen: dict[str, None] = {}
    for term in terms:
        if term and (len(term) > 1 or term.isdigit()):
            seen.setdefault(term, None)
    return list(seen)


def _word_tokens(word: str, start: int, end: int) -> list[Token]:
    lowered = word.lower()
    if _HAS_DIGIT.search(lowered):
        return [Token(term, lowered, start, end) for term in _model_terms(lowered)]
    tokens = []
    for part in _SEPARATORS.split(lowered):
        if len(part) < 2 or part in ENGLISH_STOP_WORDS:
            continue
        tokens.append(Token(stem(part) if _LATIN.match(part) else part, part, start, end))
    return tokens


def token_spans(text: str) -> list[Token]:
    """Every term of ``text`` with where it stands (offsets into ``text`` itself)."""
    if not text:
        return []
    normalized = normalize(text)
    tokens: list[Token] = []
    cutter = None
    for match in _TOKEN_RE.finditer(normalized):
        if match.group("cjk") is not None:
            cutter = cutter or segmenter()
            base = match.start()
            for word, word_start, word_end in cutter.tokenize(match.group("cjk"), mode="search"):
                if word in CHINESE_STOP_WORDS:
                    continue
                tokens.append(Token(word, word, base + word_start, base + word_end))
        else:
            tokens.extend(_word_tokens(match.group("word"), match.start(), match.end()))
    return tokens


def tokenize(text: str, locale: str | None = None) -> list[str]:
    """The index terms of ``text``: jieba words for Chinese, Snowball stems for English.

    ``locale`` is accepted for symmetry with the search API; mixed text (a Chinese question with a
    model number, an English one with a Chinese product name) is cut by script, not by locale.
    """
    del locale
    return [token.term for token in token_spans(text)]


def is_model_span(surface: str) -> bool:
    """Whether a word is a model number / code (letters with digits), which yields several terms."""
    return bool(_HAS_DIGIT.search(surface))


def is_latin_term(term: str) -> bool:
    return bool(_LATIN.match(term))


def is_cjk_term(term: str) -> bool:
    return bool(term) and all("\u3400" <= char <= "\ufaff" for char in term)
