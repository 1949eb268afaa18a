"""Copying key material the way password managers do.

The copied value is marked with ``x-kde-passwordManagerHint: secret`` (KDE's Klipper and most clipboard
managers then keep it out of their history) and cleared after a delay, but only if the clipboard still holds
what we put there: a user who copied something else meanwhile keeps it. Only a digest of the value is kept here.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QObject, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication

PASSWORD_HINT_MIME = "x-kde-passwordManagerHint"
DEFAULT_CLEAR_SECONDS = 20


def _digest(text: str) -> str:
    import hashlib  # on first copy: its OpenSSL set-up would cost the window's first frame ~3 ms

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class SecureClipboard(QObject):
    copied = Signal(str)  # what was copied, in words ("API key of Binance main")
    cleared = Signal()

    def __init__(self, clear_seconds: int = DEFAULT_CLEAR_SECONDS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clear_seconds = clear_seconds
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._owned: str | None = None

    @property
    def _clipboard(self) -> QClipboard:
        return QGuiApplication.clipboard()

    def copy(self, text: str, description: str, *, secret: bool = True) -> None:
        mime = QMimeData()
        mime.setText(text)
        if secret:
            mime.setData(PASSWORD_HINT_MIME, b"secret")
        self._clipboard.setMimeData(mime)
        self._owned = _digest(text)
        if self.clear_seconds > 0:
            self._timer.start(self.clear_seconds * 1000)
        self.copied.emit(description)

    @property
    def pending(self) -> bool:
        return self._owned is not None

    def remaining_ms(self) -> int:
        return self._timer.remainingTime() if self._timer.isActive() else 0

    def clear_now(self) -> bool:
        """Clear if the clipboard still holds our value (also called when the app quits)."""
        self._timer.stop()
        owned, self._owned = self._owned, None
        if owned is None:
            return False
        if _digest(self._clipboard.text()) != owned:
            return False
        self._clipboard.clear()
        self.cleared.emit()
        return True

    def _on_timer_timeout(self) -> None:
        self.clear_now()
