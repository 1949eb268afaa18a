"""Issue 20 item 5: a Help menu with an offline user guide (opened in the browser, or shown in the app with a
sentence saying the browser could not be opened) and About with versions; links that fail to open say so."""

from __future__ import annotations

import html.parser
import re
from datetime import date
from typing import Any

import pytest

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication, QMessageBox

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.exchanges.catalog import DISPLAY_NAMES, SUPPORTED
from keyhygiene.exchanges.key_pages import API_KEY_PAGES
from keyhygiene.ui import help_menu, links
from tests.helpers.gui import store
from tests.helpers.simkeys import make_key


class _Anchors(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, int] = {}
        self.hrefs: list[str] = []
        self._row: str | None = None
        self.row_links: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids[a["id"] or ""] = self.getpos()[0]
            if tag == "tr":
                self._row = a["id"]
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"] or "")
            if self._row:
                self.row_links.setdefault(self._row, []).append(a["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None


@pytest.fixture
def guide() -> tuple[str, _Anchors]:
    text = help_menu.guide_path().read_text(encoding="utf-8")
    parser = _Anchors()
    parser.feed(text)
    return text, parser


def test_the_guide_answers_the_three_questions(guide: tuple[str, _Anchors]) -> None:
    text, p = guide
    for anchor, question in (("leaked", "I gave a key to a service that leaked"),
                             ("permissions", "What does each permission let an attacker do?"),
                             ("ip", "How do I restrict a key to an IP address?"), ("shortcuts", "Keyboard shortcuts")):
        assert anchor in p.ids and question in text
    for href in p.hrefs:  # every in-page link lands somewhere
        if href.startswith("#"):
            assert href[1:] in p.ids, href
    for perm in ("Read", "Spot trading", "Margin trading", "Futures trading", "Options trading", "Withdraw",
                 "Transfer"):
        assert f"<td>{perm}</td>" in text


def test_every_supported_exchange_has_its_ip_row_with_the_apps_key_page(guide: tuple[str, _Anchors]) -> None:
    """One truth for where each exchange's key page is: the guide must agree with what the rotation opens."""
    text, p = guide
    for ex in SUPPORTED:
        assert p.row_links.get(f"ip-{ex}") == [API_KEY_PAGES[ex]], ex
        assert f"<td>{DISPLAY_NAMES[ex]}</td>" in text


def test_every_shortcut_of_the_window_is_in_the_guide(make_window, guide: tuple[str, _Anchors]) -> None:  # type: ignore[no-untyped-def]
    text, _p = guide
    from PySide6.QtGui import QKeySequence

    documented = {QKeySequence(k).toString() for k in re.findall(r"<kbd>([^<]+)</kbd>", text)}
    w = make_window()
    for a in w.all_actions():
        if a is w.act_about:
            continue
        keys = {s.toString() for s in a.shortcuts()}
        assert keys & documented, f"{a.objectName()} ({keys}) is not in the guide"


def test_f1_opens_the_guide_in_the_browser(make_window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    opened: list[QUrl] = []
    monkeypatch.setattr(links, "opener", lambda url: opened.append(url) or True)
    w = make_window()
    assert w.act_guide in w.menuBar().actions()[-1].menu().actions()
    w.act_guide.trigger()
    assert [u.toLocalFile() for u in opened] == [str(help_menu.guide_path())]
    assert w.findChild(help_menu.GuideDialog) is None


def test_when_no_browser_opens_the_guide_is_shown_in_the_app_and_says_so(make_window, qtbot,  # type: ignore[no-untyped-def]
                                                                         monkeypatch) -> None:
    monkeypatch.setattr(links, "opener", lambda _url: False)
    w = make_window()
    w.act_guide.trigger()
    dlg = w.findChild(help_menu.GuideDialog)
    assert dlg is not None and dlg.isVisible()
    assert "could not be opened" in dlg.note.text() and dlg.note.isVisible()
    assert "restrict a key to an IP" in dlg.browser.toPlainText()
    assert "could not be opened" in w.statusBar().currentMessage()
    # A web link in the guide shown in the app goes to the browser, and failing says so too.
    dlg._on_browser_anchor_clicked(QUrl(API_KEY_PAGES["binance"]))
    box = dlg.findChild(QMessageBox, "openFailedBox")
    assert box is not None and API_KEY_PAGES["binance"] in box.informativeText()
    dlg.close()


def test_about_names_the_versions(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    import PySide6
    from PySide6.QtCore import qVersion

    w = make_window()
    w.act_about.trigger()
    box = w.findChild(QMessageBox, "aboutBox")
    assert box is not None
    info = box.informativeText()
    for part in ("Python", "Qt", qVersion(), "PySide6", PySide6.__version__, "ccxt"):
        assert part in info
    assert dict(help_menu.versions())["ccxt"] not in ("", "not installed")
    box.close()


def _key_with_links(vault: Any) -> str:
    kid = store(vault, make_key("binance"), "Bot key", purpose="bot", shared=[("3commas", date(2022, 3, 1))])
    vault.repo.record_inspection(kid, KeyProfile(exchange="binance", key="x", status=Status.OK,
                                                 permissions=["read", "spot_trade", "withdraw"],
                                                 ip_restricted=False))
    return kid


def test_detail_links_are_one_tab_stop(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    _key_with_links(vault)
    w = make_window()
    w.table.selectRow(0)
    pane = w.detail
    assert pane.links_button is not None and len(pane.links_button.links) >= 1
    rich_labels = [lab for lab in pane.widget().findChildren(QLabel) if lab.property(links.LINKS_PROPERTY)]
    assert rich_labels
    from PySide6.QtCore import Qt

    for lab in rich_labels:  # a link inside a text is not a Tab stop of its own any more
        assert not (lab.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        assert lab.focusPolicy() == Qt.FocusPolicy.NoFocus or not lab.focusPolicy() & Qt.FocusPolicy.TabFocus
    assert pane.remove_button.nextInFocusChain() is pane.links_button
    assert {u for _t, u in pane.links_button.links} == {
        u for lab in rich_labels for _t, u in lab.property(links.LINKS_PROPERTY)}


def test_a_link_that_fails_to_open_says_so(vault, make_window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(links, "opener", lambda _url: False)
    _key_with_links(vault)
    w = make_window()
    w.table.selectRow(0)
    url = w.detail.links_button.links[0][1]
    w.detail.links_button.menu().actions()[0].trigger()
    box = w.findChild(QMessageBox, "openFailedBox")
    assert box is not None and box.isVisible() and url in box.informativeText()
    assert "could not open" in box.text()
    box.close()
    QApplication.processEvents()


def test_the_links_button_has_room_for_its_arrow(qtbot) -> None:  # type: ignore[no-untyped-def]
    """With an instant popup, Fusion drew its small menu arrow over the ")" of "Links (10)" (seen at 1x and 1.5x);
    the arrow is now part of the text, so the button is sized for it, and the style's own one is hidden."""
    button = links.LinksButton([("Binance", "https://www.binance.com/"), ("Koinly", "https://koinly.io/")])
    qtbot.addWidget(button)
    assert button.text() == "Links (2) \u25be"
    assert button.sizeHint().width() >= button.fontMetrics().horizontalAdvance(button.text())
    assert "menu-indicator" in button.styleSheet()
