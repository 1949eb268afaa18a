"""The rotation wizard's pages: each renders a ``View`` of the core rotation flow (keyhygiene.core.rotation.flow)
and reports what the user entered.

Pages hold layout only. They never call the flow, the keychain or an exchange; rotation_wizard.py does. Every text,
field and link comes from the view; a page only decides how it looks (chips, checkboxes, a log).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
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
from keyhygiene.core.permissions import permission_words
from keyhygiene.core.rotation.assessment import NewKeyReport
from keyhygiene.core.rotation.flow import Field, Inputs, Link, Need, View
from keyhygiene.core.rotation.states import Verdict
from keyhygiene.ui.widgets import Banner, Chip, FlowLayout, SecretField, SectionTitle, clear_layout, muted, wrap

_INPUTS = (QLineEdit, QAbstractSpinBox, QComboBox, QCheckBox, QRadioButton)


class Page(QWidget):
    """A page with a vertical layout and an error banner at the top."""

    openPageRequested = Signal(str)

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
        if isinstance(w, QPushButton):
            # A button as wide as its words, at the left: stretched across the page, "Open Binance's API page"
            # looked like a bar rather than something to press.
            self.body_lay.addWidget(w, 0, Qt.AlignmentFlag.AlignLeft)
            return w
        self.body_lay.addWidget(w)
        return w

    def show_view(self, v: View, busy: bool) -> None:
        """Render the view: the intro, its sections and links (pages with richer content override this)."""
        self.reset_body()
        if v.intro:
            self.add(wrap(v.intro, self.body, selectable=True))
        for sec in v.sections:
            self.bullets(sec.lines, sec.title) if sec.title else [self.add(wrap(t, self.body)) for t in sec.lines]
        self.links(v.links)

    def inputs(self) -> Inputs:
        return Inputs()

    def satisfied(self, needs: Sequence[Need]) -> bool:
        """Whether the page holds what a choice needs (the wizard enables the choice's button only then)."""
        return not needs

    def links(self, links: Sequence[Link]) -> None:
        for link in links:
            b = QPushButton(link.label, self.body)
            b.setAccessibleName(link.label)
            b.clicked.connect(lambda _c=False, url=link.url: self.openPageRequested.emit(url))
            self.add(b)

    def bullets(self, lines: Sequence[str], title: str | None = None) -> None:
        if title:
            self.add(SectionTitle(title, self.body))
        if lines:
            # One label for the whole list: wrapped labels stacked one per line space out unevenly.
            self.add(wrap("\n".join(f"\u2022 {line}" for line in lines), self.body, selectable=True))


class DecisionRow(QWidget):
    """Keep or stop one consumer: two radio buttons and why the default is what it is."""

    decided = Signal(str, bool)  # consumer id, keep

    def __init__(self, f: Field, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(24, 0, 0, 0)
        self.keep = QRadioButton("Keep: gets the new key", self)
        self.stop = QRadioButton("Stop: does not get it", self)
        self.keep.setAccessibleName(f"{f.label}: keep, gets the new key")
        self.stop.setAccessibleName(f"{f.label}: stop, does not get the new key")
        group = QButtonGroup(self)
        group.addButton(self.keep)
        group.addButton(self.stop)
        (self.keep if f.value else self.stop).setChecked(True)
        self.keep.toggled.connect(lambda on: self.decided.emit(f.name, on))
        lay.addWidget(self.keep)
        lay.addWidget(self.stop)
        lay.addStretch(1)


class PlanPage(Page):
    """Why this key, who has it and who gets the new one, what the new key should allow, and where to create it."""

    decisionChanged = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.decisions: dict[str, DecisionRow] = {}

    def show_view(self, v: View, busy: bool) -> None:
        self.reset_body()
        self.decisions = {}
        plan = v.plan
        if plan is None:
            # While the exchange is asked, the wizard's status line says so: one "Asking …" line, not two.
            for sec in v.sections:
                self.bullets(sec.lines, sec.title)
            return
        self.add(wrap(v.intro, self.body, selectable=True))
        self.add(SectionTitle("Why rotate this key", self.body))
        chips = QWidget(self.body)
        flow = FlowLayout(chips)
        for f in plan.findings:
            flow.addWidget(Chip(f.title, f"sev:{f.severity}", f.detail, chips))
        if plan.findings:
            self.add(chips)
        else:
            chips.deleteLater()
            self.bullets(plan.reasons)
        decisions = [f for f in v.fields if f.kind == "decision"]
        if decisions:
            self.add(SectionTitle("Who has it now, and who gets the new key", self.body))
            by_id = {c.id: c for c in plan.consumers}
            for f in decisions:
                c = by_id[f.name]
                ips = f" \u2014 IPs to whitelist: {c.ips_hint}" if c.keep and c.ips_hint else ""
                self.add(wrap(f"{c.name}{ips}", self.body, selectable=True))
                row = DecisionRow(f, self.body)
                row.decided.connect(self.decisionChanged)
                self.decisions[f.name] = row
                self.add(row)
                if f.hint:
                    hint = muted(wrap(f.hint, self.body))
                    hint.setContentsMargins(24, 0, 0, 6)
                    self.add(hint)
        for sec in v.sections:
            if sec.title == "Create the new key":
                self.bullets(sec.lines, sec.title)
        self.links(v.links)
        for sec in v.sections:
            if sec.title is None:
                for line in sec.lines:
                    self.add(muted(wrap(line, self.body)))


class NewKeyPage(Page):
    """Paste the new key. The fields are the only place the secret lives until the keychain takes it.

    The same SecretField as the add-key dialog: masked, shown on request, never copied or dragged out.
    """

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
        # A key pair generated here: its public key to register on the exchange's page (copying it is fine).
        self.public_box = QWidget(self)
        pub_lay = QVBoxLayout(self.public_box)
        pub_lay.setContentsMargins(0, 0, 0, 0)
        pub_lay.addWidget(SectionTitle("Public key (safe to copy)", self.public_box))
        self.public_key = QPlainTextEdit(self.public_box)
        self.public_key.setReadOnly(True)
        self.public_key.setAccessibleName("Public key to register on the exchange")
        self.public_key.setMaximumHeight(140)
        pub_lay.addWidget(self.public_key)
        self.copy_public = QPushButton("Copy public key", self.public_box)
        self.copy_public.clicked.connect(self._on_copy_public_clicked)
        pub_lay.addWidget(self.copy_public)
        self.body_lay.addWidget(self.public_box)
        self._page_url = ""
        self.open_button = QPushButton("Open the exchange's API page", self)
        self.open_button.clicked.connect(lambda: self.openPageRequested.emit(self._page_url))
        self.body_lay.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)
        # In the order the user works: the public key to register, the exchange's page, then what it returns.
        self.body_lay.addWidget(form_box)
        # Generate a key pair instead: which type (the exchange's recommendation first).
        self.kind_box = QWidget(self)
        kind_lay = QHBoxLayout(self.kind_box)
        kind_lay.setContentsMargins(0, 8, 0, 0)
        self.or_label = wrap("", self.kind_box)
        kind_lay.addWidget(self.or_label, 1)
        self.kind = QComboBox(self.kind_box)
        self.kind.setAccessibleName("Key pair type")
        kind_lay.addWidget(self.kind)
        self.body_lay.addWidget(self.kind_box)

    @staticmethod
    def _field(parent: QWidget, name: str, what: str, reveal_seconds: int) -> SecretField:
        return SecretField(name, parent, reveal_seconds, placeholder=f"Paste the new {what}")

    def show_view(self, v: View, busy: bool) -> None:
        names = {f.name for f in v.fields}
        self.intro.setText(v.intro)
        self.form.setRowVisible(self.secret, "secret" in names)
        self.form.setRowVisible(self.passphrase, "passphrase" in names)
        self.public_box.setVisible(bool(v.public_key))
        if self.public_key.toPlainText() != v.public_key:
            self.public_key.setPlainText(v.public_key)
        kinds = next((f.hint.split(",") for f in v.fields if f.name == "keypair_kind"), [])
        self.kind_box.setVisible(bool(kinds))
        if [self.kind.itemData(i) for i in range(self.kind.count())] != kinds:
            from keyhygiene.core.keypair import kind_label

            self.kind.clear()
            for k in kinds:
                self.kind.addItem(kind_label(k), k)
        self.or_label.setText(next((line for sec in v.sections if sec.title is None for line in sec.lines), ""))
        link = v.links[0] if v.links else None
        self._page_url = link.url if link else ""
        self.open_button.setVisible(link is not None)
        self.open_button.setText(link.label if link else "")
        self.open_button.setAccessibleName(self.open_button.text())

    def inputs(self) -> Inputs:
        kind = self.kind.currentData() if self.kind_box.isVisibleTo(self) else None
        return Inputs(credentials=self.credentials(), kind=kind)

    def satisfied(self, needs: Sequence[Need]) -> bool:
        return True  # an empty field is refused by the core next to the field, with its reason

    def _on_copy_public_clicked(self) -> None:
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.clipboard().setText(self.public_key.toPlainText())  # a public key: nothing secret

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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accept_box: QCheckBox | None = None

    def show_view(self, v: View, busy: bool) -> None:
        self.show_report(v.report, busy, v.exchange_name)

    def inputs(self) -> Inputs:
        return Inputs(accept=self.risk_accepted)

    def satisfied(self, needs: Sequence[Need]) -> bool:
        return Need.ACCEPT not in needs or self.risk_accepted

    def show_report(self, report: NewKeyReport | None, busy: bool, exchange_name: str) -> None:
        self.reset_body()
        self.accept_box = None
        if report is None or busy:
            # While it is tested the wizard's status line says "Asking … about the new key": said once.
            if not busy:
                self.add(muted(wrap("The new key has not been tested yet.", self.body)))
            return
        prof = report.profile or {}
        if report.status == "ok":
            perms = permission_words(prof.get("permissions") or [])
            restricted = {True: "yes", False: "no", None: "not reported"}[prof.get("ip_restricted")]
            self.add(wrap(f"New key {prof.get('key', '')}: allows {perms}; restricted to IP addresses: "
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

    @property
    def risk_accepted(self) -> bool:
        return self.accept_box is not None and self.accept_box.isChecked()


class ConsumersPage(Page):
    """One line per service or file that had the old key: keep or stop, and a box to tick off once it is done
    (updated with the new key, or its access removed at the service)."""

    consumerToggled = Signal(str, bool)
    decisionChanged = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.boxes: dict[str, QCheckBox] = {}
        self.decisions: dict[str, DecisionRow] = {}

    def show_view(self, v: View, busy: bool) -> None:
        self.reset_body()
        self.boxes = {}
        self.decisions = {}
        self.add(wrap(v.intro, self.body))
        for f in v.fields:
            if f.kind == "decision":
                self.add(SectionTitle(f.label, self.body))
                row = DecisionRow(f, self.body)
                row.decided.connect(self.decisionChanged)
                self.decisions[f.name] = row
                self.add(row)
            elif f.kind == "check":
                box = QCheckBox(f.label, self.body)
                box.setChecked(bool(f.value))
                box.setAccessibleName(f.label)
                box.toggled.connect(lambda on, cid=f.name: self.consumerToggled.emit(cid, on))
                self.boxes[f.name] = box
                self.add(box)
                hint = muted(wrap(f.hint, self.body, selectable=True))
                hint.setContentsMargins(24, 0, 0, 6)
                self.add(hint)
                link = next((x for x in v.links if x.field == f.name), None)
                if link is not None:
                    # The service's own page, where its connection to the old key is removed or updated.
                    b = QPushButton(link.label, self.body)
                    b.setAccessibleName(b.text())
                    b.clicked.connect(lambda _c=False, url=link.url: self.openPageRequested.emit(url))
                    self.add(b)

    def inputs(self) -> Inputs:
        return Inputs(ticks={cid: b.isChecked() for cid, b in self.boxes.items()})

    def satisfied(self, needs: Sequence[Need]) -> bool:
        return Need.TICKS not in needs or self.all_ticked

    @property
    def all_ticked(self) -> bool:
        return all(b.isChecked() for b in self.boxes.values())


class RevokePage(Page):
    """Delete the old key: through the exchange API where it exists, otherwise on the website."""


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

        self.link_box = QWidget(self)
        self.link_lay = QVBoxLayout(self.link_box)
        self.link_lay.setContentsMargins(0, 0, 0, 0)
        self.body_lay.addWidget(self.link_box)
        self._lines = 0

    def show_view(self, v: View, busy: bool) -> None:
        self.intro.setText(v.intro)
        if len(v.attempts) < self._lines or not v.attempts:
            self.log.clear()
            self._lines = 0
        for line in v.attempts[self._lines:]:
            self.log.appendPlainText(line)
        self._lines = len(v.attempts)
        self.result.setText(v.result)
        clear_layout(self.link_lay)
        for link in v.links:
            b = QPushButton(link.label, self.link_box)
            b.setAccessibleName(link.label)
            b.clicked.connect(lambda _c=False, url=link.url: self.openPageRequested.emit(url))
            self.link_lay.addWidget(b, 0, Qt.AlignmentFlag.AlignLeft)

    def add_attempt(self, text: str) -> None:
        """A check as it happens (the view lists it too, for a later render)."""
        self.log.appendPlainText(text)
        self._lines += 1


class DonePage(Page):
    """The end: what changed (or, after a cancel, what did not)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body_lay.addWidget(self.summary)

    def show_view(self, v: View, busy: bool) -> None:
        self.summary.setText(v.intro)
