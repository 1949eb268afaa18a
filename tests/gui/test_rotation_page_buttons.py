"""The rotation wizard's link buttons ("Open Binance's API page", a consumer's own page) are as wide as their words,
at the left: stretched across the whole page they looked like a bar, not a button."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication

from keyhygiene.core.rotation.flow import Link
from keyhygiene.ui.rotation_pages import NewKeyPage, Page


def test_link_buttons_are_not_stretched_across_the_page(qtbot: Any) -> None:
    page = Page()
    qtbot.addWidget(page)
    page.links([Link("Open Binance's API page", "https://www.binance.com/en/my/settings/api-management")])
    page.resize(700, 400)
    page.show()
    qtbot.waitExposed(page)
    QApplication.processEvents()
    button = page.body_lay.itemAt(page.body_lay.count() - 1).widget()
    assert button.text() == "Open Binance's API page"
    assert button.width() <= button.sizeHint().width() + 2, (button.width(), button.sizeHint().width())
    assert button.x() <= 10  # at the left


def test_the_new_key_pages_open_button_is_not_stretched(qtbot: Any) -> None:
    page = NewKeyPage()
    qtbot.addWidget(page)
    page.resize(700, 500)
    page.show()
    qtbot.waitExposed(page)
    QApplication.processEvents()
    b = page.open_button
    assert b.width() <= b.sizeHint().width() + 2, (b.width(), b.sizeHint().width())
