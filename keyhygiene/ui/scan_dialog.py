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

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
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
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from keyhygiene.core import discovery, redact
from keyhygiene.core.discovery import (
    CleanupPlan,
    CleanupResult,
    FoundKey,
    ImportOutcome,
    ScanProgress,
    ScanResult,
    confine,
)
from keyhygiene.core.discovery.importer import IMPORTED, RECORDED, label_for
from keyhygiene.core.exchange_facts import display_name
from keyhygiene.core.plural import plural
from keyhygiene.ui import theme
from keyhygiene.ui.callbacks import alive
from keyhygiene.ui.team_banner import READ_ONLY_WHY
from keyhygiene.ui.widgets import available_size, muted, wrap

if TYPE_CHECKING:
    from keyhygiene.ui.services import Services

log = logging.getLogger(__name__)

IMPORT_TIP = "Store every key found in {where} and record the file it came from"
CLEAN_TIP = "Back the file up, then remove the key from it (freqtrade configs, .env files)"
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
        # In the demo, writes are confined to its own folder (core.discovery.confine enforces it; this only explains).
        self.sandbox = confine.sandbox_of(services.vault)
        self.samples = getattr(services.vault.paths, "demo_samples", None)
        self.setWindowTitle("Scan for plaintext keys")
        self.setAccessibleName("Scan for plaintext keys")

        lay = QVBoxLayout(self)
        self.intro = muted(wrap(
            "Looks for exchange API keys in bot configs (freqtrade, OctoBot, Gunbot, Hummingbot, ccxt keys.json), "
            ".env files and the Cryptohopper CLI login. Files are read on this computer only; keys are shown "
            "masked.", self))
        lay.addWidget(self.intro)
        self.demo_note: QLabel | None = None
        if self.sandbox is not None:
            self.demo_note = wrap(
                "Demo: the folder below holds sample bot configs with made-up keys; scan, import and clean them "
                "up to see how it works. Your own folders can be scanned too, but the demo only reads them.", self)
            self.demo_note.setAccessibleName("Demo note")
            lay.addWidget(self.demo_note)

        self.folders = QListWidget(self)
        self.folders.setAccessibleName("Folders to scan")
        self.folders.setMaximumHeight(110)
        self.folders.addItems(paths or self.default_folders())
        folder_buttons = QHBoxLayout()
        self.add_folder_button = QPushButton("&Add folder\u2026", self)
        self.remove_folder_button = QPushButton("Re&move", self)
        self.defaults_button = QPushButton("&Demo samples" if self.samples else "&Usual places", self)
        self.add_folder_button.clicked.connect(self._on_add_folder_clicked)
        self.remove_folder_button.clicked.connect(self._on_remove_folder_clicked)
        self.defaults_button.clicked.connect(self._on_defaults_clicked)
        for b in (self.add_folder_button, self.remove_folder_button, self.defaults_button):
            folder_buttons.addWidget(b)
        folder_buttons.addStretch(1)
        self.scan_button = QPushButton("&Scan", self)
        self.scan_button.setDefault(True)
        self.cancel_button = QPushButton("S&top", self)
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
        self.import_button = QPushButton(f"&Import keys into {self.vault_place()}", self)
        self.clean_button = QPushButton("&Clean up file\u2026", self)
        self.import_button.clicked.connect(self._on_import_clicked)
        self.clean_button.clicked.connect(self._on_clean_clicked)
        actions.addWidget(self.import_button)
        actions.addWidget(self.clean_button)
        actions.addStretch(1)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        box.rejected.connect(self.reject)
        actions.addWidget(box)
        # Why Import or Clean up is greyed out, in words: a disabled button takes no focus, so a tooltip alone
        # would never reach a keyboard user.
        self.action_hint = muted(wrap("", self))
        self.action_hint.setAccessibleName("Why a button is unavailable")
        lay.addWidget(self.action_hint)
        lay.addLayout(actions)

        # Notes take the height of their text at the dialog's width (fitted on every resize); the space left goes
        # to the table. A word-wrapped label's own size hint assumes a narrow column and took three times that.
        self._notes = [n for n in (self.intro, self.demo_note, self.advice, self.message, self.action_hint)
                       if n is not None]
        for note in self._notes:
            note.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        # At least 860x560, more if a large font needs it, within the screen: squeezed below its minimum, the
        # layout gave the notes their narrowest-width heights and left the table two rows (issue 20).
        screen = available_size(self)
        self.resize(QSize(860, 560).expandedTo(self.sizeHint()).expandedTo(QSize(0, self.minimumSizeHint().height()
                                                                                   + 120)).boundedTo(screen))
        self._progressed.connect(self._on_progressed)
        services.backendChecked.connect(self._on_services_backend_checked)  # read-only, or writable again
        self._update_buttons()

    # ---- folders ------------------------------------------------------------------------------------------
    def default_folders(self) -> list[str]:
        """The usual bot folders; in the demo, its own sample tree (so nothing of the user's is offered)."""
        if self.samples is not None:
            return [str(self.samples)]
        return [str(r.path) for r in discovery.default_roots()]

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
        self.folders.addItems(self.default_folders())
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
        text = (f"{head}: {plural(s.files, 'file')} in {plural(s.dirs, 'folder')}, "
                f"{plural(len(self.found), 'key')} found.")
        if result.errors:
            text += f" {plural(len(result.errors), 'place')} could not be read."
        self._set_busy(False, text)
        self.scanFinished.emit(result)

    def _on_job_failed(self, exc: BaseException) -> None:
        self._set_busy(False, "")
        self._show_message(f"That did not work: {redact.scrub(exc)}", "high")

    # ---- results ------------------------------------------------------------------------------------------
    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.found))
        for row, f in enumerate(self.found):
            exchange = display_name(f.exchange) if f.exchange_known else f.exchange
            cells = (f.path, f.tool, exchange, f.fingerprint or "\u2014", status_text(f))
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

    def vault_place(self, long: bool = False) -> str:
        """Where Import stores keys, in words: the team vault (OpenBao), else the (demo's or the OS) keychain."""
        if self.services.app.is_team:
            return "the team vault"
        if not long:
            return "the keychain"
        if self.sandbox is not None:
            return "the demo's keychain, which lives in memory and is gone when the demo closes"
        return "the OS keychain"

    def _import_tip(self) -> str:
        place = self.vault_place(long=self.sandbox is None)  # the demo's long explanation is for the question
        return IMPORT_TIP.format(where=place)

    def writable(self, f: FoundKey) -> bool:
        return confine.may_write(f.path, self.services.vault)

    def importable(self) -> list[FoundKey]:
        return [f for f in self.found if f.importable and not f.in_vault and self.writable(f)]

    # ---- import -------------------------------------------------------------------------------------------
    def _on_import_clicked(self) -> None:
        wanted = [f for f in self.found if f.importable]
        new = self.importable()
        if not wanted or not new or self._busy:
            return
        where = self.vault_place(long=True)
        names = "\n".join(f"\u2022 {label_for(f)} \u2014 {f.fingerprint or 'key'}" for f in new[:8])
        if len(new) > 8:
            names += f"\n\u2022 and {len(new) - 8} more"
        box = QMessageBox(QMessageBox.Icon.Question, "Import keys?", "", parent=self)
        box.setText(f"Store {plural(len(new), 'key')} in {where}?")
        box.setInformativeText(
            f"{names}\n\nThe files stay as they are: clean them up next, then rotate the keys, since the old "
            "values stay in backups and history.")
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        box.button(QMessageBox.StandardButton.Yes).setText("Import")
        box.finished.connect(lambda code, w=wanted: self._on_import_confirmed(code, w))
        self.confirm_box = box
        box.open()

    def _on_import_confirmed(self, code: int, wanted: list[FoundKey]) -> None:
        self.confirm_box = None
        if code != QMessageBox.StandardButton.Yes:
            self._show_message("Nothing was imported.", "info")
            return
        self._set_busy(True, f"Storing keys in {self.vault_place()}\u2026")
        # The key list is read again in the same job, and shown even if this window is closed meanwhile.
        app = self.services.app
        self.services.write_then_reload(lambda: app.import_found(wanted), on_done=self._on_imported,
                                        on_error=self._on_job_failed, context=self)

    def _on_imported(self, outcomes: list[ImportOutcome]) -> None:
        stored = [o for o in outcomes if o.action == IMPORTED]
        recorded = [o for o in outcomes if o.action == RECORDED]
        skipped = [o for o in outcomes if o.key_id is None]
        self._fill_table()
        self._set_busy(False, "")
        parts = [f"{plural(len(stored), 'key')} stored in {self.vault_place()}"]
        if recorded:
            parts.append(f"{len(recorded)} already stored (file recorded)")
        if skipped:
            parts.append(f"{len(skipped)} skipped: " + "; ".join(sorted({o.message.rstrip('.') for o in skipped})))
        self._show_message(". ".join(parts) + ". Clean up the files next, then rotate the keys.", "info")
        self.keysImported.emit(sorted({o.key_id for o in outcomes if o.key_id}))

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
        self.services.write_then_reload(lambda: app.clean_file(plan, confirm=lambda _p: True),
                                        on_done=self._on_cleaned, on_error=self._on_job_failed, context=self)

    def _on_cleaned(self, result: CleanupResult) -> None:
        self._set_busy(False, "")
        self._show_message(
            f"Cleaned {result.path}: emptied {', '.join(result.cleared)}. Backup: {result.backup}. "
            f"{result.instructions} {result.warning}", "medium")
        # The file no longer holds the keys: drop its rows rather than rescanning everything.
        self.found = [f for f in self.found if f.path != result.path]
        self._fill_table()
        self.fileCleaned.emit(result.path)

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
        import_why = self.import_blocker()
        self.import_button.setEnabled(not busy and import_why is None)
        # The backend can change under an open window (team connect or disconnect): say where keys go now.
        self.import_button.setText(f"&Import keys into {self.vault_place()}")
        self.import_button.setToolTip(import_why or self._import_tip())
        clean_why = self.clean_blocker(self.selected())
        self.clean_button.setEnabled(not busy and clean_why is None)
        self.clean_button.setToolTip(clean_why or CLEAN_TIP)
        hints = [] if busy else [w for w in (import_why if self.found else None, clean_why) if w]
        self.action_hint.setText(" ".join(dict.fromkeys(hints)))
        self._fit_notes()  # advice, hint and message may have changed
        self.action_hint.setVisible(bool(hints))

    def _on_services_backend_checked(self, _reason: object) -> None:
        self._update_buttons()

    def import_blocker(self) -> str | None:
        """Why Import is unavailable, or None when it is not."""
        if not self.found:
            return "Scan first: Import stores the keys the scan finds."
        if self.services.offline is not None:
            return "Import: " + READ_ONLY_WHY
        if self.importable():
            return None
        if any(f.importable and not f.in_vault and not self.writable(f) for f in self.found):
            return "Import: " + confine.DEMO_REFUSAL
        return "Import: every key found is already in the vault or cannot be imported (see its status)."

    def clean_blocker(self, f: FoundKey | None) -> str | None:
        """Why Clean up is unavailable for the selected row, or None when it is not."""
        if not self.found:
            return None
        if self.services.offline is not None:  # cleaning records the file against its key in the vault
            return "Clean up: " + READ_ONLY_WHY
        if f is None:
            return "Clean up: select a key in the table to clean up the file it was found in."
        if not self.writable(f):
            return "Clean up: " + confine.DEMO_REFUSAL
        if not f.cleanable:
            return (f"Clean up: KeyHygiene can clean freqtrade configs and .env files; this {f.tool} file has to be "
                    "changed by hand.")
        if not f.in_vault:
            return "Clean up: import this key first, or cleaning would leave it only in a backup."
        return None

    def _show_message(self, text: str, severity: str) -> None:
        self.message.setText(text)
        self._fit_notes()
        pal = self.message.palette()
        pal.setColor(self.message.foregroundRole(), theme.severity_color(severity))
        self.message.setPalette(pal)

    def _fit_notes(self) -> None:
        lay = self.layout()
        m = lay.contentsMargins() if lay is not None else None
        width = self.width() - (m.left() + m.right() if m is not None else 0)
        for note in getattr(self, "_notes", ()):
            note.setFixedHeight(note.heightForWidth(width) if note.text() else 0)

    def resizeEvent(self, e: QResizeEvent) -> None:
        self._fit_notes()
        super().resizeEvent(e)

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
