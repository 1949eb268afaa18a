"""Copied key material is marked for clipboard managers and cleared after the delay, if it is still ours."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from keyhygiene.ui.clipboard import PASSWORD_HINT_MIME, SecureClipboard
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.simkeys import make_key


def test_copy_marks_and_clears(qapp, qtbot, secret) -> None:  # type: ignore[no-untyped-def]
    cb = SecureClipboard(clear_seconds=1)
    value = secret("AK", 24)
    with qtbot.waitSignal(cb.cleared, timeout=WAIT_MS):
        cb.copy(value, "API key")
        mime = QGuiApplication.clipboard().mimeData()
        assert mime.text() == value
        assert bytes(mime.data(PASSWORD_HINT_MIME)) == b"secret"
        assert cb.pending
    assert QGuiApplication.clipboard().text() == ""
    assert not cb.pending


def test_does_not_clear_what_the_user_copied_since(qapp, qtbot, secret) -> None:  # type: ignore[no-untyped-def]
    cb = SecureClipboard(clear_seconds=1)
    cb.copy(secret("AK", 24), "API key")
    QGuiApplication.clipboard().setText("my shopping list")
    qtbot.waitUntil(lambda: not cb.pending, timeout=WAIT_MS)
    assert QGuiApplication.clipboard().text() == "my shopping list"


def test_default_delay_is_twenty_seconds(qapp) -> None:  # type: ignore[no-untyped-def]
    cb = SecureClipboard()
    assert cb.clear_seconds == 20
    cb.copy("kabc1234", "key id", secret=False)
    assert cb._timer.interval() == 20_000 and cb.remaining_ms() > 0
    assert cb.clear_now() and QGuiApplication.clipboard().text() == ""


def test_copy_api_key_from_the_window(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    key = make_key("binance")
    kid = store(vault, key, "Copy me")
    w = make_window()
    w.clipboard.clear_seconds = 1
    w.select_key(kid)
    with qtbot.waitSignal(w.clipboard.copied, timeout=WAIT_MS):
        w.detail.copy_key_button.click()
    assert QGuiApplication.clipboard().text() == key.api_key
    assert "clears in" in w.clip_label.text()
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == "", timeout=WAIT_MS)
    # Closing the window clears a pending copy too.
    w.clipboard.clear_seconds = 60
    with qtbot.waitSignal(w.clipboard.copied, timeout=WAIT_MS):
        w.act_copy_id.trigger()
    assert QGuiApplication.clipboard().text() == kid
    w.close()
    assert QGuiApplication.clipboard().text() == ""


def test_reveal_shows_the_api_key_then_masks_it(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    key = make_key("okx")
    kid = store(vault, key, "Reveal me")
    w = make_window()
    w.services.prefs.reveal_seconds = 1
    w.select_key(kid)
    masked = w.detail.key_label.text()
    assert key.api_key not in masked
    w.detail.reveal_button.click()
    qtbot.waitUntil(lambda: w.detail.key_label.text() == key.api_key, timeout=WAIT_MS)
    assert w.detail.revealed
    # The shown key cannot be selected (Ctrl+C would bypass the clearing clipboard); the masked one can.
    assert w.detail.key_label.textInteractionFlags() == Qt.TextInteractionFlag.NoTextInteraction
    qtbot.waitUntil(lambda: w.detail.key_label.text() == masked, timeout=WAIT_MS)
    assert not w.detail.revealed
    assert w.detail.key_label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
