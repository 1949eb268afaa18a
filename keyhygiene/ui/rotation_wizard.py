"""The rotation wizard: a non-blocking dialog that renders the core rotation flow (keyhygiene.core.rotation.flow).

The flow says, for the step the rotation is at, what the page shows, which choices the buttons offer (labels,
whether they are usable, what to ask first) and which choice runs by itself. This module has no step logic: it
shows the view, hands the page's input to the choice a button names, and runs it on the app's asyncio runner, so
journal writes, keychain calls and exchange requests never run on the GUI thread. Closing the window never cancels:
the rotation is saved and the main window offers "Resume". Opening it reads the journal, the key, the policy and the
registry: that too runs on a worker (``Services.open_rotation_flow``), the window says "Opening" meanwhile.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from keyhygiene.core import redact
from keyhygiene.core.rotation.flow import Choice, Inputs, Outcome, Role, RotationFlow, View
from keyhygiene.core.rotation.machine import Attempt, ExchangeOps, RotationError, RotationMachine
from keyhygiene.core.rotation.states import Step
from keyhygiene.core.validation import ValidationError
from keyhygiene.ui import links
from keyhygiene.ui.callbacks import deliver
from keyhygiene.ui.mnemonics import taken_on, with_mnemonics
from keyhygiene.ui.rotation_pages import (
    ConsumersPage,
    DonePage,
    NewKeyPage,
    NewKeyTestPage,
    Page,
    PlanPage,
    RevokePage,
    VerifyPage,
)

log = logging.getLogger(__name__)


def open_rotation(parent: QWidget, services: Any, key_id: str, resume: bool = False) -> RotationWizard:
    """Plugin entry point (keyhygiene.ui.plugins): create, show without blocking, return the wizard."""
    w = RotationWizard(services, key_id, parent)
    w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    w.show()  # not open(): a rotation can take a while and the main window stays usable meanwhile
    return w


class RotationWizard(QDialog):
    keyRotated = Signal(str)  # key id, once the rotation is complete
    rotationCancelled = Signal(str)
    stepChanged = Signal(str)  # the Step value now shown
    busyChanged = Signal(bool)

    def __init__(self, services: Any, key_id: str, parent: QWidget | None = None, *,
                 ops: ExchangeOps | None = None, machine: RotationMachine | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.key_id = key_id
        # Both come from a worker (``_on_opened``), unless a test hands in its machine.
        self.m: RotationMachine = machine  # type: ignore[assignment]
        self.flow: RotationFlow | None = None
        self._view: View | None = None
        self._busy = False
        self._running: Choice | None = None
        self._auto_ran: set[tuple[int | None, Step, str]] = set()
        self._confirm_box: QMessageBox | None = None
        # The page last shown, to focus its first field once per arrival rather than at every re-render (which
        # would take the focus from the field an error just pointed at); pending while nothing can take it yet.
        self._shown: tuple[int | None, Step, str] | None = None
        self._focus_pending = False

        row = services.row(key_id) if hasattr(services, "row") else None
        label = machine.key.label if machine is not None else row.record.label if row is not None else key_id
        self.setWindowTitle(f"Rotate \u201c{label}\u201d")
        self.setModal(False)
        self.resize(640, 560)
        lay = QVBoxLayout(self)
        self.heading = QLabel(self)
        f = self.heading.font()
        f.setBold(True)
        if f.pointSizeF() > 0:
            f.setPointSizeF(f.pointSizeF() * 1.25)
        self.heading.setFont(f)
        lay.addWidget(self.heading)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        lay.addWidget(self.progress)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        lay.addWidget(self.status)

        self.stack = QStackedWidget(self)
        self.plan_page = PlanPage(self.stack)
        self.new_key_page = NewKeyPage(self.stack, services.prefs.reveal_seconds)
        self.test_page = NewKeyTestPage(self.stack)
        self.consumers_page = ConsumersPage(self.stack)
        self.revoke_page = RevokePage(self.stack)
        self.verify_page = VerifyPage(self.stack)
        self.done_page = DonePage(self.stack)
        self.pages: dict[str, Page] = {
            "plan": self.plan_page, "new_key": self.new_key_page, "test": self.test_page,
            "consumers": self.consumers_page, "revoke": self.revoke_page, "verify": self.verify_page,
            "done": self.done_page,
        }
        for p in self.pages.values():
            self.stack.addWidget(p)
            p.openPageRequested.connect(self._open_url)
        lay.addWidget(self.stack, 1)

        row = QHBoxLayout()
        self.back_button = QPushButton("Back", self)
        self.cancel_button = QPushButton("Cancel rotation\u2026", self)
        self.cancel_button.setToolTip("Stop the rotation: the new key leaves the keychain, the current key stays")
        self.alt_button = QPushButton("", self)  # a step's second choice (e.g. delete on the website instead)
        self.close_button = QPushButton("Close", self)
        self.close_button.setToolTip("Close this window; the rotation is saved and can be resumed")
        self.close_button.setAccessibleName("Close")
        self.next_button = QPushButton("Next", self)
        self.next_button.setDefault(True)
        row.addWidget(self.back_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.alt_button)
        row.addWidget(self.close_button)
        row.addWidget(self.next_button)
        lay.addLayout(row)
        self._buttons: dict[Role, QPushButton] = {
            Role.BACK: self.back_button, Role.CANCEL: self.cancel_button, Role.ALT: self.alt_button,
            Role.NEXT: self.next_button,
        }
        for role, button in self._buttons.items():
            button.clicked.connect(lambda _c=False, r=role: self._on_button_clicked(r))
        self.close_button.clicked.connect(self.close)
        self.test_page.acceptToggled.connect(lambda _on: self._update_buttons())
        self.consumers_page.consumerToggled.connect(self._on_consumers_page_consumer_toggled)
        self.consumers_page.decisionChanged.connect(self._on_decision_changed)
        self.plan_page.decisionChanged.connect(self._on_decision_changed)
        self.finished.connect(self._on_finished)
        if machine is not None:
            self._on_opened(RotationFlow(machine, on_attempt=self._attempt_from_loop))
            return
        for button in self._buttons.values():
            button.hide()
        self._set_busy(True, "Opening the rotation\u2026")
        services.open_rotation_flow(key_id, ops=ops, on_attempt=self._attempt_from_loop, on_done=self._on_opened,
                                    on_error=self._on_open_failed, context=self)

    def _on_opened(self, flow: RotationFlow) -> None:
        self.flow = flow
        self.m = flow.m
        self.setWindowTitle(f"Rotate \u201c{self.m.key.label}\u201d")
        self._set_busy(False)
        self._render()

    def _on_open_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, (ValidationError, RotationError, LookupError)):
            log.error("could not open the rotation: %s", redact.scrub(exc))
        self._set_busy(False, f"The rotation could not be opened: {redact.scrub(exc) or type(exc).__name__}")

    # ---- rendering ----------------------------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return self.flow.step if self.flow is not None else Step.PLAN

    def _render(self) -> None:
        if self.flow is None:
            return
        v = self._view = self.flow.view()
        n, total = v.position
        self.heading.setText(v.title)
        self.progress.setRange(0, total)
        self.progress.setValue(n)
        page = self.pages[v.page]
        page.show_view(v, self._busy)
        self.stack.setCurrentWidget(page)
        self._update_buttons()
        rid = self.m.rotation.id if self.m.rotation else None
        if v.auto is not None and (rid, v.step, v.auto.choice) not in self._auto_ran and not self._busy:
            self._auto_ran.add((rid, v.step, v.auto.choice))
            choice = v.choice(v.auto.choice) or Choice(v.auto.choice, "", Role.NEXT, busy=v.waiting)
            self._run(choice)
        shown = (rid, v.step, v.page)
        if shown != self._shown:
            self._shown = shown
            self._focus_pending = True
        # After this turn of the event loop: widgets just added to a page are shown by a queued call, and focus
        # given to a still-hidden widget is dropped when anything else moves the focus first (such as the deletion
        # of the focused widget the page just replaced).
        QTimer.singleShot(0, self, self._settle_focus)
        self.stepChanged.emit(v.step.value)

    def _settle_focus(self) -> None:
        if self._focus_pending or self._focus_lost():
            self._focus_pending = not self._focus_page()

    def _focus_lost(self) -> bool:
        """The focus is on a widget the last rendering took off the page (pages rebuild their body from the
        state), or on the page itself, holding it until there was something to focus."""
        fw = self.focusWidget()
        page = self._current_page()
        return fw is None or fw is page or (page.isAncestorOf(fw) and not page.holds(fw))

    def _focus_page(self) -> bool:
        """Focus the page's first field, or Next on a page that only informs (Enter there did Next before too).

        False when neither can take it yet (Next is disabled while the exchange is asked); the page itself holds
        the focus meanwhile, so that it is not left on Close, where Enter would close the wizard.
        """
        page = self._current_page()
        target = page.first_input()
        if target is None and self.next_button.isEnabled() and not self.next_button.isHidden():
            target = self.next_button
        if target is None:
            page.setFocus()
            return False
        target.setFocus()
        return True

    def _update_buttons(self) -> None:
        v = self._view
        if v is None:
            return
        page = self._current_page()
        shown: dict[Role | None, tuple[QPushButton, str]] = {}
        for role, button in self._buttons.items():
            choice = v.by_role(role)
            if role is Role.NEXT and choice is None:
                choice = v.by_role(Role.CLOSE)
            button.setVisible(choice is not None)
            if choice is None:
                continue
            usable = choice.enabled and (choice.while_busy or not self._busy) and page.satisfied(choice.needs)
            button.setAccessibleName(choice.label)
            button.setEnabled(usable)
            shown[role] = (button, choice.label)
        closable = v.step not in (Step.DONE, Step.CANCELLED)
        self.close_button.setVisible(closable)
        if closable:
            shown[None] = (self.close_button, "Close")
        # Alt+letter for each (the core's labels are plain text): the step's own choice first, then the rest.
        order = [r for r in (Role.NEXT, Role.BACK, None, Role.CANCEL, Role.ALT) if r in shown]
        texts = with_mnemonics([shown[r][1] for r in order], taken_on(page))
        for r, text in zip(order, texts, strict=True):
            shown[r][0].setText(text)

    def _set_busy(self, busy: bool, what: str = "") -> None:
        self._busy = busy
        self.status.setText(what)
        if self._view is not None and self._view.page == "test":
            self.test_page.show_view(self._view, busy)  # "Asking … about the new key" while it runs
        self._update_buttons()
        self.busyChanged.emit(busy)

    # ---- running choices off the GUI thread ---------------------------------------------------------------
    def _on_button_clicked(self, role: Role) -> None:
        v = self._view
        choice = None if v is None else (v.by_role(role) or (v.by_role(Role.CLOSE) if role is Role.NEXT else None))
        if choice is None:
            return
        if choice.role is Role.CLOSE:
            self.accept()
            return
        if self._busy:
            if choice.while_busy and self._running is not None and self._running.id == choice.id \
                    and self.flow is not None:
                self.services.runner.call_soon(self.flow.wake)  # "Check again" while waiting: ask now
            return
        if choice.confirm and choice.ask_first:
            self._ask(choice)
            return
        self._run(choice)

    def _ask(self, choice: Choice) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, choice.label.rstrip("\u2026"), choice.confirm or "",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda result: self._on_confirm_box_finished(choice, result))
        self._confirm_box = box
        box.open()

    def _on_confirm_box_finished(self, choice: Choice, result: int) -> None:
        self._confirm_box = None
        if result == QMessageBox.StandardButton.Yes:
            self._run(choice)

    def _run(self, choice: Choice, inputs: Inputs | None = None) -> None:
        assert self.flow is not None  # choices come from its view
        page = self._current_page()
        inp = inputs or page.inputs()
        self._running = choice
        self._set_busy(True, choice.busy)
        page.clear_error()
        self.services.runner.submit(self.flow.run(choice.id, inp), on_done=self._on_ran, on_error=self._on_error,
                                    context=self)

    def _quiet(self, choice_id: str, inputs: Inputs, render: bool) -> None:
        """A choice that only saves input (a tick, a decision): on the runner, without the busy state. A tick
        leaves the page as it is (the box already shows it); a decision changes what the page says."""
        assert self.flow is not None  # pages send input only once rendered from it

        def saved(_outcome: Outcome) -> None:
            if render:
                self._render()
            elif self.flow is not None:
                self._view = self.flow.view()
                self._update_buttons()

        self.services.runner.submit(self.flow.run(choice_id, inputs), on_done=saved, on_error=self._on_error,
                                    context=self)

    def _on_ran(self, outcome: Outcome) -> None:
        choice, self._running = self._running, None
        self._set_busy(False)
        if choice is not None and choice.id == "store":
            self.new_key_page.clear_fields()
        if outcome is Outcome.CLOSE:
            self.accept()
            return
        self._render()
        self.services.reload_in_background()  # on a worker; a failure there is logged, the wizard goes on
        if outcome is Outcome.DONE:
            self.keyRotated.emit(self.m.key_id)
        elif outcome is Outcome.CANCELLED:
            self.rotationCancelled.emit(self.m.key_id)

    def _on_error(self, exc: BaseException) -> None:
        self._running = None
        self._set_busy(False)
        if not isinstance(exc, (ValidationError, RotationError)):
            log.error("rotation step failed: %s", redact.scrub(exc))
        text = redact.scrub(exc) or type(exc).__name__
        self._render()
        self._current_page().show_error(text)
        if isinstance(exc, ValidationError):
            # After rendering: the field the error names keeps the focus, whatever the page had focused first.
            self._focus_pending = False
            self.new_key_page.focus_field(exc.field)

    def _attempt_from_loop(self, a: Attempt) -> None:
        """On the loop thread, for each check of the old key; the wizard may be closed meanwhile."""
        self.services.runner.call_in_gui(deliver, self, self._on_verify_attempt, a)

    def _on_verify_attempt(self, a: Attempt) -> None:
        self.verify_page.add_attempt(a.text)

    def _current_page(self) -> Any:
        return self.stack.currentWidget()

    # ---- slots --------------------------------------------------------------------------------------------
    def _on_consumers_page_consumer_toggled(self, consumer_id: str, on: bool) -> None:
        self._update_buttons()
        self._quiet("tick", Inputs(ticks={consumer_id: on}), render=False)  # a resumed wizard shows it again

    def _on_decision_changed(self, consumer_id: str, keep: bool) -> None:
        self._quiet("decide", Inputs(decisions={consumer_id: keep}), render=True)

    def _open_url(self, url: str) -> None:
        if url:
            links.open_link(self, url, "the exchange's API-key page")

    def _on_finished(self, _result: int) -> None:
        # Closing never cancels the rotation; it only stops waiting for the exchange.
        if self.flow is not None:
            self.services.runner.call_soon(self.flow.close)
        self.new_key_page.clear_fields()
