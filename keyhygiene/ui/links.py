"""Opening web pages and files in the system's browser, and saying so when that fails.

``QDesktopServices.openUrl`` answers False when no browser or handler could be started (a minimal desktop, a
sandbox, a broken default-app setting); a button that then does nothing looks broken. Every link in the window goes
through ``open_link``, which shows the address to open by hand instead.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QLabel, QMenu, QMessageBox, QToolButton, QWidget

LINKS_PROPERTY = "keyhygieneLinks"  # on labels: [(text, url), …], collected into one keyboard stop


def _system_open(url: QUrl) -> bool:
    return bool(QDesktopServices.openUrl(url))


# Tests swap this to keep browsers closed and to make opening fail.
opener: Callable[[QUrl], bool] = _system_open

# Set by the demo (app.build_session): the demo never opens a real exchange's site (DESIGN.md, Demo), whichever
# link asks for one - a finding's source, the detail pane's links, the help guide.
demo_mode = False


def _exchange_site(url: QUrl) -> bool:
    """True for a page on one of the 12 exchanges' own sites (their API-key pages' registrable domains)."""
    from keyhygiene.core.exchange_facts import API_KEY_PAGES  # plain data; only when a link is opened

    host = (url.host() or "").lower()
    for page in API_KEY_PAGES.values():
        site = ".".join(urllib.parse.urlsplit(page).hostname.split(".")[-2:])  # type: ignore[union-attr]
        if host == site or host.endswith("." + site):
            return True
    return False


def as_qurl(target: str) -> QUrl:
    return QUrl(target) if "://" in target else QUrl.fromLocalFile(target)


def open_link(parent: QWidget | None, target: str, what: str = "this page") -> bool:
    """Open ``target`` (a URL or a local file); when nothing opens it, tell the user and show the address."""
    url = as_qurl(target)
    if demo_mode and _exchange_site(url):
        _tell(parent, "demoRefusedBox", QMessageBox.Icon.Information, "Not opened in the demo",
              "The demo never opens a real exchange's website: its exchanges are a simulator on this computer.",
              f"Outside the demo this opens:\n{url.toString()}")
        return False
    if opener(url):
        return True
    shown = url.toLocalFile() if url.isLocalFile() else url.toString()
    _tell(parent, "openFailedBox", QMessageBox.Icon.Warning, "Could not open the browser",
          f"KeyHygiene could not open {what}: no browser or program for it could be started.",
          f"Open it yourself:\n{shown}")
    return False


def _tell(parent: QWidget | None, name: str, icon: QMessageBox.Icon, title: str, text: str, info: str) -> None:
    """A non-blocking message whose address can be selected and copied by hand."""
    box = QMessageBox(icon, title, "", parent=parent)
    box.setText(text)
    box.setInformativeText(info)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.setObjectName(name)
    box.open()


def short_text(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc.removeprefix("www.") or url


def collect_links(root: QWidget) -> list[tuple[str, str]]:
    """Every (text, url) shown by the labels under ``root``, once each, in reading order."""
    seen: dict[str, str] = {}
    for lab in root.findChildren(QLabel):
        for text, url in lab.property(LINKS_PROPERTY) or []:
            seen.setdefault(url, text)
    return [(text, url) for url, text in seen.items()]


class LinksButton(QToolButton):
    """All of a pane's links behind one button: one Tab stop, then arrow keys in its menu. Links inside text stay
    clickable with the mouse, but Tab no longer stops at each of them."""

    def __init__(self, links: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.links = links
        # The arrow in the text: with an instant popup, the style draws its own small arrow over the text's last
        # characters instead of beside them (Fusion: over the ")" of "Links (10)"), so that one is hidden.
        self.setText(f"Links ({len(links)}) \u25be")
        self.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        self.setAccessibleName("Links in these details")
        self.setToolTip("Open one of the web pages these details mention")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        menu = QMenu(self)
        for text, url in links:
            a = QAction(f"{text} \u2014 {url}" if text != url else url, menu)
            a.setData(url)
            a.triggered.connect(lambda _checked=False, u=url: open_link(self.window(), u))
            menu.addAction(a)
        self.setMenu(menu)
