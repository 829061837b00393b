from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftersales.core.calendar_services import statutory_year_import
from aftersales.core.errors import ValidationFailed
from aftersales.core.models import StatutoryDay


class Command(BaseCommand):
    help = (
        "Load a year's official holiday schedule (State Council notice) for business time. "
        "One day a line: '2027-01-01 holiday 元旦' or '2027-02-06 workday 春节调休'; '#' starts a "
        "comment. Replaces what was imported for that year before; a file with any bad line "
        "changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("file", help="the schedule file, or - for standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        year: int = options["year"]
        source: str = options["file"]
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {source}: {error}") from error
        try:
            statutory_year = statutory_year_import(year=year, text=text, actor=None)
        except ValidationFailed as error:
            problems = error.details.get("problems", [])
            lines = [f"line {problem['line']}: {problem['error']}" for problem in problems]
            raise CommandError("\n".join([str(error.message), *lines])) from error
        days = StatutoryDay.objects.filter(date__year=statutory_year.year)
        holidays = days.filter(is_holiday=True).count()
        workdays = days.filter(is_holiday=False).count()
        self.stdout.write(
            f"Imported {statutory_year.year}: {holidays} holidays, {workdays} adjusted working days."
        )
