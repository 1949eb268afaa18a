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
