"""Every use case of the window, unchanged, on the team vault (issue 22: "everything above works unchanged on both
backends"): list, add a key, record a sharing, check against the simulator, start the rotation wizard, export a
report. A teammate's vault on the same server sees each change."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from PySide6.QtCore import QSettings, Qt

from keyhygiene.paths import app_paths
from keyhygiene.sim import run_simulator_in_thread
from keyhygiene.store.team_client import TeamConfig
from keyhygiene.store.team_vault import TeamVault
from keyhygiene.ui.key_table_model import Col
from keyhygiene.ui.main_window import MainWindow
from keyhygiene.ui.services import Services
from tests.helpers.gui import WAIT_MS, make_services, stop_services, store
from tests.helpers.openbao import OpenBaoServer
from tests.helpers.secrets_watch import watch_dir
from tests.helpers.simkeys import creds_of, make_key


@pytest.fixture
def services(team_vault: TeamVault, qapp: Any) -> Iterator[Services]:
    s = make_services(team_vault)
    s.prefs.audit_on_start = False
    yield s
    stop_services(s)


@pytest.fixture
def window(qtbot: Any, services: Services, tmp_path: Path) -> MainWindow:
    services.load_rows()
    w = MainWindow(services, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.firstPainted, timeout=WAIT_MS):
        w.show()
    return w


@pytest.fixture
def teammate(tmp_path: Path, openbao: OpenBaoServer, team_config: TeamConfig) -> Iterator[TeamVault]:
    d = tmp_path / "teammate"
    watch_dir(d)
    v = TeamVault(app_paths(d), team_config, openbao.root_token)
    yield v
    v.close()


@pytest.fixture
def simulator() -> Iterator[Callable[..., Any]]:
    stack: list[Any] = []

    def start(keys: list[Any]) -> Any:
        cm = run_simulator_in_thread(keys=keys)
        stack.append(cm)
        return cm.__enter__()

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


def test_add_share_and_list_from_the_window(qtbot: Any, window: MainWindow, services: Services,
                                            teammate: TeamVault) -> None:
    key = make_key("binance", permissions={"read"})
    added: list[Any] = []
    services.add_key(exchange="binance", label="Desk bot", creds=creds_of(key), purpose="bot",
                     on_done=added.append, on_error=lambda exc: added.append(exc))
    qtbot.waitUntil(lambda: bool(added), timeout=WAIT_MS)
    rec = added[0]
    assert not isinstance(rec, BaseException), rec
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=WAIT_MS)
    shared: list[Any] = []
    services.share(rec.id, "3commas", date(2024, 3, 1), on_done=shared.append)
    qtbot.waitUntil(lambda: bool(shared), timeout=WAIT_MS)
    assert services.row(rec.id).record.shared_with == ["3commas"]
    teammate.refresh()  # the teammate's next refresh: the key, its sharing, its secret
    theirs = teammate.get_key(rec.id)
    assert theirs.label == "Desk bot" and theirs.shared_with == ["3commas"]
    assert teammate.credentials(rec.id) == creds_of(key)


def test_check_against_the_simulator_is_saved_in_the_team_vault(
        qtbot: Any, window: MainWindow, services: Services, team_vault: TeamVault, teammate: TeamVault,
        simulator: Callable[..., Any]) -> None:
    risky = make_key("binance", permissions={"read", "spot_trade", "withdraw"})
    sim = simulator([risky])
    services.endpoints = dict(sim.endpoints)
    kid = store(team_vault, risky, "Risky", shared=[("3commas", date(2022, 5, 1))])
    services.load_rows()
    with qtbot.waitSignal(window.auditCompleted, timeout=WAIT_MS) as done:
        window.act_audit.trigger()
    assert done.args[0].ok and done.args[0].checked == 1
    cell = window.model.index(window.model.row_of(kid), Col.RISK).data(Qt.ItemDataRole.AccessibleTextRole)
    assert str(cell).startswith("Critical")
    assert team_vault.flush_publishing() == []
    teammate.refresh()
    at_profile = teammate.latest_inspection(kid)
    assert at_profile is not None and "withdraw" in at_profile[1].permissions


def test_the_rotation_wizard_starts_and_the_report_exports(
        qtbot: Any, window: MainWindow, services: Services, team_vault: TeamVault, tmp_path: Path) -> None:
    key = make_key("bybit", permissions={"read", "spot_trade"})
    kid = store(team_vault, key, "Grid bot", shared=[("3commas", date(2022, 5, 1))])
    services.load_rows()
    window.select_key(kid)
    wizard = window.rotate_key(kid)
    assert wizard is not None and wizard.isVisible()
    wizard.close()

    dlg = window.open_window("export")
    assert dlg is not None
    dlg.opener = lambda _p: True
    out = tmp_path / "team-data" / "exports" / "r.json"  # in the watched dir: the leak check reads the report
    dlg.set_format("json")
    dlg.path_edit.setText(str(out))
    with qtbot.waitSignal(dlg.reportSaved, timeout=WAIT_MS):
        dlg.save_button.click()
    data = json.loads(out.read_text())
    assert [k["id"] for k in data["keys"]] == [kid]
    dlg.close()
