from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftersales.core.models import User
from aftersales.core.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user; the token is printed on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="a label for the token")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as exc:
            raise CommandError(f"no user named {options['username']!r}") from exc
        _token, raw = api_token_create(user=user, name=options["name"])
        self.stdout.write(f"API token for {user.username} (shown once, keep it secret):")
        self.stdout.write(raw)
