"""Building blocks shared by the routers' schemas.

In ``core`` (not ``api``) because every domain app's ``api.py`` builds on them, and a domain app
may import only from layers below it (docs/architecture.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, StringConstraints

from aftersales.core.text import clean_text


def Text(max_length: int, min_length: int = 0) -> type[str]:  # noqa: N802 - used like a type
    """A string that fits the database: bounded, and free of NUL, control bytes and lone surrogates."""
    return Annotated[  # type: ignore[return-value]
        str, StringConstraints(max_length=max_length, min_length=min_length), AfterValidator(clean_text)
    ]


class StrictSchema(Schema):
    """Input schema: an unknown field is an error, not something silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    code: str
    message: str
    details: dict | list | None = None


# Every error an endpoint may answer, documented in the OpenAPI document with one shape.
ERROR_RESPONSES: dict[int, Any] = dict.fromkeys((400, 401, 403, 404, 409, 413, 415, 422, 429), ErrorOut)


class RefOut(Schema):
    id: int
    code: str
    name: str


class UserRefOut(Schema):
    id: int
    username: str
    name: str
