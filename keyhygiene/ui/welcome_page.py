"""First run: check the keychain (and say how to fix it), then offer the three ways to begin."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QCommandLinkButton, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from keyhygiene.service.types import KeychainState, KeychainStatus
from keyhygiene.ui import theme
from keyhygiene.ui.icons import action_icon, app_pixmap
from keyhygiene.ui.widgets import muted, wrap


class WelcomePage(QWidget):
    addRequested = Signal()
    scanRequested = Signal()
    demoRequested = Signal()
    recheckRequested = Signal()

    def __init__(self, parent: QWidget | None = None, *, scan_available: bool = True, demo_offered: bool = True):
        super().__init__(parent)
        self.setAccessibleName("Welcome")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        col = QVBoxLayout()
        col.setSpacing(10)
        logo = QLabel()
        logo.setPixmap(app_pixmap(96))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        logo.setAccessibleName("KeyHygiene logo")
        col.addWidget(logo)
        title = QLabel("Welcome to KeyHygiene")
        f = QFont(title.font())
        f.setBold(True)
        if f.pointSizeF() > 0:
            f.setPointSizeF(f.pointSizeF() * 1.8)
        title.setFont(f)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(title)
        sub = muted(wrap("Know what every exchange API key can do, who has it, and replace the ones you gave "
                         "away. Secrets stay in your operating system's keychain; nothing leaves this computer "
                         "except the read-only checks KeyHygiene asks each exchange.", self))
        sub.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(sub)

        self.keychain_box = QFrame(self)
        self.keychain_box.setObjectName("keychainBox")
        kb = QHBoxLayout(self.keychain_box)
        kb.setContentsMargins(14, 10, 14, 10)
        self.keychain_icon = QLabel()
        kb.addWidget(self.keychain_icon, 0, Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        self.keychain_title = QLabel("Checking the OS keychain\u2026")
        tf = QFont(self.keychain_title.font())
        tf.setBold(True)
        self.keychain_title.setFont(tf)
        self.keychain_text = wrap("", self.keychain_box, selectable=True)
        self.keychain_text.hide()
        texts.addWidget(self.keychain_title)
        texts.addWidget(self.keychain_text)
        kb.addLayout(texts, 1)
        self.recheck_button = QPushButton("Check again")
        self.recheck_button.setAccessibleName("Check the keychain again")
        self.recheck_button.clicked.connect(self.recheckRequested)
        self.recheck_button.hide()
        kb.addWidget(self.recheck_button, 0, Qt.AlignmentFlag.AlignTop)
        col.addSpacing(6)
        col.addWidget(self.keychain_box)
        col.addSpacing(6)

        self.add_button = self._link("add", "Add your first key",
                                     "Paste an API key and secret; they go straight into the keychain.")
        self.add_button.clicked.connect(self.addRequested)
        self.scan_button = self._link("scan", "Scan this computer for keys",
                                      "Find exchange keys lying in bot configs and .env files, and move them into "
                                      "the keychain.")
        self.scan_button.clicked.connect(self.scanRequested)
        self.scan_button.setEnabled(scan_available)
        if not scan_available:
            self.scan_button.setToolTip("The scanner is not part of this build.")
        self.demo_button = self._link("demo", "Try the demo",
                                      "Open KeyHygiene on sample keys and a simulated exchange: no keys, no "
                                      "network, nothing saved.")
        self.demo_button.clicked.connect(self.demoRequested)
        self.demo_button.setVisible(demo_offered)
        for b in (self.add_button, self.scan_button, self.demo_button):
            col.addWidget(b)

        row = QHBoxLayout()
        row.addStretch(1)
        box = QWidget()
        box.setLayout(col)
        box.setMaximumWidth(620)
        self._column = box
        row.addWidget(box, 10)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self._status: KeychainStatus | None = None
        self._paint_status()
        self._follow_font()

    def changeEvent(self, e: QEvent) -> None:  # noqa: N802 - Qt API
        if e.type() in (QEvent.Type.FontChange, QEvent.Type.ApplicationFontChange) and hasattr(self, "_column"):
            self._follow_font()
        super().changeEvent(e)

    def _follow_font(self) -> None:
        """QCommandLinkButton draws its title and description at a fixed 9 pt (Qt, outside Windows' Vista style)
        unless the button's own font names a size: give it the page's, so a 1.5x desktop font reaches the three
        choices too. The column widens with the font (620 px at the usual size)."""
        size = self.font().pointSizeF()
        if size > 0:
            for b in (self.add_button, self.scan_button, self.demo_button):
                f = QFont(b.font())
                f.setPointSizeF(size)
                b.setFont(f)
        self._column.setMaximumWidth(max(620, self.fontMetrics().averageCharWidth() * 88))

    def _link(self, icon: str, text: str, description: str) -> QCommandLinkButton:
        b = QCommandLinkButton(text, description)
        b.setIcon(action_icon(icon))
        b.setAccessibleName(text)
        b.setAccessibleDescription(description)
        b.setToolTip(description)
        return b

    def set_keychain_status(self, status: KeychainStatus | None) -> None:
        self._status = status
        self._paint_status()

    def _paint_status(self) -> None:
        st = self._status
        dark = theme.is_dark(self.palette())
        if st is None:
            color, icon = self.palette().color(QPalette.ColorRole.PlaceholderText), "lock"
            self.keychain_title.setText("Checking the OS keychain\u2026")
            self.keychain_text.hide()
            self.recheck_button.hide()
            self.add_button.setEnabled(False)
        elif st.state is KeychainState.AVAILABLE:
            color, icon = theme.severity_color("ok", dark), "check"
            self.keychain_title.setText(f"Keychain ready: {st.backend}")
            self.keychain_text.setText("New keys are stored there and nowhere else.")
            self.keychain_text.show()
            self.recheck_button.hide()
            self.add_button.setEnabled(True)
            self.add_button.setToolTip("")
        else:
            color, icon = theme.severity_color("critical", dark), "warning"
            state = {KeychainState.LOCKED: "is locked", KeychainState.REFUSED: "refused access",
                     KeychainState.UNAVAILABLE: "is not available"}.get(st.state, st.state.value)
            self.keychain_title.setText(f"The keychain {state} ({st.backend})")
            self.keychain_text.setText(st.message)
            self.keychain_text.show()
            self.recheck_button.show()
            self.add_button.setEnabled(False)
            self.add_button.setToolTip("Keys can only be stored once the keychain works (see above).")
        self.keychain_icon.setPixmap(action_icon(icon, color).pixmap(24, 24))
        self.keychain_box.setStyleSheet(
            f"#keychainBox {{ border: 1px solid {color.name()}; border-radius: 8px; }}"
        )
        self.keychain_box.setAccessibleName(self.keychain_title.text())
        self.keychain_box.setAccessibleDescription(self.keychain_text.text())
