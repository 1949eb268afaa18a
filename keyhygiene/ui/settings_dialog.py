"""Settings: policy thresholds and rules, audits and reminders, clipboard and reveal delays, appearance, and the
team vault (ui/team_settings.py: its buttons act at once, without Save).

Shown with ``open()``; nothing is written until Save, then policy and preferences are stored together.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFocusEvent, QHideEvent, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from keyhygiene.core import redact
from keyhygiene.ui import core_bridge
from keyhygiene.ui.services import UiPrefs
from keyhygiene.ui.widgets import Banner, available_size, muted, wrap

if TYPE_CHECKING:
    from keyhygiene.ui.services import Services


class RangeSpinBox(QSpinBox):
    """A spin box that leaves out-of-range input on screen for Save to report, instead of quietly undoing it.

    QAbstractSpinBox interprets its text on Enter and on focus-out, and puts the previous value back when the typed
    number is below the minimum (say "3" where 7 is the least). Save would then store the old value and say nothing.
    Here Enter goes on to the dialog with the text untouched, and leaving the field keeps what was typed, so
    ``hasAcceptableInput()`` is still false when Save looks.
    """

    def __init__(self, unit: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.unit = unit  # plural ("days"), for the message naming the allowed range

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self.hasAcceptableInput():
            event.ignore()  # to the dialog's default button (Save), which explains the range
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        typed = None if self.hasAcceptableInput() else self.lineEdit().text()
        super().focusOutEvent(event)
        self._keep(typed)

    def hideEvent(self, event: QHideEvent) -> None:  # another settings tab shown: the same quiet undo
        typed = None if self.hasAcceptableInput() else self.lineEdit().text()
        super().hideEvent(event)
        self._keep(typed)

    def _keep(self, typed: str | None) -> None:
        if typed is not None and self.lineEdit().text() != typed:
            self.lineEdit().setText(typed)  # the value stays the old one; the text shows what needs fixing

    def range_text(self) -> str:
        """The allowed range in words, e.g. "from 7 to 3650 days" or "from 0 (never) to 168 hours"."""
        low = str(self.minimum())
        if self.specialValueText():
            low += f" ({self.specialValueText()})"
        return f"from {low} to {self.maximum()} {self.unit}".rstrip()


def _spin(minimum: int, maximum: int, value: int, suffix: str, name: str, tip: str) -> RangeSpinBox:
    unit = suffix.strip()
    s = RangeSpinBox(unit)
    s.setRange(minimum, maximum)

    def on_value(v: int) -> None:
        # "1 day", "2 days": the unit follows the number.
        s.setSuffix(f" {unit[:-1]}" if v == 1 and unit.endswith("s") else (f" {unit}" if unit else ""))

    s.valueChanged.connect(on_value)
    s.setValue(value)
    on_value(value)
    s.setAccessibleName(name)
    s.setToolTip(tip)
    return s


class SettingsDialog(QDialog):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        self.banner = Banner(self)
        lay.addWidget(self.banner)
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Settings sections")
        lay.addWidget(self.tabs)
        self.policy_fields: dict[str, RangeSpinBox] = {}
        self.rule_checks: dict[str, QCheckBox] = {}
        self._build_policy()
        self._build_reminders()
        self._build_privacy()
        self._build_appearance()
        self._build_team()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_save_clicked)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        lay.addWidget(buttons)
        # The size the tabs need (Qt would cap a new window at 2/3 of the screen and cut the longest lines),
        # within the screen.
        screen = available_size(self)
        # And wide enough for every tab's whole title: at 520 px the bar showed "Team v…" behind scroll arrows.
        m = lay.contentsMargins()
        tabs_width = self.tabs.tabBar().sizeHint().width() + m.left() + m.right() + 16
        self.setMinimumWidth(min(max(520, tabs_width), screen.width()))
        self.resize(self.sizeHint().expandedTo(QSize(tabs_width, 0)).boundedTo(screen))

    # ---- tabs -----------------------------------------------------------------------------------------------
    def _build_policy(self) -> None:
        page = QWidget()
        v = QVBoxLayout(page)
        policy = self.services.policy
        thresholds = core_bridge.thresholds()
        if policy is None or not thresholds:
            v.addWidget(muted(wrap("The hygiene rules are not part of this build, so there is no policy to set.",
                                   page)))
            v.addStretch(1)
            self.tabs.addTab(page, "Policy")
            return
        v.addWidget(muted(wrap("Thresholds the hygiene rules apply to every key. Changes re-evaluate all keys.",
                               page)))
        form = QFormLayout()
        for name, t in thresholds.items():
            unit = f" {t.unit}"
            s = _spin(t.minimum, t.maximum, int(getattr(policy, name)), unit, t.label, t.help)
            self.policy_fields[name] = s
            form.addRow(t.label, s)
            hint = muted(wrap(t.help, page))
            form.addRow("", hint)
        v.addLayout(form)
        v.addStretch(1)
        self.tabs.addTab(page, "Policy")
        self._build_rules(policy)

    def _build_rules(self, policy: Any) -> None:
        """The rules on a tab of their own, listed whole: squeezed under the thresholds they sat in a box that
        showed six of seventeen (issue 20)."""
        rules = core_bridge.rule_list()
        if not rules:
            return
        page = QWidget()
        v = QVBoxLayout(page)
        v.addWidget(muted(wrap("Each rule can be turned off; a turned-off rule reports nothing for any key.", page)))
        box = QWidget()
        rl = QVBoxLayout(box)
        rl.setContentsMargins(0, 0, 0, 0)
        for rid, summary in rules:
            cb = QCheckBox(summary)
            cb.setToolTip(f"Rule {rid}")
            cb.setAccessibleName(f"Rule {summary}")
            cb.setChecked(rid not in getattr(policy, "disabled_rules", ()))
            self.rule_checks[rid] = cb
            rl.addWidget(cb)
        rl.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a Tab stop that only scrolls: the boxes are the stops
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(box)
        # As tall as the list, so nothing hides behind a scroll bar unless the screen is too small for it.
        scroll.setMinimumHeight(min(box.sizeHint().height(), 520))
        v.addWidget(scroll, 1)
        self.tabs.addTab(page, "Rules")

    def _build_reminders(self) -> None:
        p: UiPrefs = self.services.prefs
        page = QWidget()
        form = QFormLayout(page)
        self.audit_on_start = QCheckBox("Check every key with its exchange when the app starts")
        self.audit_on_start.setChecked(p.audit_on_start)
        self.audit_on_start.setAccessibleName("Audit on start")
        form.addRow(self.audit_on_start)
        self.reaudit_hours = _spin(0, 24 * 30, p.reaudit_hours, " hours", "Re-audit every",
                                   "While the app runs, audit again after this many hours (0 = only when asked)")
        self.reaudit_hours.setSpecialValueText("only when asked")
        form.addRow("Re-audit every", self.reaudit_hours)
        self.remind_on_start = QCheckBox("Show reminders when the app starts")
        self.remind_on_start.setChecked(p.remind_on_start)
        self.remind_on_start.setAccessibleName("Remind on start")
        form.addRow(self.remind_on_start)
        self.reminder_hours = _spin(0, 24 * 7, p.reminder_hours, " hours", "Reminders every",
                                    "Look for keys past their age, expiring keys and new incidents this often")
        self.reminder_hours.setSpecialValueText("never")
        form.addRow("Reminders every", self.reminder_hours)
        self.notify_desktop = QCheckBox("Also as a desktop notification (where the system has a tray)")
        self.notify_desktop.setChecked(p.notify_desktop)
        self.notify_desktop.setAccessibleName("Desktop notifications")
        form.addRow(self.notify_desktop)
        self.tabs.addTab(page, "Audits && reminders")

    def _build_privacy(self) -> None:
        p: UiPrefs = self.services.prefs
        page = QWidget()
        form = QFormLayout(page)
        self.clipboard_seconds = _spin(0, 600, p.clipboard_clear_seconds, " seconds", "Clear clipboard after",
                                       "A copied API key or key id is removed from the clipboard after this delay")
        self.clipboard_seconds.setSpecialValueText("never (not recommended)")
        form.addRow("Clear clipboard after", self.clipboard_seconds)
        self.reveal_seconds = _spin(3, 600, p.reveal_seconds, " seconds", "Hide revealed keys after",
                                    "A revealed API key is masked again after this delay")
        form.addRow("Hide revealed keys after", self.reveal_seconds)
        form.addRow(muted(wrap("Secrets live only in the OS keychain. Copies are marked for clipboard managers "
                               "as passwords, so they stay out of clipboard history.", page)))
        self.tabs.addTab(page, "Privacy")

    def _build_appearance(self) -> None:
        p: UiPrefs = self.services.prefs
        page = QWidget()
        form = QFormLayout(page)
        self.appearance = QComboBox()
        self.appearance.setAccessibleName("Appearance")
        for value, text in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            self.appearance.addItem(text, value)
        self.appearance.setCurrentIndex(max(0, self.appearance.findData(p.appearance)))
        form.addRow("Appearance", self.appearance)
        self.tabs.addTab(page, "Appearance")

    def _build_team(self) -> None:
        from keyhygiene.ui.team_settings import TeamVaultPage

        self.team_page = TeamVaultPage(self.services, self, demo=bool(getattr(self.parent(), "demo", False)))
        self.tabs.addTab(self.team_page, "&Team vault")

    # ---- save -----------------------------------------------------------------------------------------------
    def prefs(self) -> UiPrefs:
        return replace(
            self.services.prefs,
            audit_on_start=self.audit_on_start.isChecked(),
            reaudit_hours=self.reaudit_hours.value(),
            remind_on_start=self.remind_on_start.isChecked(),
            reminder_hours=self.reminder_hours.value(),
            notify_desktop=self.notify_desktop.isChecked(),
            clipboard_clear_seconds=self.clipboard_seconds.value(),
            reveal_seconds=self.reveal_seconds.value(),
            appearance=str(self.appearance.currentData()),
        )

    def policy(self) -> Any:
        policy = self.services.policy
        if policy is None:
            return None
        changes: dict[str, Any] = {n: s.value() for n, s in self.policy_fields.items()}
        if self.rule_checks:
            changes["disabled_rules"] = tuple(sorted(r for r, cb in self.rule_checks.items() if not cb.isChecked()))
        return policy.with_changes(**changes)

    def spin_boxes(self) -> list[RangeSpinBox]:
        """Every number field, in tab order."""
        return [*self.policy_fields.values(), self.reaudit_hours, self.reminder_hours, self.clipboard_seconds,
                self.reveal_seconds]

    def _check_ranges(self) -> bool:
        """False, with the field named, its range given and the field focused, if a number is out of range."""
        for spin in self.spin_boxes():
            if spin.hasAcceptableInput():
                continue
            typed = spin.cleanText()
            not_typed = f", not {typed}" if typed else ""
            self.banner.show_message(
                "Not saved", f"\u201c{spin.accessibleName()}\u201d must be {spin.range_text()}{not_typed}. Change "
                             "it, or press Cancel to keep the saved settings.", "high")
            for i in range(self.tabs.count()):  # the field may be on another tab than the one shown
                if self.tabs.widget(i).isAncestorOf(spin):
                    self.tabs.setCurrentIndex(i)
            spin.setFocus()
            spin.selectAll()
            return False
        return True

    def _on_save_clicked(self) -> None:
        if not self._check_ranges():
            return
        try:
            policy = self.policy()
        except ValueError as exc:  # PolicyError names the field
            name = getattr(exc, "name", "")
            self.banner.show_message("Not saved", redact.scrub(exc), "high")
            if name in self.policy_fields:
                self.policy_fields[name].setFocus()
            return
        try:
            if policy is not None and policy != self.services.policy:
                self.services.save_policy(policy)
            self.services.save_prefs(self.prefs())
        except Exception as exc:
            self.banner.show_message("Not saved", redact.scrub(exc), "high")
            return
        self.accept()
