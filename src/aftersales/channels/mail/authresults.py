"""Sender authentication as our receiving server saw it: SPF, DKIM and DMARC (RFC 8601).

Only an ``Authentication-Results`` header whose authserv-id is one of ours counts: anybody can
write such a header into a message, but our receiving server adds its own on top (and should
remove forged ones carrying its id). Pure functions; the policy (``conf.auth_policy()``) is applied
by the intake.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

METHODS = ("spf", "dkim", "dmarc")
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)(?:/\d+)?\s*=\s*([a-z_-]+)", re.I)


class Verdict:
    PASS = "pass"  # noqa: S105 - a verdict, not a password. DMARC passed, or SPF or DKIM passed and nothing failed
    FAIL = "fail"  # DMARC failed, or SPF failed without a passing DKIM signature
    NONE = "none"  # our server reported nothing conclusive (none, neutral, softfail, temperror…)
    UNCHECKED = "unchecked"  # no authserv-id configured, or no header of ours on the message


@dataclass(frozen=True)
class AuthResults:
    spf: str = ""
    dkim: str = ""
    dmarc: str = ""
    found: bool = False

    @property
    def verdict(self) -> str:
        if not self.found:
            return Verdict.UNCHECKED
        if self.dmarc == "pass":
            return Verdict.PASS
        if self.dmarc == "fail":
            return Verdict.FAIL
        if self.spf == "fail" and self.dkim != "pass":
            return Verdict.FAIL
        if "pass" in (self.spf, self.dkim) and "fail" not in (self.spf, self.dkim):
            return Verdict.PASS
        return Verdict.NONE


def _authserv_id(segment: str) -> str:
    words = segment.strip().split()
    return words[0].lower() if words else ""


def _best(values: list[str]) -> str:
    # Several DKIM signatures: one passing signature is enough.
    return "pass" if "pass" in values else (values[0] if values else "none")


def parse_authentication_results(headers: Iterable[str], authserv_ids: Iterable[str]) -> AuthResults:
    """The results in the topmost ``Authentication-Results`` header written by one of ``authserv_ids``."""
    ours = {value.strip().lower() for value in authserv_ids if value.strip()}
    if not ours:
        return AuthResults()
    for header in headers:
        text = _COMMENT.sub(" ", " ".join(header.split()))
        segments = text.split(";")
        if _authserv_id(segments[0]) not in ours:
            continue
        results: dict[str, list[str]] = {}
        for segment in segments[1:]:
            match = _RESULT.match(segment)
            if match and match.group(1).lower() in METHODS:
                results.setdefault(match.group(1).lower(), []).append(match.group(2).lower())
        return AuthResults(
            spf=_best(results.get("spf", [])),
            dkim=_best(results.get("dkim", [])),
            dmarc=_best(results.get("dmarc", [])),
            found=True,
        )
    return AuthResults()
