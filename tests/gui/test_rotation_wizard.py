"""The rotation wizard driven like a person would, with pytest-qt: its pages only render the core state machine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials
from keyhygiene.core.rotation.machine import RotationMachine
from keyhygiene.core.rotation.states import Step
from keyhygiene.store.keychain import CURRENT, PENDING
from keyhygiene.store.rotation_journal import SqliteJournal as Journal
from keyhygiene.store.rotation_journal import history
from keyhygiene.store.vault import ServiceRef, Vault
from keyhygiene.ui import add_key_dialog
from keyhygiene.ui.mnemonics import plain
from keyhygiene.ui.rotation_wizard import RotationWizard, open_rotation
from keyhygiene.ui.services import Services
from keyhygiene.ui.widgets import SecretField
from tests.helpers.gui import make_services, stop_services
from tests.helpers.rotation_fakes import SERVICES, FakeClock, FakeExchange

WAIT_MS = 15000


@pytest.fixture
def services(vault: Vault, qapp) -> Iterator[Services]:  # type: ignore[no-untyped-def]
    s = make_services(vault)
    yield s
    stop_services(s)


@pytest.fixture
def exchange() -> FakeExchange:
    return FakeExchange()


@pytest.fixture
def old_creds(exchange: FakeExchange) -> Credentials:
    return exchange.add(permissions={"read", "spot_trade", "withdraw"}, ip_restricted=False)


@pytest.fixture
def key_id(vault: Vault, old_creds: Credentials) -> str:
    return vault.add_key("bybit", "Grid bot", old_creds, purpose="bot",
                         shared_with=[ServiceRef("3commas", date(2022, 5, 1)),
                                      ServiceRef("file:/home/u/bot/config.json")]).id


@pytest.fixture
def open_wizard(qtbot, services: Services, key_id: str, exchange: FakeExchange
                ) -> Callable[..., RotationWizard]:  # type: ignore[no-untyped-def]
    clock = FakeClock()

    def make() -> RotationWizard:
        machine = RotationMachine(services.vault, key_id, exchange.ops(), services=SERVICES.get, hook=None,
                                  sleep=clock.sleep, clock=clock)
        w = RotationWizard(services, key_id, machine=machine)
        qtbot.addWidget(w)
        w.show()
        return w

    return make


def wait_idle(qtbot, w: RotationWizard) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not w._busy, timeout=WAIT_MS)


def wait_step(qtbot, w: RotationWizard, step: Step) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: w.step is step and not w._busy, timeout=WAIT_MS)


def click_next(qtbot, w: RotationWizard) -> None:  # type: ignore[no-untyped-def]
    assert w.next_button.isEnabled(), plain(w.next_button.text())
    w.next_button.click()


def paste(w: RotationWizard, creds: Credentials) -> None:
    w.new_key_page.api_key.setText(creds.api_key)
    w.new_key_page.secret.setText(creds.secret)


def to_consumers(qtbot, w: RotationWizard, new: Credentials) -> None:  # type: ignore[no-untyped-def]
    wait_idle(qtbot, w)
    assert w.step is Step.PLAN and plain(w.next_button.text()) == "Start rotation"
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.NEW_KEY)
    paste(w, new)
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.CONSUMERS)


def test_a_whole_rotation_through_the_pages(qtbot, open_wizard, exchange: FakeExchange, vault: Vault,  # type: ignore[no-untyped-def]
                                            key_id: str, old_creds: Credentials) -> None:
    w = open_wizard()
    wait_idle(qtbot, w)
    # The plan page: why, who has it, what to create.
    assert w.stack.currentWidget() is w.plan_page
    assert w.heading.text() == "Plan the rotation"
    def texts() -> str:
        return " ".join(lab.text() for lab in w.plan_page.findChildren(type(w.heading)) if lab.isVisibleTo(w))

    qtbot.waitUntil(lambda: "Why rotate this key" in texts(), timeout=WAIT_MS)  # new labels show a turn later
    # 3Commas leaked keys after it got this one: "stop" by default, so its IPs are not suggested for the new key;
    # the permissions in the window's words (Read, Spot), not spot_trade.
    row = w.plan_page.decisions["3commas"]
    assert row.stop.isChecked() and not row.keep.isChecked()
    assert "3Commas had an API-key leak (2022-12-28)" in texts() and "18.0.0.1" not in texts()
    assert "allows only: Read, Spot." in texts() and "spot_trade" not in texts()
    row.keep.setChecked(True)  # keep it after all: its published IPs join the advice
    qtbot.waitUntil(lambda: "18.0.0.1" in texts(), timeout=WAIT_MS)
    assert w.m.rotation is None  # deciding at the plan stores nothing
    assert not w.cancel_button.isVisible() and not w.back_button.isVisible()

    new = exchange.add()
    to_consumers(qtbot, w, new)
    assert vault.secrets.get(key_id, PENDING) == new
    assert w.new_key_page.api_key.text() == "" and w.new_key_page.secret.text() == ""  # fields emptied

    # Every consumer must be ticked before the old key can go.
    assert not w.next_button.isEnabled()
    boxes = list(w.consumers_page.boxes.values())
    assert [b.text() for b in boxes] == ["3Commas: updated with the new key",
                                         "/home/u/bot/config.json: updated with the new key"]
    for b in boxes:
        b.setChecked(True)
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.REVOKE_OLD)
    assert plain(w.next_button.text()) == "Delete old key via Bybit API" and w.alt_button.isVisible()
    assert w.back_button.isEnabled() and w.cancel_button.isEnabled()

    with qtbot.waitSignal(w.keyRotated, timeout=WAIT_MS) as sig:
        click_next(qtbot, w)
    assert sig.args == [key_id]
    wait_step(qtbot, w, Step.DONE)
    assert exchange.count("revoke") == 1 and exchange.keys[old_creds.api_key].revoked
    assert "now holds the new key" in w.done_page.summary.text()
    assert not w.back_button.isVisible() and not w.cancel_button.isVisible()
    assert plain(w.next_button.text()) == "Close"
    assert vault.secrets.get(key_id, CURRENT) == new and vault.secrets.get(key_id, PENDING) is None
    assert history(vault.db, key_id)[0].state == "done"


def test_a_risky_key_needs_the_checkbox(qtbot, open_wizard, exchange: FakeExchange) -> None:  # type: ignore[no-untyped-def]
    w = open_wizard()
    wait_idle(qtbot, w)
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.NEW_KEY)
    risky = exchange.add(permissions={"read", "withdraw"})
    paste(w, risky)
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.TEST_NEW)
    wait_idle(qtbot, w)
    assert exchange.calls.count(("inspect", mask_key(risky.api_key))) == 1  # asked once, not once per render
    assert w.stack.currentWidget() is w.test_page
    assert plain(w.next_button.text()) == "Continue with this key" and not w.next_button.isEnabled()
    assert w.test_page.accept_box is not None
    w.test_page.accept_box.setChecked(True)
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.CONSUMERS)
    assert w.m.data["accepted_risks"] == ["withdraw"]


def test_a_refused_key_can_be_replaced(qtbot, open_wizard, exchange: FakeExchange, vault: Vault,  # type: ignore[no-untyped-def]
                                       key_id: str) -> None:
    w = open_wizard()
    wait_idle(qtbot, w)
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.NEW_KEY)
    paste(w, exchange.add(account="someone-else"))
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.TEST_NEW)
    assert plain(w.next_button.text()) == "Test again"
    labels = " ".join(lab.text() for lab in w.test_page.findChildren(type(w.heading)))
    assert "different bybit account" in labels
    assert w.alt_button.isVisible() and plain(w.alt_button.text()) == "Use another key\u2026"
    w.alt_button.click()
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.new_key_page, timeout=WAIT_MS)
    assert w.stack.currentWidget() is w.new_key_page and plain(w.next_button.text()) == "Store new key"
    good = exchange.add()
    paste(w, good)
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.CONSUMERS)
    assert vault.secrets.get(key_id, PENDING) == good
    assert exchange.calls.count(("inspect", mask_key(good.api_key))) == 1  # the replacement is tested once too


def test_the_old_key_again_is_refused_next_to_the_field(qtbot, open_wizard, old_creds: Credentials) -> None:  # type: ignore[no-untyped-def]
    w = open_wizard()
    wait_idle(qtbot, w)
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.NEW_KEY)
    paste(w, old_creds)
    click_next(qtbot, w)
    wait_idle(qtbot, w)
    assert w.step is Step.NEW_KEY
    assert w.new_key_page.banner.isVisible() and "old key again" in w.new_key_page.banner.text()


def test_the_new_key_page_uses_the_add_dialogs_secret_field(qtbot, open_wizard, services: Services,  # type: ignore[no-untyped-def]
                                                            secret) -> None:
    w = open_wizard()
    wait_idle(qtbot, w)
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.NEW_KEY)
    page = w.new_key_page
    # The same widget as the add-key dialog for the same values: masked, revealable, never copied out.
    assert add_key_dialog.SecretField is SecretField
    for f in (page.api_key, page.secret, page.passphrase):
        assert type(f) is SecretField and not f.shown
        assert f.reveal_seconds == services.prefs.reveal_seconds
    value = secret("SK", 32)
    page.secret.setText(value)
    page.secret.toggle.trigger()
    assert page.secret.shown
    QGuiApplication.clipboard().setText("before")
    page.secret.edit.selectAll()
    qtbot.keyClick(page.secret.edit, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    leaked = value in QGuiApplication.clipboard().text()
    assert not leaked, "Ctrl+C put the shown secret on the clipboard"
    # A validation error focuses the field it names: the edit inside the SecretField.
    w.activateWindow()
    qtbot.waitActive(w)
    page.focus_field("secret")
    assert QApplication.focusWidget() is page.secret.edit
    page.clear_fields()
    assert page.secret.text() == "" and not page.secret.shown  # a replacement key starts masked
    QGuiApplication.clipboard().clear()


def test_back_and_cancel_keep_the_current_key(qtbot, open_wizard, exchange: FakeExchange, vault: Vault,  # type: ignore[no-untyped-def]
                                              key_id: str, old_creds: Credentials) -> None:
    w = open_wizard()
    to_consumers(qtbot, w, exchange.add())
    w.back_button.click()
    wait_idle(qtbot, w)
    assert w.step is Step.TEST_NEW
    w.cancel_button.click()
    box = w._confirm_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    box.button(QMessageBox.StandardButton.No).click()
    assert w.step is Step.TEST_NEW
    w.cancel_button.click()
    with qtbot.waitSignal(w.rotationCancelled, timeout=WAIT_MS):
        w._confirm_box.button(QMessageBox.StandardButton.Yes).click()  # type: ignore[union-attr]
    wait_step(qtbot, w, Step.CANCELLED)
    assert "cancelled" in w.done_page.summary.text()
    assert vault.secrets.get(key_id, CURRENT) == old_creds and vault.secrets.get(key_id, PENDING) is None


def test_closing_saves_and_a_new_window_resumes(qtbot, open_wizard, exchange: FakeExchange, services: Services,  # type: ignore[no-untyped-def]
                                                key_id: str) -> None:
    w = open_wizard()
    to_consumers(qtbot, w, exchange.add())
    w.consumers_page.boxes["3commas"].setChecked(True)
    journal = Journal(services.vault.db)

    def saved() -> bool:  # the tick is journalled on the runner, never on the GUI thread
        rot = journal.open_for(key_id)
        return rot is not None and rot.data["consumers"][0]["done"] is True

    qtbot.waitUntil(saved, timeout=WAIT_MS)
    w.close()
    assert journal.open_for(key_id).state is Step.CONSUMERS  # type: ignore[union-attr]
    # What the main window's "Resume" banner shows (read on a worker after each step).
    qtbot.waitUntil(lambda: [k for k, _step in services.open_rotations()] == [key_id], timeout=WAIT_MS)
    again = open_wizard()
    assert again.step is Step.CONSUMERS and again.stack.currentWidget() is again.consumers_page
    assert again.consumers_page.boxes["3commas"].isChecked()  # the tick survived
    assert not again.consumers_page.boxes["file:/home/u/bot/config.json"].isChecked()


def test_manual_deletion_waits_for_the_exchange(qtbot, open_wizard, exchange: FakeExchange,  # type: ignore[no-untyped-def]
                                               old_creds: Credentials) -> None:
    exchange.api_revoke = set()
    w = open_wizard()
    to_consumers(qtbot, w, exchange.add())
    for b in w.consumers_page.boxes.values():
        b.setChecked(True)
    click_next(qtbot, w)
    wait_step(qtbot, w, Step.REVOKE_OLD)
    assert plain(w.next_button.text()) == "I deleted it \u2014 check" and not w.alt_button.isVisible()
    click_next(qtbot, w)  # ...but it is still alive: the wizard polls (fake clock) and then waits
    wait_step(qtbot, w, Step.VERIFY_OLD)
    assert "still accepts the old key" in w.verify_page.result.text()
    log_text = w.verify_page.log.toPlainText()
    assert "Check 1: still alive" in log_text and ": ok" not in log_text
    assert log_text.count("Check 1:") == 1  # one line per check, not one per render
    assert w.cancel_button.isEnabled()  # the old key still works: cancelling is safe
    exchange.keys[old_creds.api_key].revoked = True
    assert plain(w.next_button.text()) == "Check again"
    with qtbot.waitSignal(w.keyRotated, timeout=WAIT_MS):
        click_next(qtbot, w)
    wait_step(qtbot, w, Step.DONE)


def test_open_rotation_is_the_plugin_entry_point(qtbot, services: Services, key_id: str) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    services.endpoints = {"bybit": "http://127.0.0.1:9"}  # nothing listens there: stays off the network
    w = open_rotation(parent, services, key_id=key_id, resume=False)
    assert isinstance(w, RotationWizard) and w.isVisible() and not w.isModal()
    wait_idle(qtbot, w)
    # The exchange could not be asked: the plan falls back to what is known and still renders.
    assert w.step is Step.PLAN and w.next_button.isEnabled()
    w.close()


def test_wizard_against_the_simulator_with_bybit_api_deletion(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    from keyhygiene.sim import run_simulator_in_thread
    from tests.helpers.simkeys import creds_of, make_key

    with run_simulator_in_thread(exchanges=("bybit",), enforce_rate_limits=False) as sim:
        old = sim.add_key(make_key("bybit", permissions={"read", "spot_trade", "transfer"}))
        new = sim.add_key(make_key("bybit", permissions={"read", "spot_trade"}, ip_whitelist=["203.0.113.10"]))
        rec = services.vault.add_key("bybit", "Sim bot", creds_of(old), purpose="bot")
        services.endpoints = dict(sim.endpoints)
        w = RotationWizard(services, rec.id)  # the real exchange layer, pointed at the simulator
        qtbot.addWidget(w)
        w.show()
        wait_idle(qtbot, w)
        click_next(qtbot, w)
        wait_step(qtbot, w, Step.NEW_KEY)
        paste(w, creds_of(new))
        click_next(qtbot, w)
        wait_step(qtbot, w, Step.CONSUMERS)
        assert w.consumers_page.boxes == {}  # shared with nobody: nothing to tick
        click_next(qtbot, w)
        wait_step(qtbot, w, Step.REVOKE_OLD)
        with qtbot.waitSignal(w.keyRotated, timeout=WAIT_MS):
            click_next(qtbot, w)  # "Delete old key via Bybit API"
        wait_step(qtbot, w, Step.DONE)
        assert old.revoked and not new.revoked
        assert sim.request_count("bybit", "/v5/user/delete-api") == 1
    assert services.vault.secrets.get(rec.id, CURRENT) == creds_of(new)
    assert services.vault.get_key(rec.id).label == "Sim bot"


def test_each_page_opens_on_its_first_field(qtbot, open_wizard, exchange: FakeExchange) -> None:  # type: ignore[no-untyped-def]
    def focus_on(widget) -> None:  # type: ignore[no-untyped-def]
        # The wizard focuses a page once its new widgets are shown, at the next turn of the event loop.
        qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=WAIT_MS)

    w = open_wizard()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=WAIT_MS)  # focus moves only when active
    wait_idle(qtbot, w)
    # Every page used to open with the focus on its scroll area, one Tab short of anything to fill in.
    pages = (w.plan_page, w.new_key_page, w.test_page, w.consumers_page, w.revoke_page, w.verify_page, w.done_page)
    assert all(p.scroller.focusPolicy() == Qt.FocusPolicy.NoFocus for p in pages)
    # The plan's first field: the first consumer's keep/stop decision; Enter there takes the default (Start).
    focus_on(w.plan_page.decisions["3commas"].keep)
    assert plain(w.next_button.text()) == "Start rotation"
    qtbot.keyClick(w.plan_page.decisions["3commas"].keep, Qt.Key.Key_Return)
    wait_step(qtbot, w, Step.NEW_KEY)
    page = w.new_key_page
    focus_on(page.api_key.edit)
    # An error that names a field keeps the focus there: rendering the same page again does not move it.
    risky = exchange.add(permissions={"read", "withdraw"})
    page.api_key.setText(risky.api_key)
    qtbot.keyClick(page.api_key.edit, Qt.Key.Key_Return)
    wait_idle(qtbot, w)
    assert w.step is Step.NEW_KEY and page.banner.isVisible()
    qtbot.wait(50)  # let a wrong refocus happen, if it would
    assert QApplication.focusWidget() is page.secret.edit
    page.secret.setText(risky.secret)
    qtbot.keyClick(page.secret.edit, Qt.Key.Key_Return)
    wait_step(qtbot, w, Step.TEST_NEW)
    qtbot.waitUntil(lambda: w.test_page.accept_box is not None, timeout=WAIT_MS)
    focus_on(w.test_page.accept_box)
    qtbot.keyClick(w.test_page.accept_box, Qt.Key.Key_Space)
    qtbot.keyClick(w.test_page.accept_box, Qt.Key.Key_Return)
    wait_step(qtbot, w, Step.CONSUMERS)
    # The first field of the consumers step: the first consumer's keep/stop decision.
    focus_on(w.consumers_page.decisions["3commas"].keep)


def visible_texts(w: RotationWizard) -> list[str]:
    return [lab.text() for lab in w.findChildren(type(w.heading)) if lab.isVisibleTo(w) and lab.text()]


def test_asking_the_exchange_is_said_once(qtbot, open_wizard, exchange: FakeExchange) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    gate: dict[str, asyncio.Event] = {}
    real = exchange.inspect

    async def slow(ex, creds, declared):  # type: ignore[no-untyped-def]
        gate.setdefault("e", asyncio.Event())
        await gate["e"].wait()
        return await real(ex, creds, declared)

    exchange.inspect = slow  # type: ignore[method-assign]
    w = open_wizard()
    qtbot.waitUntil(lambda: "e" in gate, timeout=WAIT_MS)
    qtbot.wait(50)
    asking = [t for t in visible_texts(w) if "Asking Bybit" in t]
    assert asking == ["Asking Bybit about the current key\u2026"], visible_texts(w)
    w.services.runner.call_soon(gate["e"].set)
    wait_idle(qtbot, w)
    assert not [t for t in visible_texts(w) if "Asking" in t]


def test_journal_writes_never_run_on_the_gui_thread(qtbot, open_wizard, exchange: FakeExchange,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from keyhygiene.store import rotation_journal

    writes: list[tuple[str, str]] = []
    for name in ("start", "begin", "done", "note", "save_data"):
        real = getattr(rotation_journal.SqliteJournal, name)

        def spy(self, *a, _real=real, _name=name, **kw):  # type: ignore[no-untyped-def]
            writes.append((_name, threading.current_thread().name))
            return _real(self, *a, **kw)

        monkeypatch.setattr(rotation_journal.SqliteJournal, name, spy)
    w = open_wizard()
    wait_idle(qtbot, w)
    w.plan_page.decisions["3commas"].keep.setChecked(True)  # a decision at the plan: in memory only
    to_consumers(qtbot, w, exchange.add())
    w.consumers_page.boxes["3commas"].setChecked(True)  # a tick: journalled (save_data)
    qtbot.waitUntil(lambda: any(n == "save_data" for n, _t in writes), timeout=WAIT_MS)
    w.consumers_page.decisions["3commas"].stop.setChecked(True)  # a changed decision: journalled too
    qtbot.waitUntil(lambda: sum(n == "save_data" for n, _t in writes) >= 2, timeout=WAIT_MS)
    assert {n for n, _t in writes} >= {"start", "begin", "done", "save_data"}
    main = threading.main_thread().name
    assert all(t != main for _n, t in writes), writes


def test_opening_the_exchange_page_says_so_when_it_fails(qtbot, open_wizard, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 20: a button that opens a web page and fails says so, with the address to open by hand."""
    from PySide6.QtWidgets import QMessageBox

    from keyhygiene.ui import links

    monkeypatch.setattr(links, "opener", lambda _url: False)
    w = open_wizard()
    wait_idle(qtbot, w)
    w._open_url("https://www.binance.com/en/my/settings/api-management")
    box = w.findChild(QMessageBox, "openFailedBox")
    assert box is not None and "https://www.binance.com/en/my/settings/api-management" in box.informativeText()
    assert "the exchange's API-key page" in box.text()
    box.close()


def _mnemonic(text: str) -> str | None:
    import re

    m = re.search(r"&([^&])", text.replace("&&", ""))
    return m.group(1).lower() if m else None


def test_every_wizard_button_has_its_own_alt_letter_and_it_works(qtbot, open_wizard,  # type: ignore[no-untyped-def]
                                                                 exchange: FakeExchange) -> None:
    from PySide6.QtTest import QTest

    from keyhygiene.ui.mnemonics import taken_on

    w = open_wizard()
    wait_idle(qtbot, w)

    def check_page() -> None:
        buttons = [b for b in (w.next_button, w.back_button, w.close_button, w.cancel_button, w.alt_button)
                   if b.isVisible()]
        letters = [_mnemonic(b.text()) for b in buttons]
        assert None not in letters, [b.text() for b in buttons]
        assert len(set(letters)) == len(letters), [b.text() for b in buttons]
        assert not set(letters) & taken_on(w._current_page()), [b.text() for b in buttons]
        for b in buttons:
            assert b.accessibleName() == plain(b.text())  # screen readers hear the plain label

    assert w.step is Step.PLAN
    check_page()
    # Alt+<Next's letter> does what Next does: the keyboard alone starts the rotation.
    QTest.keyClick(w, Qt.Key(ord(_mnemonic(w.next_button.text()).upper())), Qt.KeyboardModifier.AltModifier)
    wait_step(qtbot, w, Step.NEW_KEY)
    check_page()
    # And Alt+<Close's letter> closes the window (the rotation stays saved, to resume).
    QTest.keyClick(w, Qt.Key(ord(_mnemonic(w.close_button.text()).upper())), Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=WAIT_MS)
