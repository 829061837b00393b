"""Manual edition files as HTTP responses (the API and the console serve the same bytes)."""

from __future__ import annotations

from django.http import FileResponse, HttpResponse

from aftersales.core.errors import NotFound

from .models import ManualEdition


def edition_html_response(edition: ManualEdition, *, download: bool = False) -> HttpResponse:
    response = HttpResponse(edition.html, content_type="text/html; charset=utf-8")
    # The document is self-contained: no scripts, no outside resources.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    response["X-Content-Type-Options"] = "nosniff"
    if download:
        response["Content-Disposition"] = (
            f'attachment; filename="{edition.manual.slug}-{edition.number}.html"'
        )
    return response


def edition_pdf_response(edition: ManualEdition) -> FileResponse:
    if not edition.pdf:
        raise NotFound()
    try:
        handle = edition.pdf.open("rb")
    except FileNotFoundError as exc:
        raise NotFound() from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{edition.manual.slug}-{edition.label}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
