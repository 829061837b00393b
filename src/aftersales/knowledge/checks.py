"""Checks shared by the knowledge-base services: capabilities and text limits."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import PermissionDenied
from aftersales.core.models import User
from aftersales.core.text import text_problem

KEY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def require(actor: User | None, capability: str) -> User:
    if actor is None or not actor.can(capability):
        raise PermissionDenied()
    return actor


def check_text(errors: dict[str, str], field: str, value: str, *, max_length: int, required: bool) -> None:
    """Add a message for ``field`` to ``errors`` if ``value`` is missing, too long or has bad characters."""
    if required and not value.strip():
        errors[field] = str(_("This field is required."))
    elif len(value) > max_length:
        errors[field] = str(_("At most %(limit)s characters.") % {"limit": max_length})
    elif text_problem(value):
        errors[field] = str(_("The text contains characters that are not allowed."))
