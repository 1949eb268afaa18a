"""The detail pane's own manners, apart from the key it shows."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel

from keyhygiene.ui.main_window import MainWindow, apply_appearance


def test_the_empty_detail_panes_icon_follows_dark_mode(make_window, qapp) -> None:  # type: ignore[no-untyped-def]
    """Seen in a dark-mode screenshot (s5-age-chart-1200-150-dark.png): the "select a key" icon stayed black."""

    def icon_lightness(w: MainWindow) -> int:
        label = next(lab for lab in w.detail.widget().findChildren(QLabel) if not lab.pixmap().isNull())
        img = label.pixmap().toImage()
        seen = [img.pixelColor(x, y) for x in range(img.width()) for y in range(img.height())]
        return max(c.lightness() for c in seen if c.alpha() > 200)

    w = make_window()
    w.finish_building()
    light = icon_lightness(w)
    apply_appearance("dark")
    try:
        QApplication.processEvents()
        assert icon_lightness(w) > light + 60
    finally:
        apply_appearance("system")
        QApplication.processEvents()
