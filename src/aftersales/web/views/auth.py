"""Signing in and out, the second step for staff with an authenticator app, and password reset.

An e-mail address is the username. Guessing is throttled in the authentication backend
(``core.login_throttle``), so the forms here only show its lockout message; the code step and the
reset requests are counted against the same limits.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from aftersales.channels.mail.conf import mail_from, public_url
from aftersales.core.client_address import client_address
from aftersales.core.login_throttle import (
    login_attempt_begin,
    login_attempt_failed,
    password_reset_completed,
    password_reset_request_check,
)
from aftersales.core.models import User
from aftersales.core.two_factor import totp_code_accept, two_factor_enabled

from ..forms import LoginCodeForm, LoginForm, ResetRequestForm

PENDING_SESSION_KEY = "login_pending"
# The code must follow the password within this time, or the password is asked again.
PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not two_factor_enabled(user):
            return super().form_valid(form)
        # The password was right; the session is not signed in until the code is right too.
        self.request.session[PENDING_SESSION_KEY] = {
            "user_id": user.pk,
            "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
            "since": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("web:login-code")


def _pending_user(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict) or time.time() - float(pending.get("since", 0)) > PENDING_SECONDS:
        return None
    user_id = pending.get("user_id")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return (user, pending) if user is not None else None


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: the current code of the user's authenticator app."""
    found = _pending_user(request)
    if found is None:
        request.session.pop(PENDING_SESSION_KEY, None)
        messages.info(request, _("Sign in again: the time to enter the code ran out."))
        return redirect("web:login")
    user, pending = found
    form = LoginCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = client_address(request)
        attempt = login_attempt_begin(username=user.get_username(), address=address)
        lockout = attempt.lockout
        if lockout is None and totp_code_accept(user=user, code=form.cleaned_data["code"]):
            request.session.pop(PENDING_SESSION_KEY, None)
            login(request, user, backend=pending.get("backend") or settings.AUTHENTICATION_BACKENDS[0])
            target = str(pending.get("next") or "")
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
                target = reverse(settings.LOGIN_REDIRECT_URL)
            return HttpResponseRedirect(target)
        if lockout is None:
            lockout = login_attempt_failed(username=user.get_username(), address=address, attempt=attempt)
        if lockout is not None:
            # Locked: the password is asked again once the lockout ends.
            request.session.pop(PENDING_SESSION_KEY, None)
            form.add_error(None, lockout.message())
        else:
            form.add_error("code", _("That code is not right or has been used already."))
    return render(
        request,
        "web/login_code.html",
        {"form": form, "is_locked_out": PENDING_SESSION_KEY not in request.session},
    )


class LogoutView(auth_views.LogoutView):
    pass


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by e-mail; the same answer whether or not the address has an account."""

    template_name = "web/password_reset_form.html"
    email_template_name = "web/password_reset_email.txt"
    subject_template_name = "web/password_reset_subject.txt"
    form_class = ResetRequestForm
    success_url = reverse_lazy("web:password-reset-sent")

    def form_valid(self, form: Any) -> HttpResponse:
        lockout = password_reset_request_check(
            email=form.cleaned_data["email"], address=client_address(self.request)
        )
        if lockout is not None:
            form.add_error(None, lockout.message())
            return self.form_invalid(form)
        # The link points at the public address of the service, not at whatever Host the
        # request named; the mail leaves with the service's own sender.
        self.from_email = mail_from()
        self.extra_email_context = {"base_url": public_url()}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "web/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/password_reset_confirm.html"
    success_url = reverse_lazy("web:password-reset-complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        password_reset_completed(user=form.user, address=client_address(self.request))
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/password_reset_complete.html"
