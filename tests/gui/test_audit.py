"""Auditing from the window against the loopback simulator: progress, rows updating, cancel, a single re-check."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from keyhygiene.ui.key_row import DONE, FAILED, IDLE
from keyhygiene.ui.key_table_model import Col
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.simkeys import make_key


def test_audit_all_shows_progress_and_updates_rows(vault, gui_services, make_window, simulator,
                                                     qtbot) -> None:  # type: ignore[no-untyped-def]
    risky = make_key("binance", permissions={"read", "spot_trade", "withdraw"})
    tidy = make_key("okx", permissions={"read"}, ip_whitelist=["203.0.113.10"])
    revoked = make_key("bybit", permissions={"read"}, revoked=True)
    sim = simulator([risky, tidy, revoked], latency=0.05)
    gui_services.endpoints = dict(sim.endpoints)
    a = store(vault, risky, "Risky", shared=[("3commas", date(2022, 5, 1))])
    b = store(vault, tidy, "Tidy", purpose="read-only")
    c = store(vault, revoked, "Gone")
    w = make_window()
    assert w.model.index(w.model.row_of(a), Col.PERMISSIONS).data(Qt.ItemDataRole.AccessibleTextRole) == \
        "not checked"

    progress: list[tuple[int, int]] = []
    gui_services.auditProgress.connect(lambda d, t: progress.append((d, t)))
    with qtbot.waitSignal(w.auditCompleted, timeout=WAIT_MS) as done:
        w.act_audit.trigger()
        assert w.progress.isVisible() and w.act_cancel.isEnabled() and not w.act_audit.isEnabled()
    outcome = done.args[0]
    assert outcome.ok and outcome.total == 3 and outcome.checked == 3
    assert progress[0] == (0, 3) and progress[-1] == (3, 3)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert not w.progress.isVisible() and not w.act_cancel.isEnabled() and w.act_audit.isEnabled()
    assert "Audited 3 keys" in w.audit_label.text()

    def cell(kid: str, col: Col) -> str:
        return str(w.model.index(w.model.row_of(kid), col).data(Qt.ItemDataRole.AccessibleTextRole))

    assert cell(a, Col.PERMISSIONS) == "Read, Spot, Margin, Withdraw"  # Binance: one right for both
    assert cell(a, Col.IP) == "None"
    assert cell(a, Col.RISK).startswith("Critical")
    assert cell(b, Col.PERMISSIONS) == "Read"
    assert cell(b, Col.IP) == "203.0.113.10"
    assert cell(c, Col.CHECKED) == "Key rejected"
    assert gui_services.row(a).audit_state == DONE
    assert gui_services.row(c).audit_state == FAILED
    # Every result was recorded in the inspection history (the audit is not a UI-only view).
    assert vault.repo.latest_inspection(b)[1].permissions == ["read"]


def test_cancel_stops_a_slow_audit(vault, gui_services, make_window, simulator,
                                    qtbot) -> None:  # type: ignore[no-untyped-def]
    keys = [make_key("kraken") for _ in range(3)]
    sim = simulator(keys)
    sim.inject_fault("kraken", "hang")
    gui_services.endpoints = dict(sim.endpoints)
    ids = [store(vault, k, f"k{i}") for i, k in enumerate(keys)]
    w = make_window()
    with qtbot.waitSignal(w.auditCompleted, timeout=WAIT_MS) as done:
        w.act_audit.trigger()
        qtbot.waitUntil(lambda: any(gui_services.row(k).audit_state == "checking" for k in ids), timeout=WAIT_MS)
        w.act_cancel.trigger()
    outcome = done.args[0]
    assert outcome.cancelled
    assert "cancelled" in w.audit_label.text()
    assert all(gui_services.row(k).audit_state in (IDLE, DONE, FAILED) for k in ids)
    assert w.act_audit.isEnabled()


def test_recheck_one_key(vault, gui_services, make_window, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    k1, k2 = make_key("bybit", permissions={"read", "spot_trade"}), make_key("bybit")
    sim = simulator([k1, k2])
    gui_services.endpoints = dict(sim.endpoints)
    a = store(vault, k1, "One")
    b = store(vault, k2, "Two")
    w = make_window()
    w.select_key(a)
    with qtbot.waitSignal(w.auditCompleted, timeout=WAIT_MS) as done:
        w.detail.recheck_button.click()
    assert done.args[0].total == 1
    assert gui_services.row(a).profile is not None and gui_services.row(a).profile.permissions == ["read",
                                                                                                    "spot_trade"]
    assert gui_services.row(b).profile is None  # untouched
    # The detail pane follows the new result.
    assert w.detail.key_id == a


def test_audit_without_a_usable_keychain_fails_clearly(vault, gui_services, make_window, qtbot,
                                                        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers.keyrings import LockedKeyring

    store(vault, make_key("binance"), "k")
    w = make_window()
    monkeypatch.setattr(vault.secrets, "_backend", LockedKeyring())
    with qtbot.waitSignal(w.auditCompleted, timeout=WAIT_MS) as done:
        w.act_audit.trigger()
    assert done.args[0].error and "locked" in done.args[0].error
    assert w.audit_label.text() == "Audit failed"


def test_a_key_whose_secret_is_gone_is_counted_once(vault, gui_services, make_window, simulator,
                                                     qtbot) -> None:  # type: ignore[no-untyped-def]
    fine = make_key("okx", permissions={"read"})
    revoked = make_key("bybit", permissions={"read"}, revoked=True)
    lost = make_key("binance", permissions={"read"})
    sim = simulator([fine, revoked, lost], latency=0.01)
    gui_services.endpoints = dict(sim.endpoints)
    store(vault, fine, "Fine")
    store(vault, revoked, "Gone on the exchange")
    kid = store(vault, lost, "Secret lost")
    vault.secrets.delete(kid)  # the keychain entry went away (another app, a reset keyring)
    w = make_window()
    with qtbot.waitSignal(w.auditCompleted, timeout=WAIT_MS):
        w.act_audit.trigger()
    assert "2 could not be checked" in w.audit_label.text()  # the rejected key and the lost one, once each


def test_check_again_with_a_corrupt_keychain_entry_fails_that_key_only(
        vault, gui_services, make_window, simulator, memory_keyring, qtbot) -> None:  # type: ignore[no-untyped-def]
    """'Check again' runs the one audit (service.audit) as the full audit does: a corrupt keychain entry is that
    key's failure, named, while the other keys are checked. It used to re-implement the audit and let the corrupt
    entry fail the whole re-check as if the keychain were unusable."""
    fine, broken = make_key("okx", permissions={"read"}), make_key("binance", permissions={"read"})
    sim = simulator([fine, broken], latency=0.01)
    gui_services.endpoints = dict(sim.endpoints)
    a = store(vault, fine, "Fine")
    b = store(vault, broken, "Broken entry")
    memory_keyring.set_password(f"KeyHygiene/{vault.secrets.vault_id}/{b}/current", b, "{not json")
    make_window()
    with qtbot.waitSignal(gui_services.auditFinished, timeout=WAIT_MS) as done:
        assert gui_services.start_audit([a, b])
    outcome = done.args[0]
    assert outcome.error is None and outcome.total == 2  # the re-check as a whole did not fail
    assert gui_services.row(a).audit_state == DONE and gui_services.row(a).profile is not None
    assert gui_services.row(b).audit_state == FAILED
    assert b in gui_services.row(b).audit_message  # the entry is named as unreadable


def test_an_audit_of_an_empty_vault_does_not_claim_it_audited(gui_services, make_window,
                                                               qtbot) -> None:  # type: ignore[no-untyped-def]
    """The audit on start runs on a vault with no keys yet (a first start): the status bar said "Audited 0 keys at
    13:40", as if something had been checked."""
    w = make_window()
    w.audit_label.setText("Checking 0 keys\u2026")
    with qtbot.waitSignal(w.auditCompleted, timeout=WAIT_MS) as done:
        assert gui_services.start_audit()
    assert done.args[0].total == 0
    assert w.audit_label.text() == ""
