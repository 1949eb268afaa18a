"""The rotation wizard: a non-blocking dialog that renders the core rotation state machine, one page per step.

All decisions live in ``keyhygiene.core.rotation``; this module only shows the step the machine is at, collects
input, and runs the machine's methods off the GUI thread (exchange calls and keychain writes on the app's asyncio
runner, which hands keychain work to threads). Closing the window never cancels: the rotation is saved and the main
window offers "Resume". "Cancel rotation" removes only the pending key, never the current one. "Back" exists only
where the core says it is safe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
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
from keyhygiene.core.rotation.machine import (
    Attempt,
    ExchangeOps,
    Plan,
    RevokeReport,
    RotationError,
    RotationMachine,
    VerifyReport,
    exchange_ops,
    policy_assessor,
    registry_services,
)
from keyhygiene.core.rotation.states import TITLES, Step, Verdict, progress
from keyhygiene.service.types import ValidationError
from keyhygiene.ui import links
from keyhygiene.ui.callbacks import deliver
from keyhygiene.ui.rotation_pages import (
    ConsumersPage,
    DonePage,
    NewKeyPage,
    NewKeyTestPage,
    PlanPage,
    RevokePage,
    VerifyPage,
)

log = logging.getLogger(__name__)

# How long the wizard polls for the old key's rejection before offering "Check again" (the user may take a while
# on the exchange's website).
VERIFY_TIMEOUT_S = 30 * 60


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
        if machine is None:
            try:
                lookup = registry_services()
            except Exception:  # noqa: BLE001 - a broken registry costs the checklist its IPs, not the rotation
                lookup = lambda _s: None  # noqa: E731
            machine = RotationMachine(services.vault, key_id, ops or exchange_ops(services.endpoints),
                                      services=lookup, assess=policy_assessor(services.vault))
        self.m = machine
        self.m.load()
        self._plan: Plan | None = None
        self._busy = False
        self._replacing = False  # TEST_NEW, but the user wants to paste another key
        self._auto_ran: set[tuple[int | None, Step]] = set()
        self._verify_cancel: asyncio.Event | None = None
        self._revoke: RevokeReport | None = None
        self._confirm_box: QMessageBox | None = None
        # The page last shown, to focus its first field once per arrival rather than at every re-render (which
        # would take the focus from the field an error just pointed at); pending while nothing can take it yet.
        self._shown: tuple[int | None, Step, bool] | None = None
        self._focus_pending = False

        self.setWindowTitle(f"Rotate \u201c{self.m.key.label}\u201d")
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
        for p in (self.plan_page, self.new_key_page, self.test_page, self.consumers_page, self.revoke_page,
                  self.verify_page, self.done_page):
            self.stack.addWidget(p)
        lay.addWidget(self.stack, 1)

        row = QHBoxLayout()
        self.back_button = QPushButton("Back", self)
        self.cancel_button = QPushButton("Cancel rotation\u2026", self)
        self.cancel_button.setToolTip("Stop the rotation: the new key leaves the keychain, the current key stays")
        self.alt_button = QPushButton("", self)  # a step's second choice (e.g. delete on the website instead)
        self.close_button = QPushButton("Close", self)
        self.close_button.setToolTip("Close this window; the rotation is saved and can be resumed")
        self.next_button = QPushButton("Next", self)
        self.next_button.setDefault(True)
        row.addWidget(self.back_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.alt_button)
        row.addWidget(self.close_button)
        row.addWidget(self.next_button)
        lay.addLayout(row)

        self.back_button.clicked.connect(self._on_back_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.close_button.clicked.connect(self.close)
        self.next_button.clicked.connect(self._on_next_button_clicked)
        self.alt_button.clicked.connect(self._on_alt_button_clicked)
        for page in (self.plan_page, self.new_key_page, self.revoke_page):
            page.openPageRequested.connect(self._open_url)
        self.test_page.acceptToggled.connect(lambda _on: self._update_buttons())
        self.test_page.replaceRequested.connect(self._on_test_page_replace_requested)
        self.consumers_page.consumerToggled.connect(self._on_consumers_page_consumer_toggled)
        self.finished.connect(self._on_finished)
        self._render()

    # ---- rendering ----------------------------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return self.m.step

    def _render(self) -> None:
        step = self.step
        n, total = progress(step)
        self.heading.setText(TITLES[step])
        self.progress.setRange(0, total)
        self.progress.setValue(n)
        rid = self.m.rotation.id if self.m.rotation else None
        if step is Step.PLAN:
            self.plan_page.show_plan(self._plan)
            self.stack.setCurrentWidget(self.plan_page)
            self._auto(rid, step, self._load_plan)
        elif step is Step.NEW_KEY or (step is Step.TEST_NEW and self._replacing):
            self.new_key_page.setup(self.m.exchange_name, self.services.app.needs_passphrase(self.m.key.exchange),
                                    self.m.ops.key_page(self.m.key.exchange), replacing=step is Step.TEST_NEW)
            self.stack.setCurrentWidget(self.new_key_page)
        elif step is Step.TEST_NEW:
            report = self.m.test_report()
            self.test_page.show_report(report, self._busy, self.m.exchange_name)
            self.stack.setCurrentWidget(self.test_page)
            if report is None:
                self._auto(rid, step, self._run_test)
        elif step is Step.CONSUMERS:
            self.consumers_page.show_consumers(self.m.consumers())
            self.stack.setCurrentWidget(self.consumers_page)
        elif step is Step.REVOKE_OLD:
            self.revoke_page.show_revoke(self.m.exchange_name, self.m.key.fingerprint, self.m.key.label,
                                         self.m.ops.key_page(self.m.key.exchange), self.m.revoke_method() == "api")
            self.stack.setCurrentWidget(self.revoke_page)
        elif step is Step.VERIFY_OLD:
            self.stack.setCurrentWidget(self.verify_page)
            self._auto(rid, step, self._run_verify)
        elif step is Step.FINISH:
            self.done_page.show_summary("Making the new key current\u2026")
            self.stack.setCurrentWidget(self.done_page)
            self._auto(rid, step, self._run_finish)
        else:
            self.done_page.show_summary(self._summary())
            self.stack.setCurrentWidget(self.done_page)
        self._update_buttons()
        shown = (rid, step, self._replacing)
        if shown != self._shown:
            self._shown = shown
            self._focus_pending = True
        # After this turn of the event loop: widgets just added to a page are shown by a queued call, and focus
        # given to a still-hidden widget is dropped when anything else moves the focus first (such as the deletion
        # of the focused widget the page just replaced).
        QTimer.singleShot(0, self, self._settle_focus)
        self.stepChanged.emit(step.value)

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

    def _auto(self, rid: int | None, step: Step, start: Callable[[], None]) -> None:
        """Steps that need no input start by themselves, once per arrival at the step."""
        if (rid, step) not in self._auto_ran and not self._busy:
            self._auto_ran.add((rid, step))
            start()

    def _update_buttons(self) -> None:
        step, busy = self.step, self._busy
        self.back_button.setVisible(step not in (Step.PLAN, Step.DONE, Step.CANCELLED))
        self.back_button.setEnabled(not busy and (self._replacing or self.m.can_back()))
        self.cancel_button.setVisible(step not in (Step.PLAN, Step.DONE, Step.CANCELLED, Step.FINISH))
        self.cancel_button.setEnabled(not busy and self.m.can_cancel())
        self.alt_button.setVisible(False)
        text, enabled = "Next", not busy
        if step is Step.PLAN:
            text = "Start rotation" if (self._plan is not None or busy) else "Try again"
        elif step is Step.NEW_KEY or (step is Step.TEST_NEW and self._replacing):
            text = "Store new key"
        elif step is Step.TEST_NEW:
            report = self.m.test_report()
            if report is not None and report.verdict is Verdict.RISKY:
                text, enabled = "Continue with this key", enabled and self.test_page.risk_accepted
            else:
                text = "Test again" if report is not None else "Test new key"
        elif step is Step.CONSUMERS:
            text, enabled = "All updated", enabled and self.consumers_page.all_ticked
        elif step is Step.REVOKE_OLD:
            if self.m.revoke_method() == "api":
                text = f"Delete old key via {self.m.exchange_name} API"
                self.alt_button.setText("I'll delete it on the website")
                self.alt_button.setVisible(True)
                self.alt_button.setEnabled(not busy)
            else:
                text = "I deleted it \u2014 check"
        elif step is Step.VERIFY_OLD:
            text = "Check again"
        elif step is Step.FINISH:
            text = "Finish"
        else:
            text = "Close"
        self.next_button.setText(text)
        self.next_button.setAccessibleName(text)
        self.next_button.setEnabled(enabled)
        self.close_button.setVisible(step not in (Step.DONE, Step.CANCELLED))

    def _set_busy(self, busy: bool, what: str = "") -> None:
        self._busy = busy
        self.status.setText(what)
        self._update_buttons()
        self.busyChanged.emit(busy)

    def _summary(self) -> str:
        rot = self.m.rotation
        if rot is None:
            return ""
        if self.step is Step.CANCELLED:
            return (f"The rotation was cancelled. The current key {rot.old_fingerprint} is unchanged and the pending "
                    "key was removed from the keychain. If you created a new key on the exchange, delete it there.")
        verify = (rot.data.get("verify") or {}).get("explanation", "")
        return (f"\u201c{self.m.key.label}\u201d now holds the new key {rot.new_fingerprint}. The old key "
                f"{rot.old_fingerprint} is rejected by {self.m.exchange_name} and its secret is deleted from the "
                f"keychain. {verify}\n\nThe new key starts unshared: record the services you gave it to in the "
                "key's details.")

    # ---- running machine calls off the GUI thread ---------------------------------------------------------
    def _run(self, coro: Coroutine[Any, Any, Any], on_done: Callable[[Any], None], what: str) -> None:
        self._set_busy(True, what)
        self._current_page().clear_error()

        def done(value: Any) -> None:
            self._set_busy(False)
            on_done(value)

        self.services.runner.submit(coro, on_done=done, on_error=self._on_error, context=self)

    def _on_error(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ValidationError):
            self.new_key_page.focus_field(exc.field)
        elif not isinstance(exc, RotationError):
            log.error("rotation step failed: %s", redact.scrub(exc))
        self._current_page().show_error(redact.scrub(exc) or type(exc).__name__)
        self._render_keep_error()

    def _render_keep_error(self) -> None:
        page = self._current_page()
        text = page.banner.text() if page.banner.isVisible() else ""
        self.m.load()
        self._render()
        if text:
            self._current_page().show_error(text)

    def _current_page(self) -> Any:
        return self.stack.currentWidget()

    def _after_change(self) -> None:
        """The rotation moved: show the new step; let the main window follow (list, banner)."""
        self._render()
        self.services.reload_in_background()  # on a worker; a failure there is logged, the wizard goes on

    def _do(self, fn: Callable[[], Any]) -> None:
        """A database-only machine call: quick enough for the GUI thread."""
        self._current_page().clear_error()
        try:
            fn()
        except (RotationError, ValidationError) as exc:
            self._current_page().show_error(redact.scrub(exc))
            self._render_keep_error()
            return
        self._after_change()

    # ---- steps --------------------------------------------------------------------------------------------
    def _load_plan(self) -> None:
        def got(plan: Plan) -> None:
            self._plan = plan
            self._render()

        self._run(self.m.plan(), got, f"Asking {self.m.exchange_name} about the current key\u2026")

    def _run_test(self) -> None:
        self.test_page.show_report(None, True, self.m.exchange_name)
        self._run(self.m.test_new_key(), lambda _r: self._after_change(),
                  f"Asking {self.m.exchange_name} about the new key\u2026")

    def _store_new_key(self) -> None:
        creds = self.new_key_page.credentials()

        def stored(_rot: Any) -> None:
            self.new_key_page.clear_fields()
            self._replacing = False
            self._after_change()
            # Rendering the test page starts the test the first time the rotation gets there (_auto); a key pasted
            # to replace a refused one arrives there again and is tested here. Never both: one request per key.
            if self.step is Step.TEST_NEW and not self._busy:
                self._run_test()

        self._run(self.m.store_new_key(creds), stored, "Storing the new key in the keychain\u2026")

    def _run_revoke(self, use_api: bool) -> None:
        def revoked(report: RevokeReport) -> None:
            self._revoke = report
            self._after_change()

        what = f"Asking {self.m.exchange_name} to delete the old key\u2026" if use_api else ""
        self._run(self.m.revoke_old(use_api=use_api), revoked, what)

    def _run_verify(self) -> None:
        rot = self.m.rotation
        message = self._revoke.message if self._revoke else ((rot.data.get("revoke") or {}).get("message")
                                                              if rot else None)
        if self._revoke is not None and self._revoke.method == "api" and self._revoke.ok:
            message = f"{self.m.exchange_name} deleted the old key through its API."
        self.verify_page.start(self.m.exchange_name, self.m.key.fingerprint, message)
        self._verify_cancel = asyncio.Event()
        runner = self.services.runner

        def on_attempt(a: Attempt) -> None:  # on the loop thread; the wizard may be closed meanwhile
            runner.call_in_gui(deliver, self, self._on_verify_attempt, a)

        def checked(report: VerifyReport) -> None:
            self.verify_page.show_result(report)
            self._after_change()

        self._run(self.m.verify_old_dead(VERIFY_TIMEOUT_S, on_attempt=on_attempt, cancel=self._verify_cancel),
                  checked, f"Waiting for {self.m.exchange_name} to reject the old key\u2026")

    def _on_verify_attempt(self, a: Attempt) -> None:
        self.verify_page.add_attempt(a.number, a.status, a.next_in)

    def _run_finish(self) -> None:
        def finished(_rot: Any) -> None:
            self._after_change()
            self.keyRotated.emit(self.m.key_id)

        self._run(self.m.finish(), finished, "Making the new key current\u2026")

    # ---- slots --------------------------------------------------------------------------------------------
    def _on_next_button_clicked(self) -> None:
        step = self.step
        if step is Step.PLAN:
            plan = self._plan
            if plan is None:
                self._load_plan()
            else:
                self._do(lambda: self.m.start(plan))
        elif step is Step.NEW_KEY or (step is Step.TEST_NEW and self._replacing):
            self._store_new_key()
        elif step is Step.TEST_NEW:
            report = self.m.test_report()
            if report is not None and report.verdict is Verdict.RISKY and self.test_page.risk_accepted:
                self._do(self.m.accept_risk)
            else:
                self._run_test()
        elif step is Step.CONSUMERS:
            self._do(self.m.confirm_consumers)
        elif step is Step.REVOKE_OLD:
            self._run_revoke(use_api=self.m.revoke_method() == "api")
        elif step is Step.VERIFY_OLD:
            self._auto_ran.discard((self.m.rotation.id if self.m.rotation else None, step))
            self._run_verify()
        elif step is Step.FINISH:
            self._run_finish()
        else:
            self.accept()

    def _on_alt_button_clicked(self) -> None:
        if self.step is Step.REVOKE_OLD:
            self._run_revoke(use_api=False)

    def _on_back_button_clicked(self) -> None:
        if self._replacing:
            self._replacing = False
            self._render()
            return
        self._do(self.m.back)

    def _on_test_page_replace_requested(self) -> None:
        self._replacing = True
        self._render()

    def _on_consumers_page_consumer_toggled(self, consumer_id: str, on: bool) -> None:
        try:
            self.m.tick_consumer(consumer_id, on)
        except RotationError as exc:
            self.consumers_page.show_error(redact.scrub(exc))
        self._update_buttons()

    def _on_cancel_button_clicked(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, "Cancel rotation",
                          "Cancel this rotation? The new key is removed from the keychain; the current key stays "
                          "exactly as it is. If you already created a new key on the exchange, delete it there.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda result: self._on_confirm_box_finished(result))
        self._confirm_box = box
        box.open()

    def _on_confirm_box_finished(self, result: int) -> None:
        self._confirm_box = None
        if result != QMessageBox.StandardButton.Yes:
            return

        def cancelled(_rot: Any) -> None:
            self._after_change()
            self.rotationCancelled.emit(self.m.key_id)

        self._run(self.m.cancel(), cancelled, "Cancelling\u2026")

    def _open_url(self, url: str) -> None:
        if url:
            links.open_link(self, url, "the exchange's API-key page")

    def _on_finished(self, _result: int) -> None:
        # Closing never cancels the rotation; it only stops waiting for the exchange.
        if self._verify_cancel is not None:
            self.services.runner.call_soon(self._verify_cancel.set)
        self.new_key_page.clear_fields()

