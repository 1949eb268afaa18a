"""The scan window driven like a person would: scan, read the table, import, clean up a file, stop a scan."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from PySide6.QtWidgets import QMessageBox

from keyhygiene.core.discovery import ScanResult, plaintext_locations
from keyhygiene.exchanges import catalog
from keyhygiene.paths import app_paths
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.vault import Vault
from keyhygiene.ui import scan_dialog as scan_dialog_mod
from keyhygiene.ui.scan_dialog import COL_FILE, COL_STATUS, ScanDialog, open_scan
from keyhygiene.ui.services import Services
from tests.fixtures.discovery.trees import FixtureTree, build_fixture_tree
from tests.helpers.gui import make_services, stop_services

WAIT_MS = 20_000


@pytest.fixture
def tree(tmp_path: Path, secret) -> FixtureTree:  # type: ignore[no-untyped-def]
    return build_fixture_tree(tmp_path / "tree", secret)


def _services(vault: Vault) -> Iterator[Services]:
    svc = make_services(vault)
    try:
        yield svc
    finally:
        stop_services(svc)


@pytest.fixture
def services(vault: Vault) -> Iterator[Services]:
    yield from _services(vault)


@pytest.fixture
def services_with_backups(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[Services]:
    # Not leak-watched: clean-up backups are plaintext copies of the user's file by design.
    v = Vault(app_paths(tmp_path / "gui-data"), backend=memory_keyring, catalog=catalog)
    try:
        yield from _services(v)
    finally:
        v.close()


def _scan(qtbot, dlg: ScanDialog) -> ScanResult:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dlg.scanFinished, timeout=WAIT_MS) as sig:
        dlg.scan_button.click()
    return sig.args[0]  # type: ignore[no-any-return]


def _import(qtbot, dlg: ScanDialog) -> list[str]:  # type: ignore[no-untyped-def]
    """Click Import and say yes to the question it asks before storing anything."""
    dlg.import_button.click()
    qtbot.waitUntil(lambda: dlg.confirm_box is not None and dlg.confirm_box.isVisible(), timeout=WAIT_MS)
    with qtbot.waitSignal(dlg.keysImported, timeout=WAIT_MS) as sig:
        dlg.confirm_box.button(QMessageBox.StandardButton.Yes).click()  # type: ignore[union-attr]
    return sig.args[0]  # type: ignore[no-any-return]


def _cells(dlg: ScanDialog) -> list[list[str]]:
    t = dlg.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_scan_fills_the_table_masked(qtbot, services: Services, tree: FixtureTree) -> None:  # type: ignore[no-untyped-def]
    dlg = ScanDialog(services, [str(tree.root)])
    qtbot.addWidget(dlg)
    assert dlg.roots() == [str(tree.root)] and not dlg.import_button.isEnabled()
    result = _scan(qtbot, dlg)
    rows = _cells(dlg)
    assert len(rows) == len(tree.expected) == len(result.found)
    assert sorted(r[COL_FILE] for r in rows) == sorted(str(tree.path(e.rel)) for e in tree.expected)
    assert "Scan finished" in dlg.status.text() and dlg.progress.isHidden()
    everything = " ".join(" ".join(r) for r in rows) + dlg.status.text()
    everything += " ".join(dlg.table.item(r, 0).toolTip() for r in range(dlg.table.rowCount()))
    for s in tree.secrets:
        assert s not in everything
    assert dlg.import_button.isEnabled()
    dlg.select_row(0)
    assert dlg.advice.text()  # the selected finding's advice is shown


def test_import_stores_the_keys(qtbot, services: Services, tree: FixtureTree,  # type: ignore[no-untyped-def]
                                memory_keyring: MemoryKeyring) -> None:
    dlg = ScanDialog(services, [str(tree.root)])
    qtbot.addWidget(dlg)
    _scan(qtbot, dlg)
    ids = _import(qtbot, dlg)
    assert len(ids) == len(services.vault.list_keys()) == 7
    assert memory_keyring.entries()
    statuses = [r[COL_STATUS] for r in _cells(dlg)]
    assert sum(s.startswith("In vault") for s in statuses) == 7
    assert "7 keys stored" in dlg.message.text() and not dlg.import_button.isEnabled()
    assert {r.record.id for r in services.rows()} == set(ids)  # the main list follows
    assert set(plaintext_locations(services.vault)) == set(ids)


def test_import_asks_first_and_cancel_stores_nothing(qtbot, services: Services,  # type: ignore[no-untyped-def]
                                                     tree: FixtureTree) -> None:
    """Issue 20: Import asks before storing; the question names the keys by label, never by secret."""
    dlg = ScanDialog(services, [str(tree.path("mybot"))])
    qtbot.addWidget(dlg)
    _scan(qtbot, dlg)
    dlg.import_button.click()
    qtbot.waitUntil(lambda: dlg.confirm_box is not None and dlg.confirm_box.isVisible(), timeout=WAIT_MS)
    box = dlg.confirm_box
    assert box is not None and box.text() == "Store 2 keys in the OS keychain?"
    assert "mybot on Binance" in box.informativeText() and "mybot on OKX" in box.informativeText()
    for s in tree.secrets:
        assert s not in box.text() + box.informativeText()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert services.vault.list_keys() == [] and dlg.message.text() == "Nothing was imported."


def test_disabled_buttons_say_why(qtbot, services: Services, tree: FixtureTree) -> None:  # type: ignore[no-untyped-def]
    """Issue 20: a greyed-out Clean up explains itself, in a tooltip and in text a keyboard user can read."""
    dlg = ScanDialog(services, [str(tree.path("mybot"))])
    qtbot.addWidget(dlg)
    assert not dlg.import_button.isEnabled() and "Scan first" in dlg.import_button.toolTip()
    _scan(qtbot, dlg)
    assert not dlg.clean_button.isEnabled()
    assert "select a key" in dlg.clean_button.toolTip() and "select a key" in dlg.action_hint.text()
    dlg.select_row(0)
    assert not dlg.clean_button.isEnabled() and "import this key first" in dlg.clean_button.toolTip()
    _import(qtbot, dlg)
    dlg.select_row(0)
    assert dlg.clean_button.isEnabled() and dlg.clean_button.toolTip().startswith("Back the file up")
    assert "Import:" in dlg.import_button.toolTip() and "already in the vault" in dlg.import_button.toolTip()


def test_clean_up_after_confirmation(qtbot, services_with_backups: Services,  # type: ignore[no-untyped-def]
                                     tree: FixtureTree) -> None:
    services = services_with_backups
    env = tree.path("mybot/.env")
    dlg = ScanDialog(services, [str(env.parent)])
    qtbot.addWidget(dlg)
    _scan(qtbot, dlg)
    _import(qtbot, dlg)
    row = next(i for i, f in enumerate(dlg.found) if f.path == str(env))
    dlg.select_row(row)
    assert dlg.clean_button.isEnabled()

    # "Cancel" in the confirmation leaves the file alone
    original = env.read_bytes()
    dlg.clean_button.click()
    qtbot.waitUntil(lambda: dlg.confirm_box is not None and dlg.confirm_box.isVisible(), timeout=WAIT_MS)
    assert "git history" in dlg.confirm_box.informativeText()  # type: ignore[union-attr]
    dlg.confirm_box.button(QMessageBox.StandardButton.Cancel).click()  # type: ignore[union-attr]
    assert env.read_bytes() == original and "left as it was" in dlg.message.text()

    dlg.select_row(row)
    dlg.clean_button.click()
    qtbot.waitUntil(lambda: dlg.confirm_box is not None and dlg.confirm_box.isVisible(), timeout=WAIT_MS)
    with qtbot.waitSignal(dlg.fileCleaned, timeout=WAIT_MS):
        dlg.confirm_box.button(QMessageBox.StandardButton.Yes).click()  # type: ignore[union-attr]
    assert "BINANCE_API_KEY=\n" in env.read_text()
    assert "Backup:" in dlg.message.text() and "Rotate" in dlg.message.text()
    assert all(f.path != str(env) for f in dlg.found)
    assert all(str(env) not in p for p in plaintext_locations(services.vault).values())


def test_stop_a_running_scan(qtbot, services: Services, tree: FixtureTree,  # type: ignore[no-untyped-def]
                             monkeypatch: pytest.MonkeyPatch) -> None:
    started = threading.Event()

    def slow_scan(roots, *, vault, options, on_progress, should_stop):  # type: ignore[no-untyped-def]
        started.set()
        for _ in range(2000):
            if should_stop():
                return ScanResult(roots=list(roots), cancelled=True)
            threading.Event().wait(0.01)
        return ScanResult(roots=list(roots))

    monkeypatch.setattr(scan_dialog_mod.discovery, "scan", slow_scan)
    dlg = ScanDialog(services, [str(tree.root)])
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.scanFinished, timeout=WAIT_MS) as sig:
        dlg.scan_button.click()
        assert started.wait(5) and dlg.cancel_button.isEnabled() and not dlg.scan_button.isEnabled()
        dlg.cancel_button.click()
    assert sig.args[0].cancelled and "Scan stopped" in dlg.status.text()


def test_open_scan_plugin_starts_with_given_paths(qtbot, services: Services, tree: FixtureTree) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    dlg = open_scan(parent, services, paths=[str(tree.path("mybot"))])
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 2, timeout=WAIT_MS)
    assert dlg.isVisible()
    dlg.close()


def test_tab_leaves_the_results_table_for_the_actions(qtbot, services: Services, tree: FixtureTree) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    dlg = ScanDialog(services, [str(tree.root)])
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg)  # focus moves only in the active window
    _scan(qtbot, dlg)
    dlg.table.setFocus()
    dlg.select_row(0)
    qtbot.keyClick(dlg.table, Qt.Key.Key_Down)  # arrow keys still walk the rows
    assert dlg.table.currentRow() == 1 and QApplication.focusWidget() is dlg.table
    # Tab used to walk the cells, so Import, Clean up and Close were out of reach going forward.
    qtbot.keyClick(dlg.table, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dlg.import_button


def test_notes_take_their_texts_height_and_the_table_the_rest(qtbot, services: Services,  # type: ignore[no-untyped-def]
                                                              tree: FixtureTree) -> None:
    """Issue 20 (dead space): a word-wrapped note's own size hint assumes a narrow column and took three times
    the height its text needs, between empty bands; the table, which is what the window is for, got two rows."""
    dlg = ScanDialog(services, [str(tree.root)])
    qtbot.addWidget(dlg)
    dlg.show()
    _scan(qtbot, dlg)
    qtbot.wait(20)
    for note in (dlg.intro, dlg.action_hint):
        assert note.height() <= note.heightForWidth(note.width()) + 2, note.text()
    dlg.select_row(0)
    qtbot.wait(20)
    assert dlg.advice.height() >= dlg.advice.heightForWidth(dlg.advice.width())  # a longer text gets its room
    assert dlg.table.height() > dlg.height() // 3
