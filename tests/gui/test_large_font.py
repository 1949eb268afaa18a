"""A new user's pass at 1.5x the font: the key list's columns are sized from the font the window has now, not the
one it was built with, so no header and no cell of the first row is cut to "…"."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionHeader

from keyhygiene.ui.delegates import chip_font, chips_width
from keyhygiene.ui.key_table_model import CELL_ROLE, Col
from tests.helpers.gui import save_shot, store
from tests.helpers.simkeys import make_key

_TEXT_PAD = 12  # the delegate's 6 px either side of a text cell


def _header_room(w: Any, col: int) -> int:
    """What the header leaves for its text: the section less the style's margins and the sort arrow."""
    hh = w.table.horizontalHeader()
    opt = QStyleOptionHeader()
    opt.initFrom(hh)
    margin = hh.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, opt, hh)
    arrow = hh.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMarkSize, opt, hh)
    return hh.sectionSize(col) - 2 * margin - arrow


def _elided(w: Any) -> list[str]:
    """Every header, and every fixed column's cell in the first row, whose text is wider than its section."""
    fm = QFontMetrics(w.table.horizontalHeader().font())
    model, out = w.table.model(), []
    for col in Col:
        if col == Col.EXCHANGE or w.table.isColumnHidden(col):
            continue
        head = str(model.headerData(col, w.table.horizontalHeader().orientation()) or "")
        if fm.horizontalAdvance(head) > _header_room(w, col):
            out.append(f"header {head!r}: {fm.horizontalAdvance(head)} > {_header_room(w, col)}")
        if col == Col.LABEL:
            # It stretches, and a long label is elided (with its tooltip) on purpose; a short one never is.
            title = model.index(0, col).data(CELL_ROLE)[1]
            bold = w.table.font()
            bold.setWeight(bold.Weight.DemiBold)
            if QFontMetrics(bold).horizontalAdvance(title) + _TEXT_PAD > w.table.columnWidth(col):
                out.append(f"label {title!r}: {w.table.columnWidth(col)} px")
            continue
        cell = model.index(0, col).data(CELL_ROLE)
        font = w.table.font()
        if cell[0] == "chips":
            # Chips that do not fit become "+N" by design; the first chip itself must never be cut.
            chips = list(cell[1])
            cfm = QFontMetrics(chip_font(font))
            more = cfm.horizontalAdvance(f"+{len(chips) - 1}") + 4 if len(chips) > 1 else 0
            need = chips_width(chips[:1], chip_font(font)) + more + 2
        else:
            need = QFontMetrics(font).horizontalAdvance(str(cell[1])) + _TEXT_PAD
        if need > w.table.columnWidth(col):
            out.append(f"{head!r} row 0 {cell[1]!r}: {need} > {w.table.columnWidth(col)}")
    return out


def test_at_one_and_a_half_times_the_font_no_column_is_cut(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    store(vault, make_key("bybit"), "Cornix signals", purpose="bot",
          shared=[("wundertrading", date(2024, 3, 1)), ("cornix", date(2024, 3, 1))])
    w = make_window()
    w.resize(1400, 880)
    assert _elided(w) == []  # the default font
    f = w.font()
    f.setPointSizeF(f.pointSizeF() * 1.5)
    w.setFont(f)  # the window's font, which the list inherits (as in test_keyboard_and_layout)
    QApplication.processEvents()
    assert _elided(w) == []
    # The rows grow with the font: the label's two lines still fit.
    fm = QFontMetrics(w.table.font())
    assert w.table.verticalHeader().defaultSectionSize() >= 2 * fm.height() + 8
    w.table.selectRow(0)
    qtbot.wait(50)
    save_shot(w, "p6-test-main-font150")


def test_the_masked_key_grows_with_the_font(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The detail pane's masked key (fixed pitch) is as large as the text around it, at 1x and at 1.5x; it kept
    the system's fixed-font size and was the smallest text in the pane at 1.5x."""
    store(vault, make_key("binance"), "Bot key", purpose="bot")
    w = make_window()
    f = w.font()
    f.setPointSizeF(f.pointSizeF() * 1.5)
    w.setFont(f)
    w.table.selectRow(0)
    qtbot.wait(50)
    pane = w.detail
    assert pane.key_label.font().pointSizeF() >= pane.font().pointSizeF() * 0.95, (
        pane.key_label.font().pointSizeF(), pane.font().pointSizeF())
    save_shot(pane, "p6-after-detail-font150")
