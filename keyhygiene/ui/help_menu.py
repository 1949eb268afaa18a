"""The Help menu: the offline user guide (resources/help/guide.html, opened in the browser) and About.

The guide is a plain HTML file shipped with the app, so it works without a network and reads the same in any
browser. If no browser can be started, the guide is shown in a window of the app instead, which says why.
"""

from __future__ import annotations

import importlib.metadata
import platform
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QTextBrowser, QVBoxLayout, QWidget

from keyhygiene import APP_NAME, __version__
from keyhygiene.paths import resource
from keyhygiene.ui import links
from keyhygiene.ui.widgets import muted, wrap


def guide_path() -> Path:
    return resource("help", "guide.html")


def versions() -> list[tuple[str, str]]:
    """What a bug report needs. ccxt's version comes from its metadata: importing it costs ~800 modules."""
    import PySide6
    from PySide6.QtCore import qVersion

    try:
        ccxt_version = importlib.metadata.version("ccxt")
    except importlib.metadata.PackageNotFoundError:
        ccxt_version = "not installed"
    return [(APP_NAME, __version__), ("Python", platform.python_version()), ("Qt", qVersion()),
            ("PySide6", PySide6.__version__), ("ccxt", ccxt_version)]


class GuideDialog(QDialog):
    """The guide inside the app, for when no browser opens. Links to web pages still go to the browser."""

    def __init__(self, parent: QWidget | None = None, note: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME} user guide")
        self.setAccessibleName("User guide")
        self.resize(760, 640)
        lay = QVBoxLayout(self)
        self.note = muted(wrap(note, self, selectable=True))
        self.note.setVisible(bool(note))
        lay.addWidget(self.note)
        self.browser = QTextBrowser(self)
        self.browser.setOpenLinks(False)  # in-page anchors are followed below; the web goes to the browser
        self.browser.anchorClicked.connect(self._on_browser_anchor_clicked)
        self.browser.setSearchPaths([str(guide_path().parent)])
        self.browser.setHtml(guide_path().read_text(encoding="utf-8"))
        lay.addWidget(self.browser, 1)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        box.rejected.connect(self.reject)
        lay.addWidget(box)

    def _on_browser_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https"):
            links.open_link(self, url.toString())
        elif url.hasFragment():
            self.browser.scrollToAnchor(url.fragment())


def open_guide(parent: QWidget | None) -> bool:
    """Open the guide in the browser; when that fails, show it here and say so. True if the browser opened it."""
    path = guide_path()
    if links.opener(QUrl.fromLocalFile(str(path))):
        return True
    dlg = GuideDialog(parent, note=f"Your web browser could not be opened, so the guide is shown here. It is also "
                                   f"the file {path}.")
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    dlg.setObjectName("guideDialog")
    dlg.show()
    return False


def about_box(parent: QWidget | None, pixmap: object | None = None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("aboutBox")
    box.setWindowTitle(f"About {APP_NAME}")
    if pixmap is not None:
        box.setIconPixmap(pixmap)  # type: ignore[arg-type]
    box.setText(f"<b>{APP_NAME} {__version__}</b>")
    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;{version}</td></tr>" for name, version in versions()[1:])
    box.setInformativeText(
        "Know what every exchange API key can do, who has it, and rotate the ones you gave away. Secrets stay in "
        f"the OS keychain.<br><br><table>{rows}</table>")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return box
