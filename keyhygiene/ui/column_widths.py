"""The key list's starting column widths, measured in the font the list has now.

Why: the widths were set once, in the font the window was built with; a font made 1.5x larger afterwards (the
desktop's setting, a window font) left "IP restri…" and "Key rejec…" in the list. The window measures again on
every font change. Each column is at least as wide as its header (with the style's margins and sort arrow).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHeaderView, QStyle, QStyleOptionHeader, QTableView

from keyhygiene.ui.key_table_model import HEADERS, Col

# Average characters each column starts with: room for what it usually shows ("Read Spot Margin +3",
# "WunderTrading +1", "Critical · 0") at any font size, since they scale with the font.
_CHARS = {Col.LABEL: 24, Col.PERMISSIONS: 27, Col.IP: 12, Col.AGE: 7, Col.EXPIRES: 8,
          Col.SHARED: 16, Col.RISK: 15, Col.CHECKED: 11}
# Shown whole, not elided: one IPv4 address (the usual restriction; more show as "N addresses").
_SAMPLES = {Col.IP: "203.0.113.100"}
# The key's label stretches while it gets at least LABEL_MIN_CHARS average characters; below that the list scrolls
# sideways, and then the label may as well have LABEL_SCROLL_CHARS (the old fixed width) for whole names.
LABEL_MIN_CHARS = 18
LABEL_SCROLL_CHARS = 24


def header_text_room(header: QHeaderView) -> int:
    """What a header section needs besides its text: the style's margins either side and the sort arrow."""
    opt = QStyleOptionHeader()
    opt.initFrom(header)
    style = header.style()
    margin = style.pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, opt, header)
    arrow = style.pixelMetric(QStyle.PixelMetric.PM_HeaderMarkSize, opt, header)
    return 2 * margin + arrow + 4


def column_widths(font: QFont, header: QHeaderView, statuses: list[str]) -> dict[Col, int]:
    """Width of every column but the exchange icon's, for cells in ``font`` under ``header``."""
    fm = QFontMetrics(font)
    head_fm = QFontMetrics(header.font())
    extra = header_text_room(header)
    widths: dict[Col, int] = {}
    for col, chars in _CHARS.items():
        widths[col] = max(fm.averageCharWidth() * chars + 16, head_fm.horizontalAdvance(HEADERS[col]) + extra,
                          fm.horizontalAdvance(_SAMPLES.get(col, "")) + 20)
    # Wide enough for the longest status it can show ("Permission denied", "Could not check"), not "Key rejec…".
    widths[Col.CHECKED] = max(widths[Col.CHECKED], *(fm.horizontalAdvance(s) + 24 for s in statuses))
    return widths


def label_min_width(font: QFont, chars: int = LABEL_MIN_CHARS) -> int:
    return QFontMetrics(font).averageCharWidth() * chars + 16


class LabelColumnFit(QObject):
    """The key's label column takes the room the others leave (Stretch) while that is at least
    ``LABEL_MIN_CHARS``; when the others fill the list (a large font, a narrow window) it gets
    ``LABEL_SCROLL_CHARS`` and the list scrolls sideways, instead of showing "C…" for every key."""

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self._table = table
        # The header spans the viewport: its Resize is the viewport's, after the fact. (Not the viewport itself:
        # table.viewport() makes PySide load every QtWidgets type before the first frame, tests/gui/test_startup.)
        header = table.horizontalHeader()
        header.installEventFilter(self)
        header.sectionResized.connect(self._on_section_resized)

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def _on_section_resized(self, section: int, _old: int, _new: int) -> None:
        if section != Col.LABEL:
            self.fit()

    def fit(self) -> None:
        hh = self._table.horizontalHeader()
        others = sum(hh.sectionSize(c) for c in range(hh.count()) if c != Col.LABEL and not hh.isSectionHidden(c))
        least = label_min_width(self._table.font())
        if hh.width() - others >= least:
            if hh.sectionResizeMode(Col.LABEL) != QHeaderView.ResizeMode.Stretch:
                hh.setSectionResizeMode(Col.LABEL, QHeaderView.ResizeMode.Stretch)
        else:
            if hh.sectionResizeMode(Col.LABEL) != QHeaderView.ResizeMode.Interactive:
                hh.setSectionResizeMode(Col.LABEL, QHeaderView.ResizeMode.Interactive)
            wide = label_min_width(self._table.font(), LABEL_SCROLL_CHARS)
            if hh.sectionSize(Col.LABEL) != wide:
                hh.resizeSection(Col.LABEL, wide)
