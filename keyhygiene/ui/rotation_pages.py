"""The rotation wizard's pages: each renders one step of the core state machine and reports what the user did.

Pages hold layout only. They never call the machine, the keychain or an exchange; rotation_wizard.py does, and
hands them the core's plain objects (``Plan``, ``NewKeyReport``, ``Consumer``, ``VerifyReport``) to show.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from keyhygiene.core.models import Credentials
from keyhygiene.core.rotation.assessment import Consumer, NewKeyReport
from keyhygiene.core.rotation.machine import Plan, VerifyReport
from keyhygiene.core.rotation.states import Verdict
from keyhygiene.ui.widgets import Banner, Chip, FlowLayout, SecretField, SectionTitle, clear_layout, muted, wrap

_INPUTS = (QLineEdit, QAbstractSpinBox, QComboBox, QCheckBox, QRadioButton)


class Page(QWidget):
    """A page with a vertical layout and an error banner at the top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(0, 0, 0, 0)
        self.banner = Banner(self)
        self.lay.addWidget(self.banner)
        # A long plan (many findings, many consumers) scrolls instead of growing the window off screen.
        self.scroller = QScrollArea(self)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        # Not a stop of its own: it took the focus each page opened with, ahead of the page's first field.
        self.scroller.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        content = QWidget(self.scroller)
        content_lay = QVBoxLayout(content)
        content_lay.setContentsMargins(0, 0, 4, 0)
        self.body = QWidget(content)
        self.body_lay = QVBoxLayout(self.body)
        self.body_lay.setContentsMargins(0, 0, 0, 0)
        self.body_lay.setSpacing(4)
        content_lay.addWidget(self.body)
        content_lay.addStretch(1)
        self.scroller.setWidget(content)
        self.lay.addWidget(self.scroller, 1)

    def show_error(self, text: str) -> None:
        self.banner.show_message("", text, "high")

    def first_input(self) -> QWidget | None:
        """The first field or box the user fills in or ticks, in Tab order; None on pages that only inform.

        Buttons do not count: Enter on a focused button presses it, and on these pages that would open a web page
        instead of taking the wizard's default (Next).
        """
        w = self.nextInFocusChain()
        for _ in range(1000):  # the chain is a ring through the whole window; bounded in case it is not
            if w is self:
                break
            if (isinstance(w, _INPUTS) and self.isAncestorOf(w) and w.isEnabled()
                    and w.focusPolicy() & Qt.FocusPolicy.TabFocus and self.holds(w)):
                return w
            w = w.nextInFocusChain()
        return None

    def holds(self, w: QWidget) -> bool:
        """``w`` is on this page as last rendered: shown (or shown with the page), not hidden on purpose (like the
        passphrase row of an exchange without one), and not a leftover that reset_body took out of the layout and
        deleteLater() has yet to delete."""
        if not w.isVisibleTo(self):
            return False
        while (parent := w.parentWidget()) is not None and parent is not self.body and w is not self:
            w = parent
        return parent is not self.body or self.body_lay.indexOf(w) >= 0

    def clear_error(self) -> None:
        self.banner.hide()

    def reset_body(self) -> None:
        """Empty the body: pages re-render from the state each time they are shown."""
        clear_layout(self.body_lay)

    def add(self, w: QWidget) -> QWidget:
        if isinstance(w, QLabel) and w.wordWrap():
            # Wrapped labels report a height for a narrower width than they get; top-align so any slack falls
            # below the text rather than pushing it away from its heading.
            w.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.body_lay.addWidget(w)
        return w

    def bullets(self, lines: Sequence[str], title: str | None = None) -> None:
        if title:
            self.add(SectionTitle(title, self.body))
        if lines:
            # One label for the whole list: wrapped labels stacked one per line space out unevenly.
            self.add(wrap("\n".join(f"\u2022 {line}" for line in lines), self.body, selectable=True))


class PlanPage(Page):
    """Why this key, who has it, what the new key should allow, and where to create it."""

    openPageRequested = Signal(str)

    def show_plan(self, plan: Plan | None) -> None:
        self.reset_body()
        if plan is None:
            self.add(muted(wrap("Asking the exchange about the current key\u2026", self.body)))
            return
        key = plan.key
        self.add(wrap(f"{plan.exchange_name} key {key.fingerprint} \u2014 \u201c{key.label}\u201d "
                      f"(purpose: {key.purpose})", self.body, selectable=True))
        self.add(SectionTitle("Why rotate this key", self.body))
        chips = QWidget(self.body)
        flow = FlowLayout(chips)
        for f in plan.findings:
            flow.addWidget(Chip(f.title, f"sev:{f.severity}", f.detail, chips))
        if plan.findings:
            self.add(chips)
        else:
            chips.deleteLater()
        if not plan.findings:
            self.bullets(plan.reasons)
        if plan.consumers:
            lines = [c.name + (f" \u2014 IPs to whitelist: {c.ips_hint}" if c.ips_hint else "")
                     for c in plan.consumers]
            self.bullets(lines, "Who has it now (each gets the new key)")
        self.bullets(plan.advice, "Create the new key")
        if plan.api_page:
            b = QPushButton(f"Open {plan.exchange_name}'s API page", self.body)
            b.setAccessibleName(b.text())
            b.clicked.connect(lambda: self.openPageRequested.emit(plan.api_page))
            self.add(b)
        how = ("through its API, after you confirm" if plan.revoke_via_api
               else "by you, on its API page; KeyHygiene then checks that it is gone")
        self.add(muted(wrap(f"The current key stays in the keychain until {plan.exchange_name} rejects it. It will "
                            f"be deleted {how}. Nothing changes until you start.", self.body)))


class NewKeyPage(Page):
    """Paste the new key. The fields are the only place the secret lives until the keychain takes it.

    The same SecretField as the add-key dialog: masked, shown on request, never copied or dragged out.
    """

    openPageRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None, reveal_seconds: int = 30) -> None:
        super().__init__(parent)
        self.intro = wrap("", self)
        self.body_lay.addWidget(self.intro)
        form_box = QWidget(self)
        self.form = QFormLayout(form_box)
        self.api_key = self._field(form_box, "New API key", "API key", reveal_seconds)
        self.secret = self._field(form_box, "New API secret", "API secret", reveal_seconds)
        self.passphrase = self._field(form_box, "New API passphrase", "passphrase", reveal_seconds)
        self.form.addRow("API key", self.api_key)
        self.form.addRow("Secret", self.secret)
        self.form.addRow("Passphrase", self.passphrase)
        self.body_lay.addWidget(form_box)
        self._page_url = ""
        self.open_button = QPushButton("Open the exchange's API page", self)
        self.open_button.clicked.connect(lambda: self.openPageRequested.emit(self._page_url))
        self.body_lay.addWidget(self.open_button)

    @staticmethod
    def _field(parent: QWidget, name: str, what: str, reveal_seconds: int) -> SecretField:
        return SecretField(name, parent, reveal_seconds, placeholder=f"Paste the new {what}")

    def setup(self, exchange_name: str, needs_passphrase: bool, api_page: str | None, replacing: bool) -> None:
        what = "another new key" if replacing else "the new key"
        self.intro.setText(f"Create {what} on {exchange_name}, then paste it here. It is stored in the keychain as "
                           "pending; the current key stays as it is.")
        self.form.setRowVisible(self.passphrase, needs_passphrase)
        self._page_url = api_page or ""
        self.open_button.setVisible(bool(api_page))
        self.open_button.setText(f"Open {exchange_name}'s API page")

    def credentials(self) -> Credentials:
        return Credentials(api_key=self.api_key.text().strip(), secret=self.secret.text(),
                           passphrase=self.passphrase.text() or None)

    def clear_fields(self) -> None:
        for f in (self.api_key, self.secret, self.passphrase):
            f.wipe()  # masked again too: a replacement key starts hidden

    def focus_field(self, name: str) -> None:
        {"api_key": self.api_key, "secret": self.secret, "passphrase": self.passphrase}.get(
            name, self.api_key).setFocus()


class NewKeyTestPage(Page):
    """The new key as the exchange describes it, judged against the policy and the old key."""

    acceptToggled = Signal(bool)
    replaceRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accept_box: QCheckBox | None = None

    def show_report(self, report: NewKeyReport | None, busy: bool, exchange_name: str) -> None:
        self.reset_body()
        self.accept_box = None
        if report is None or busy:
            self.add(muted(wrap(f"Asking {exchange_name} about the new key\u2026" if busy
                                else "The new key has not been tested yet.", self.body)))
            return
        prof = report.profile or {}
        if report.status == "ok":
            perms = ", ".join(prof.get("permissions") or []) or "none"
            restricted = {True: "yes", False: "no", None: "not reported"}[prof.get("ip_restricted")]
            self.add(wrap(f"New key {prof.get('key', '')}: permissions {perms}; restricted to IP addresses: "
                          f"{restricted}.", self.body, selectable=True))
        if report.verdict is Verdict.REFUSED:
            self.bullets(report.refusals, "This key cannot be used")
        if report.verdict is Verdict.RETRY:
            self.bullets(report.warnings, "Could not test the key")
        if report.findings:
            chips = QWidget(self.body)
            flow = FlowLayout(chips)
            for f in report.findings:
                flow.addWidget(Chip(f["title"], f"sev:{f['severity']}", f["detail"], chips))
            self.add(SectionTitle("Policy findings for the new key", self.body))
            self.add(chips)
        if report.verdict is not Verdict.RETRY and report.warnings:
            self.bullets(report.warnings, "Worth a look")
        if report.verdict is Verdict.RISKY:
            self.bullets(report.risk_texts, "Risks")
            box = QCheckBox("I understand these risks and want to use this key anyway", self.body)
            box.setAccessibleName("Accept the risks of the new key")
            box.toggled.connect(self.acceptToggled)
            self.accept_box = box
            self.add(box)
        if report.verdict in (Verdict.REFUSED, Verdict.RISKY):
            b = QPushButton("Use another key\u2026", self.body)
            b.setAccessibleName("Use another key")
            b.clicked.connect(self.replaceRequested)
            self.add(b)

    @property
    def risk_accepted(self) -> bool:
        return self.accept_box is not None and self.accept_box.isChecked()


class ConsumersPage(Page):
    """One checkbox per service or file that had the old key."""

    consumerToggled = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.boxes: dict[str, QCheckBox] = {}

    def show_consumers(self, items: Sequence[Consumer]) -> None:
        self.reset_body()
        self.boxes = {}
        if not items:
            self.add(wrap("The old key was not recorded as given to anyone. If something else uses it, give it the "
                          "new key now.", self.body))
            return
        self.add(wrap("Give every consumer of the old key the new one, and tick it off. The old key is deleted only "
                      "after this.", self.body))
        for c in items:
            box = QCheckBox(c.name, self.body)
            box.setChecked(c.done)
            box.setAccessibleName(f"{c.name} uses the new key")
            box.toggled.connect(lambda on, cid=c.id: self.consumerToggled.emit(cid, on))
            self.boxes[c.id] = box
            self.add(box)
            hint = muted(wrap(c.instruction, self.body, selectable=True))
            hint.setContentsMargins(24, 0, 0, 6)
            self.add(hint)

    @property
    def all_ticked(self) -> bool:
        return all(b.isChecked() for b in self.boxes.values())


class RevokePage(Page):
    """Delete the old key: through the exchange API where it exists, otherwise on the website."""

    openPageRequested = Signal(str)

    def show_revoke(self, exchange_name: str, fingerprint: str, label: str, api_page: str | None, via_api: bool
                    ) -> None:
        self.reset_body()
        if via_api:
            self.add(wrap(f"{exchange_name} can delete the old key {fingerprint} (\u201c{label}\u201d) through its "
                          "API. It stops working at once, for every consumer that still uses it.", self.body))
        else:
            self.add(wrap(f"Delete the old key {fingerprint} (\u201c{label}\u201d) on {exchange_name}'s API page, "
                          "and leave the new key in place. Then continue: KeyHygiene checks that the exchange "
                          "rejects the old key.", self.body, selectable=True))
        if api_page:
            b = QPushButton(f"Open {exchange_name}'s API page", self.body)
            b.setAccessibleName(b.text())
            b.clicked.connect(lambda: self.openPageRequested.emit(api_page))
            self.add(b)


class VerifyPage(Page):
    """Polls until the exchange rejects the old key; says honestly what the answer proves."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro = wrap("", self)
        self.body_lay.addWidget(self.intro)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setAccessibleName("Checks of the old key")
        self.log.setMaximumBlockCount(200)
        self.body_lay.addWidget(self.log)
        self.result = wrap("", self, selectable=True)
        self.body_lay.addWidget(self.result)

    def start(self, exchange_name: str, fingerprint: str, revoke_message: str | None) -> None:
        lead = f"{revoke_message}\n\n" if revoke_message else ""
        self.intro.setText(f"{lead}Checking that {exchange_name} rejects the old key {fingerprint}\u2026")
        self.result.setText("")

    def add_attempt(self, number: int, status: str, next_in: float | None) -> None:
        nxt = f"; next check in {max(1, round(next_in))} s" if next_in else ""
        self.log.appendPlainText(f"Check {number}: {status}{nxt}")

    def show_result(self, report: VerifyReport) -> None:
        self.result.setText(report.explanation)


class DonePage(Page):
    """The end: what changed (or, after a cancel, what did not)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body_lay.addWidget(self.summary)

    def show_summary(self, text: str) -> None:
        self.summary.setText(text)
