"""One error type for every rule that says no.

Each error has a stable ``code`` (for programs), a translatable ``message`` (for people) and
``details`` (for both). The API and the web map them to the JSON shape
``{"code", "message", "details"}`` and the HTTP ``status``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    code = "error"
    status = 400
    default_message: Any = _("The request could not be processed.")

    def __init__(
        self, message: Any = None, *, details: dict[str, Any] | None = None, code: str | None = None
    ):
        self.message = message if message is not None else self.default_message
        self.details = details or {}
        if code:
            self.code = code
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), "details": self.details}


class ValidationFailed(ApplicationError):
    code = "validation_error"
    status = 422
    default_message = _("Some fields are not valid.")


class BadRequest(ApplicationError):
    code = "bad_request"
    status = 400


class NotAuthenticated(ApplicationError):
    code = "not_authenticated"
    status = 401
    default_message = _("Sign in or send a valid API token.")


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = 403
    default_message = _("You are not allowed to do this.")


class NotFound(ApplicationError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class Conflict(ApplicationError):
    code = "conflict"
    status = 409
    default_message = _("The record was changed by someone else; reload and try again.")


class PayloadTooLarge(ApplicationError):
    code = "payload_too_large"
    status = 413
    default_message = _("The request is too large.")


class UnsupportedMediaType(ApplicationError):
    code = "unsupported_media_type"
    status = 415
    default_message = _("This type of file is not accepted.")
