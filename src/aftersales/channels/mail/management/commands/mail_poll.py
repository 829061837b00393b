"""``aftersales mail_poll [--mailbox NAME]``: read new mail from the IMAP mailboxes now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftersales.channels.mail.imap import mailbox_poll
from aftersales.channels.mail.models import Mailbox


class Command(BaseCommand):
    help = "Poll the active IMAP mailboxes (or one) and import new messages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", help="the name of one mailbox")
        parser.add_argument("--max-messages", type=int, default=None, help="stop after this many messages")

    def handle(self, *args: Any, **options: Any) -> None:
        mailboxes = Mailbox.objects.filter(is_active=True).exclude(host="").order_by("id")
        if options["mailbox"]:
            mailboxes = Mailbox.objects.filter(name=options["mailbox"])
            if not mailboxes.exists():
                raise CommandError(f"no mailbox named {options['mailbox']!r}")
        failed = False
        for mailbox in mailboxes:
            result = mailbox_poll(mailbox=mailbox, max_messages=options["max_messages"])
            if result.skipped:
                self.stdout.write(f"{mailbox.name}: another worker is polling it; skipped")
                continue
            self.stdout.write(
                f"{mailbox.name}: fetched {result.fetched}, imported {result.imported}, "
                f"duplicates {result.duplicates}, ignored {result.ignored}, quarantined {result.quarantined}"
                + (f", error: {result.error}" if result.error else "")
            )
            failed = failed or bool(result.error)
        if failed:
            raise CommandError("a mailbox could not be polled")
