"""The current ticket list as a file: CSV (UTF-8 with a BOM, so Excel reads Chinese) or XLSX.

Both are bounded (``MAX_EXPORT_ROWS``) and read the tickets in chunks; the CSV is streamed as it
is written, the XLSX is written row by row (openpyxl's write-only mode) into a spooled file.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.tickets.models import Ticket

MAX_EXPORT_ROWS = 10_000
CHUNK = 500
# A cell Excel would run as a formula (CSV injection) is written as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_headers() -> list[str]:
    return [
        _("Number"),
        _("Subject"),
        _("Customer"),
        _("Status"),
        _("Priority"),
        _("Type"),
        _("Channel"),
        _("Team"),
        _("Assignee"),
        _("Tags"),
        _("Created"),
        _("Updated"),
    ]


def _text(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value is not None else None


def export_rows(qs: QuerySet[Ticket], *, order: list[str]) -> Iterator[list[Any]]:
    """One list of cells per ticket (texts in the active language, local naive times)."""
    tickets = (
        qs.select_related("customer", "assignee", "team")
        .prefetch_related("tags")
        .order_by(*order)[:MAX_EXPORT_ROWS]
    )
    for ticket in tickets.iterator(chunk_size=CHUNK):
        yield [
            _text(ticket.number),
            _text(ticket.subject),
            _text(ticket.customer.name),
            _text(ticket.get_status_display()),
            _text(ticket.get_priority_display()),
            _text(ticket.get_type_display()),
            _text(ticket.get_channel_display()),
            _text(ticket.team.display_name if ticket.team else ""),
            _text(ticket.assignee or ""),
            _text(", ".join(sorted(tag.name for tag in ticket.tags.all()))),
            _local(ticket.created_at),
            _local(ticket.updated_at),
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """The BOM and the header, then the rows, each encoded as it is produced."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow(export_headers())).encode("utf-8")
    for row in rows:
        cells = [
            value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else value for value in row
        ]
        yield writer.writerow(cells).encode("utf-8")


def xlsx_file(rows: Iterable[list[Any]], *, title: str) -> IO[bytes]:
    """A workbook with one sheet, rewound and ready to send."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "tickets")
    sheet.freeze_panes = "A2"
    header = []
    for label in export_headers():
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, dt.datetime):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
                cells.append(cell)
            else:
                cells.append(ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value)
        sheet.append(cells)
    spooled = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned open
    workbook.save(spooled)
    spooled.seek(0)
    return spooled
