"""Second sign-in factor of staff accounts (imported by ``core.models``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TotpDevice(models.Model):
    """An authenticator app enrolled by a staff user: the shared secret of RFC 6238 codes.

    The secret must be readable to compute codes, so it is stored as is (like a password reset
    token, it is only as safe as the database); an administrator can remove it to reset."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="totp_device"
    )
    secret = models.CharField(_("secret"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    # The time step of the last code accepted: a code is good once, so one seen over a shoulder
    # or replayed from a log cannot sign in again.
    last_used_step = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("two-step verification")
        verbose_name_plural = _("two-step verifications")

    def __str__(self) -> str:
        return f"{self.user} ({'on' if self.confirmed_at else 'pending'})"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None
