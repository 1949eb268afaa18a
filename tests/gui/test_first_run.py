"""First run: the welcome page checks the keychain and says how to fix it; offers the three ways in."""

from __future__ import annotations

import keyring.backends.fail
import pytest

from keyhygiene.store.keychain import KeychainState
from keyhygiene.ui.main_window import WELCOME_PAGE
from tests.helpers.gui import WAIT_MS
from tests.helpers.keyrings import LockedKeyring


def _with_backend(vault, monkeypatch, backend) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(vault.secrets, "_backend", backend)


def test_first_run_with_a_working_keychain(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = make_window()
    assert w.stack.currentIndex() == WELCOME_PAGE
    qtbot.waitUntil(lambda: w.services.keychain_status is not None, timeout=WAIT_MS)
    assert w.welcome.keychain_title.text().startswith("Keychain ready")
    assert w.welcome.add_button.isEnabled()
    assert w.welcome.demo_button.isVisibleTo(w.welcome)
    with qtbot.waitSignal(w.welcome.addRequested):
        w.welcome.add_button.click()


@pytest.mark.parametrize(("backend", "state", "words"), [
    (LockedKeyring(), KeychainState.LOCKED, "unlock"),
    (keyring.backends.fail.Keyring(), KeychainState.UNAVAILABLE, "Secret Service"),
])
def test_first_run_without_a_usable_keychain(vault, make_window, qtbot, monkeypatch, backend, state,
                                             words) -> None:  # type: ignore[no-untyped-def]
    _with_backend(vault, monkeypatch, backend)
    w = make_window()
    qtbot.waitUntil(lambda: w.services.keychain_status is not None, timeout=WAIT_MS)
    assert w.services.keychain_status.state is state
    assert not w.welcome.add_button.isEnabled()
    assert words.lower() in w.welcome.keychain_text.text().lower()  # how to fix it
    assert w.welcome.recheck_button.isVisibleTo(w.welcome)
    assert not w.act_add.isEnabled()
    assert "unavailable" in w.keychain_label.text() or "locked" in w.keychain_label.text()
    # Fixing the keychain and checking again enables adding keys.
    from keyhygiene.store.memory_keyring import MemoryKeyring

    _with_backend(vault, monkeypatch, MemoryKeyring())
    with qtbot.waitSignal(w.services.keychainChecked, timeout=WAIT_MS):
        w.welcome.recheck_button.click()
    assert w.welcome.add_button.isEnabled() and w.act_add.isEnabled()


def test_try_the_demo_starts_a_separate_process(make_window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QProcess

    started: list[list[str]] = []
    monkeypatch.setattr(QProcess, "startDetached", lambda prog, args: (started.append([prog, *args]) or (True, 1)))
    w = make_window()
    w.welcome.demo_button.click()
    assert started and started[0][-3:] == ["-m", "keyhygiene", "--demo"]


def test_a_keychain_that_does_not_answer_is_shown_in_the_status_bar_without_freezing(
    vault, make_window, qtbot, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # Issue 18 item 3: a stopped Secret Service daemon; the window keeps painting and then says so.
    import time

    from PySide6.QtCore import QTimer

    from keyhygiene.store import keychain
    from tests.helpers.keyrings import StuckKeyring

    stuck = StuckKeyring()
    monkeypatch.setattr(keychain, "KEYCHAIN_TIMEOUT_S", 0.5)
    _with_backend(vault, monkeypatch, stuck)
    try:
        ticks: list[float] = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start(10)
        started = time.monotonic()
        w = make_window()
        assert time.monotonic() - started < 0.5 + 5  # (building a window is slow on a busy CI box; a hang is not)
        qtbot.waitUntil(lambda: w.services.keychain_status is not None, timeout=WAIT_MS)
        timer.stop()
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        assert ticks and max(gaps, default=0) < 0.3, gaps  # the GUI thread never waited for the keychain
        assert "did not answer in 0.5 s" in w.keychain_label.text()
        assert not w.act_add.isEnabled()
    finally:
        stuck.release.set()
