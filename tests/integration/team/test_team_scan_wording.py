"""The scan window on the team vault says where Import puts the keys: "the team vault", not "the keychain"
(the button, its tooltip, the question, the progress line and the outcome)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox

from keyhygiene.store.team_vault import TeamVault
from keyhygiene.ui.scan_dialog import ScanDialog
from tests.helpers.gui import WAIT_MS, make_services, save_shot, stop_services
from tests.helpers.simkeys import creds_of, make_key


def test_the_scan_window_on_the_team_vault_says_team_vault(qtbot: Any, team_vault: TeamVault,
                                                          tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    bot.mkdir()
    c = creds_of(make_key("binance"))
    (bot / ".env").write_text(f"BINANCE_API_KEY={c.api_key}\nBINANCE_API_SECRET={c.secret}\n")
    services = make_services(team_vault)
    try:
        dlg = ScanDialog(services, [str(bot)])
        qtbot.addWidget(dlg)
        with qtbot.waitSignal(dlg.scanFinished, timeout=WAIT_MS):
            dlg.scan_button.click()
        assert dlg.import_button.isEnabled()
        assert dlg.import_button.text() == "&Import keys into the team vault"
        assert "team vault" in dlg.import_button.toolTip() and "keychain" not in dlg.import_button.toolTip()
        dlg.import_button.click()
        qtbot.waitUntil(lambda: dlg.confirm_box is not None and dlg.confirm_box.isVisible(), timeout=WAIT_MS)
        box = dlg.confirm_box
        assert box is not None and box.text() == "Store 1 key in the team vault?"
        save_shot(dlg, "p6-after-scan-team")
        with qtbot.waitSignal(dlg.keysImported, timeout=WAIT_MS):
            box.button(QMessageBox.StandardButton.Yes).click()
            assert dlg.status.text() == "Storing keys in the team vault\u2026"
        assert dlg.message.text().startswith("1 key stored in the team vault.")
        texts = [dlg.import_button.text(), dlg.import_button.toolTip(), dlg.message.text(), dlg.action_hint.text()]
        assert not any("keychain" in t for t in texts), texts
        assert len(team_vault.list_keys()) == 1
        dlg.close()
    finally:
        stop_services(services)
