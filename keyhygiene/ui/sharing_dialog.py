"""Record that a key was given to a service, or that a service no longer has it. Non-blocking (``open()``)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from keyhygiene.core import redact
from keyhygiene.service.types import ValidationError
from keyhygiene.ui import theme
from keyhygiene.ui.add_key_dialog import UNKNOWN_DATE, date_of, optional_date_edit
from keyhygiene.ui.widgets import muted, wrap

if TYPE_CHECKING:
    from keyhygiene.ui.services import Services


class _Base(QDialog):
    saved = Signal(str)  # key id

    def __init__(self, services: Services, key_id: str, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.services, self.key_id = services, key_id
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setMinimumWidth(440)
        self.lay = QVBoxLayout(self)
        self.form = QFormLayout()
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Error")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_ok_clicked)
        self.buttons.rejected.connect(self.reject)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _finish_layout(self) -> None:
        self.lay.addLayout(self.form)
        self.lay.addWidget(self.error)
        self.lay.addWidget(self.buttons)

    def _on_ok_clicked(self) -> None:
        raise NotImplementedError

    def _done(self, _rec: Any) -> None:
        self.saved.emit(self.key_id)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText(redact.scrub(exc))
        pal = self.error.palette()
        pal.setColor(self.error.foregroundRole(), theme.severity_color("critical"))
        self.error.setPalette(pal)
        self.error.show()

    def error_text(self) -> str:
        return self.error.text() if not self.error.isHidden() else ""


class ShareDialog(_Base):
    def __init__(self, services: Services, key_id: str, parent: QWidget | None = None) -> None:
        row = services.row(key_id)
        label = row.record.label if row else key_id
        super().__init__(services, key_id, "Record a sharing", parent)
        self.lay.addWidget(muted(wrap(f"Record that \u201c{label}\u201d was given to a service, a bot or a "
                                      "person. Sharings feed the findings about leaks and consumers.", self)))
        self.service = QComboBox(self)
        self.service.setEditable(True)
        self.service.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.service.setAccessibleName("Service")
        self.service.addItem("", "")
        for s in services.services_catalog():
            self.service.addItem(s.name, s.id)
        comp = self.service.completer()
        if comp is not None:
            comp.setFilterMode(Qt.MatchFlag.MatchContains)
            comp.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            comp.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.day = optional_date_edit(self, "Date the key was given")
        self.form.addRow("Service", self.service)
        self.form.addRow("Given on", self.day)
        self._finish_layout()

    def chosen_service(self) -> str:
        idx = self.service.currentIndex()
        text = self.service.currentText().strip()
        if idx > 0 and self.service.itemText(idx) == text:
            return str(self.service.itemData(idx))
        return text

    def _on_ok_clicked(self) -> None:
        service = self.chosen_service()
        if not service:
            self._failed(ValidationError("shared_with", "Name the service the key was given to."))
            return
        self.ok_button.setEnabled(False)
        self.services.share(self.key_id, service, date_of(self.day), on_done=self._done, on_error=self._failed,
                            context=self)


class UnshareDialog(_Base):
    def __init__(self, services: Services, key_id: str, service: str, parent: QWidget | None = None) -> None:
        self.service = service
        super().__init__(services, key_id, "End a sharing", parent)
        name = services.service_name(service)
        self.lay.addWidget(wrap(f"Record that {name} no longer has this key, for example because you deleted the "
                                "connection there. The key itself keeps working until you delete or rotate it on "
                                "the exchange.", self))
        self.day: QDateEdit = optional_date_edit(self, "Date the sharing ended")
        self.day.setMinimumDate(UNKNOWN_DATE)
        self.day.setDate(QDate.currentDate())
        self.form.addRow("Ended on", self.day)
        self._finish_layout()

    def end_day(self) -> date | None:
        return date_of(self.day)

    def _on_ok_clicked(self) -> None:
        self.ok_button.setEnabled(False)
        self.services.unshare(self.key_id, self.service, self.end_day(), on_done=self._done, on_error=self._failed,
                              context=self)
