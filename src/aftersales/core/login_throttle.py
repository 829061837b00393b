"""Password guessing: failed sign-ins are counted per account and per client address.

The counting happens in the one authentication backend (``ThrottledModelBackend``), so every
door that checks a password — the console and portal sign-in, the Django admin, a test client —
is covered, and a locked account or address is refused *before* its password is checked: a
guesser learns nothing from attempts made during a lockout. An account's attempts are counted
before the check, so even parallel guesses get at most the limit checked. A lockout lasts until the end of
the rate-limit window in which it began (``AFTERSALES_LOGIN_WINDOW_SECONDS``); a complete sign-in
(after the second step, where there is one) clears the account's count, never the address's.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import ngettext

from .client_address import UNKNOWN, client_address
from .models import AuditEvent, User
from .rate_limit import RateDecision, RateLimit, rate_limit_hit, rate_limit_peek, rate_limit_reset, window_end
from .services import audit_record

logger = logging.getLogger("aftersales.security")

REQUEST_ATTRIBUTE = "login_lockout"


def account_rule() -> RateLimit:
    return RateLimit(
        scope="login-account",
        limit=int(settings.AFTERSALES_LOGIN_FAILURES_PER_ACCOUNT),
        window_seconds=int(settings.AFTERSALES_LOGIN_WINDOW_SECONDS),
    )


def address_rule() -> RateLimit:
    return RateLimit(
        scope="login-address",
        limit=int(settings.AFTERSALES_LOGIN_FAILURES_PER_ADDRESS),
        window_seconds=int(settings.AFTERSALES_LOGIN_WINDOW_SECONDS),
    )


def account_key(username: str) -> str:
    # Case and spaces do not make a new account to guess at: the e-mail address is the username.
    return username.strip().casefold()


@dataclass(frozen=True)
class LoginLockout:
    """Signing in is paused for an account or an address until ``until``."""

    reason: str  # "account" or "address"
    until: dt.datetime
    is_password_reset: bool = False

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int((self.until - timezone.now()).total_seconds() + 0.999))

    def message(self) -> str:
        local_until = timezone.localtime(self.until)
        if local_until.date() == timezone.localdate():
            when = formats.time_format(local_until, "H:i")
        else:
            when = formats.date_format(local_until, "Y-m-d H:i")
        minutes = max(1, (self.retry_after_seconds + 59) // 60)
        if self.is_password_reset:
            return ngettext(
                "Too many password reset requests. Try again after %(time)s (in about %(minutes)d minute).",
                "Too many password reset requests. Try again after %(time)s (in about %(minutes)d minutes).",
                minutes,
            ) % {"time": when, "minutes": minutes}
        return ngettext(
            "Too many failed sign-in attempts. For your security, signing in is paused: "
            "try again after %(time)s (in about %(minutes)d minute).",
            "Too many failed sign-in attempts. For your security, signing in is paused: "
            "try again after %(time)s (in about %(minutes)d minutes).",
            minutes,
        ) % {"time": when, "minutes": minutes}


def _lockout(reason: str, decision: RateDecision, *, is_password_reset: bool = False) -> LoginLockout:
    return LoginLockout(
        reason=reason,
        until=dt.datetime.fromtimestamp(decision.resets_at, tz=dt.UTC),
        is_password_reset=is_password_reset,
    )


@dataclass(frozen=True)
class LoginAttempt:
    """One sign-in attempt, counted for its account before the password or code is checked."""

    count: int  # this attempt's number for the account in the current window
    lockout: LoginLockout | None  # set when the attempt is refused without checking anything


def login_attempt_begin(*, username: str, address: str | None) -> LoginAttempt:
    """Count an attempt for the account first, atomically, then decide: parallel guesses cannot
    all slip through before their failures are counted — at most the limit are ever checked.

    An address is locked by its failures (successful sign-ins from a shared office address do
    not count), so it is only read here."""
    if address and address != UNKNOWN:
        by_address = rate_limit_peek(address_rule(), address)
        if by_address.limit and by_address.count >= by_address.limit:
            return LoginAttempt(count=0, lockout=_lockout("address", by_address))
    account = rate_limit_hit(account_rule(), account_key(username))
    if account.limit and account.count > account.limit:
        return LoginAttempt(count=account.count, lockout=_lockout("account", account))
    return LoginAttempt(count=account.count, lockout=None)


@transaction.atomic
def _audit_lockout(*, reason: str, username: str, address: str | None, until: dt.datetime) -> None:
    user = get_user_model()._default_manager.filter(username__iexact=username.strip()).first()
    if reason == "account" and user is not None:
        object_type, object_id, label = "core.user", str(user.pk), str(user)[:200]
    else:
        object_type, object_id, label = "core.client_address", address or UNKNOWN, address or UNKNOWN
    AuditEvent.objects.create(
        occurred_at=timezone.now(),
        actor=None,
        action="login.locked",
        object_type=object_type,
        object_id=object_id,
        object_label=label,
        after={"reason": reason, "username": username[:150], "address": address, "until": until.isoformat()},
    )


def login_attempt_failed(*, username: str, address: str | None, attempt: LoginAttempt) -> LoginLockout | None:
    """A wrong password or code after ``login_attempt_begin``: count it for the address; the
    lockout that begins with it, if any, which is logged and audited once."""
    rule = account_rule()
    account = RateDecision(count=attempt.count, limit=rule.limit, resets_at=window_end(rule))
    by_address = None
    if address and address != UNKNOWN:
        by_address = rate_limit_hit(address_rule(), address)
    lockout: LoginLockout | None = None
    for reason, decision in (("account", account), ("address", by_address)):
        if decision is None or not decision.limit or decision.count < decision.limit:
            continue
        found = _lockout(reason, decision)
        if decision.count == decision.limit:
            logger.warning(
                "sign-in locked by %s: username=%r address=%s failures=%d until=%s",
                reason,
                username[:150],
                address,
                decision.count,
                found.until.isoformat(),
            )
            _audit_lockout(reason=reason, username=username, address=address, until=found.until)
        lockout = lockout or found
    return lockout


def login_success_clear(*, username: str) -> None:
    rate_limit_reset(account_rule(), account_key(username))


def reset_rule(scope: str) -> RateLimit:
    return RateLimit(
        scope=f"password-reset-{scope}",
        limit=int(settings.AFTERSALES_PASSWORD_RESETS_PER_HOUR),
        window_seconds=3600,
    )


def password_reset_request_check(*, email: str, address: str | None) -> LoginLockout | None:
    """Count one password-reset request per address and per e-mail address asked for.

    Counted whether or not the address has an account, so the limit tells nothing about which
    addresses exist; it stops mail-bombing a customer and probing from one address."""
    for reason, key in (("account", account_key(email)), ("address", address)):
        if not key or key == UNKNOWN:
            continue
        decision = rate_limit_hit(reset_rule(reason), key)
        if not decision.is_allowed:
            if decision.count == decision.limit + 1:
                logger.warning(
                    "password reset requests limited by %s: email=%r address=%s", reason, email[:150], address
                )
            return _lockout(reason, decision, is_password_reset=True)
    return None


@transaction.atomic
def password_reset_completed(*, user: User, address: str | None) -> None:
    """After a new password was set from an e-mailed link: audit it and lift the account's lockout
    (whoever reads the mailbox may sign in again at once)."""
    audit_record(actor=user, obj=user, action="password.reset", after={"address": address})
    login_success_clear(username=user.get_username())


def _refuse(request: HttpRequest | None, lockout: LoginLockout, username: str, address: str | None) -> None:
    if request is not None:
        setattr(request, REQUEST_ATTRIBUTE, lockout)
    logger.info(
        "sign-in refused while locked (%s): username=%r address=%s", lockout.reason, username[:150], address
    )
    raise PermissionDenied(lockout.message())


class ThrottledModelBackend(ModelBackend):
    """Django's username-and-password backend behind the lockout check (the only backend)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        username = str(username)
        address = client_address(request) if request is not None else None
        attempt = login_attempt_begin(username=username, address=address)
        if attempt.lockout is not None:
            _refuse(request, attempt.lockout, username, address)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            lockout = login_attempt_failed(username=username, address=address, attempt=attempt)
            if lockout is not None and request is not None:
                setattr(request, REQUEST_ATTRIBUTE, lockout)
        return user


def lockout_error(request: HttpRequest | None) -> DjangoValidationError | None:
    """The form error for a sign-in refused because of a lockout, for the forms to show."""
    lockout: LoginLockout | None = getattr(request, REQUEST_ATTRIBUTE, None)
    if lockout is None:
        return None
    return DjangoValidationError(lockout.message(), code="locked")


class LockoutMessageMixin:
    """For ``AuthenticationForm`` subclasses: say "locked until …" instead of "wrong password"."""

    request: HttpRequest | None

    def get_invalid_login_error(self) -> DjangoValidationError:
        return lockout_error(self.request) or super().get_invalid_login_error()  # type: ignore[misc]


@receiver(user_logged_in, dispatch_uid="core.login_success_clear")
def _clear_on_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    login_success_clear(username=user.get_username())
