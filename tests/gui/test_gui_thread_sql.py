"""No SQLite read or write on the GUI thread once the window is up (issue 21 item 4).

The window reads the stored rows before its first frame (``Services.load_rows``); from the first Paint event on,
everything that touches the database runs on the service layer's pool and comes back queued. This drives the real
window through what a user does - the first audit, selecting a key (detail pane and its history), adding a key
with "Check now", editing, sharing and ending a sharing, checking one key again, removing a key, saving settings,
exporting a report, importing what a scan found, opening the rotation wizard - and records every statement the
GUI thread runs meanwhile. And a write whose dialog closed before it landed still shows in the key list.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel

from keyhygiene.store.vault import Vault
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.simkeys import make_key
from tests.helpers.sql_watch import SqlWatch


class _ArmOnFirstPaint(QObject):
    def __init__(self, watch: SqlWatch) -> None:
        super().__init__()
        self.watch = watch

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint:
            self.watch.armed = True
        return False


def _labels(widget: Any) -> list[str]:
    return [lab.text() for lab in widget.findChildren(QLabel)]


def _settled(qtbot: Any, services: Any) -> None:
    qtbot.waitUntil(lambda: services.pool.active() == 0 and services.runner.pending() == 0, timeout=WAIT_MS)
    qtbot.wait(20)  # the queued results of the last jobs
    qtbot.waitUntil(lambda: services.pool.active() == 0 and services.runner.pending() == 0, timeout=WAIT_MS)


def test_no_sqlite_on_the_gui_thread_after_the_first_frame(vault: Vault, gui_services: Any, make_window: Any,
                                                            simulator: Any, qtbot: Any, data_dir: Path,
                                                            tmp_path: Path, secret: Any) -> None:
    risky = make_key("binance", permissions={"read", "spot_trade", "withdraw"})
    tidy = make_key("okx", permissions={"read"}, ip_whitelist=["203.0.113.10"])
    spare = make_key("bybit", permissions={"read"})
    added = make_key("bybit", permissions={"read", "spot_trade"})
    sim = simulator([risky, tidy, spare, added], latency=0.01)
    gui_services.endpoints = dict(sim.endpoints)
    a = store(vault, risky, "Risky", shared=[("3commas", date(2022, 5, 1))])
    b = store(vault, tidy, "Tidy", purpose="read-only")
    c = store(vault, spare, "Spare")

    watch = SqlWatch()
    watch.attach(vault.db)
    arm = _ArmOnFirstPaint(watch)
    try:
        w = make_window(show=False)
        w.installEventFilter(arm)
        with qtbot.waitSignal(w.firstPainted, timeout=WAIT_MS):
            w.show()
        assert watch.armed
        _settled(qtbot, gui_services)
        steps: dict[str, list[tuple[str, str]]] = {"startup": watch.take()}

        # The first audit of the simulator.
        with qtbot.waitSignal(w.auditCompleted, timeout=WAIT_MS):
            w.act_audit.trigger()
        _settled(qtbot, gui_services)
        steps["audit"] = watch.take()

        # Select a key: the detail pane shows its checks and its sharing.
        assert w.select_key(a)
        qtbot.waitUntil(lambda: any(t.startswith("Checked:") for t in _labels(w.detail)), timeout=WAIT_MS)
        _settled(qtbot, gui_services)
        steps["select"] = watch.take()

        # Add a key with "Check now" first: the check is kept with the key (record_profile).
        from tests.gui.test_add_key_dialog import _choose, _wait_loaded

        dlg = w.open_add_dialog()
        _choose(dlg, "bybit")
        _wait_loaded(qtbot, dlg, "bybit")
        qtbot.keyClicks(dlg.label, "Added")
        qtbot.keyClicks(dlg.api_key.edit, added.api_key)
        qtbot.keyClicks(dlg.secret.edit, added.secret)
        dlg.check_button.click()
        qtbot.waitUntil(lambda: dlg._checked is not None, timeout=WAIT_MS)
        with qtbot.waitSignal(dlg.keySaved, timeout=WAIT_MS) as saved:
            dlg.save_button.click()
        new_id = saved.args[0]
        qtbot.waitUntil(lambda: (r := gui_services.row(new_id)) is not None and r.profile is not None,
                        timeout=WAIT_MS)
        _settled(qtbot, gui_services)
        steps["add"] = watch.take()

        # Edit the label.
        dlg = w.open_edit_dialog(b)
        dlg.label.setText("Tidy (tax)")
        with qtbot.waitSignal(dlg.keySaved, timeout=WAIT_MS):
            dlg.save_button.click()
        qtbot.waitUntil(lambda: gui_services.row(b).record.label == "Tidy (tax)", timeout=WAIT_MS)
        _settled(qtbot, gui_services)
        steps["edit"] = watch.take()

        # Record a sharing, then end one.
        share = w.open_share_dialog(b)
        share.service.setCurrentIndex(share.service.findData("koinly"))
        with qtbot.waitSignal(share.saved, timeout=WAIT_MS):
            share.ok_button.click()
        qtbot.waitUntil(lambda: "koinly" in gui_services.row(b).record.shared_with, timeout=WAIT_MS)
        unshare = w.open_unshare_dialog(a, "3commas")
        with qtbot.waitSignal(unshare.saved, timeout=WAIT_MS):
            unshare.ok_button.click()
        qtbot.waitUntil(lambda: "3commas" not in gui_services.row(a).record.shared_with, timeout=WAIT_MS)
        _settled(qtbot, gui_services)
        steps["sharing"] = watch.take()

        # Check one key again.
        with qtbot.waitSignal(w.auditCompleted, timeout=WAIT_MS):
            w.recheck(b)
        _settled(qtbot, gui_services)
        steps["check again"] = watch.take()

        # Remove a key.
        box = w.confirm_remove(c)
        next(x for x in box.buttons() if x.text() == "Remove").click()
        qtbot.waitUntil(lambda: gui_services.row(c) is None, timeout=WAIT_MS)
        _settled(qtbot, gui_services)
        steps["remove"] = watch.take()

        # Settings: preferences and a policy threshold.
        settings = w.open_settings()
        settings.clipboard_seconds.setValue(7)
        settings.policy_fields["max_age_days"].setValue(120)
        with qtbot.waitSignal(gui_services.policyChanged, timeout=WAIT_MS):
            settings.save_button.click()
        _settled(qtbot, gui_services)
        steps["settings"] = watch.take()
        watch.armed = False  # the test's own read
        assert vault.repo.get_setting("ui.prefs")["clipboard_clear_seconds"] == 7
        watch.armed = True

        # Export a report.
        export = w.open_window("export")
        export.opener = lambda _p: True
        export.set_format("json")
        export.path_edit.setText(str(data_dir / "exports" / "r.json"))
        with qtbot.waitSignal(export.reportSaved, timeout=WAIT_MS):
            export.save_button.click()
        _settled(qtbot, gui_services)
        steps["export"] = watch.take()

        # Scan a folder and import what it finds.
        from tests.fixtures.discovery.trees import build_fixture_tree
        from tests.gui.test_scan_dialog import _import

        tree = build_fixture_tree(tmp_path / "tree", secret)
        scan = w.open_window("scan", paths=[str(tree.path("mybot"))])  # scans at once
        qtbot.waitUntil(lambda: not scan._busy and scan.import_button.isEnabled(), timeout=WAIT_MS)
        imported = _import(qtbot, scan)
        assert imported and all(gui_services.row(k) is not None for k in imported)  # listed before it says so
        scan.close()
        _settled(qtbot, gui_services)
        steps["scan import"] = watch.take()

        # Open the rotation wizard on a key, wait for its first page, close it.
        wizard = w.open_window("rotation", key_id=a)
        qtbot.waitUntil(lambda: wizard.heading.text() != "", timeout=WAIT_MS)
        _settled(qtbot, gui_services)
        wizard.close()
        _settled(qtbot, gui_services)
        steps["rotation wizard"] = watch.take()

        # The window shows what was written: the rows are the vault's (read here by the test, unwatched).
        watch.armed = False
        assert {r.id for r in gui_services.rows()} == {k.id for k in vault.list_keys()}
        assert gui_services.row(b).record.label == "Tidy (tax)"
    finally:
        watch.armed = False
        watch.detach(vault.db)

    found = {step: sorted({where for _sql, where in calls}) for step, calls in steps.items() if calls}
    assert not found, "SQLite on the GUI thread after the first frame:\n" + "\n".join(
        f"  {step}: {len(steps[step])} statements from\n    " + "\n    ".join(wheres)
        for step, wheres in found.items())


def test_the_watch_sees_a_statement_on_the_gui_thread(vault: Vault) -> None:
    """The harness itself can fail: a read on this thread is recorded, with the code that asked for it."""
    watch = SqlWatch()
    watch.attach(vault.db)
    try:
        watch.armed = True
        vault.list_keys()
        assert watch.calls and watch.calls[0][0].upper().startswith("SELECT")
    finally:
        watch.detach(vault.db)



def test_a_write_shows_its_row_even_when_the_dialog_that_asked_is_gone(vault: Vault, gui_services: Any,
                                                                       qtbot: Any, monkeypatch: Any) -> None:
    """The dialog that asked (the context of the callbacks) may close while its write runs: its callbacks are
    skipped, but the key list still shows what was written - no lost update."""
    import threading

    import shiboken6

    kid = store(vault, make_key("binance"), "Shared later")
    gui_services.load_rows()
    started, release = threading.Event(), threading.Event()
    real = gui_services.app.share

    def slow_share(*a: Any, **kw: Any) -> Any:
        started.set()
        release.wait(WAIT_MS / 1000)
        return real(*a, **kw)

    monkeypatch.setattr(gui_services.app, "share", slow_share)
    dialog = QObject()
    called: list[Any] = []
    gui_services.share(kid, "koinly", None, on_done=called.append, on_error=called.append, context=dialog)
    assert started.wait(WAIT_MS / 1000)
    shiboken6.delete(dialog)  # closed with WA_DeleteOnClose while the write runs
    release.set()
    qtbot.waitUntil(lambda: "koinly" in gui_services.row(kid).record.shared_with, timeout=WAIT_MS)
    _settled(qtbot, gui_services)
    assert called == []


def test_a_scan_import_is_listed_even_when_the_scan_window_is_gone(vault: Vault, gui_services: Any, qtbot: Any,
                                                                   tmp_path: Path, secret: Any,
                                                                   monkeypatch: Any) -> None:
    import threading

    import shiboken6
    from PySide6.QtWidgets import QMessageBox

    from keyhygiene.ui.scan_dialog import ScanDialog
    from tests.fixtures.discovery.trees import build_fixture_tree

    tree = build_fixture_tree(tmp_path / "tree", secret)
    gui_services.load_rows()
    started, release = threading.Event(), threading.Event()
    real = gui_services.app.import_found

    def slow_import(*a: Any, **kw: Any) -> Any:
        started.set()
        release.wait(WAIT_MS / 1000)
        return real(*a, **kw)

    monkeypatch.setattr(gui_services.app, "import_found", slow_import)
    dlg = ScanDialog(gui_services, [str(tree.path("mybot"))])
    dlg.show()
    with qtbot.waitSignal(dlg.scanFinished, timeout=WAIT_MS):
        dlg.scan_button.click()
    dlg.import_button.click()
    qtbot.waitUntil(lambda: dlg.confirm_box is not None and dlg.confirm_box.isVisible(), timeout=WAIT_MS)
    dlg.confirm_box.button(QMessageBox.StandardButton.Yes).click()  # type: ignore[union-attr]
    assert started.wait(WAIT_MS / 1000)
    shiboken6.delete(dlg)  # the user closed the scan window while the keys were being stored
    release.set()
    qtbot.waitUntil(lambda: len(gui_services.rows()) == 2, timeout=WAIT_MS)
    assert {r.id for r in gui_services.rows()} == {k.id for k in vault.list_keys()}


def test_the_apps_staged_start_reads_nothing_on_the_gui_thread_after_the_first_frame(
        vault: Vault, qtbot: Any, data_dir: Path) -> None:
    """As the app starts (keyhygiene/app.py): findings judged after the first frame, the window built in stages.
    A key added while the judging runs is judged on a worker too."""
    from PySide6.QtCore import QSettings

    from keyhygiene.ui.main_window import MainWindow
    from tests.helpers.gui import make_services, stop_services

    a = store(vault, make_key("binance"), "Shared", shared=[("3commas", date(2022, 5, 1))])
    store(vault, make_key("okx"), "Plain")
    services = make_services(vault, defer_judging=True)
    services.prefs.audit_on_start = False
    watch = SqlWatch()
    watch.attach(vault.db)
    arm = _ArmOnFirstPaint(watch)
    try:
        services.load_rows()  # before the first frame: allowed
        w = MainWindow(services, settings=QSettings(str(data_dir / "ui.ini"), QSettings.Format.IniFormat),
                       staged=True)
        qtbot.addWidget(w)
        w.installEventFilter(arm)
        with qtbot.waitSignal(services.judged, timeout=WAIT_MS):
            w.show()
            # A key stored meanwhile (another window, the command line), listed by a row read of its own.
            watch.armed = False
            late = store(vault, make_key("kraken"), "Late")
            watch.armed = True
            services.refresh_row(late)
        qtbot.waitUntil(lambda: services.row(late) is not None and services.row(late).score is not None,
                        timeout=WAIT_MS)
        assert w.select_key(a)
        qtbot.waitUntil(lambda: any(t.startswith("Given to") for t in _labels(w.detail)), timeout=WAIT_MS)
        _settled(qtbot, services)
        assert any(f.rule.startswith("shared_with") for f in services.row(a).findings)
        calls = watch.take()
    finally:
        watch.armed = False
        watch.detach(vault.db)
        w.close()
        stop_services(services)
    assert not calls, sorted({where for _sql, where in calls})


def test_a_save_queued_when_the_app_closes_is_still_written(vault: Vault, qapp: Any) -> None:
    """Closing the app drops queued background work that has not started (a keychain probe, a history read), but
    not a write the user asked for: settings and key writes are kept (``TaskPool.submit(keep=True)``)."""
    import threading

    from keyhygiene.ui.services import PREFS_SETTING, UiPrefs
    from tests.helpers.gui import make_services

    services = make_services(vault)
    release = threading.Event()
    try:
        for _ in range(8):  # every worker busy: the save waits in the queue
            services.pool.submit(lambda: release.wait(WAIT_MS / 1000))
        services.save_prefs(UiPrefs(clipboard_clear_seconds=9))
        threading.Timer(0.2, release.set).start()
        assert services.pool.shutdown()
    finally:
        release.set()
        services.runner.stop()
        services.app.runtime.shutdown_pool(wait=True)
    assert vault.repo.get_setting(PREFS_SETTING)["clipboard_clear_seconds"] == 9


def test_a_whole_rotation_in_the_wizard_reads_nothing_on_the_gui_thread(vault: Vault, gui_services: Any,
                                                                        make_window: Any, qtbot: Any) -> None:
    """Every step of the wizard (journal writes, keychain, exchange, the window's rows after each step) against
    the simulator with Bybit's API deletion, from the main window."""
    from keyhygiene.core.rotation.states import Step
    from keyhygiene.sim import run_simulator_in_thread
    from tests.gui.test_rotation_wizard import click_next, paste, wait_idle, wait_step
    from tests.helpers.simkeys import creds_of

    with run_simulator_in_thread(exchanges=("bybit",), enforce_rate_limits=False) as sim:
        old = sim.add_key(make_key("bybit", permissions={"read", "spot_trade", "transfer"}))
        new = sim.add_key(make_key("bybit", permissions={"read", "spot_trade"}, ip_whitelist=["203.0.113.10"]))
        kid = store(vault, old, "Sim bot", purpose="bot")
        gui_services.endpoints = dict(sim.endpoints)
        w = make_window()
        watch = SqlWatch()
        watch.attach(vault.db)
        watch.armed = True
        try:
            assert w.select_key(kid)
            wizard = w.rotate_key(kid)
            wait_idle(qtbot, wizard)
            click_next(qtbot, wizard)
            wait_step(qtbot, wizard, Step.NEW_KEY)
            paste(wizard, creds_of(new))
            click_next(qtbot, wizard)
            wait_step(qtbot, wizard, Step.CONSUMERS)
            click_next(qtbot, wizard)
            wait_step(qtbot, wizard, Step.REVOKE_OLD)
            with qtbot.waitSignal(wizard.keyRotated, timeout=WAIT_MS):
                click_next(qtbot, wizard)
            wait_step(qtbot, wizard, Step.DONE)
            qtbot.waitUntil(lambda: any("Rotation completed" in t for t in _labels(w.detail)), timeout=WAIT_MS)
            wizard.close()
            _settled(qtbot, gui_services)
        finally:
            watch.armed = False
            watch.detach(vault.db)
    calls = watch.take()
    assert not calls, sorted({where for _sql, where in calls})
