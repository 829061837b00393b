"""Building blocks shared by the routers' schemas.

In ``core`` (not ``api``) because every domain app's ``api.py`` builds on them, and a domain app
may import only from layers below it (docs/architecture.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, StringConstraints

from aftersales.core.text import clean_text

# A string that fits the database: at most n characters, and free of NUL, control bytes and lone
# surrogates. Written out as type aliases (not built by a function) so type checkers see a `str`.
# `TextN` may be empty; `NonEmptyTextN` needs at least one character.
_CLEAN = AfterValidator(clean_text)

Text32 = Annotated[str, StringConstraints(max_length=32), _CLEAN]
Text40 = Annotated[str, StringConstraints(max_length=40), _CLEAN]
Text60 = Annotated[str, StringConstraints(max_length=60), _CLEAN]
Text64 = Annotated[str, StringConstraints(max_length=64), _CLEAN]
Text80 = Annotated[str, StringConstraints(max_length=80), _CLEAN]
Text100 = Annotated[str, StringConstraints(max_length=100), _CLEAN]
Text120 = Annotated[str, StringConstraints(max_length=120), _CLEAN]
Text200 = Annotated[str, StringConstraints(max_length=200), _CLEAN]
Text254 = Annotated[str, StringConstraints(max_length=254), _CLEAN]
Text500 = Annotated[str, StringConstraints(max_length=500), _CLEAN]
Text2000 = Annotated[str, StringConstraints(max_length=2_000), _CLEAN]
Text5000 = Annotated[str, StringConstraints(max_length=5_000), _CLEAN]
Text20000 = Annotated[str, StringConstraints(max_length=20_000), _CLEAN]
Text200000 = Annotated[str, StringConstraints(max_length=200_000), _CLEAN]
NonEmptyText20 = Annotated[str, StringConstraints(max_length=20, min_length=1), _CLEAN]
NonEmptyText40 = Annotated[str, StringConstraints(max_length=40, min_length=1), _CLEAN]
NonEmptyText64 = Annotated[str, StringConstraints(max_length=64, min_length=1), _CLEAN]
NonEmptyText100 = Annotated[str, StringConstraints(max_length=100, min_length=1), _CLEAN]
NonEmptyText120 = Annotated[str, StringConstraints(max_length=120, min_length=1), _CLEAN]
NonEmptyText200 = Annotated[str, StringConstraints(max_length=200, min_length=1), _CLEAN]
NonEmptyText2000 = Annotated[str, StringConstraints(max_length=2_000, min_length=1), _CLEAN]
NonEmptyText20000 = Annotated[str, StringConstraints(max_length=20_000, min_length=1), _CLEAN]


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
