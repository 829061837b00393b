"""A staff member's own sign-in security: two-step verification with an authenticator app."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from aftersales.core.errors import ApplicationError
from aftersales.core.models import TotpDevice
from aftersales.core.two_factor import (
    totp_disable,
    totp_enrolment_confirm,
    totp_enrolment_start,
    totp_pending_device,
    totp_uri,
)

from ..forms import LoginCodeForm
from .common import current_user, report_error, staff_required


def _grouped(secret: str) -> str:
    """ABCD EFGH …: easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@sensitive_post_parameters("code")
@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def two_step(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = LoginCodeForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "start":
                totp_enrolment_start(user=user)
                return redirect("web:account-two-step")
            form = LoginCodeForm(request.POST)
            if form.is_valid() and action == "confirm":
                totp_enrolment_confirm(user=user, code=form.cleaned_data["code"])
                messages.success(request, _("Two-step verification is on. Sign-ins now ask for a code."))
                return redirect("web:account-two-step")
            if form.is_valid() and action == "disable":
                totp_disable(user=user, code=form.cleaned_data["code"])
                messages.success(request, _("Two-step verification is off."))
                return redirect("web:account-two-step")
        except ApplicationError as error:
            report_error(request, error)
            form = LoginCodeForm()
    device = TotpDevice.objects.filter(user=user).first()
    pending = totp_pending_device(user)
    return render(
        request,
        "web/console/two_step.html",
        {
            "nav": "account",
            "form": form,
            "device": device,
            "pending": pending,
            "secret": _grouped(pending.secret) if pending else "",
            "otpauth_uri": totp_uri(pending) if pending else "",
        },
    )
