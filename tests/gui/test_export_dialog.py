"""The Export dialog: every format from a real vault, the file name following the format, open-after-saving,
errors shown in place, an audit first when asked, and the main window's Export action."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from keyhygiene.core.models import Credentials
from keyhygiene.store.vault import ServiceRef, Vault
from keyhygiene.ui.export_dialog import ExportDialog, open_export
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.simkeys import make_key

XSS = "<script>alert(1)</script> bot"


@pytest.fixture
def stocked(vault: Vault, secret) -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    for ex, label in (("binance", XSS), ("kraken", "Tax key")):
        rec = vault.add_key(ex, label, Credentials(secret("AK", 32), secret("SK", 32)), purpose="bot",
                            shared_with=[ServiceRef("3commas", date(2022, 5, 1))])
        ids.append(rec.id)
    return ids


@pytest.fixture
def dialog(qtbot, gui_services) -> ExportDialog:  # type: ignore[no-untyped-def]
    gui_services.load_rows()
    dlg = ExportDialog(gui_services)
    qtbot.addWidget(dlg)
    dlg.opened: list[Path] = []  # type: ignore[attr-defined]
    dlg.opener = lambda p: dlg.opened.append(p) or True  # type: ignore[attr-defined, func-returns-value]
    dlg.open()
    return dlg


def save(qtbot, dlg: ExportDialog, fmt: str, path: Path) -> Path:  # type: ignore[no-untyped-def]
    dlg.set_format(fmt)
    dlg.path_edit.setText(str(path))
    with qtbot.waitSignal(dlg.reportSaved, timeout=WAIT_MS) as saved:
        dlg.save_button.click()
        assert dlg.isVisible()  # non-blocking: the click returned while the report is written
    assert saved.args == [str(path)]
    return path


@pytest.mark.parametrize("fmt", ["html", "pdf", "json", "csv"])
def test_every_format(qtbot, dialog: ExportDialog, stocked: list[str], data_dir: Path, fmt: str) -> None:
    # Inside the watched data dir: the session's leak check searches the reports for the test secrets.
    path = save(qtbot, dialog, fmt, data_dir / "exports" / f"r.{fmt}")
    data = path.read_bytes()
    if fmt == "json":
        assert [k["id"] for k in json.loads(data)["keys"]] == sorted(stocked, key=lambda i: stocked.index(i))
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
        assert {r["key_id"] for r in rows} == set(stocked)
    elif fmt == "html":
        text = data.decode("utf-8")
        assert "&lt;script&gt;alert(1)&lt;/script&gt; bot" in text and "<script>alert(1)" not in text
    else:
        assert data.startswith(b"%PDF")
    assert dialog.opened == [path]  # type: ignore[attr-defined]
    assert "Saved the report of 2 keys" in dialog.status.text()
    assert dialog.save_button.isEnabled() and not dialog.progress.isVisible()


def test_file_name_follows_the_format(dialog: ExportDialog, tmp_path: Path) -> None:
    dialog.path_edit.setText(str(tmp_path / "report.html"))
    dialog.set_format("csv")
    assert dialog.path_edit.text() == str(tmp_path / "report.csv")
    dialog.set_format("pdf")
    assert dialog.path_edit.text().endswith("report.pdf")
    dialog.path_edit.setText(str(tmp_path / "notes.txt"))  # the user's own extension is left alone
    dialog.set_format("json")
    assert dialog.path_edit.text().endswith("notes.txt")


def test_open_after_saving_can_be_turned_off(qtbot, dialog: ExportDialog, stocked: list[str],
                                              tmp_path: Path) -> None:
    dialog.open_check.setChecked(False)
    save(qtbot, dialog, "json", tmp_path / "r.json")
    assert dialog.opened == []  # type: ignore[attr-defined]


def test_an_unwritable_place_is_reported_in_the_dialog(qtbot, dialog: ExportDialog, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with qtbot.waitSignal(dialog.exportFailed, timeout=WAIT_MS) as failed:
        dialog.set_format("html")
        dialog.path_edit.setText(str(blocker / "r.html"))  # a file where a folder should be
        dialog.save_button.click()
    assert "could not be saved" in failed.args[0]
    assert dialog.isVisible() and dialog.status.text() == failed.args[0]
    assert dialog.save_button.isEnabled()


def test_empty_path_cannot_be_saved(dialog: ExportDialog) -> None:
    dialog.path_edit.setText("  ")
    assert not dialog.save_button.isEnabled()


def test_choose_opens_a_non_blocking_file_dialog(qtbot, dialog: ExportDialog, tmp_path: Path) -> None:
    dialog.set_format("csv")
    dialog.browse_button.click()
    fd = dialog.file_dialog
    assert fd is not None and fd.isVisible() and "*.csv" in fd.nameFilters()[0]
    fd.fileSelected.emit(str(tmp_path / "chosen.csv"))
    fd.reject()
    assert dialog.path_edit.text() == str(tmp_path / "chosen.csv")


def test_audit_first_when_asked(qtbot, vault: Vault, gui_services: Any, simulator: Any, data_dir: Path) -> None:
    key = make_key("binance", permissions={"read", "spot_trade"})
    sim = simulator([key])
    gui_services.endpoints = dict(sim.endpoints)
    kid = store(vault, key, "Checked just now")
    gui_services.load_rows()
    dlg = ExportDialog(gui_services)
    qtbot.addWidget(dlg)
    dlg.opener = lambda p: True
    dlg.open()
    dlg.refresh_check.setChecked(True)
    path = data_dir / "exports" / "fresh.json"
    assert vault.repo.latest_inspection(kid) is None
    save(qtbot, dlg, "json", path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["refreshed"] is True
    assert doc["keys"][0]["status"] == "ok" and doc["keys"][0]["checked_at"] is not None
    assert vault.repo.latest_inspection(kid) is not None


def test_main_window_export_action_opens_the_dialog(qtbot, make_window, stocked: list[str]) -> None:
    w = make_window()
    assert w.act_export.isEnabled()
    w.act_export.trigger()
    dialogs = [d for d in w.open_dialogs() if isinstance(d, ExportDialog)]
    assert len(dialogs) == 1 and dialogs[0].isVisible()
    dialogs[0].reject()


def test_plugin_entry_point_shows_without_blocking(qtbot, gui_services: Any) -> None:
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    dlg = open_export(parent, gui_services)
    assert dlg.isVisible() and dlg.parent() is parent
    dlg.reject()


def _activate(qtbot, dlg: ExportDialog) -> None:  # type: ignore[no-untyped-def]
    # Shortcuts and focus changes happen only in the active window.
    from PySide6.QtWidgets import QApplication

    dlg.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg, timeout=WAIT_MS)


def test_alt_s_goes_to_the_save_to_field(qtbot, dialog: ExportDialog) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QLabel

    labels = [lab for lab in dialog.findChildren(QLabel) if "Save to" in lab.text()]
    # addRow("&Save to:", layout) made a label without a buddy: a literal "&", and Alt+S did nothing.
    assert len(labels) == 1 and labels[0].buddy() is dialog.path_edit
    _activate(qtbot, dialog)
    dialog.format_box.setFocus()
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is dialog.path_edit


def test_an_existing_file_is_replaced_only_when_confirmed(qtbot, dialog: ExportDialog, stocked: list[str],
                                                          tmp_path: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    target = tmp_path / "mine.json"
    target.write_text("IMPORTANT OLD FILE")
    dialog.set_format("json")
    dialog.path_edit.setText(str(target))
    dialog.save_button.click()  # used to overwrite the file without a word
    box = dialog.confirm_box
    assert isinstance(box, QMessageBox) and box.isVisible() and "mine.json" in box.text()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    qtbot.keyClick(box, Qt.Key.Key_Return)  # Enter takes the safe answer
    assert dialog.confirm_box is None and not dialog._busy
    assert target.read_text() == "IMPORTANT OLD FILE"
    assert str(target) in dialog.status.text() and "left as it was" in dialog.status.text()
    assert dialog.focusWidget() is dialog.path_edit
    dialog.save_button.click()
    with qtbot.waitSignal(dialog.reportSaved, timeout=WAIT_MS):
        dialog.confirm_box.button(QMessageBox.StandardButton.Yes).click()  # type: ignore[union-attr]
    assert json.loads(target.read_text(encoding="utf-8"))["keys"]


def test_a_relative_name_is_saved_in_the_dialogs_folder(qtbot, dialog: ExportDialog, stocked: list[str],
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # wherever the app happened to be started from
    dialog.folder = tmp_path / "documents"
    dialog.folder.mkdir()
    dialog.open_check.setChecked(False)
    dialog.set_format("csv")
    dialog.path_edit.setText("relative-report.csv")
    expected = tmp_path / "documents" / "relative-report.csv"
    with qtbot.waitSignal(dialog.reportSaved, timeout=WAIT_MS) as saved:
        dialog.save_button.click()
    # Used to land in the working directory, and the message named only "relative-report.csv".
    assert saved.args == [str(expected)] and expected.is_file()
    assert not (elsewhere / "relative-report.csv").exists()
    assert f"to {expected}." in dialog.status.text()


def test_a_write_error_names_the_path_and_focuses_it(qtbot, dialog: ExportDialog, tmp_path: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    _activate(qtbot, dialog)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    target = blocker / "r.html"  # a file where a folder should be
    dialog.set_format("html")
    dialog.path_edit.setText(str(target))
    dialog.save_button.setFocus()
    with qtbot.waitSignal(dialog.exportFailed, timeout=WAIT_MS) as failed:
        qtbot.keyClick(dialog.save_button, Qt.Key.Key_Return)
    assert str(target) in failed.args[0] and "could not be saved" in failed.args[0]
    # Not the system's "File exists" or "Not a directory": which part of the path is in the way.
    assert f"{blocker} is a file, not a folder" in failed.args[0]
    # Focus used to be left on Close, so the next Enter closed the dialog; now it is on the path to fix.
    assert QApplication.focusWidget() is dialog.path_edit
    with qtbot.waitSignal(dialog.exportFailed, timeout=WAIT_MS):
        qtbot.keyClick(dialog.path_edit, Qt.Key.Key_Return)  # Enter saves again
    assert dialog.isVisible()


def test_a_file_chosen_in_the_file_dialog_is_not_asked_about_twice(qtbot, dialog: ExportDialog,
                                                                    stocked: list[str], tmp_path: Path) -> None:
    target = tmp_path / "chosen.csv"
    target.write_text("old")
    dialog.set_format("csv")
    dialog.browse_button.click()
    fd = dialog.file_dialog
    assert fd is not None
    fd.fileSelected.emit(str(target))  # the file dialog has asked "replace it?" already
    fd.reject()
    with qtbot.waitSignal(dialog.reportSaved, timeout=WAIT_MS):
        dialog.save_button.click()
    assert dialog.confirm_box is None and target.read_text() != "old"
