"""The welcome page's three choices (Add your first key, Scan, Try the demo) grow with the desktop's font: Qt's
command-link buttons drew them at a fixed 9 pt, the smallest text on a page whose heading and notes were 1.5x."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from PySide6.QtGui import QFont

from keyhygiene.ui.welcome_page import WelcomePage


@pytest.fixture
def app_font(qapp: Any) -> Iterator[Any]:
    """``scale(1.5)``: the application's font 1.5x (as in tests/gui/test_charts_widget.py), restored after."""
    normal = QFont(qapp.font())

    def scale(factor: float) -> None:
        f = QFont(normal)
        f.setPointSizeF(normal.pointSizeF() * factor)
        qapp.setFont(f)

    yield scale
    qapp.setFont(normal)


def _heights(page: WelcomePage) -> list[int]:
    return [b.sizeHint().height() for b in (page.add_button, page.scan_button, page.demo_button)]


def test_the_welcome_choices_follow_a_larger_desktop_font(qtbot: Any, app_font: Any) -> None:
    normal_page = WelcomePage(None)
    qtbot.addWidget(normal_page)
    normal = _heights(normal_page)
    app_font(1.5)
    page = WelcomePage(None)
    qtbot.addWidget(page)
    large = _heights(page)
    for a, b in zip(normal, large, strict=True):
        assert b >= a * 1.3, (normal, large)
    page.resize(1000, 800)
    page.show()
    qtbot.waitExposed(page)
    page.grab().save("/work/shots/p6-after-welcome-150.png")
