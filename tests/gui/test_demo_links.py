"""The demo never opens a real exchange's website, whichever link asks (DESIGN.md, Demo; issue 17 item 3)."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMessageBox, QWidget

from keyhygiene.ui import links


def _open(qtbot, monkeypatch, demo: bool, url: str) -> tuple[list[str], QWidget]:
    opened: list[str] = []
    monkeypatch.setattr(links, "opener", lambda u: opened.append(u.toString()) or True)
    monkeypatch.setattr(links, "demo_mode", demo)
    parent = QWidget()
    qtbot.addWidget(parent)
    links.open_link(parent, url)
    return opened, parent


def test_the_demo_refuses_an_exchange_site_and_says_why(qtbot, monkeypatch) -> None:
    for url in ("https://www.binance.com/en/my/settings/api-management", "https://bybit.com/app/user/api-management",
                "https://setting.bitfinex.com/api"):
        opened, parent = _open(qtbot, monkeypatch, True, url)
        assert opened == []
        box = parent.findChild(QMessageBox, "demoRefusedBox")
        assert box is not None and "simulator" in box.text() and url in box.informativeText()


def test_the_demo_still_opens_the_simulator_and_other_pages(qtbot, monkeypatch) -> None:
    for url in ("http://127.0.0.1:9001/console/binance", "https://3commas.io/", "https://notbinance.com.example/"):
        opened, _ = _open(qtbot, monkeypatch, True, url)
        assert opened == [QUrl(url).toString()]


def test_outside_the_demo_exchange_sites_open(qtbot, monkeypatch) -> None:
    opened, _ = _open(qtbot, monkeypatch, False, "https://www.binance.com/en/my/settings/api-management")
    assert opened == ["https://www.binance.com/en/my/settings/api-management"]
