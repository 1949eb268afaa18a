"""The summary strip's "Key ages" chart in the window: its bucket labels fit under their columns (no "6–12 …" or
"unkno…" at 1200 px, nor at 1.5x font), and the tooltip and accessible text say each bucket in words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from PySide6.QtCore import QEvent, QPointF
from PySide6.QtGui import QFontMetricsF, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from keyhygiene.core.timeutil import utcnow
from keyhygiene.ui import theme
from keyhygiene.ui.main_window import MainWindow, apply_appearance
from tests.helpers.gui import save_shot
from tests.helpers.simkeys import creds_of, make_key

AGES = (5, 60, 120, 200, 500, 900, None)  # one key in every bucket, one with no creation date


def _fill(vault) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    for i, days in enumerate(AGES):
        vault.add_key("binance", f"Key {i}", creds_of(make_key("binance")),
                      created_at=None if days is None else now - timedelta(days=days))


def _assert_labels_fit(w: MainWindow) -> list[str]:
    chart = w.age_chart
    layout = chart.label_layout()
    assert len(layout) == 7  # six ages and "unknown"
    fm = QFontMetricsF(chart._label_font())
    boxes = []
    for bucket, column, box, text in layout:
        assert "\u2026" not in text, (text, column.width())
        assert text in (bucket.label, bucket.short)
        assert fm.horizontalAdvance(text) <= box.width(), text
        assert 0 <= box.left() + (box.width() - fm.horizontalAdvance(text)) / 2  # not cut at the chart's edges
        assert box.right() - (box.width() - fm.horizontalAdvance(text)) / 2 <= chart.width()
        assert box.bottom() <= chart.height() + 0.5  # not cut at the bottom either
        boxes.append((box, fm.horizontalAdvance(text)))
    # Neighbouring labels on one row do not overlap.
    for (a, wa), (b, wb) in zip(boxes, boxes[1:], strict=False):
        if a.top() == b.top():
            assert a.center().x() + wa / 2 <= b.center().x() - wb / 2
    return [text for *_rest, text in layout]


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_the_key_ages_labels_fit_at_1200_px(vault, make_window, qtbot, app_font, scale: float) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    _fill(vault)
    app_font(scale)
    w = make_window(show=False)
    w.resize(1200, 700)
    w.show()
    qtbot.waitUntil(lambda: w._built and w.age_chart.isVisible(), timeout=5000)
    QApplication.processEvents()
    texts = _assert_labels_fit(w)
    assert texts[-1] in ("unknown", "?")
    save_shot(w, f"s5-age-chart-1200-{'150' if scale != 1.0 else '100'}")


def test_the_key_ages_chart_says_each_bucket_in_words(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    _fill(vault)
    w = make_window()
    w.resize(1200, 700)
    QApplication.processEvents()
    chart = w.age_chart
    layout = chart.label_layout()
    tips = [chart.tooltip_at(column.center().x()) for _b, column, _box, _t in layout]
    assert tips[3] == "1 key 6 to 12 months old; past the policy's 90 days"
    assert tips[2] == "1 key 3 to 6 months old; past the policy's 90 days" and tips[1] == "1 key 30 to 90 days old"
    assert tips[0] == "1 key under 30 days old" and tips[-1] == "1 key age unknown (no creation date)"
    desc = chart.accessibleDescription()
    assert "6 to 12 months old 1" in desc and "age unknown (no creation date) 1" in desc
    # And a real tooltip event shows it.
    column = layout[3][1]
    pos = QPointF(column.center().x(), column.center().y()).toPoint()
    QApplication.sendEvent(chart, QHelpEvent(QEvent.Type.ToolTip, pos, chart.mapToGlobal(pos)))
    assert QToolTip.text() == tips[3]
    QToolTip.hideText()


def test_the_key_ages_labels_fit_in_dark_mode_at_1_5x(vault, make_window, qtbot, qapp, app_font) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    _fill(vault)
    app_font(1.5)
    w = make_window(show=False)
    w.resize(1200, 700)
    apply_appearance("dark")
    try:
        assert theme.is_dark(qapp.palette())
        w.show()
        qtbot.waitUntil(lambda: w._built and w.age_chart.isVisible(), timeout=5000)
        QApplication.processEvents()
        _assert_labels_fit(w)
        save_shot(w, "s5-age-chart-1200-150-dark")
    finally:
        apply_appearance("system")

