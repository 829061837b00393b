"""Two-step sign-in for staff: enrol an authenticator app, check its codes, reset it.

Optional per user. Once confirmed, the console sign-in asks for a code after the password, and
the Django admin's own form refuses the account (it has no second step; sign in on the console,
then open the admin). An administrator resets a lost device from the admin.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import totp
from .errors import Conflict, PermissionDenied, ValidationFailed
from .models import TotpDevice, User
from .services import audit_record

ISSUER = "aftersales"


class InvalidCode(ValidationFailed):
    code = "invalid_code"
    default_message = _(
        "That code is not right or has been used already. Enter the current code from your app."
    )


def two_factor_allowed(user: User) -> bool:
    """Staff may enrol; customers sign in with a password (and can reset it by e-mail)."""
    return bool(user.is_active and (user.is_staff_member or user.is_staff or user.is_superuser))


def two_factor_enabled(user: User) -> bool:
    return TotpDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).exists()


def totp_pending_device(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=True).first()


def totp_uri(device: TotpDevice) -> str:
    return totp.provisioning_uri(secret=device.secret, account=device.user.get_username(), issuer=ISSUER)


@transaction.atomic
def totp_enrolment_start(*, user: User) -> TotpDevice:
    """A secret for the user to add to an app; the same one until it is confirmed."""
    if not two_factor_allowed(user):
        raise PermissionDenied()
    device, created = TotpDevice.objects.select_for_update().get_or_create(
        user=user, defaults={"secret": totp.new_secret()}
    )
    if device.is_confirmed:
        raise Conflict(_("Two-step verification is on already."), code="two_factor_enabled")
    if created:
        audit_record(actor=user, obj=device, action="two_factor.enrolment_start")
    return device


@transaction.atomic
def totp_enrolment_confirm(*, user: User, code: str) -> TotpDevice:
    """Turn two-step verification on once the app shows a right code."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None or device.is_confirmed:
        raise Conflict(_("Start setting up two-step verification again."), code="two_factor_no_enrolment")
    step = totp.matching_step(device.secret, code)
    if step is None:
        raise InvalidCode()
    device.confirmed_at = timezone.now()
    device.last_used_step = step
    device.save(update_fields=["confirmed_at", "last_used_step"])
    audit_record(
        actor=user, obj=device, action="two_factor.enable", after={"confirmed_at": device.confirmed_at}
    )
    return device


def totp_code_accept(*, user: User, code: str) -> bool:
    """True when ``code`` is the user's current code and was not used before (compare-and-set,
    so two processes cannot both accept one code)."""
    device = TotpDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).first()
    if device is None:
        return False
    step = totp.matching_step(device.secret, code)
    if step is None:
        return False
    return TotpDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step) == 1


@transaction.atomic
def totp_disable(*, user: User, code: str) -> None:
    """The user turns two-step verification off, proving it with a current code."""
    if not totp_code_accept(user=user, code=code):
        raise InvalidCode()
    totp_reset(user=user, actor=user)


@transaction.atomic
def totp_reset(*, user: User, actor: User | None) -> bool:
    """Remove the user's device (an administrator's reset for a lost phone); False if none."""
    device = TotpDevice.objects.select_for_update().filter(user_id=user.pk).first()
    if device is None:
        return False
    audit_record(
        actor=actor,
        obj=user,
        action="two_factor.reset",
        before={"confirmed_at": device.confirmed_at},
        after={"confirmed_at": None},
    )
    device.delete()
    return True
