"""The right-hand pane: everything about the selected key, and buttons that act on it.

Sections: header (exchange, label, masked key with copy/reveal), blast radius, findings (each with its fix and the
buttons that carry the fix out), the exchange's profile, who the key was given to, and its check/rotation history.
The pane only emits requests; the main window carries them out through the services.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from keyhygiene.core.exchange_facts import display_name
from keyhygiene.core.models import Finding, KeyProfile, account_facts_text
from keyhygiene.core.permissions import PERMISSION_LABELS
from keyhygiene.core.timeutil import utcnow
from keyhygiene.ui import theme
from keyhygiene.ui.icons import action_icon, exchange_icon
from keyhygiene.ui.key_row import STATUS_LABELS, KeyRow, format_age, permission_tone
from keyhygiene.ui.links import LinksButton, collect_links
from keyhygiene.ui.team_banner import READ_ONLY_TIP
from keyhygiene.ui.widgets import (
    Chip,
    FlowLayout,
    SectionTitle,
    breakable,
    chips_row,
    clear_layout,
    muted,
    rich,
    wrap,
)

if TYPE_CHECKING:
    from keyhygiene.ui.services import History, Services

# What each rule's fix button does (rule ids from keyhygiene.core.rules). "unshare" buttons are added for every
# still-active consumer the finding names in its evidence.
RULE_ACTIONS: dict[str, tuple[str, ...]] = {
    "shared_with_leaked_service": ("rotate",),
    "shared_with_breached_service": ("rotate",),
    "shared_with_defunct_service": ("rotate",),
    "shared_with_third_party": (),
    "shared_with_several": ("rotate",),
    "third_party_link": ("rotate",),
    "plaintext_copy": ("scan", "rotate"),
    "too_old": ("rotate",),
    "expired": ("rotate", "remove"),
    "expiring": ("rotate",),
    "inactivity_deletion": ("recheck",),
    "withdraw_enabled": ("rotate",),
    "no_ip_restriction": ("rotate",),
    "transfer_enabled": ("rotate",),
    "excess_permission": ("rotate", "edit"),
    "permissions_unknown": ("edit", "recheck"),
    "key_rejected": ("recheck", "remove"),
    "inspection_failed": ("recheck",),
}
# The card actions that change the vault: off while a team vault is read-only (recheck and scan only read).
WRITING_ACTIONS = frozenset({"rotate", "edit", "share", "unshare", "remove"})
ACTION_LABELS = {"rotate": "Rotate this key\u2026", "edit": "Edit purpose\u2026", "recheck": "Check again",
                 "scan": "Scan for plaintext copies\u2026", "remove": "Remove from KeyHygiene\u2026"}
ACTION_ICONS = {"rotate": "rotate", "unshare": "unshare", "edit": "edit", "recheck": "audit", "scan": "scan",
                "remove": "trash"}


def finding_actions(f: Finding, row: KeyRow, name: Callable[[str], str] = str) -> list[tuple[str, str, str]]:
    """Buttons for one finding: (label, action, argument)."""
    out = [(ACTION_LABELS[a], a, "") for a in RULE_ACTIONS.get(f.rule, ())]
    if f.rule == "permissions_unknown":
        out[0] = ("Declare permissions\u2026", "edit", "")
    active = set(row.record.shared_with)
    named: list[str] = []
    for k in ("service", "consumers"):
        v = (f.evidence or {}).get(k)
        named.extend([v] if isinstance(v, str) else [x for x in (v or []) if isinstance(x, str)])
    for s in dict.fromkeys(named):
        if s in active:
            out.append((f"End sharing with {name(s)}\u2026", "unshare", s))
    return out


def mono_font(base: QFont) -> QFont:
    """The system's fixed-pitch font at the size of ``base``: the system's own size ignored the user's larger
    font, so the masked key was the smallest text in the pane at 1.5x."""
    f = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if base.pointSizeF() > 0:
        f.setPointSizeF(base.pointSizeF())
    return f


class FindingCard(QFrame):
    """One finding: severity stripe and tag, title, explanation, fix, action buttons."""

    actionRequested = Signal(str, str)  # action, argument

    def __init__(self, finding: Finding, actions: Sequence[tuple[str, str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self._dark = theme.is_dark()
        self.finding = finding
        self.setObjectName("findingCard")
        self.setAccessibleName(f"{finding.severity} finding: {finding.title}")
        self._severity = finding.severity
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 12, 10)
        lay.setSpacing(5)
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(Chip(finding.severity.upper(), f"sev:{finding.severity}"), 0, Qt.AlignmentFlag.AlignTop)
        title = wrap(finding.title, self)
        f = QFont(title.font())
        f.setBold(True)
        title.setFont(f)
        top.addWidget(title, 1)
        lay.addLayout(top)
        # The fix first, worded for the window (the button to press, not a command); the explanation behind
        # "More", so a card reads as problem and action (issue 20).
        fix_text = finding.fix_for("gui")
        fix = rich(fix_text, self)
        fix.setText(f"<b>Fix:</b> {fix.text()}")
        fix.setAccessibleName(f"Fix: {fix_text}")
        lay.addWidget(fix)
        self.more = QToolButton(self)
        self.more.setObjectName("findingMore")
        self.more.setCheckable(True)
        self.more.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more.setAutoRaise(True)
        self.more.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a Tab stop: the explanation is keyboard reachable
        self.detail = rich(finding.detail, self)
        self.detail.setVisible(False)
        self.more.toggled.connect(self._show_more)
        self._show_more(False)
        lay.addWidget(self.more, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.detail)
        self.buttons: list[QPushButton] = []
        # One per button. Not ``actions``: that would hide QWidget.actions() on this card.
        self.button_actions = [action for _label, action, _arg in actions]
        if actions:
            box = QWidget(self)
            row = FlowLayout(box, spacing=6)
            for label, action, arg in actions:
                b = QPushButton(label, self)
                b.setIcon(action_icon(ACTION_ICONS.get(action, "open")))
                b.setAccessibleName(label)
                b.setToolTip(f"{label.rstrip('…')} — fixes: {finding.title}")
                b.clicked.connect(lambda _=False, a=action, x=arg: self.actionRequested.emit(a, x))
                row.addWidget(b)
                self.buttons.append(b)
            lay.addWidget(box)
        self._style()

    def _show_more(self, shown: bool) -> None:
        self.detail.setVisible(shown)
        self.more.setText("Less" if shown else "More")
        self.more.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.more.setAccessibleName(("Hide why: " if shown else "More: why ") + self.finding.title)
        self.more.setToolTip("Hide the explanation" if shown else "Why this matters")

    def _style(self) -> None:
        dark = self._dark = theme.is_dark()
        c = theme.severity_color(self._severity, dark)
        base = self.palette().color(QPalette.ColorRole.Base)
        border = self.palette().color(QPalette.ColorRole.Mid)
        self.setStyleSheet(
            f"#findingCard {{ background: {base.name()}; border: 1px solid {border.name()};"
            f" border-left: 4px solid {c.name()}; border-radius: 6px; }}"
        )

    def changeEvent(self, e) -> None:
        if e.type() == e.Type.PaletteChange and theme.is_dark() != self._dark:
            self._style()
        super().changeEvent(e)


def _day(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d") if dt else "—"


class DetailPane(QScrollArea):
    # Requests for the main window; every one carries the key id.
    rotateRequested = Signal(str)
    editRequested = Signal(str)
    shareRequested = Signal(str)
    unshareRequested = Signal(str, str)  # key id, service
    recheckRequested = Signal(str)
    removeRequested = Signal(str)
    copyKeyRequested = Signal(str)
    copyIdRequested = Signal(str)
    revealRequested = Signal(str)
    scanRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName("Key details")
        self.setMinimumWidth(340)
        self._row: KeyRow | None = None
        self._services: Services = None
        self._history_cache: tuple[str, History] | None = None  # the last key's checks and rotations
        # The key is shown exactly while this runs: ``revealed`` asks it, so the two cannot disagree.
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.timeout.connect(self._on_hide_timer_timeout)
        self.cards: list[FindingCard] = []
        self._show_empty()

    def sizeHint(self) -> QSize:
        return QSize(440, 600)

    def set_services(self, services: Services) -> None:
        self._services = services
        services.backendChecked.connect(self._on_services_backend_checked)

    def _on_services_backend_checked(self, _reason: object) -> None:
        self.apply_read_only()

    def writing_buttons(self) -> list[QAbstractButton]:
        """The pane's buttons that would change the vault (as the toolbar's ``writing_actions``); Check now, copy
        and reveal only read."""
        if self._row is None:
            return []
        out: list[QAbstractButton] = [self.rotate_button, self.edit_button, self.remove_button, self.share_button,
                                      *self.unshare_buttons]
        for card in self.cards:
            out.extend(b for b, action in zip(card.buttons, card.button_actions, strict=True)
                       if action in WRITING_ACTIONS)
        return out

    def apply_read_only(self) -> None:
        """While a team vault's server is away the window shows its cache read-only: the buttons that would
        change a key look it (greyed, with why in the tooltip), not only refuse when clicked; back on Retry."""
        read_only = self._services is not None and self._services.offline is not None
        for b in self.writing_buttons():
            tip = b.property("writableTip")
            if tip is None:
                b.setProperty("writableTip", b.toolTip())
                tip = b.toolTip()
            b.setEnabled(not read_only)
            b.setToolTip(READ_ONLY_TIP if read_only else str(tip))

    @property
    def key_id(self) -> str | None:
        return self._row.id if self._row else None

    # ---- content ------------------------------------------------------------------------------------------
    def _show_empty(self) -> None:
        self._row = None
        self.links_button: LinksButton | None = None
        self.cards = []
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.addStretch(1)
        icon = QLabel()
        icon.setPixmap(action_icon("key", self.palette().color(QPalette.ColorRole.PlaceholderText)).pixmap(48, 48))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(icon)
        text = muted(QLabel("Select a key to see what it can do,\nwho has it and what to fix."))
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(text)
        lay.addStretch(2)
        self.setWidget(w)

    def clear(self) -> None:
        self._hide_timer.stop()
        self._show_empty()

    def changeEvent(self, e: QEvent) -> None:
        # Dark mode switched: the window rebuilds a key's pane; the empty one's icon is tinted here.
        empty = hasattr(self, "_hide_timer") and self._row is None  # not before __init__ has run
        if e.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) and empty:
            self._show_empty()
        super().changeEvent(e)

    def show_row(self, row: KeyRow | None) -> None:
        if row is None:
            self.clear()
            return
        same_key = self._row is not None and self._row.id == row.id
        scroll = self.verticalScrollBar().value() if same_key else 0
        # A rebuilt pane starts masked again, even for the same key.
        self._hide_timer.stop()
        self._row = row
        self.setWidget(self._build(row))
        if same_key:
            QTimer.singleShot(0, lambda: self.verticalScrollBar().setValue(scroll))

    def _build(self, row: KeyRow) -> QWidget:
        rec = row.record
        w = QWidget()
        w.setObjectName("detailContent")
        # Never wider than the pane: with no horizontal scroll bar, anything wider was cut off on the right,
        # buttons included. Texts wrap (or elide with a tooltip) in the width there is.
        w.setMinimumWidth(1)
        lay = QVBoxLayout(w)
        lay.setContentsMargins(16, 14, 16, 16)
        lay.setSpacing(8)

        # header ----------------------------------------------------------------------------------------------
        head = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(exchange_icon(rec.exchange).pixmap(40, 40))
        icon.setAccessibleName(display_name(rec.exchange))
        head.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        title = wrap(breakable(rec.label), w)
        title.setToolTip(rec.label)
        tf = QFont(title.font())
        tf.setBold(True)
        if tf.pointSizeF() > 0:
            tf.setPointSizeF(tf.pointSizeF() * 1.35)
        title.setFont(tf)
        title.setAccessibleName(f"Key {rec.label}")
        self.title_label = title
        titles.addWidget(title)
        sub = muted(wrap(f"{display_name(rec.exchange)} \u00b7 {rec.purpose} \u00b7 id {rec.id}", w))
        titles.addWidget(sub)
        head.addLayout(titles, 1)
        risk = row.worst_severity
        if row.findings and risk:
            pill = Chip(f"{risk.capitalize()}" + (f" \u00b7 {row.score}" if row.score is not None else ""),
                        f"sev:{risk}", "Worst finding \u00b7 hygiene score of this key")
        elif row.score is not None:
            pill = Chip(f"Clean \u00b7 {row.score}", "sev:ok", "No findings")
        else:
            pill = Chip("Not evaluated", "muted")
        # Under the name, not beside it: beside it, it took the room a long label needed and was itself cut off
        # in a narrow pane or at a large font (issue 20).
        titles.addWidget(pill, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addLayout(head)

        keyline = QHBoxLayout()
        keyline.setSpacing(4)
        self.key_label = QLabel(rec.fingerprint)
        self.key_label.setFont(mono_font(self.font()))
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setAccessibleName("API key (masked)")
        keyline.addWidget(self.key_label)
        self.reveal_button = self._tool("eye", "Show the full API key for a few seconds (the secret is never shown)",
                                        "Reveal API key", lambda: self._on_reveal_clicked())
        self.copy_key_button = self._tool("copy", "Copy the API key; the clipboard is cleared after a delay",
                                          "Copy API key", lambda: self.copyKeyRequested.emit(rec.id))
        self.copy_id_button = self._tool("key", f"Copy the key id ({rec.id}) for use with the command line",
                                         "Copy key id", lambda: self.copyIdRequested.emit(rec.id))
        for b in (self.reveal_button, self.copy_key_button, self.copy_id_button):
            keyline.addWidget(b)
        keyline.addStretch(1)
        lay.addLayout(keyline)

        actions_box = QWidget(w)
        actions = FlowLayout(actions_box, spacing=6)
        self.rotate_button = self._button("rotate", "Rotate\u2026", "Replace this key step by step (Ctrl+Shift+R)",
                                          lambda: self.rotateRequested.emit(rec.id))
        self.edit_button = self._button("edit", "Edit\u2026", "Change label, purpose, dates and sharing (F2)",
                                        lambda: self.editRequested.emit(rec.id))
        self.recheck_button = self._button("audit", "Check now", "Ask the exchange about this key again (Ctrl+R)",
                                           lambda: self.recheckRequested.emit(rec.id))
        self.remove_button = self._button("trash", "Remove\u2026",
                                          "Delete this key from the keychain and KeyHygiene (Delete)",
                                          lambda: self.removeRequested.emit(rec.id))
        for button in (self.rotate_button, self.edit_button, self.recheck_button, self.remove_button):
            actions.addWidget(button)
        lay.addWidget(actions_box)

        if row.audit_message:
            lay.addWidget(muted(wrap(row.audit_message, w)))

        # blast radius ---------------------------------------------------------------------------------------
        if row.blast_radius:
            box = QFrame(w)
            box.setObjectName("blastBox")
            bl = QVBoxLayout(box)
            bl.setContentsMargins(12, 8, 12, 10)
            cap = QLabel("If this key leaked")
            cf = QFont(cap.font())
            cf.setBold(True)
            cap.setFont(cf)
            bl.addWidget(cap)
            self.blast_label = rich(row.blast_radius, box)
            self.blast_label.setAccessibleName("Blast radius")
            bl.addWidget(self.blast_label)
            c = theme.severity_color(row.worst_severity or "info", theme.is_dark(self.palette()))
            box.setStyleSheet(f"#blastBox {{ border: 1px solid {c.name()}; border-radius: 6px; }}")
            lay.addWidget(box)

        # findings -------------------------------------------------------------------------------------------
        n = len(row.findings)
        lay.addWidget(SectionTitle(f"Findings ({n})" if n else "Findings"))
        self.cards = []
        if not row.findings:
            txt = ("Nothing to fix: this key follows your policy." if row.score is not None
                   else "Not evaluated yet: run an audit to check this key with the exchange.")
            lay.addWidget(muted(wrap(txt, w)))
        for f in row.findings:
            card = FindingCard(f, finding_actions(f, row, self._name), w)
            card.actionRequested.connect(self._on_card_action)
            self.cards.append(card)
            lay.addWidget(card)

        # profile --------------------------------------------------------------------------------------------
        lay.addWidget(SectionTitle("What the exchange reports"))
        lay.addWidget(self._profile_form(row, w))

        # exposure -------------------------------------------------------------------------------------------
        lay.addWidget(SectionTitle("Shared with"))
        lay.addWidget(self._exposures(row, w))

        # history --------------------------------------------------------------------------------------------
        lay.addWidget(SectionTitle("History"))
        lay.addWidget(self._history(row, w))
        lay.addStretch(1)

        # Every link the texts above show, as one Tab stop next to the key's buttons (issue 20: Tab used to stop
        # at each link of each finding on its way to the next button).
        found = collect_links(w)
        self.links_button = LinksButton(found, actions_box) if found else None
        if self.links_button is not None:
            actions.addWidget(self.links_button)
            QWidget.setTabOrder(self.remove_button, self.links_button)
        self.apply_read_only()
        return w

    def _tool(self, icon: str, tip: str, name: str, slot: Any) -> QToolButton:
        b = QToolButton()
        b.setIcon(action_icon(icon))
        b.setToolTip(tip)
        b.setAccessibleName(name)
        b.setAutoRaise(True)
        b.clicked.connect(slot)
        return b

    def _button(self, icon: str, text: str, tip: str, slot: Any) -> QPushButton:
        b = QPushButton(action_icon(icon), text)
        b.setToolTip(tip)
        b.setAccessibleName(text.rstrip("\u2026"))
        b.clicked.connect(slot)
        return b

    def _profile_form(self, row: KeyRow, parent: QWidget) -> QWidget:
        box = QWidget(parent)
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(5)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        p: KeyProfile | None = row.profile
        if p is None:
            form.addRow(muted(QLabel("Status")), wrap("Never checked with the exchange.", box))
        else:
            status = STATUS_LABELS.get(str(p.status), str(p.status))
            text = status if not p.message or row.status_ok else f"{status}: {p.message}"
            lab = wrap(text, box, selectable=True)
            if not row.status_ok:
                pal = lab.palette()
                pal.setColor(QPalette.ColorRole.WindowText, theme.severity_color("high"))
                lab.setPalette(pal)
            form.addRow(muted(QLabel("Status")), lab)
        perms = row.permissions
        if perms is not None:
            chips = [(PERMISSION_LABELS.get(x, x), permission_tone(x)) for x in perms]
            if row.permissions_not_said:
                chips.append(("anything more: the exchange does not say", "muted"))
            chips = chips or [("none", "muted")]
            if row.permissions_declared:
                chips.append(("declared by you", "muted"))
            form.addRow(muted(QLabel("Permissions")), chips_row(chips, box))
        if p is not None and p.other:
            form.addRow(muted(QLabel("Exchange-specific")), wrap(", ".join(p.other), box))
        if p is not None and row.status_ok and p.account_facts:
            # About the account, not this key (MEXC's canTrade/canWithdraw): shown, never judged as permissions.
            form.addRow(muted(QLabel("Account facts")),
                        wrap(f"{account_facts_text(p.account_facts)} (what {display_name(p.exchange)} says of the "
                             "account, not of this key)", box, selectable=True))
        if p is not None and row.status_ok:
            if p.ip_whitelist:
                ip = ", ".join(p.ip_whitelist)
            elif p.ip_restricted is True:
                ip = "Restricted (the exchange does not list the addresses)"
            elif p.ip_restricted is False:
                ip = "None: usable from any IP address"
            else:
                ip = "Not reported by the exchange"
            form.addRow(muted(QLabel("IP restriction")), wrap(ip, box, selectable=True))
        now = utcnow()
        created = row.created_at
        origin = {"exchange": "reported by the exchange", "declared": "entered by you"}.get(row.created_origin, "")
        form.addRow(muted(QLabel("Created")),
                    wrap(f"{_day(created)} ({format_age(row.age_days(now))} old, {origin})" if created
                         else "Unknown", box))
        if p is not None and p.expires_at:
            form.addRow(muted(QLabel("Key expires")), QLabel(_day(p.expires_at)))
        if p is not None and p.trade_expires_at:
            form.addRow(muted(QLabel("Trading expires")), QLabel(_day(p.trade_expires_at)))
        if p is not None and p.is_master is not None:
            form.addRow(muted(QLabel("Account")), QLabel("Main account" if p.is_master else "Sub-account"))
        if p is not None and p.third_party_link:
            form.addRow(muted(QLabel("Linked app")), wrap(f"Connected to {p.third_party_link} (reported by the "
                                                          "exchange)", box))
        if p is not None and p.last_used_at:
            form.addRow(muted(QLabel("Last used")), QLabel(_day(p.last_used_at)))
        form.addRow(muted(QLabel("Added")), QLabel(_day(row.record.added_at)))
        if row.record.note:
            form.addRow(muted(QLabel("Note")), wrap(row.record.note, box, selectable=True))
        return box

    def _exposures(self, row: KeyRow, parent: QWidget) -> QWidget:
        box = QWidget(parent)
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        exposures = sorted(row.record.exposures, key=lambda e: (not e.active, e.shared_at or datetime.min.date()))
        name = self._services.service_name if self._services is not None else (lambda s: s)
        self.unshare_buttons: list[QPushButton] = []
        if not exposures:
            grid.addWidget(muted(wrap("Not recorded as given to any service.", box)), 0, 0, 1, 3)
        for i, e in enumerate(exposures):
            tone = "incident" if e.service in row.incident_services and e.active else (
                "service" if e.active else "muted")
            chip = Chip(name(e.service), tone)
            grid.addWidget(chip, i, 0, Qt.AlignmentFlag.AlignLeft)
            since = f"since {e.shared_at:%Y-%m-%d}" if e.shared_at else "date unknown"
            when = since if e.active else f"{since.replace('since', 'from')}, ended {e.revoked_at:%Y-%m-%d}"
            grid.addWidget(muted(QLabel(when)), i, 1)
            if e.active:
                b = QPushButton("End\u2026")
                b.setToolTip(f"Record that {name(e.service)} no longer has this key")
                b.setAccessibleName(f"End sharing with {name(e.service)}")
                b.clicked.connect(lambda _=False, s=e.service: self.unshareRequested.emit(row.id, s))
                grid.addWidget(b, i, 2, Qt.AlignmentFlag.AlignRight)
                self.unshare_buttons.append(b)
        grid.setColumnStretch(1, 1)
        add = QPushButton(action_icon("share"), "Record a sharing\u2026")
        add.setToolTip("Record that this key was given to a service or bot (Ctrl+Shift+H)")
        add.setAccessibleName("Record a sharing")
        add.clicked.connect(lambda: self.shareRequested.emit(row.id))
        self.share_button = add
        grid.addWidget(add, len(exposures) + 1, 0, 1, 3, Qt.AlignmentFlag.AlignLeft)
        if self._services is not None:
            incidents = self._services.incidents(row.id)
            for j, inc in enumerate(incidents[:4]):
                when = f" on {inc.day:%Y-%m-%d}" if inc.day else ""
                lab = wrap(f"\u26a0 {name(inc.service)}: {inc.title}{when}"
                           + ("" if inc.verified else " (unverified)"), box)
                lab.setToolTip(inc.summary)
                pal = lab.palette()
                # As severe as the finding that names the incident: the pane and the findings agree.
                pal.setColor(QPalette.ColorRole.WindowText, theme.severity_color(inc.severity))
                lab.setPalette(pal)
                grid.addWidget(lab, len(exposures) + 2 + j, 0, 1, 3)
        return box

    def _history(self, row: KeyRow, parent: QWidget) -> QWidget:
        """What happened to the key. Its checks and rotations are read from the vault on a worker: until they come,
        the section shows what the row knows (added, given to, ended) and says that more is on its way; the last
        key's history is kept, so re-showing the same key (an audit's verdict) does not flicker."""
        box = QWidget(parent)
        box.setObjectName("historyBox")
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        self.history_box = box
        cached = self._history_cache[1] if self._history_cache and self._history_cache[0] == row.id else None
        self._fill_history(box, row, cached)
        if self._services is not None:
            self._services.load_history(row.id, lambda h: self._on_history_loaded(row, box, h), limit=12,
                                        context=box)
        return box

    def _on_history_loaded(self, row: KeyRow, box: QWidget, history: History) -> None:
        self._history_cache = (row.id, history)
        if self._row is row:  # else the pane was rebuilt meanwhile, and its new section asked for itself
            self._fill_history(box, row, history)

    def _fill_history(self, box: QWidget, row: KeyRow, history: History | None) -> None:
        lay = box.layout()
        assert lay is not None
        clear_layout(lay)
        entries: list[tuple[datetime, str]] = []
        checks, rotations = history if history is not None else ([], [])
        for at, prof in checks:
            status = STATUS_LABELS.get(str(prof.status), str(prof.status))
            perms = ", ".join(PERMISSION_LABELS.get(x, x) for x in prof.permissions) if prof.permissions else ""
            entries.append((at, f"Checked: {status}" + (f" \u2014 {perms}" if perms and str(prof.status) == "ok"
                                                        else "")))
        for r in rotations:
            at = r.finished_at or r.started_at
            state = {"done": "completed", "cancelled": "cancelled"}.get(r.state, f"waiting at {r.state}")
            change = f": {r.old_fingerprint} \u2192 {r.new_fingerprint}" if r.new_fingerprint else ""
            entries.append((at, f"Rotation {state}{change}"))
        entries.append((row.record.added_at, "Added to KeyHygiene"))
        for e in row.record.exposures:
            if e.shared_at:
                entries.append((datetime(e.shared_at.year, e.shared_at.month, e.shared_at.day),
                                f"Given to {self._name(e.service)}"))
            if e.revoked_at:
                entries.append((datetime(e.revoked_at.year, e.revoked_at.month, e.revoked_at.day),
                                f"No longer with {self._name(e.service)}"))
        entries.sort(key=lambda t: t[0].replace(tzinfo=None), reverse=True)
        if history is None and self._services is not None:
            note = muted(QLabel("Reading checks and rotations\u2026", box))
            note.setAccessibleName("History loading")
            lay.addWidget(note)
        for at, text in entries[:16]:
            line = QWidget(box)  # a widget, not a bare layout: a later fill deletes it whole
            h = QHBoxLayout(line)
            h.setContentsMargins(0, 0, 0, 0)
            d = muted(QLabel(at.strftime("%Y-%m-%d %H:%M") if (at.hour or at.minute) else at.strftime("%Y-%m-%d")))
            d.setMinimumWidth(118)
            h.addWidget(d)
            h.addWidget(wrap(text, line), 1)
            lay.addWidget(line)

    def _name(self, service: str) -> str:
        return self._services.service_name(service) if self._services is not None else service

    # ---- actions --------------------------------------------------------------------------------------------
    def _on_card_action(self, action: str, arg: str) -> None:
        if self._row is None:
            return
        kid = self._row.id
        if action == "rotate":
            self.rotateRequested.emit(kid)
        elif action == "unshare":
            self.unshareRequested.emit(kid, arg)
        elif action == "edit":
            self.editRequested.emit(kid)
        elif action == "recheck":
            self.recheckRequested.emit(kid)
        elif action == "scan":
            self.scanRequested.emit()
        elif action == "share":
            self.shareRequested.emit(kid)
        elif action == "remove":
            self.removeRequested.emit(kid)

    def _on_reveal_clicked(self) -> None:
        if self._row is None:
            return
        if self.revealed:
            self._on_hide_timer_timeout()
        else:
            self.revealRequested.emit(self._row.id)

    def show_revealed(self, key_id: str, api_key: str, seconds: int) -> None:
        """Show the full API key until ``seconds`` pass or another key is selected."""
        if self._row is None or self._row.id != key_id:
            return
        self.key_label.setText(api_key)
        # Not selectable while shown: Ctrl+C on a selection would skip the clipboard's clearing and password hint;
        # the copy button goes through SecureClipboard.
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.key_label.setAccessibleName("API key (shown)")
        self.reveal_button.setIcon(action_icon("eye-off"))
        self.reveal_button.setToolTip("Hide the API key")
        self._hide_timer.start(max(1, seconds) * 1000)

    @property
    def revealed(self) -> bool:
        return self._hide_timer.isActive()

    def _on_hide_timer_timeout(self) -> None:
        self._hide_timer.stop()
        if self._row is not None:
            try:
                self.key_label.setText(self._row.record.fingerprint)
                self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.key_label.setAccessibleName("API key (masked)")
                self.reveal_button.setIcon(action_icon("eye"))
                self.reveal_button.setToolTip("Show the full API key for a few seconds (the secret is never shown)")
            except RuntimeError:  # the pane was rebuilt meanwhile; the new labels are masked already
                pass
