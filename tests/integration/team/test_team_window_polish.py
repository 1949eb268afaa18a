"""The window on the team vault, polished (issue 22 follow-ups): while the server cannot be used the detail pane's
and the scan window's writing buttons look off, not only refuse; a teammate's keys arrive before "Audit all" and
when the app comes back to the front after a while; refreshes asked for at once share one trip to the server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from PySide6.QtCore import QSettings, Qt

from keyhygiene.exchanges import catalog
from keyhygiene.paths import app_paths
from keyhygiene.service.team_policies import policy_hcl
from keyhygiene.sim import run_simulator_in_thread
from keyhygiene.store.team_client import TeamConfig
from keyhygiene.store.team_vault import TeamVault
from keyhygiene.ui import services as services_module
from keyhygiene.ui.main_window import MainWindow
from keyhygiene.ui.services import Services
from keyhygiene.ui.team_banner import READ_ONLY_TIP
from tests.helpers.gui import WAIT_MS, make_services, stop_services, store
from tests.helpers.openbao import OpenBaoServer
from tests.helpers.secrets_watch import watch_dir
from tests.helpers.simkeys import creds_of, make_key

DENY_ALL = 'path "*" { capabilities = ["deny"] }'


@pytest.fixture
def policy_name(team_mount: str) -> str:
    return f"desk-{team_mount}"


@pytest.fixture
def desk_vault(tmp_path: Path, openbao: OpenBaoServer, team_config: TeamConfig, team_mount: str,
               policy_name: str) -> Iterator[TeamVault]:
    """A trader's vault whose token's policy the test can take away (403: read-only) and give back (Retry)."""
    token = openbao.token_with_policy(policy_name, policy_hcl("admin", team_mount))
    d = tmp_path / "desk"
    watch_dir(d)
    v = TeamVault(app_paths(d), team_config, token)
    v.catalog = catalog
    try:
        yield v
    finally:
        v.close()


def _services(vault: TeamVault) -> Services:
    s = make_services(vault)
    s.prefs.audit_on_start = False
    return s


def _window(qtbot: Any, services: Services, tmp_path: Path) -> MainWindow:
    services.load_rows()
    w = MainWindow(services, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.firstPainted, timeout=WAIT_MS):
        w.show()
    qtbot.waitUntil(lambda: w._built, timeout=WAIT_MS)
    return w


@pytest.fixture
def teammate(tmp_path: Path, openbao: OpenBaoServer, team_config: TeamConfig) -> Iterator[TeamVault]:
    d = tmp_path / "teammate"
    watch_dir(d)
    v = TeamVault(app_paths(d), team_config, openbao.root_token)
    v.catalog = catalog
    yield v
    v.close()


def test_the_detail_pane_and_the_scan_window_grey_out_their_changes_while_read_only(
        qtbot: Any, openbao: OpenBaoServer, desk_vault: TeamVault, policy_name: str, tmp_path: Path) -> None:
    # Shared with 3commas long ago: a finding whose card offers "End sharing…" and "Rotate…" (writes).
    stored = make_key("binance", permissions={"read", "withdraw"})
    kid = store(desk_vault, stored, "Desk bot", shared=[("3commas", date(2022, 3, 1))])
    services = _services(desk_vault)
    try:
        w = _window(qtbot, services, tmp_path)
        w.select_key(kid)
        pane = w.detail
        writing = pane.writing_buttons()
        names = {b.text() for b in writing}
        assert {"Rotate\u2026", "Edit\u2026", "Remove\u2026", "Record a sharing\u2026", "End\u2026"} <= names
        assert all(b.isEnabled() for b in writing)
        assert pane.recheck_button.isEnabled() and pane.copy_key_button.isEnabled()
        # A bot folder with this key (already stored: clean-up is offered) and a new one (import is offered).
        bot = tmp_path / "bot"
        (bot / "old").mkdir(parents=True)
        (bot / "new").mkdir()
        for where, key in (("old", stored), ("new", make_key("binance"))):
            c = creds_of(key)
            (bot / where / ".env").write_text(f"BINANCE_API_KEY={c.api_key}\nBINANCE_API_SECRET={c.secret}\n")
        scan = w.open_window("scan", paths=[str(bot)])
        assert scan is not None
        with qtbot.waitSignal(scan.scanFinished, timeout=WAIT_MS):
            scan.scan_button.click()
        scan.select_row(next(i for i, f in enumerate(scan.found) if f.in_vault))
        assert scan.import_button.isEnabled() and scan.clean_button.isEnabled()

        openbao.client().sys.create_or_update_policy(name=policy_name, policy=DENY_ALL)
        with qtbot.waitSignal(services.backendChecked, timeout=WAIT_MS) as got:
            services.refresh_backend()
        assert got.args[0] is not None and services.offline is not None
        for b in (pane.rotate_button, pane.edit_button, pane.remove_button, pane.share_button, *pane.unshare_buttons):
            assert not b.isEnabled(), b.text()
        writing = pane.writing_buttons()
        assert writing and not any(b.isEnabled() for b in writing)
        assert all(b.toolTip() == READ_ONLY_TIP for b in writing)
        assert pane.recheck_button.isEnabled() and pane.copy_key_button.isEnabled()  # reading still works
        assert not scan.clean_button.isEnabled() and "team vault is unavailable" in scan.clean_button.toolTip()
        assert "team vault is unavailable" in scan.action_hint.text()
        assert not scan.import_button.isEnabled() and "team vault is unavailable" in scan.import_button.toolTip()
        w.select_key(kid)  # the pane built again (another key, an audit's result) stays read-only
        pane.show_row(services.row(kid))
        assert not any(b.isEnabled() for b in pane.writing_buttons())

        openbao.client().sys.create_or_update_policy(name=policy_name, policy=policy_hcl("admin", desk_vault
                                                                                           .config.mount))
        retry = next(b for b in w.team_banner._buttons if b.text() == "Retry")
        with qtbot.waitSignal(services.backendChecked, timeout=WAIT_MS) as got:
            qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
        assert got.args == [None] and services.offline is None
        qtbot.waitUntil(lambda: all(b.isEnabled() for b in w.detail.writing_buttons()), timeout=WAIT_MS)
        assert w.detail.rotate_button.toolTip().startswith("Replace this key step by step")
        assert scan.import_button.isEnabled() and scan.clean_button.isEnabled()
        assert "team vault" not in scan.clean_button.toolTip() + scan.action_hint.text()
        scan.close()
    finally:
        stop_services(services)


def test_audit_all_reads_a_teammates_new_key_from_the_server_first(
        qtbot: Any, team_vault: TeamVault, teammate: TeamVault, tmp_path: Path) -> None:
    mine_key = make_key("binance", permissions={"read"})
    theirs_key = make_key("kraken", permissions={"read"})
    with run_simulator_in_thread(keys=[mine_key, theirs_key]) as sim:
        mine = store(team_vault, mine_key, "Mine")
        services = _services(team_vault)
        services.endpoints = dict(sim.endpoints)
        try:
            w = _window(qtbot, services, tmp_path)
            assert w.model.rowCount() == 1
            theirs = store(teammate, theirs_key, "Theirs")  # added while the window is open
            with qtbot.waitSignal(w.auditCompleted, timeout=WAIT_MS) as done:
                w.act_audit.trigger()
                assert services.auditing and not services.start_audit()  # one at a time, refresh included
            assert done.args[0].ok and done.args[0].checked == 2
            assert sorted(r.record.id for r in services.rows()) == sorted([mine, theirs])
            assert w.model.row_of(theirs) is not None and services.row(theirs).checked_at is not None
        finally:
            stop_services(services)


def test_coming_back_to_the_app_after_a_while_refreshes_once(
        qtbot: Any, team_vault: TeamVault, teammate: TeamVault, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    store(team_vault, make_key("binance"), "Mine")
    services = _services(team_vault)
    try:
        w = _window(qtbot, services, tmp_path)
        theirs = store(teammate, make_key("kraken"), "Theirs")
        active = Qt.ApplicationState.ApplicationActive
        seen: list[object] = []
        services.backendChecked.connect(seen.append)
        services._on_application_state_changed(active)  # just refreshed (the window's own start): nothing
        assert services._refresh_waiters is None
        services._on_application_state_changed(Qt.ApplicationState.ApplicationInactive)
        assert services._refresh_waiters is None
        later = services._refreshed_at_mono + services_module.REFRESH_ON_FOCUS_S + 1
        monkeypatch.setattr(services_module.time, "monotonic", lambda: later)
        answers: list[object] = []
        with qtbot.waitSignal(services.backendChecked, timeout=WAIT_MS):
            services._on_application_state_changed(active)
            services.refresh_backend(answers.append)  # asked again meanwhile: the same trip to the server
            services.refresh_backend(answers.append)
        assert seen == [None] and answers == [None, None]
        qtbot.waitUntil(lambda: w.model.row_of(theirs) is not None, timeout=WAIT_MS)
    finally:
        stop_services(services)
