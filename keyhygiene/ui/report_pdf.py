"""The PDF report, drawn by Qt: QTextDocument lays the report out, QPdfWriter writes real text (selectable and
searchable), charts are the report's own SVG drawn as vectors, and the report's JSON document is attached so the
printed SHA-256 can be checked (see ``core.report.integrity``). No native dependency beyond Qt itself.

Needs a ``QGuiApplication`` (fonts); ``ensure_gui_application`` makes an offscreen one for the command line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QMarginsF, QPointF, QRect, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QPyTextObject,
    QTextCharFormat,
    QTextDocument,
    QTextFormat,
    QTextOption,
)
from PySide6.QtSvg import QSvgRenderer

from keyhygiene.core.report.html import (
    chart_svgs,
    environment,
    finding_groups,
    format_datetime,
    service_groups,
    template_context,
)
from keyhygiene.core.report.integrity import HASH_FIELD, PDF_ATTACHMENT_NAME
from keyhygiene.core.report.json_report import render_json, shared_document
from keyhygiene.core.report.model import Report
from keyhygiene.core.report.output import write_atomic

RESOLUTION = 300  # dots per inch of the PDF's coordinate space; text and SVG stay vectors regardless
SVG_OBJECT = QTextFormat.ObjectTypes.UserObject + 1
SVG_DATA = QTextFormat.Property.UserProperty + 1
SVG_SIZE = QTextFormat.Property.UserProperty + 2
MARGINS_MM = QMarginsF(16, 14, 16, 14)
FOOTER_MM = 8.0
BODY_FONT = "DejaVu Sans"
COMPACT_ABOVE_KEYS = 50
TABLE_ROWS = 25  # long tables are split: Qt redraws a whole table on every page it spans
CHART_SCALE = 0.8  # charts drawn a little smaller than on screen, so three fit on one A4 page


class NoGuiApplication(RuntimeError):
    pass


def ensure_gui_application() -> QGuiApplication:
    """The running Q(Gui)Application, or a new one. Without a display (a server, CI) Qt runs offscreen."""
    app = QGuiApplication.instance()
    if app is not None:
        return app  # type: ignore[return-value]
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return QGuiApplication(["keyhygiene"])


class _SvgHandler(QPyTextObject):
    """Draws an SVG chart inline in a QTextDocument as vectors (a rasterised image would blur in print).
    QPyTextObject, not QObject + QTextObjectInterface: Qt finds the interface by qobject_cast, which only sees
    interfaces declared in C++."""

    def intrinsicSize(self, doc: QTextDocument, pos: int, fmt: QTextFormat) -> QSizeF:  # noqa: N802 - Qt API
        return fmt.property(SVG_SIZE)

    def drawObject(  # noqa: N802 - Qt API
        self, painter: QPainter, rect: QRectF | QRect, doc: QTextDocument, pos: int, fmt: QTextFormat
    ) -> None:
        renderer = QSvgRenderer(QByteArray(str(fmt.property(SVG_DATA)).encode("utf-8")))
        painter.save()  # the SVG renderer changes pen, brush and font; the text after the chart must not inherit
        try:
            renderer.render(painter, QRectF(rect))
        finally:
            painter.restore()


def _font(points: float) -> QFont:
    font = QFont(BODY_FONT)
    font.setPointSizeF(points)
    # No ligatures: "fi" drawn as one glyph extracts as U+FB01, and a search for "fix" would miss it.
    for tag in ("liga", "clig", "dlig"):
        font.setFeature(QFont.Tag(tag), 0)
    return font


def _mm(mm: float) -> float:
    return mm / 25.4 * RESOLUTION


def _insert_charts(doc: QTextDocument, svgs: dict[str, str], max_width: float) -> None:
    """Swap each ``[[chart:ID]]`` placeholder paragraph for the chart, scaled to fit the text width."""
    scale = CHART_SCALE * RESOLUTION / 96.0  # SVG user units are CSS pixels
    for chart_id, svg in svgs.items():
        found = doc.find(f"[[chart:{chart_id}]]")
        if found.isNull():
            continue
        renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        size = QSizeF(renderer.defaultSize()) * scale
        if size.width() > max_width:
            size *= max_width / size.width()
        fmt = QTextCharFormat()
        fmt.setObjectType(SVG_OBJECT)
        fmt.setProperty(SVG_DATA, svg)
        fmt.setProperty(SVG_SIZE, size)
        found.insertText("\ufffc", fmt)


def _document(html: str, width: float, height: float, writer: QPdfWriter, font_pt: float,
              svgs: dict[str, str] | None = None, handler: QPyTextObject | None = None, *,
              whole_words: bool = False) -> QTextDocument:
    doc = QTextDocument()
    if whole_words:
        # Qt's default wraps a word too long for its line anywhere inside it; the title page holds no user text,
        # so every line may end at a word boundary (issue 20: "does not break words in the middle").
        option = doc.defaultTextOption()
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        doc.setDefaultTextOption(option)
    doc.documentLayout().setPaintDevice(writer)
    doc.setDefaultFont(_font(font_pt))
    doc.setDocumentMargin(0)
    doc.setHtml(html)
    if svgs and handler is not None:
        doc.documentLayout().registerHandler(SVG_OBJECT, handler)
        _insert_charts(doc, svgs, width)
    # The page size last: setting it lays the whole document out again. Qt's incremental relayout after an
    # edit (the chart insertions) leaves later paragraphs at stale positions, and those are then never drawn.
    doc.setPageSize(QSizeF(width, height))
    return doc


def pdf_sources(report: Report, document: dict[str, Any] | None = None) -> tuple[str, str]:
    """The rich-text HTML of the title page and of the body, before Qt lays them out (also the PDF's golden)."""
    ctx = template_context(report, document if document is not None else shared_document(report), embed_data=False)
    ctx["attachment_name"] = PDF_ATTACHMENT_NAME
    ctx["table_rows"] = TABLE_ROWS
    # A large vault's PDF groups findings by kind and exposures by service: hundreds of pages of one finding
    # per key help no reader (and take Qt many seconds to lay out). The HTML and JSON keep every detail.
    ctx["compact"] = len(report.keys) > COMPACT_ABOVE_KEYS
    if ctx["compact"]:
        ctx["finding_groups"] = finding_groups(report)
        ctx["service_groups"] = service_groups(report)
    env = environment()
    return (env.get_template("report/title_page.html.j2").render(ctx),
            env.get_template("report/pdf.html.j2").render(ctx))


def render_pdf(report: Report, document: dict[str, Any] | None = None) -> bytes:
    """The PDF as bytes (written to a temporary file by Qt, read back)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="keyhygiene-pdf-") as tmp:
        path = Path(tmp) / "report.pdf"
        _write(report, path, document)
        return path.read_bytes()


def write_pdf(report: Report, path: Path, document: dict[str, Any] | None = None) -> None:
    write_atomic(Path(path), render_pdf(report, document))


def _write(report: Report, path: Path, document: dict[str, Any] | None) -> None:
    if QGuiApplication.instance() is None:
        raise NoGuiApplication("the PDF report needs a QGuiApplication (call ensure_gui_application first)")
    doc_json = document if document is not None else shared_document(report)
    title_html, body_html = pdf_sources(report, doc_json)

    writer = QPdfWriter(str(path))
    _setup(writer)
    writer.setTitle(f"{report.app_name} API key hygiene report, {format_datetime(report.generated_at)}")
    writer.setCreator(f"{report.app_name} {report.app_version}")
    # The JSON document the printed digest covers, so anyone can check it (pdfdetach, or the integrity module):
    # the very text of the JSON report, made once per report.
    writer.addFileAttachment(PDF_ATTACHMENT_NAME, QByteArray(render_json(report, doc_json).encode("utf-8")),
                             "application/json")

    page = writer.pageLayout().paintRectPixels(RESOLUTION)
    width, full_height = float(page.width()), float(page.height())
    body_height = full_height - _mm(FOOTER_MM)

    handler = _SvgHandler()  # must outlive every draw of ``body``: Qt keeps only a raw pointer to it
    body = _document(body_html, width, body_height, writer, 8.5, chart_svgs(report), handler)
    title = title_document(title_html, writer)

    body_pages = body.pageCount()  # lays the body out; asked once, since each call walks the whole layout
    pages = body_pages + 1
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"cannot write the PDF to {path}")
    try:
        # Title page, a third of the way down.
        painter.save()
        painter.translate(0, max(0.0, (full_height - title.size().height()) / 3))
        title.drawContents(painter)
        painter.restore()
        _footer(painter, width, full_height, 1, pages, doc_json[HASH_FIELD], report)
        layout = body.documentLayout()
        for i in range(body_pages):
            writer.newPage()
            painter.save()
            painter.translate(0, -i * body_height)
            pc = QAbstractTextDocumentLayout.PaintContext()
            # A few device pixels short of the page end: a block moved to the next page can start a hair above
            # the boundary, and its background would otherwise show as a sliver at the bottom of this page.
            pc.clip = QRectF(0, i * body_height, width, body_height - 4)
            painter.setClipRect(pc.clip)
            layout.draw(painter, pc)
            painter.restore()
            _footer(painter, width, full_height, i + 2, pages, doc_json[HASH_FIELD], report)
    finally:
        painter.end()


def title_document(title_html: str, writer: QPdfWriter) -> QTextDocument:
    """The title page laid out for ``writer``'s page (A4, the report's margins)."""
    page = writer.pageLayout().paintRectPixels(RESOLUTION)
    return _document(title_html, float(page.width()), float(page.height()), writer, 10, whole_words=True)


def _setup(writer: QPdfWriter) -> None:
    writer.setResolution(RESOLUTION)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     MARGINS_MM, QPageLayout.Unit.Millimeter))


def _footer(painter: QPainter, width: float, height: float, page: int, pages: int, sha: str,
            report: Report) -> None:
    painter.save()
    painter.setFont(_font(7))
    painter.setPen(QPen(QColor("#d7dce3"), _mm(0.2)))
    y = height - _mm(FOOTER_MM) + _mm(2.5)
    painter.drawLine(QPointF(0, y), QPointF(width, y))
    painter.setPen(QColor("#5f6b7a"))
    box = QRectF(0, y + _mm(1), width, _mm(FOOTER_MM) - _mm(3.5))
    left = (f"{report.app_name} {report.app_version} · API key hygiene report · "
            f"{format_datetime(report.generated_at)} · content SHA-256 {sha[:16]}…")
    painter.drawText(box, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), left)
    painter.drawText(box, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"Page {page} of {pages}")
    painter.restore()


__all__ = ["NoGuiApplication", "ensure_gui_application", "pdf_sources", "render_pdf", "write_pdf"]
