"""Export the hygiene report from the app: choose a format and a file, optionally audit first, open it after.

The dialog never blocks: it is shown with ``open()``, the file chooser too, and the report is built and written on
the services' task pool (the PDF included: QTextDocument and QPdfWriter work off the GUI thread). It reports through
``reportSaved(path)`` or ``exportFailed(message)``. Plugged into the main window by ``keyhygiene.ui.plugins``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from keyhygiene.core import redact
from keyhygiene.core.timeutil import utcnow
from keyhygiene.ui.widgets import available_size, muted, wrap

if TYPE_CHECKING:
    from keyhygiene.ui.services import Services

log = logging.getLogger(__name__)

# (format id, what the user sees, file-dialog filter)
FORMATS: tuple[tuple[str, str, str], ...] = (
    ("html", "HTML \u2014 a web page with charts, for reading and printing", "Web page (*.html *.htm)"),
    ("pdf", "PDF \u2014 a document to hand to a partner or an auditor", "PDF document (*.pdf)"),
    ("json", "JSON \u2014 every detail, for scripts", "JSON (*.json)"),
    ("csv", "CSV \u2014 one row per key, for spreadsheets", "CSV (*.csv)"),
)
SUFFIX = {"html": ".html", "pdf": ".pdf", "json": ".json", "csv": ".csv"}


def default_folder() -> Path:
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(docs) if docs else Path.home()


def open_with_system(path: Path) -> bool:
    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))


def write_report(services: Services, fmt: str, path: Path, refreshed: bool) -> Any:
    """Build the report from the vault and write it (runs on a worker thread). Returns the report."""
    from keyhygiene.core.report.output import write_text_report

    report = services.app.build_report(policy=services.policy, registry=services.registry, refreshed=refreshed)
    if fmt == "pdf":
        from keyhygiene.ui.report_pdf import write_pdf

        write_pdf(report, path)
    else:
        write_text_report(report, fmt, path)
    return report


class ExportDialog(QDialog):
    reportSaved = Signal(str)  # path of the written report
    exportFailed = Signal(str)  # what went wrong, for the user

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.opener: Callable[[Path], bool] = open_with_system  # tests swap this to keep browsers closed
        self.file_dialog: QFileDialog | None = None
        self.confirm_box: QMessageBox | None = None  # "Replace the existing file?", while it is asked
        self._replace_ok: Path | None = None  # chosen in the file dialog, which has asked about replacing it
        # Where the suggested file goes, and what a bare or relative file name is saved under: the process's
        # working directory (wherever the app was started from) is no place the user chose or can see.
        self.folder = default_folder()
        self._busy = False
        self._audit_slot: Callable[[Any], None] | None = None
        self.setWindowTitle("Export report")
        self.setAccessibleName("Export report")
        self.setMinimumWidth(560)

        lay = QVBoxLayout(self)
        lay.addWidget(muted(wrap(
            "A report of every stored key: overall score, findings with fixes, who each key was given to, rotation "
            "history and the policy used. Keys appear masked; no secret is ever written.", self)))

        form = QFormLayout()
        self.format_box = QComboBox(self)
        self.format_box.setAccessibleName("Format")
        for fmt, text, _filter in FORMATS:
            self.format_box.addItem(text, fmt)
        self.format_box.currentIndexChanged.connect(self._on_format_box_current_index_changed)
        form.addRow("&Format:", self.format_box)

        where = QHBoxLayout()
        self.path_edit = QLineEdit(self)
        self.path_edit.setAccessibleName("Save to")
        self.path_edit.textChanged.connect(self._update_buttons)
        self.browse_button = QPushButton("Choose\u2026", self)
        self.browse_button.clicked.connect(self._on_browse_button_clicked)
        where.addWidget(self.path_edit, 1)
        where.addWidget(self.browse_button)
        # A layout has no buddy: addRow("&Save to:", layout) shows the "&" and Alt+S goes nowhere.
        save_label = QLabel("&Save to:", self)
        save_label.setBuddy(self.path_edit)
        form.addRow(save_label, where)
        lay.addLayout(form)

        self.refresh_check = QCheckBox("Check every key with its exchange first (read-only)", self)
        self.refresh_check.setToolTip("Without this, the report uses the last audit's results and says how old "
                                      "they are.")
        self.open_check = QCheckBox("Open the report after saving", self)
        self.open_check.setChecked(True)
        lay.addWidget(self.refresh_check)
        lay.addWidget(self.open_check)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setAccessibleName("Export progress")
        self.progress.hide()
        self.status = QLabel("", self)
        self.status.setAccessibleName("Export status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # paths and messages are never markup
        lay.addWidget(self.progress)
        lay.addWidget(self.status)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.save_button = self.buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

        stamp = utcnow().strftime("%Y-%m-%d")
        self.path_edit.setText(str(self.folder / f"keyhygiene-report-{stamp}.html"))
        self._update_buttons()
        # Wide enough for the longest format's whole name ("HTML — a web page with charts, for reading and
        # printing") in the font it has: the fixed 560 px cut it to "…for reading an" at 1.5x the font.
        m = lay.contentsMargins()
        want = (save_label.sizeHint().width() + max(6, form.horizontalSpacing()) + self.format_box.sizeHint().width()
                + m.left() + m.right() + 8)
        self.setMinimumWidth(min(max(560, want), available_size(self).width()))

    # ---- choices ------------------------------------------------------------------------------------------------
    def current_format(self) -> str:
        return str(self.format_box.currentData())

    def set_format(self, fmt: str) -> None:
        self.format_box.setCurrentIndex(self.format_box.findData(fmt))

    def _on_format_box_current_index_changed(self, _index: int) -> None:
        # Keep the file name's extension in step with the format, so the file opens in the right program.
        text = self.path_edit.text().strip()
        if text:
            p = Path(text)
            if p.suffix.lower() in (".html", ".htm", ".pdf", ".json", ".csv", ""):
                self.path_edit.setText(str(p.with_suffix(SUFFIX[self.current_format()])))

    def _on_browse_button_clicked(self) -> None:
        fmt = self.current_format()
        dlg = QFileDialog(self, "Save the report as", self.path_edit.text())
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dlg.setNameFilter(next(f for k, _t, f in FORMATS if k == fmt))
        dlg.setDefaultSuffix(SUFFIX[fmt].lstrip("."))
        dlg.fileSelected.connect(self._on_file_dialog_file_selected)
        self.file_dialog = dlg
        dlg.open()

    def _on_file_dialog_file_selected(self, path: str) -> None:
        if path:
            self._replace_ok = Path(path)  # not asked twice
            self.path_edit.setText(path)

    def _update_buttons(self) -> None:
        self.save_button.setEnabled(not self._busy and bool(self.path_edit.text().strip()))
        for w in (self.format_box, self.path_edit, self.browse_button, self.refresh_check, self.open_check):
            w.setEnabled(not self._busy)

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        self.status.setText(message)
        self._update_buttons()

    # ---- export -------------------------------------------------------------------------------------------------
    def target(self) -> Path:
        """The file to write: the path as typed, a relative one taken as inside ``folder``."""
        target = Path(self.path_edit.text().strip()).expanduser()
        return target if target.is_absolute() else self.folder / target

    def export(self) -> None:
        """Save with the current choices (the Save button). Asks before replacing a file; audits first when asked."""
        if self._busy or self.confirm_box is not None:
            return
        target = self.target()
        if not self.path_edit.text().strip() or not target.name:
            self._fail("Choose where to save the report.")
            return
        if target.is_file() and target != self._replace_ok:
            self._confirm_replace(target)
            return
        self._start(target)

    def _confirm_replace(self, target: Path) -> None:
        # The app's confirmation style: non-blocking, and the safe answer is the default, so Enter keeps the file.
        box = QMessageBox(QMessageBox.Icon.Warning, "Replace file",
                          f"{target.name} already exists in {target.parent}. Replace it with the report?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setInformativeText("The file's current contents are lost.")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda result: self._on_confirm_box_finished(result, target))
        self.confirm_box = box
        box.open()

    def _on_confirm_box_finished(self, result: int, target: Path) -> None:
        self.confirm_box = None
        if result != QMessageBox.StandardButton.Yes:
            self.status.setText(f"Not saved: {target} was left as it was. Choose another name, or Save again to "
                                "replace it.")
            self._focus_path()
            return
        self._start(target)

    def _start(self, target: Path) -> None:
        if self.refresh_check.isChecked():
            self._set_busy(True, "Checking every key with its exchange\u2026")
            self._audit_slot = lambda outcome: self._on_services_audit_finished(outcome, target)
            self.services.auditFinished.connect(self._audit_slot)
            if not self.services.auditing and not self.services.start_audit():
                self._disconnect_audit()
                self._fail(f"The audit could not be started, so {target} was not written.")
            return
        self._write(target, refreshed=False)

    def _on_services_audit_finished(self, outcome: Any, target: Path) -> None:
        self._disconnect_audit()
        self._write(target, refreshed=bool(getattr(outcome, "ok", False)))

    def _disconnect_audit(self) -> None:
        if self._audit_slot is not None:
            try:
                self.services.auditFinished.disconnect(self._audit_slot)
            except (RuntimeError, TypeError):
                pass
            self._audit_slot = None

    def _write(self, target: Path, refreshed: bool) -> None:
        fmt = self.current_format()
        self._set_busy(True, f"Writing the {fmt.upper()} report\u2026")
        self.services.pool.submit(write_report, self.services, fmt, target, refreshed,
                                  on_done=lambda report: self._on_written(report, target),
                                  on_error=lambda exc: self._on_write_error(exc, target), context=self,
                                  paints=fmt == "pdf")

    def _on_written(self, report: Any, target: Path) -> None:
        s = report.summary
        self._set_busy(False, f"Saved the report of {s.key_count} key{'s' if s.key_count != 1 else ''} "
                              f"(overall score {s.overall_score}/100) to {target}.")
        if self.open_check.isChecked() and not self.opener(target):
            self.status.setText(self.status.text() + " No program could open it; open it from your file manager.")
        self.reportSaved.emit(str(target))

    def _on_write_error(self, exc: BaseException, target: Path) -> None:
        # The path is the user's own choice and says which file is meant; the reason is scrubbed like every error
        # text (a report never holds a secret, but an exception's text is not ours to trust).
        if isinstance(exc, OSError):
            message = (f"The report could not be saved to {target}: {_why_not_written(exc, target)}. "
                       "Choose another place.")
        else:
            log.error("report export failed", exc_info=exc)
            message = f"The report for {target} could not be made: {redact.scrub(exc)}"
        self._fail(message)

    def _fail(self, message: str) -> None:
        self._set_busy(False, message)
        self._focus_path()
        self.exportFailed.emit(message)

    def _focus_path(self) -> None:
        # The path is what to change next. Left alone, focus stays on Close (the one button enabled while
        # writing), and the next Enter would close the dialog instead of saving again.
        self.path_edit.setFocus()
        self.path_edit.selectAll()

    def reject(self) -> None:
        # Closing while a report is being written would leave the worker's callback without a window.
        if self._busy:
            return
        self._disconnect_audit()
        super().reject()


def open_export(parent: QWidget, services: Services, **_kwargs: Any) -> ExportDialog:
    """Plugin entry point (``keyhygiene.ui.plugins``): show the dialog without blocking and return it."""
    dlg = ExportDialog(services, parent)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    dlg.open()
    return dlg


def _why_not_written(exc: OSError, target: Path) -> str:
    """The reason in the user's terms. A file where the path needs a folder makes the system say "File exists" or
    "Not a directory", which names neither; a full disk says "No space left on device", which is clear enough."""
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is a file, not a folder"
            break
    return redact.scrub(exc.strerror or exc)
