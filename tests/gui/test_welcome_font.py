"""The welcome page's three choices (Add your first key, Scan, Try the demo) grow with the desktop's font: Qt's
command-link buttons drew them at a fixed 9 pt, the smallest text on a page whose heading and notes were 1.5x."""

from __future__ import annotations

from typing import Any

from keyhygiene.ui.welcome_page import WelcomePage
from tests.helpers.gui import save_shot


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
    save_shot(page, "p6-after-welcome-150")
