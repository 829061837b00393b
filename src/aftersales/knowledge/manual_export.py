"""Rendering a manual edition: a self-contained HTML document and a PDF with an embedded CJK font.

Both are built from the same frozen outline (chapter/section numbers, titles, the Markdown of the
exact article versions), so every region reads the same text.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import markdown as markdown_lib
import nh3
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

# --- Markdown → safe HTML -----------------------------------------------------------------------

_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) - {"img", "map", "area"}
_HEADING_RE = re.compile(r"<(/?)h([1-6])>")


def markdown_to_html(text: str, *, heading_offset: int = 0) -> str:
    """Markdown rendered and sanitised (no scripts, styles, images or event handlers).

    ``heading_offset`` pushes the article's own headings below the manual's chapter/section levels.
    """
    rendered = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    cleaned = nh3.clean(rendered, tags=_ALLOWED_TAGS, url_schemes={"http", "https", "mailto"})
    if heading_offset:

        def shift(match: re.Match[str]) -> str:
            return f"<{match.group(1)}h{min(int(match.group(2)) + heading_offset, 6)}>"

        cleaned = _HEADING_RE.sub(shift, cleaned)
    return cleaned


# --- the frozen outline -------------------------------------------------------------------------


@dataclass
class OutlineEntry:
    number: str  # "1", "1.2"
    level: int  # 1 chapter, 2 section
    title: str
    anchor: str
    body: str = ""  # Markdown of the frozen version ("" for a heading without an article)
    summary: str = ""
    article_id: int | None = None
    version_id: int | None = None
    version_number: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "level": self.level,
            "title": self.title,
            "anchor": self.anchor,
            "article_id": self.article_id,
            "version_id": self.version_id,
            "version_number": self.version_number,
        }


@dataclass
class EditionDocument:
    manual_title: str
    manual_slug: str
    locale: str
    label: str
    published_at: dt.datetime
    entries: list[OutlineEntry]
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def date_text(self) -> str:
        return date_format(timezone.localtime(self.published_at), "DATE_FORMAT")


# --- HTML ---------------------------------------------------------------------------------------


def render_html(document: EditionDocument) -> str:
    with translation.override(document.locale):
        entries = [
            {
                "entry": entry,
                "html": markdown_to_html(entry.body, heading_offset=entry.level + 1) if entry.body else "",
            }
            for entry in document.entries
        ]
        return render_to_string(
            "knowledge/manual/edition.html",
            {
                "doc": document,
                "entries": entries,
                "changes": document.changes,
                "date_text": document.date_text,
            },
        )


# --- PDF ----------------------------------------------------------------------------------------

_FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
_font_name: str | None = None


def pdf_font() -> str:
    """The CJK font for PDFs: an embedded WenQuanYi TrueType when installed, else reportlab's
    built-in CID font STSong-Light (which readers supply themselves)."""
    global _font_name
    if _font_name is not None:
        return _font_name
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    name = "STSong-Light"
    for path, index in _FONT_CANDIDATES:
        if Path(path).exists():
            try:
                pdfmetrics.registerFont(TTFont("KbCJK", path, subfontIndex=index))
            except Exception:  # noqa: S112 - a broken font file: try the next one
                continue
            name = "KbCJK"
            break
    else:
        pdfmetrics.registerFont(UnicodeCIDFont(name))
    # One face for all styles (the CJK fonts have no bold/italic): <b>/<i> keep their words.
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(name, bold, italic, name)
    _font_name = name
    return _font_name


class _FlowableBuilder(HTMLParser):
    """Turns the sanitised HTML of one article into reportlab flowables."""

    _BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "blockquote", "td", "th", "dt", "dd"}

    def __init__(self, styles: dict[str, Any]):
        super().__init__(convert_charrefs=True)
        self.styles = styles
        self.flowables: list[Any] = []
        self.buffer: list[str] = []
        self.block: str | None = None
        self.lists: list[list[Any]] = []  # [kind, counter]
        self.quote = 0
        self.pre = False
        self.table: list[list[Any]] | None = None
        self.row: list[Any] | None = None

    def _flush(self) -> None:
        from reportlab.platypus import Paragraph, XPreformatted

        text = "".join(self.buffer).strip()
        self.buffer = []
        block, self.block = self.block, None
        if not text:
            return
        if block == "pre":
            self.flowables.append(XPreformatted(text, self.styles["code"]))
            return
        style = self.styles["body"]
        bullet = None
        if block and block[0] == "h" and block[1:].isdigit():
            style = self.styles["h_small"]
        elif block == "li" and self.lists:
            style = self.styles["bullet"]
            kind = self.lists[-1]
            kind[1] += 1
            bullet = "•" if kind[0] == "ul" else f"{kind[1]}."
        elif self.quote:
            style = self.styles["quote"]
        try:
            paragraph = Paragraph(text, style, bulletText=bullet)
        except ValueError:  # markup reportlab cannot parse: keep the words, drop the styling
            plain = html.escape(html.unescape(re.sub(r"<[^>]+>", "", text)), quote=False)
            paragraph = Paragraph(plain, style, bulletText=bullet)
        if self.row is not None:
            self.row.append(paragraph)
        else:
            self.flowables.append(paragraph)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ul", "ol"):
            self._flush()
            self.lists.append([tag, 0])
        elif tag == "blockquote":
            self._flush()
            self.quote += 1
        elif tag == "table":
            self._flush()
            self.table = []
        elif tag == "tr":
            self.row = []
        elif tag in self._BLOCKS:
            if self.block is not None or self.buffer:
                self._flush()
            self.block = tag
            self.pre = tag == "pre"
        elif tag in ("strong", "b"):
            self.buffer.append("<b>")
        elif tag in ("em", "i"):
            self.buffer.append("<i>")
        elif tag == "code" and not self.pre:
            self.buffer.append('<font backColor="#eeeeee">')
        elif tag == "br":
            self.buffer.append("<br/>")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.buffer.append(f'<a href="{html.escape(href, quote=True)}" color="#1a5fb4">')
        elif tag == "hr":
            from reportlab.platypus import HRFlowable

            self._flush()
            self.flowables.append(HRFlowable(width="100%", thickness=0.5, color="#999999"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self.lists.pop()
        elif tag == "blockquote":
            self._flush()
            self.quote = max(self.quote - 1, 0)
        elif tag == "tr":
            self._flush()
            if self.table is not None and self.row:
                self.table.append(self.row)
            self.row = None
        elif tag == "table":
            self._flush()
            self._emit_table()
        elif tag in self._BLOCKS:
            self._flush()
            self.pre = False
        elif tag in ("strong", "b"):
            self.buffer.append("</b>")
        elif tag in ("em", "i"):
            self.buffer.append("</i>")
        elif tag == "code" and not self.pre:
            self.buffer.append("</font>")
        elif tag == "a":
            self.buffer.append("</a>")

    def handle_data(self, data: str) -> None:
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
            if not data.strip() and not self.buffer:
                return
        self.buffer.append(html.escape(data, quote=False))

    def _emit_table(self) -> None:
        from reportlab.lib import colors
        from reportlab.platypus import Table, TableStyle

        rows, self.table = self.table or [], None
        if not rows:
            return
        width = max(len(row) for row in rows)
        rows = [row + [""] * (width - len(row)) for row in rows]
        table = Table(rows, hAlign="LEFT", repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
                ]
            )
        )
        from reportlab.platypus import Spacer

        self.flowables.extend([Spacer(1, 3), table, Spacer(1, 6)])

    def close(self) -> None:
        super().close()
        self._flush()


def _styles(font: str, cjk: bool) -> dict[str, Any]:
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    wrap = "CJK" if cjk else None
    base = ParagraphStyle("kb-body", fontName=font, fontSize=10.5, leading=16, wordWrap=wrap, spaceAfter=5)
    return {
        "body": base,
        "bullet": ParagraphStyle("kb-bullet", parent=base, leftIndent=16, bulletIndent=4, spaceAfter=2),
        "quote": ParagraphStyle("kb-quote", parent=base, leftIndent=14, textColor="#555555"),
        "code": ParagraphStyle(
            "kb-code",
            parent=base,
            fontSize=9,
            leading=13,
            backColor="#f4f4f4",
            leftIndent=6,
            borderPadding=4,
            spaceBefore=6,
            spaceAfter=8,
        ),
        "h1": ParagraphStyle("kb-h1", parent=base, fontSize=17, leading=24, spaceBefore=8, spaceAfter=10),
        "h2": ParagraphStyle("kb-h2", parent=base, fontSize=13.5, leading=20, spaceBefore=10, spaceAfter=6),
        "h_small": ParagraphStyle("kb-h3", parent=base, fontSize=11.5, leading=17, spaceBefore=6),
        "meta": ParagraphStyle("kb-meta", parent=base, fontSize=8.5, leading=12, textColor="#666666"),
        "title": ParagraphStyle(
            "kb-title", parent=base, fontSize=26, leading=36, alignment=TA_CENTER, spaceAfter=18
        ),
        "subtitle": ParagraphStyle(
            "kb-subtitle", parent=base, fontSize=14, leading=22, alignment=TA_CENTER, textColor="#444444"
        ),
        "toc1": ParagraphStyle("kb-toc1", parent=base, fontSize=11, leading=18, leftIndent=0),
        "toc2": ParagraphStyle("kb-toc2", parent=base, fontSize=10, leading=15, leftIndent=18),
    }


def render_pdf(document: EditionDocument) -> bytes:
    """The edition as a PDF: title page, table of contents, the chapters, running header/footer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import (
        BaseDocTemplate,
        Frame,
        PageBreak,
        PageTemplate,
        Paragraph,
        Spacer,
    )
    from reportlab.platypus.tableofcontents import TableOfContents

    font = pdf_font()
    cjk = document.locale.startswith("zh")
    styles = _styles(font, cjk)

    with translation.override(document.locale):
        header_text = f"{document.manual_title} · {document.label} · {document.date_text}"
        page_format = _("Page %(page)s of %(pages)s")
        contents_title = _("Contents")
        edition_text = _("Edition %(label)s") % {"label": document.label}
        published_text = _("Published %(date)s") % {"date": document.date_text}
        version_format = _("Article version %(number)s")
        changes_title = _("Changes in this edition")
        change_lines = _change_lines(document.changes)

    class NumberedCanvas(Canvas):
        """Draws "page x of y" once the total is known (pages are kept until the end)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            width, height = A4
            self.setFont(font, 8)
            self.setFillColorRGB(0.35, 0.35, 0.35)
            if self._pageNumber > 1:
                self.drawString(18 * mm, height - 12 * mm, header_text)
                self.line(18 * mm, height - 13.5 * mm, width - 18 * mm, height - 13.5 * mm)
            footer = page_format % {"page": self._pageNumber, "pages": total}
            self.drawRightString(width - 18 * mm, 10 * mm, footer)
            self.drawString(18 * mm, 10 * mm, document.label)

    class Doc(BaseDocTemplate):
        def afterFlowable(self, flowable: Any) -> None:  # noqa: N802 - reportlab's name
            level = getattr(flowable, "_kb_toc_level", None)
            if level is not None:
                key = flowable._kb_anchor
                self.canv.bookmarkPage(key)
                self.notify("TOCEntry", (level, flowable.getPlainText(), self.page, key))

    buffer = io.BytesIO()
    doc = Doc(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=f"{document.manual_title} {document.label}",
        author="aftersales",
        subject=document.manual_slug,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])

    story: list[Any] = [
        Spacer(1, 60 * mm),
        Paragraph(html.escape(document.manual_title), styles["title"]),
        Paragraph(html.escape(edition_text), styles["subtitle"]),
        Paragraph(html.escape(published_text), styles["subtitle"]),
        PageBreak(),
        Paragraph(html.escape(contents_title), styles["h1"]),
    ]
    toc = TableOfContents()
    toc.levelStyles = [styles["toc1"], styles["toc2"]]
    toc.dotsMinLevel = 0
    story.append(toc)
    if change_lines:
        story.append(Spacer(1, 8 * mm))
        story.append(Paragraph(html.escape(changes_title), styles["h2"]))
        story.extend(Paragraph(html.escape(line), styles["bullet"], bulletText="•") for line in change_lines)
    story.append(PageBreak())

    for entry in document.entries:
        if entry.level == 1 and entry is not document.entries[0]:
            story.append(PageBreak())
        heading = Paragraph(
            f"{html.escape(entry.number)} {html.escape(entry.title)}",
            styles["h1"] if entry.level == 1 else styles["h2"],
        )
        heading._kb_toc_level = entry.level - 1
        heading._kb_anchor = entry.anchor
        story.append(heading)
        if entry.version_number is not None:
            story.append(
                Paragraph(html.escape(version_format % {"number": entry.version_number}), styles["meta"])
            )
        if entry.body:
            builder = _FlowableBuilder(styles)
            builder.feed(markdown_to_html(entry.body, heading_offset=entry.level + 1))
            builder.close()
            story.extend(builder.flowables)

    doc.multiBuild(story, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


def _change_lines(changes: dict[str, Any]) -> list[str]:
    added = [
        _("Added: %(number)s %(title)s (version %(version)s)")
        % {"number": item.get("number", ""), "title": item.get("title", ""), "version": item.get("version")}
        for item in changes.get("added", [])
    ]
    changed = [
        _("Changed: %(number)s %(title)s (version %(old)s → %(new)s)")
        % {
            "number": item.get("number", ""),
            "title": item.get("title", ""),
            "old": item.get("from_version"),
            "new": item.get("to_version"),
        }
        for item in changes.get("changed", [])
    ]
    removed = [
        _("Removed: %(title)s (was version %(version)s)")
        % {"title": item.get("title", ""), "version": item.get("version")}
        for item in changes.get("removed", [])
    ]
    return added + changed + removed


def change_lines(changes: dict[str, Any]) -> list[str]:
    """The changes of an edition as sentences in the active language."""
    return _change_lines(changes)
