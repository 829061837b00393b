"""Django's e-mail (password-reset links) sent the way the mail channel sends notifications.

``EMAIL_BACKEND`` points here, so account mail needs no separate SMTP set-up: it leaves through
``AFTERSALES_SMTP_URL`` when one is configured, and is otherwise written to the outbox folder
as ``.eml`` files like every other message of the embedded default.
"""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage as DjangoEmailMessage

from . import conf
from .services.outbound import deliver


class OutboundMailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[DjangoEmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            recipients = message.recipients()
            if not recipients:
                continue
            parsed = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            parsed["X-Loop"] = conf.loop_token()  # our own mail, never imported back as a ticket
            sender = message.from_email or conf.mail_from()
            try:
                for recipient in recipients:
                    deliver(
                        parsed, from_address=sender, to_address=recipient, name=f"account-{uuid.uuid4().hex}"
                    )
            except Exception:
                if not self.fail_silently:
                    raise
                continue
            sent += 1
        return sent

    def open(self) -> Any:
        return None

    def close(self) -> None:
        return None
