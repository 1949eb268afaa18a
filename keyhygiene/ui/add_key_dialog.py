"""Add a key (or edit one): exchange, label, purpose, credentials, who it was shared with, and a "Check now".

Non-blocking: shown with ``open()``, reports through ``keySaved``/``finished``. The credentials live only in the
password fields until they are handed to the keychain on a worker thread; the fields are emptied when the dialog
closes. Validation errors from the vault land next to the field they name (``ValidationError.field``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from keyhygiene.core import exchange_facts as catalog
from keyhygiene.core import redact
from keyhygiene.core.masking import key_digest, mask_key
from keyhygiene.core.models import PURPOSES, Credentials, Exposure, KeyProfile, KeyRecord, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS, DECLARED_BEYOND_READ, PERMISSION_LABELS
from keyhygiene.core.timeutil import utcnow
from keyhygiene.service.types import KeychainError, ServiceRef, ValidationError
from keyhygiene.ui import theme
from keyhygiene.ui.icons import action_icon, exchange_icon
from keyhygiene.ui.key_row import STATUS_LABELS, permission_tone
from keyhygiene.ui.widgets import Banner, Chip, FlowLayout, SecretField, available_size, clear_layout, muted, wrap

if TYPE_CHECKING:
    from keyhygiene.ui.services import Services

PURPOSE_TEXT = {
    "read-only": "Read-only \u2014 portfolio or tracking",
    "trading": "Trading \u2014 used by me",
    "bot": "Bot or copy trading",
    "tax": "Tax or accounting tool",
    "other": "Other",
}
UNKNOWN_DATE = QDate(2009, 1, 1)  # the date edit's "unknown" value (shown as special text)
EXTRA_LABELS = {"uid": "User id", "privateKey": "Private key", "walletAddress": "Wallet address",
                "token": "Token", "accountId": "Account id", "login": "Login", "twofa": "2FA secret"}


class OptionalDateEdit(QDateEdit):
    """A date edit whose lowest date means "unknown", shown as its special value text.

    QDateTimeEdit spends Tab and Shift+Tab on moving between the year, month and day sections, and lets focus go
    on only from the last (or first) one. While the special text is shown there are no sections to reach, so
    Tab never left a plain QDateEdit: a keyboard trap. Here, then, Tab and Shift+Tab move on as in any field.
    """

    def shows_special_value(self) -> bool:
        return bool(self.specialValueText()) and self.date() == self.minimumDate()

    def focusNextPrevChild(self, next_child: bool) -> bool:  # noqa: N802 - Qt API
        if self.shows_special_value():
            # QWidget's version (what QDateTimeEdit itself calls from its first or last section): focus moves on.
            return QWidget.focusNextPrevChild(self, next_child)
        return super().focusNextPrevChild(next_child)


def optional_date_edit(parent: QWidget, name: str) -> OptionalDateEdit:
    d = OptionalDateEdit(parent)
    d.setCalendarPopup(True)
    d.setDisplayFormat("yyyy-MM-dd")
    d.setMinimumDate(UNKNOWN_DATE)
    d.setMaximumDate(QDate.currentDate())
    d.setSpecialValueText("unknown")
    d.setDate(UNKNOWN_DATE)
    d.setAccessibleName(name)
    return d


def date_of(edit: QDateEdit) -> date | None:
    q = edit.date()
    return None if q == UNKNOWN_DATE else date(q.year(), q.month(), q.day())


@dataclass
class Sharing:
    service: str
    day: date | None
    existing: bool = False  # already recorded (edit mode)


class SharingEditor(QWidget):
    """Services the key was given to: pick from the registry or type any name, with the date it was given."""

    changed = Signal()
    invalid = Signal(str)  # why the typed service could not be added; the dialog shows it next to the row

    def __init__(self, services: list[Any], display: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._display = display
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.service = QComboBox(self)
        self.service.setEditable(True)
        self.service.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.service.setAccessibleName("Service")
        self.service.setToolTip("A service from the registry, or type any name (a bot of your own, a friend…)")
        edit = self.service.lineEdit()
        assert edit is not None  # editable combo boxes have one
        edit.setPlaceholderText("3Commas, Koinly, my own bot\u2026")
        self.service.addItem("", "")
        for s in services:
            label = f"{s.name} ({s.category_label})" if getattr(s, "category_label", "") else s.name
            self.service.addItem(label, s.id)
        comp = self.service.completer()
        if comp is not None:
            comp.setFilterMode(Qt.MatchFlag.MatchContains)
            comp.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            comp.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.service.setCurrentIndex(0)
        # The row's label ("Shared &with") has this editor as its buddy: Alt+W and setFocus() land in the service.
        self.setFocusProxy(self.service)
        self.day = optional_date_edit(self, "Date the key was given")
        self.day.setToolTip("When the key was given to the service (leave \u201cunknown\u201d if you do not know)")
        self.add_button = QPushButton(action_icon("add"), "Add", self)
        self.add_button.setAccessibleName("Add sharing")
        self.add_button.setToolTip("Add this service to the list")
        self.add_button.clicked.connect(self._on_add_button_clicked)
        # Enter in the service box is this row's "Add", and stops there: let through, the dialog's default button
        # would also save the whole key while the user is still listing services.
        edit.installEventFilter(self)
        row.addWidget(self.service, 3)
        row.addWidget(QLabel("since"))
        row.addWidget(self.day, 1)
        row.addWidget(self.add_button)
        lay.addLayout(row)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Services this key was given to")
        self.list.setMaximumHeight(96)
        self.list.hide()
        lay.addWidget(self.list)
        self._items: list[Sharing] = []

    def entries(self) -> list[Sharing]:
        return list(self._items)

    def set_entries(self, items: list[Sharing]) -> None:
        self._items = list(items)
        self._refresh()

    def add(self, service: str, day: date | None) -> None:
        service = service.strip()
        if not service:
            return
        if any(s.service.lower() == service.lower() for s in self._items):
            return
        self._items.append(Sharing(service, day))
        self._refresh()
        self.changed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.has_pending()):
            self._on_add_button_clicked()
            return True
        return super().eventFilter(watched, event)

    def has_pending(self) -> bool:
        """Whether a service is typed or chosen in the row but not added to the list yet."""
        return bool(self.service.currentText().strip())

    def commit_pending(self) -> str:
        """Add the service typed or chosen in the row, with its date, as the Add button does.

        Returns why it cannot be added ("" when it was added or nothing is pending); the row then keeps what the
        user typed so that it can be corrected.
        """
        idx = self.service.currentIndex()
        text = self.service.currentText().strip()
        if not text:
            return ""
        sid = self.service.itemData(idx) if idx > 0 and self.service.itemText(idx) == text else None
        try:
            ref = ServiceRef(service=sid or text, day=date_of(self.day)).validated()  # the vault's own rules
        except ValidationError as exc:
            return str(exc)
        self.add(ref.service, ref.day)
        self.service.setCurrentIndex(0)
        self.service.setEditText("")
        self.day.setDate(UNKNOWN_DATE)
        return ""

    def _on_add_button_clicked(self) -> None:
        problem = self.commit_pending()
        if problem:
            self.invalid.emit(problem)

    def _remove(self, item: Sharing) -> None:
        self._items = [s for s in self._items if s is not item]
        self._refresh()
        self.changed.emit()

    def _refresh(self) -> None:
        self.list.clear()
        for s in self._items:
            it = QListWidgetItem(self.list)
            w = QWidget()
            h = QHBoxLayout(w)
            h.setContentsMargins(4, 1, 4, 1)
            h.addWidget(Chip(self._display(s.service), "service"))
            h.addWidget(muted(QLabel(f"since {s.day:%Y-%m-%d}" if s.day else "date unknown")))
            h.addStretch(1)
            rm = QPushButton("End" if s.existing else "Remove")
            rm.setAccessibleName(f"{'End sharing with' if s.existing else 'Remove'} {self._display(s.service)}")
            rm.setToolTip("Record that this service no longer has the key" if s.existing
                          else "Take this service off the list")
            rm.clicked.connect(lambda _=False, x=s: self._remove(x))
            h.addWidget(rm)
            it.setSizeHint(w.sizeHint())
            self.list.setItemWidget(it, w)
        self.list.setVisible(bool(self._items))


class AddKeyDialog(QDialog):
    keySaved = Signal(str)  # key id

    def __init__(self, services: Services, parent: QWidget | None = None, key_id: str | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.key_id = key_id
        self.editing = key_id is not None
        self._record: KeyRecord | None = services.row(key_id).record if key_id and services.row(key_id) else None
        self._required: dict[str, tuple[str, ...]] = {}
        self._checked: tuple[str, KeyProfile] | None = None  # (digest of exchange+key, profile)
        self._busy = False
        self._needs_passphrase = False
        self._declares = False  # an exchange without a key-info endpoint: the user declares permissions
        self._known: set[str] = set(catalog.SUPPORTED)  # every ccxt id, once loaded
        self.setWindowTitle("Edit key" if self.editing else "Add a key")
        self.setAccessibleName(self.windowTitle())
        self.setMinimumWidth(560)
        self._build()
        # Open on the first input, not on whatever comes first in the focus chain (editing: the exchange is fixed).
        (self.label if self.editing else self.exchange).setFocus(Qt.FocusReason.OtherFocusReason)
        self.finished.connect(self._on_finished)
        if not self.editing:
            # ccxt's full exchange list and credential needs load on a worker: the dialog paints first.
            services.pool.submit(services.app.exchange_names, on_done=self._on_exchanges_loaded,
                                 on_error=lambda _e: self._exchanges_note.setText(
                                     "Only the 12 fully supported exchanges are listed (ccxt did not load)."),
                                 context=self)
            self._on_exchange_changed()
        else:
            self._fill_from_record()
        self._fitted_when_shown = False

    # ---- layout ---------------------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a stop in the Tab chain that only scrolls: skip it
        body = QWidget()
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(18, 16, 18, 8)
        self.banner = Banner(body)
        lay.addWidget(self.banner)
        intro = wrap("The API key, secret and passphrase go straight into the OS keychain. KeyHygiene keeps only "
                     "a masked fingerprint and what you enter below." if not self.editing else
                     "Credentials cannot be edited here: to replace them, rotate the key.", body)
        lay.addWidget(muted(intro))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setVerticalSpacing(4)
        self.form = form
        lay.addLayout(form)
        self._errors: dict[str, QLabel] = {}

        self.exchange = QComboBox(body)
        self.exchange.setEditable(True)
        self.exchange.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # Room for the longest names ("Binance USD\u24c8-M", "Coinbase International"): an editable combo box
        # otherwise sizes itself to its first item.
        self.exchange.setMinimumWidth(self.fontMetrics().horizontalAdvance("Coinbase International") + 70)
        self.exchange.setAccessibleName("Exchange")
        self.exchange.setToolTip("The 12 exchanges KeyHygiene reads key permissions from come first; any other "
                                 "ccxt exchange gets a liveness check and the permissions you declare.")
        self._exchange_model = QStandardItemModel(self)
        for ex in catalog.SUPPORTED:
            it = QStandardItem(exchange_icon(ex), catalog.display_name(ex))
            it.setData(ex, Qt.ItemDataRole.UserRole)
            self._exchange_model.appendRow(it)
        self.exchange.setModel(self._exchange_model)
        comp = QCompleter(self)
        comp.setModel(self._exchange_model)
        comp.setFilterMode(Qt.MatchFlag.MatchContains)
        comp.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.exchange.setCompleter(comp)
        self.exchange.currentIndexChanged.connect(self._on_exchange_changed)
        exchange_edit = self.exchange.lineEdit()
        assert exchange_edit is not None
        exchange_edit.editingFinished.connect(self._on_exchange_changed)
        # An error about the exchange goes as soon as the field names one (picked from the list or typed in full).
        self.exchange.currentTextChanged.connect(self._on_exchange_text_changed)
        self._exchanges_note = muted(QLabel("Loading every other ccxt exchange\u2026"))
        self._add_row("exchange", "&Exchange", self.exchange, self._exchanges_note)

        self.label = QLineEdit(body)
        self.label.setAccessibleName("Label")
        self.label.setPlaceholderText("e.g. Binance \u2014 3Commas DCA bot")
        self.label.setToolTip("A name you will recognise in the list and in reports")
        self.label.setMaxLength(200)
        self._add_row("label", "&Label", self.label)

        self.purpose = QComboBox(body)
        self.purpose.setAccessibleName("Purpose")
        self.purpose.setToolTip("What the key is for: findings flag permissions the purpose does not need")
        for p in PURPOSES:
            self.purpose.addItem(PURPOSE_TEXT.get(p, p), p)
        self._add_row("purpose", "&Purpose", self.purpose)

        self.api_key = SecretField("API key", body, self.services.prefs.reveal_seconds)
        self.secret = SecretField("API secret", body, self.services.prefs.reveal_seconds)
        self.passphrase = SecretField("Passphrase", body, self.services.prefs.reveal_seconds)
        self._extras: dict[str, SecretField] = {}
        if not self.editing:
            self._add_row("api_key", "API &key", self.api_key)
            self._add_row("secret", "API &secret", self.secret)
            self._add_row("passphrase", "Pass&phrase", self.passphrase)
            self._extras_box = QWidget(body)
            self._extras_form = QFormLayout(self._extras_box)
            self._extras_form.setContentsMargins(0, 0, 0, 0)
            form.addRow(self._extras_box)
            self._set_row_visible("passphrase", False)
        else:
            # Editing never shows credentials; left out of the form, these fields were drawn at the top-left
            # corner, over the intro (issue 20). They stay, hidden, for the code that wipes them on close.
            for f in (self.api_key, self.secret, self.passphrase):
                f.hide()

        self.permissions_box = QWidget(body)
        pl = FlowLayout(self.permissions_box)
        self.permission_checks: dict[str, QCheckBox] = {}
        for p in ALL_PERMISSIONS:
            cb = QCheckBox(PERMISSION_LABELS.get(p, p), self.permissions_box)
            cb.setAccessibleName(f"Declared permission {PERMISSION_LABELS.get(p, p)}")
            pl.addWidget(cb)
            self.permission_checks[p] = cb
        self.permission_checks["read"].setChecked(True)
        self._add_row("declared_permissions", "Permissions", self.permissions_box,
                      muted(wrap("This exchange does not describe its keys: tick what you enabled.", body)))
        self._set_row_visible("declared_permissions", False)

        self.sharing = SharingEditor(self.services.services_catalog(), self.services.service_name, body)
        self._add_row("shared_with", "Shared &with", self.sharing)
        self.sharing.invalid.connect(lambda message: self.show_error("shared_with", message))
        self.sharing.changed.connect(lambda: self._hide_error("shared_with"))  # the problem was fixed by Add

        self.created = optional_date_edit(body, "Created on the exchange")
        self.created.setToolTip("When the key was created on the exchange, if the exchange does not report it")
        self._add_row("created", "&Created", self.created)

        self.note = QLineEdit(body)
        self.note.setAccessibleName("Note")
        self.note.setPlaceholderText("optional, never a secret")
        self._add_row("note", "&Note", self.note)

        # check now ------------------------------------------------------------------------------------------
        self.check_box = QFrame(body)
        self.check_box.setObjectName("checkBox")
        cl = QGridLayout(self.check_box)
        cl.setContentsMargins(0, 6, 0, 0)
        self.check_button = QPushButton(action_icon("audit"), "Check now", self.check_box)
        self.check_button.setAccessibleName("Check now")
        self.check_button.setToolTip("Ask the exchange what this key may do, before saving it (Ctrl+Return)")
        self.check_button.setShortcut("Ctrl+Return")
        self.check_button.clicked.connect(self._on_check_button_clicked)
        self.check_result = wrap("", self.check_box)
        self.check_result.setAccessibleName("Check result")
        self.check_chips = QWidget(self.check_box)
        self._check_chips_layout = FlowLayout(self.check_chips)
        cl.addWidget(self.check_button, 0, 0, Qt.AlignmentFlag.AlignTop)
        cl.addWidget(self.check_result, 0, 1)
        cl.addWidget(self.check_chips, 1, 1)
        cl.setColumnStretch(1, 1)
        if not self.editing:
            lay.addWidget(self.check_box)
        else:
            self.check_box.hide()  # an edit never touches the credentials
        lay.addStretch(1)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Save to keychain" if not self.editing else "Save")
        self.save_button.setAccessibleName(self.save_button.text())
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_save_clicked)
        self.buttons.rejected.connect(self.reject)
        bl = QHBoxLayout()
        bl.setContentsMargins(18, 4, 18, 14)
        bl.addWidget(self.buttons)
        outer.addLayout(bl)
        self._scroll, self._body, self._button_row = scroll, body, bl
        self._fit_to_form()

    def showEvent(self, e: QShowEvent) -> None:  # noqa: N802 - Qt API
        # Once, right after it first shows (polished, laid out at its real width): an edit's form measured taller
        # then than when built, and the dialog opened with its sharings cut off under a scroll bar.
        super().showEvent(e)
        if not self._fitted_when_shown:
            self._fitted_when_shown = True
            QTimer.singleShot(0, self, self._fit_to_form)  # after the first layout pass: its true size hint

    def _fit_to_form(self) -> None:
        """As tall as the form (no band of empty space under an edit), within the screen; the scroll area takes
        over on a small screen or a large font. Again once an edit's sharings are listed: sized before, the
        dialog opened with its sharings cut off under a scroll bar."""
        scroll, body, bl = self._scroll, self._body, self._button_row
        screen = available_size(self).height()
        want = body.sizeHint().height() + self.buttons.sizeHint().height() + bl.contentsMargins().top() \
            + bl.contentsMargins().bottom() + (160 if not self.editing else 0)  # room for a check's result
        # (and for a horizontal scroll bar, should a large font make the form wider than the screen)
        want += scroll.horizontalScrollBar().sizeHint().height()
        self.resize(max(640, body.sizeHint().width()), min(want, int(screen * 0.9)))

    def _add_row(self, field: str, label: str, widget: QWidget, note: QWidget | None = None) -> None:
        box = QWidget()
        # The row takes the form's width, so its note and error wrap across it rather than in a column as narrow
        # as a combo box, where they were cut off (issue 20); a combo box keeps the width it needs.
        box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        if isinstance(widget, QComboBox | QAbstractSpinBox):
            v.addWidget(widget, 0, Qt.AlignmentFlag.AlignLeft)
        else:
            v.addWidget(widget)
        if note is not None:
            v.addWidget(note)
        err = QLabel(box)
        err.setWordWrap(True)
        err.setAccessibleName(f"{field} error")
        err.hide()
        v.addWidget(err)
        self._errors[field] = err
        lab = QLabel(label)
        # A composite field (SecretField, SharingEditor) names its input as focus proxy: the mnemonic goes there;
        # QLabel would skip a buddy that cannot take focus itself.
        lab.setBuddy(widget.focusProxy() or widget)
        self.form.addRow(lab, box)
        setattr(self, f"_row_{field}", (lab, box))

    def _set_row_visible(self, field: str, visible: bool) -> None:
        lab, box = getattr(self, f"_row_{field}")
        lab.setVisible(visible)
        box.setVisible(visible)

    # ---- exchange ---------------------------------------------------------------------------------------------
    def current_exchange(self) -> str:
        text = self.exchange.currentText().strip()
        idx = self.exchange.currentIndex()
        if idx >= 0 and self.exchange.itemText(idx) == text:
            data = self.exchange.itemData(idx, Qt.ItemDataRole.UserRole)
            if data:
                return str(data)
        for i in range(self._exchange_model.rowCount()):
            it = self._exchange_model.item(i)
            if it is not None and it.text().lower() == text.lower():
                return str(it.data(Qt.ItemDataRole.UserRole))
        return text.lower()

    def _on_exchange_text_changed(self, _text: str) -> None:
        if self.current_exchange() in self._known:
            self._hide_error("exchange")

    def unknown_exchange_text(self, typed: str) -> str:
        return (f"\u201c{typed.strip()}\u201d is not an exchange KeyHygiene knows. Pick one from the list; typing a "
                "few letters of its name narrows it down.")

    def _on_exchanges_loaded(self, names: dict[str, str]) -> None:
        known = set(catalog.SUPPORTED)
        # The other exchanges by the name a person knows them by, in that order (not ccxt ids such as
        # binancecoinm mixed in); the id stays the item's data and its tooltip.
        others = sorted((x for x in names if x not in known), key=lambda x: (names[x].casefold(), x))
        self._known = known | set(names)
        current = self.exchange.currentText()
        self.exchange.blockSignals(True)
        self.exchange.insertSeparator(self._exchange_model.rowCount())
        for ex in others:
            it = QStandardItem(names[ex])
            it.setData(ex, Qt.ItemDataRole.UserRole)
            it.setToolTip(f"ccxt id: {ex}")
            self._exchange_model.appendRow(it)
        self.exchange.setEditText(current)
        self.exchange.blockSignals(False)
        self._exchanges_note.setText(f"{len(catalog.SUPPORTED)} fully supported, then {len(others)} more from ccxt.")

    def _on_exchange_changed(self, *_: Any) -> None:
        ex = self.current_exchange()
        self._checked = None
        self._show_check("", [])
        supported = ex in catalog.SUPPORTED
        # Declared by the user: exchanges without a key-info call, and those whose answer proves only "read" (MEXC);
        # an exchange ccxt knows, not a half-typed name or a typo.
        self._declares = bool(ex) and ((not supported and ex in self._known) or ex in DECLARED_BEYOND_READ)
        self._set_row_visible("declared_permissions", self._declares)
        if not ex or self.editing:
            return
        if ex in self._known:
            self._hide_error("exchange")  # the name was fixed: its error goes
        elif len(self._known) > len(catalog.SUPPORTED):  # said only once every ccxt name is known
            self.show_error("exchange", self.unknown_exchange_text(self.exchange.currentText()), focus=False)
            return
        if ex in self._required:
            self._apply_required(ex)
            return
        self.services.pool.submit(self.services.app.required_credentials, ex,
                                  on_done=lambda req, e=ex: self._on_required_loaded(e, req),
                                  on_error=lambda _exc: None, context=self)

    def _on_required_loaded(self, exchange: str, required: tuple[str, ...]) -> None:
        self._required[exchange] = tuple(required)
        if self.current_exchange() == exchange:
            self._apply_required(exchange)

    def _apply_required(self, exchange: str) -> None:
        req = self._required.get(exchange, ())
        self._needs_passphrase = "password" in req
        self._set_row_visible("passphrase", self._needs_passphrase)
        wanted = [r for r in req if r not in ("apiKey", "secret", "password")]
        for name in list(self._extras):
            if name not in wanted:
                field = self._extras.pop(name)
                self._extras_form.removeRow(field)
        for name in wanted:
            if name not in self._extras:
                f = SecretField(EXTRA_LABELS.get(name, name), self._extras_box, self.services.prefs.reveal_seconds)
                self._extras[name] = f
                self._extras_form.addRow(EXTRA_LABELS.get(name, name), f)
        # Fields made now would come last in the Tab chain (after Save): put them where they are shown.
        prev: QWidget = self.passphrase.edit
        for f in self._extras.values():
            QWidget.setTabOrder(prev, f.edit)
            prev = f.edit

    # ---- edit mode --------------------------------------------------------------------------------------------
    def _fill_from_record(self) -> None:
        rec = self._record
        if rec is None:
            return
        self.exchange.setEditText(catalog.display_name(rec.exchange))
        self.exchange.setEnabled(False)
        self._exchanges_note.setText(f"Key {rec.fingerprint} (id {rec.id})")
        self.label.setText(rec.label)
        i = self.purpose.findData(rec.purpose)
        if i >= 0:
            self.purpose.setCurrentIndex(i)
        if rec.created_at:
            self.created.setDate(QDate(rec.created_at.year, rec.created_at.month, rec.created_at.day))
        self.note.setText(rec.note or "")
        self.sharing.set_entries([Sharing(e.service, e.shared_at, existing=True)
                                  for e in rec.exposures if e.active])
        if rec.declared_permissions is not None:
            self._declares = True
            self._set_row_visible("declared_permissions", True)
            for p, cb in self.permission_checks.items():
                cb.setChecked(p in rec.declared_permissions)

    # ---- inputs -----------------------------------------------------------------------------------------------
    def credentials(self) -> Credentials:
        extra = {k: f.text().strip() for k, f in self._extras.items() if f.text().strip()}
        creds = Credentials(api_key=self.api_key.text().strip(), secret=self.secret.text().strip(),
                            passphrase=(self.passphrase.text() or None) if self._needs_passphrase else None,
                            extra=extra)
        redact.remember(creds.secret_values())
        return creds

    def declared_permissions(self) -> list[str] | None:
        if not self._declares:
            return None
        return sorted(p for p, cb in self.permission_checks.items() if cb.isChecked())

    def created_at(self) -> datetime | None:
        d = date_of(self.created)
        return None if d is None else datetime(d.year, d.month, d.day, tzinfo=UTC)

    # ---- errors -----------------------------------------------------------------------------------------------
    def clear_errors(self) -> None:
        for lab in self._errors.values():
            lab.hide()
            lab.clear()
        self.banner.hide()

    def _hide_error(self, field: str) -> None:
        lab = self._errors[field]
        lab.hide()
        lab.clear()

    def show_error(self, field: str, message: str, focus: bool = True) -> None:
        """Show ``message`` next to ``field`` (or in the banner); ``focus`` moves the focus to that field."""
        lab = self._errors.get(field)
        msg = redact.scrub(message)
        if lab is None:
            self.banner.show_message("Cannot save", msg, "high")
            return
        lab.setText(msg)
        pal = lab.palette()
        pal.setColor(lab.foregroundRole(), theme.severity_color("critical", theme.is_dark(self.palette())))
        lab.setPalette(pal)
        lab.show()
        target = {"exchange": self.exchange, "label": self.label, "purpose": self.purpose,
                  "api_key": self.api_key.edit, "secret": self.secret.edit, "passphrase": self.passphrase.edit,
                  "shared_with": self.sharing.service, "created": self.created}.get(field)
        if target is not None and focus:
            target.setFocus()

    def error_text(self, field: str) -> str:
        lab = self._errors.get(field)
        return lab.text() if lab is not None and not lab.isHidden() else ""

    def _local_checks(self) -> bool:
        """What can be said without the vault: empty fields, a sharing typed but not added. The vault repeats
        and extends these checks. Every problem is shown; the focus goes to the first one (checked in form
        order), where the user starts fixing."""
        ok = True
        if not self.editing and not self.current_exchange():
            self.show_error("exchange", "Choose the exchange this key belongs to.", focus=ok)
            ok = False
        elif (not self.editing and len(self._known) > len(catalog.SUPPORTED)
              and self.current_exchange() not in self._known):
            self.show_error("exchange", self.unknown_exchange_text(self.exchange.currentText()), focus=ok)
            ok = False
        if not self.label.text().strip():
            self.show_error("label", "Give the key a name you will recognise.", focus=ok)
            ok = False
        if not self.editing:
            if not self.api_key.text().strip():
                self.show_error("api_key", "Paste the API key.", focus=ok)
                ok = False
            if not self.secret.text().strip():
                self.show_error("secret", "Paste the API secret.", focus=ok)
                ok = False
            if self._needs_passphrase and not self.passphrase.text():
                name = catalog.display_name(self.current_exchange())
                self.show_error("passphrase", f"{name} keys have a passphrase: enter the one you chose.", focus=ok)
                ok = False
        # A service typed (or picked) with its date but not confirmed with Add was silently dropped on Save, and
        # with it every finding about that service (a 3Commas leak): Save adds it first, as Add would.
        problem = self.sharing.commit_pending()
        if problem:
            self.show_error("shared_with", problem, focus=ok)
            ok = False
        return ok

    # ---- check now ----------------------------------------------------------------------------------------------
    def _on_check_button_clicked(self) -> None:
        self.clear_errors()
        ex = self.current_exchange()
        if not ex:
            self.show_error("exchange", "Choose the exchange first.")
            return
        if not self.api_key.text().strip() or not self.secret.text().strip():
            self.show_error("api_key" if not self.api_key.text().strip() else "secret",
                            "Paste the API key and secret to check them.")
            return
        creds = self.credentials()
        digest = key_digest(ex, creds.api_key)
        self.check_button.setEnabled(False)
        self._show_check(f"Asking {catalog.display_name(ex)}\u2026", [])
        self.services.check_credentials(
            ex, creds, declared_permissions=self.declared_permissions(),
            on_done=lambda prof: self._on_checked(digest, prof),
            on_error=self._on_check_failed, context=self)

    def _on_checked(self, digest: str, profile: KeyProfile) -> None:
        self.check_button.setEnabled(True)
        self._checked = (digest, profile)
        if profile.status != Status.OK:
            msg = STATUS_LABELS.get(str(profile.status), str(profile.status))
            self._show_check(f"\u2716 {msg}: {redact.scrub(profile.message or '')}".rstrip(": "),
                             [], severity="high")
            return
        chips = [(PERMISSION_LABELS.get(p, p), permission_tone(p)) for p in profile.permissions]
        if profile.ip_restricted is False:
            chips.append(("no IP restriction", "danger" if any(p != "read" for p in profile.permissions)
                          else "warn"))
        elif profile.ip_restricted:
            chips.append(("IP restricted", "neutral"))
        preview = self._preview_findings(profile)
        text = f"\u2714 {catalog.display_name(profile.exchange)} accepted the key."
        if preview:
            worst = preview[0]
            text += f" {len(preview)} finding{'s' if len(preview) != 1 else ''} once saved, worst: {worst.title}."
        self._show_check(text, chips, severity="ok")

    def _preview_findings(self, profile: KeyProfile) -> list[Any]:
        from keyhygiene.core.severity import Severity

        now = utcnow()
        rec = KeyRecord(
            id="(new)", exchange=self.current_exchange(), label=self.label.text().strip() or "(new key)",
            purpose=str(self.purpose.currentData()), fingerprint=mask_key(self.api_key.text()),
            key_sha256="", created_at=self.created_at(), added_at=now, updated_at=now,
            declared_permissions=self.declared_permissions(),
            exposures=[Exposure(service=self.services.app.resolve_service(s.service), shared_at=s.day)
                       for s in self.sharing.entries()],
        )
        try:
            found = self.services.findings_preview(rec, profile)
        except Exception:  # a preview must never block saving
            return []
        return sorted(found, key=lambda f: -Severity(f.severity).rank)

    def _on_check_failed(self, exc: BaseException) -> None:
        self.check_button.setEnabled(True)
        self._show_check(f"\u2716 The check could not run: {redact.scrub(exc)}", [], severity="high")

    def _show_check(self, text: str, chips: list[tuple[str, str]], severity: str = "info") -> None:
        self.check_result.setText(text)
        pal = self.check_result.palette()
        pal.setColor(self.check_result.foregroundRole(),
                     theme.severity_color(severity, theme.is_dark(self.palette())) if text and severity != "info"
                     else self.palette().color(self.check_result.foregroundRole()))
        self.check_result.setPalette(pal)
        clear_layout(self._check_chips_layout)
        for t, tone in chips:
            self._check_chips_layout.addWidget(Chip(t, tone))
        self.check_chips.setVisible(bool(chips))

    # ---- save ---------------------------------------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.save_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)  # see reject(): a save under way cannot be called back
        self.save_button.setText("Saving\u2026" if busy else ("Save" if self.editing else "Save to keychain"))

    def reject(self) -> None:
        # While saving, the write goes on on a worker whatever the dialog does, and its callbacks have this dialog
        # as Qt context: closed now, the stored key would not be listed and a failure never shown. Escape, Cancel
        # and the window's close button all come here; they work again once the save is done or has failed.
        if self._busy:
            return
        super().reject()

    def _on_save_clicked(self) -> None:
        if self._busy:
            return
        self.clear_errors()
        if not self._local_checks():
            return
        self._set_busy(True)
        if self.editing:
            self._save_edit()
            return
        ex = self.current_exchange()
        creds = self.credentials()
        refs = [ServiceRef(service=s.service, day=s.day) for s in self.sharing.entries()]
        digest = key_digest(ex, creds.api_key)
        self.services.add_key(
            exchange=ex, label=self.label.text(), creds=creds, purpose=str(self.purpose.currentData()),
            shared_with=refs, created_at=self.created_at(), declared_permissions=self.declared_permissions(),
            note=self.note.text().strip() or None,
            on_done=lambda rec: self._on_added(rec, digest), on_error=self._on_save_failed, context=self,
        )

    def _on_added(self, rec: KeyRecord, digest: str) -> None:
        if self._checked is not None and self._checked[0] == digest:
            self.services.record_profile(rec.id, self._checked[1])
        self._set_busy(False)
        self.keySaved.emit(rec.id)
        self.accept()

    def _save_edit(self) -> None:
        assert self.key_id is not None and self._record is not None
        rec = self._record
        changes: dict[str, Any] = {}
        if self.label.text().strip() != rec.label:
            changes["label"] = self.label.text()
        if self.purpose.currentData() != rec.purpose:
            changes["purpose"] = str(self.purpose.currentData())
        created = self.created_at()
        if (created.date() if created else None) != (rec.created_at.date() if rec.created_at else None):
            changes["created_at"] = created
        note = self.note.text().strip() or None
        if note != rec.note:
            changes["note"] = note
        declared = self.declared_permissions()
        if rec.declared_permissions is not None and declared != sorted(rec.declared_permissions):
            changes["declared_permissions"] = declared
        before = {e.service for e in rec.exposures if e.active}
        after = {s.service: s for s in self.sharing.entries()}
        steps: list[Any] = []
        kid = self.key_id
        for service in sorted(before - set(after)):
            steps.append(lambda done, s=service: self.services.unshare(
                kid, s, None, on_done=done, on_error=self._on_save_failed, context=self))
        for s in after.values():
            if not s.existing:
                steps.append(lambda done, s=s: self.services.share(
                    kid, s.service, s.day, on_done=done, on_error=self._on_save_failed, context=self))
        if changes:
            steps.insert(0, lambda done: self.services.update_key(
                kid, on_done=done, on_error=self._on_save_failed, context=self, **changes))
        self._run_steps(steps)

    def _run_steps(self, steps: list[Any]) -> None:
        # One metadata write after another, each on the task pool; the first failure stops the chain.
        if not steps:
            self._set_busy(False)
            assert self.key_id is not None
            self.keySaved.emit(self.key_id)
            self.accept()
            return
        first, rest = steps[0], steps[1:]
        first(lambda _rec: self._run_steps(rest))

    def _on_save_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ValidationError) and exc.field == "exchange" and not self.editing:
            # The vault's sentence names ccxt ids, for the command line; here the list is the way to fix it.
            self.show_error("exchange", self.unknown_exchange_text(self.exchange.currentText()))
        elif isinstance(exc, ValidationError):
            self.show_error(exc.field, str(exc))
        elif isinstance(exc, KeychainError):
            self.banner.show_message(f"The keychain is {exc.status.state.value}", exc.status.message, "critical")
        else:
            self.banner.show_message("The key was not saved", redact.scrub(exc) or type(exc).__name__, "high")

    def _on_finished(self, _result: int) -> None:
        # Secrets must not outlive the dialog in widget memory longer than needed.
        for f in (self.api_key, self.secret, self.passphrase, *self._extras.values()):
            f.wipe()
        self._checked = None
