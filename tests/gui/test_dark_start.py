"""The theme switched while the window is still being built (the desktop going dark as the app starts): the
summary strip follows, instead of keeping the light colours baked into its style sheet (white behind light text)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor, QPalette

from keyhygiene.ui import theme
from keyhygiene.ui.main_window import apply_appearance
from tests.helpers.gui import WAIT_MS, save_shot, store
from tests.helpers.simkeys import make_key


def test_dark_mode_chosen_before_the_window_is_built_reaches_the_summary(vault: Any, make_window: Any,
                                                                        qtbot: Any) -> None:
    store(vault, make_key("binance"), "Bot key", purpose="bot")
    w = make_window(show=False, staged=True)  # built after the first frame, as the app does
    assert not w._built
    try:
        apply_appearance("dark")
        with qtbot.waitSignal(w.firstPainted, timeout=WAIT_MS):
            w.show()
        qtbot.waitUntil(lambda: w._built, timeout=WAIT_MS)
        assert theme.is_dark()
        base = w.palette().color(QPalette.ColorRole.Base)
        assert f"background: {base.name()}" in w.summary.styleSheet()
        img = w.summary.grab().toImage()
        painted = QColor(img.pixel(img.width() // 2, img.height() - 6))  # the strip's own background
        assert painted.lightness() < 128, painted.name()
        save_shot(w, "p6-after-dark-while-building")
    finally:
        apply_appearance("light")
        apply_appearance("system")
