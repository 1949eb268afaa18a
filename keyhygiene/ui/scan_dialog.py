"""The plaintext-key scanner window: choose folders, scan with progress, import what was found, clean up files.

All work (walking folders, reading files, keychain writes, rewriting a file) runs on the services' task pool; this
window only renders ``keyhygiene.core.discovery`` results, which carry masked fingerprints, never secrets.
Plugged into the main window through ``keyhygiene.ui.plugins`` (``open_scan``).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from keyhygiene.core import discovery, redact
from keyhygiene.core.discovery import CleanupPlan, CleanupResult, FoundKey, ImportOutcome, ScanProgress, ScanResult
from keyhygiene.core.discovery.importer import IMPORTED, RECORDED
from keyhygiene.ui import theme
from keyhygiene.ui.callbacks import alive
from keyhygiene.ui.widgets import muted, wrap

if TYPE_CHECKING:
    from keyhygiene.ui.services import Services

log = logging.getLogger(__name__)

COLUMNS = ("File", "Tool", "Exchange", "Key", "Status")
COL_FILE, COL_TOOL, COL_EXCHANGE, COL_KEY, COL_STATUS = range(len(COLUMNS))


def status_text(f: FoundKey) -> str:
    if f.protected:
        return "Protected (encrypted with a password)"
    if f.in_vault:
        return f"In vault ({f.in_vault})"
    if f.kind != "exchange-key":
        return "Service token"
    if not f.importable:
        return "Not importable"
    return "Not in vault"


class ScanDialog(QDialog):
    scanFinished = Signal(object)  # ScanResult
    keysImported = Signal(list)  # ids of keys stored or recorded
    fileCleaned = Signal(str)  # path
    _progressed = Signal(object)  # ScanProgress, emitted from the worker thread (queued to the GUI thread)

    def __init__(self, services: Services, paths: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.last_result: ScanResult | None = None
        self.found: list[FoundKey] = []
        self._cancel = threading.Event()
        self._busy = False
        self.confirm_box: QMessageBox | None = None
        self.setWindowTitle("Scan for plaintext keys")
        self.setAccessibleName("Scan for plaintext keys")
        self.resize(860, 560)

        lay = QVBoxLayout(self)
        lay.addWidget(muted(wrap(
            "Looks for exchange API keys in bot configs (freqtrade, OctoBot, Gunbot, Hummingbot, ccxt keys.json), "
            ".env files and the Cryptohopper CLI login. Files are read on this computer only; keys are shown "
            "masked.", self)))

        self.folders = QListWidget(self)
        self.folders.setAccessibleName("Folders to scan")
        self.folders.setMaximumHeight(110)
        self.folders.addItems(paths or [str(r.path) for r in discovery.default_roots()])
        folder_buttons = QHBoxLayout()
        self.add_folder_button = QPushButton("Add folder\u2026", self)
        self.remove_folder_button = QPushButton("Remove", self)
        self.defaults_button = QPushButton("Usual places", self)
        self.add_folder_button.clicked.connect(self._on_add_folder_clicked)
        self.remove_folder_button.clicked.connect(self._on_remove_folder_clicked)
        self.defaults_button.clicked.connect(self._on_defaults_clicked)
        for b in (self.add_folder_button, self.remove_folder_button, self.defaults_button):
            folder_buttons.addWidget(b)
        folder_buttons.addStretch(1)
        self.scan_button = QPushButton("Scan", self)
        self.scan_button.setDefault(True)
        self.cancel_button = QPushButton("Stop", self)
        self.cancel_button.setEnabled(False)
        self.scan_button.clicked.connect(self.start_scan)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        folder_buttons.addWidget(self.scan_button)
        folder_buttons.addWidget(self.cancel_button)
        lay.addWidget(self.folders)
        lay.addLayout(folder_buttons)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)  # busy: the number of files is not known in advance
        self.progress.setAccessibleName("Scan progress")
        self.progress.hide()
        self.status = QLabel("", self)
        self.status.setAccessibleName("Scan status")
        lay.addWidget(self.progress)
        lay.addWidget(self.status)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setAccessibleName("Keys found")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Tab goes on to the advice and the Import / Clean up / Close buttons; arrow keys move between rows.
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_FILE, QHeaderView.ResizeMode.Stretch)
        for c in (COL_TOOL, COL_EXCHANGE, COL_KEY, COL_STATUS):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        lay.addWidget(self.table, 1)

        self.advice = wrap("", self, selectable=True)
        self.advice.setAccessibleName("Advice")
        lay.addWidget(self.advice)
        self.message = wrap("", self, selectable=True)
        self.message.setAccessibleName("Outcome")
        lay.addWidget(self.message)

        actions = QHBoxLayout()
        self.import_button = QPushButton("Import keys into the keychain", self)
        self.import_button.setToolTip("Store every key found in the OS keychain and record the file it came from")
        self.clean_button = QPushButton("Clean up file\u2026", self)
        self.clean_button.setToolTip("Back the file up, then remove the key from it (freqtrade configs, .env files)")
        self.import_button.clicked.connect(self._on_import_clicked)
        self.clean_button.clicked.connect(self._on_clean_clicked)
        actions.addWidget(self.import_button)
        actions.addWidget(self.clean_button)
        actions.addStretch(1)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        box.rejected.connect(self.reject)
        actions.addWidget(box)
        lay.addLayout(actions)

        self._progressed.connect(self._on_progressed)
        self._update_buttons()

    # ---- folders ------------------------------------------------------------------------------------------
    def roots(self) -> list[str]:
        return [self.folders.item(i).text() for i in range(self.folders.count())]

    def _on_add_folder_clicked(self) -> None:
        picker = QFileDialog(self, "Folder to scan", str(Path.home()))
        picker.setFileMode(QFileDialog.FileMode.Directory)
        picker.setOption(QFileDialog.Option.ShowDirsOnly, True)
        picker.fileSelected.connect(self.add_folder)
        picker.open()

    def add_folder(self, path: str) -> None:
        if path and path not in self.roots():
            self.folders.addItem(path)
        self._update_buttons()

    def _on_remove_folder_clicked(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))
        self._update_buttons()

    def _on_defaults_clicked(self) -> None:
        self.folders.clear()
        self.folders.addItems([str(r.path) for r in discovery.default_roots()])
        self._update_buttons()

    # ---- scanning -----------------------------------------------------------------------------------------
    def start_scan(self) -> None:
        if self._busy or not self.roots():
            return
        self._cancel.clear()
        self._set_busy(True, "Scanning\u2026")
        self.message.clear()
        self.services.pool.submit(self._scan_job, self.roots(), on_done=self._on_scan_done,
                                  on_error=self._on_job_failed, context=self)

    def _scan_job(self, roots: list[str]) -> ScanResult:
        return self.services.app.scan(roots, on_progress=self._report_progress, should_stop=self._cancel.is_set)

    def _report_progress(self, p: ScanProgress) -> None:
        """Called on the worker thread; the signal is queued to the GUI thread."""
        if self._cancel.is_set() or not alive(self):
            return
        try:
            self._progressed.emit(p)
        except RuntimeError:  # the window was deleted between the check and the emit
            self._cancel.set()

    def _on_progressed(self, p: ScanProgress) -> None:
        if self._busy:
            self.status.setText(f"Scanning\u2026 {p.files:,} files in {p.dirs:,} folders, {p.found} keys so far")

    def _on_cancel_clicked(self) -> None:
        self._cancel.set()
        self.status.setText("Stopping\u2026")

    def _on_scan_done(self, result: ScanResult) -> None:
        self.last_result = result
        self.found = list(result.found)
        self._fill_table()
        s = result.stats
        head = "Scan stopped" if result.cancelled else "Scan finished"
        text = (f"{head}: {s.files:,} files in {s.dirs:,} folders, {len(self.found)} "
                f"key{'s' if len(self.found) != 1 else ''} found.")
        if result.errors:
            text += f" {len(result.errors)} place(s) could not be read."
        self._set_busy(False, text)
        self.scanFinished.emit(result)

    def _on_job_failed(self, exc: BaseException) -> None:
        self._set_busy(False, "")
        self._show_message(f"That did not work: {redact.scrub(exc)}", "high")

    # ---- results ------------------------------------------------------------------------------------------
    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.found))
        for row, f in enumerate(self.found):
            cells = (f.path, f.tool, f.exchange, f.fingerprint or "\u2014", status_text(f))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{f.path}\nFields: {', '.join(f.fields)}")
                if col == COL_STATUS and not f.in_vault and not f.protected:
                    item.setForeground(theme.severity_color("high"))
                self.table.setItem(row, col, item)
        self._on_table_selection_changed()

    def selected(self) -> FoundKey | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.found[rows.pop()] if len(rows) == 1 else None

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _on_table_selection_changed(self) -> None:
        f = self.selected()
        self.advice.setText(f"{', '.join(f.fields)} \u2014 {f.advice}" if f else "")
        self._update_buttons()

    def importable(self) -> list[FoundKey]:
        return [f for f in self.found if f.importable and not f.in_vault]

    # ---- import -------------------------------------------------------------------------------------------
    def _on_import_clicked(self) -> None:
        wanted = [f for f in self.found if f.importable]
        if not wanted or self._busy:
            return
        self._set_busy(True, "Storing keys in the keychain\u2026")
        self.services.pool.submit(self.services.app.import_found, wanted, on_done=self._on_imported,
                                  on_error=self._on_job_failed, context=self)

    def _on_imported(self, outcomes: list[ImportOutcome]) -> None:
        stored = [o for o in outcomes if o.action == IMPORTED]
        recorded = [o for o in outcomes if o.action == RECORDED]
        skipped = [o for o in outcomes if o.key_id is None]
        self._fill_table()
        self._set_busy(False, "")
        parts = [f"{len(stored)} key{'s' if len(stored) != 1 else ''} stored in the keychain"]
        if recorded:
            parts.append(f"{len(recorded)} already stored (file recorded)")
        if skipped:
            parts.append(f"{len(skipped)} skipped: " + "; ".join(sorted({o.message for o in skipped})))
        self._show_message(". ".join(parts) + ". Clean up the files next, then rotate the keys.", "info")
        imported = sorted({o.key_id for o in outcomes if o.key_id})
        self.services.reload_in_background(lambda: self.keysImported.emit(imported))

    # ---- clean-up -----------------------------------------------------------------------------------------
    def _on_clean_clicked(self) -> None:
        f = self.selected()
        if f is None or self._busy:
            return
        self._set_busy(True, "Checking the file\u2026")
        self.services.pool.submit(self.services.app.plan_cleanup, f.path,
                                  on_done=self._on_plan_ready, on_error=self._on_job_failed, context=self)

    def _on_plan_ready(self, plan: CleanupPlan) -> None:
        self._set_busy(False, "")
        box = QMessageBox(QMessageBox.Icon.Warning, "Clean up this file?", "", parent=self)
        box.setText(f"Remove the keys from {plan.path.name}?")
        box.setInformativeText(
            f"{plan.describe()}\n\nA copy of the file goes to KeyHygiene's backups folder first (readable only by "
            f"you). {plan.instructions}\n\n{discovery.cleanup.ROTATE_WARNING}"
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda code, p=plan: self._on_confirm_finished(code, p))
        self.confirm_box = box
        box.open()

    def _on_confirm_finished(self, code: int, plan: CleanupPlan) -> None:
        self.confirm_box = None
        if code != QMessageBox.StandardButton.Yes:
            self._show_message(f"{plan.path} was left as it was.", "info")
            return
        self._set_busy(True, "Cleaning up\u2026")
        app = self.services.app
        self.services.pool.submit(
            lambda: app.clean_file(plan, confirm=lambda _p: True),
            on_done=self._on_cleaned, on_error=self._on_job_failed, context=self,
        )

    def _on_cleaned(self, result: CleanupResult) -> None:
        self._set_busy(False, "")
        self._show_message(
            f"Cleaned {result.path}: emptied {', '.join(result.cleared)}. Backup: {result.backup}. "
            f"{result.instructions} {result.warning}", "medium")
        self.services.reload_in_background(lambda: self.fileCleaned.emit(result.path))
        # The file no longer holds the keys: drop its rows rather than rescanning everything.
        self.found = [f for f in self.found if f.path != result.path]
        self._fill_table()

    # ---- state --------------------------------------------------------------------------------------------
    def _set_busy(self, busy: bool, text: str) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        self.status.setText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self._busy
        self.scan_button.setEnabled(not busy and self.folders.count() > 0)
        self.cancel_button.setEnabled(busy)
        for b in (self.add_folder_button, self.remove_folder_button, self.defaults_button):
            b.setEnabled(not busy)
        self.import_button.setEnabled(not busy and bool(self.importable()))
        f = self.selected()
        self.clean_button.setEnabled(not busy and f is not None and f.cleanable and bool(f.in_vault))

    def _show_message(self, text: str, severity: str) -> None:
        self.message.setText(text)
        pal = self.message.palette()
        pal.setColor(self.message.foregroundRole(), theme.severity_color(severity))
        self.message.setPalette(pal)

    def done(self, result: int) -> None:
        self._cancel.set()  # a running scan stops at the next folder; its result is dropped (context is gone)
        super().done(result)


def open_scan(parent: QWidget, services: Services, paths: list[str] | None = None) -> ScanDialog:
    """Plugin entry (keyhygiene.ui.plugins): show the scanner without blocking; scan at once if given paths."""
    dlg = ScanDialog(services, paths, parent)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    if paths:
        dlg.start_scan()
    return dlg
