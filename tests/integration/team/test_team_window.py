"""The window on the team vault, as the app builds it (app.build_session): the cached keys first, the server's
changes on a worker after; the server away, the cache read-only with the reason."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from PySide6.QtCore import Qt

from keyhygiene.app import Session, build_session
from keyhygiene.core.models import Credentials
from keyhygiene.paths import app_paths
from keyhygiene.service import team
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.team_client import TeamReason, TeamUnavailable
from keyhygiene.ui.team_banner import READ_ONLY_TIP
from tests.helpers.gui import WAIT_MS, save_shot
from tests.helpers.openbao import OpenBaoServer, running_openbao
from tests.helpers.secrets_watch import register_secret, watch_dir


def creds(n: int) -> Credentials:
    c = Credentials(api_key=f"WINKEY{n:03d}{'x' * 14}", secret=f"WINSECRET{n:03d}{'y' * 14}")
    register_secret(c.api_key, c.secret)
    return c


def connected(d: Path, server: OpenBaoServer, mount: str, token: str | None = None) -> Path:
    watch_dir(d)
    team.connect(app_paths(d), server.url, token or server.root_token, mount=mount)
    with team.open_backend(app_paths(d)) as v:
        v.set_setting("ui.prefs", {"audit_on_start": False})  # tests decide when to audit
    return d


@pytest.fixture
def own_server() -> Iterator[OpenBaoServer]:
    """A server of this test's own: it gets stopped."""
    with running_openbao() as server:
        yield server


@pytest.fixture
def open_window(qapp: Any, qtbot: Any) -> Iterator[Callable[[Path], Session]]:
    sessions: list[Session] = []

    def start(d: Path) -> Session:
        args = argparse.Namespace(demo=False, data_dir=str(d), endpoints={}, smoke_test=False, screenshot=None)
        s = build_session(args, qapp)
        sessions.append(s)
        # Built without a network call: the window's first rows are the cache's.
        s.first_rows = model_ids(s)  # type: ignore[attr-defined]
        painted: list[bool] = []
        s.painted = painted  # type: ignore[attr-defined]
        s.window.firstPainted.connect(lambda: painted.append(True))
        s.window.show()
        return s

    yield start
    for s in sessions:
        # Closed only after the first frame: its deferred work (keychain probe, judging) would otherwise start
        # from the first-paint fallback timer after the pools were shut down, inside a later test.
        qtbot.waitUntil(lambda s=s: bool(s.painted), timeout=WAIT_MS)  # type: ignore[attr-defined]
        s.close()


def model_ids(s: Session) -> list[str]:
    return sorted(r.record.id for r in s.services.rows())


def test_the_window_shows_the_cache_first_then_a_teammates_key(
        tmp_path: Path, openbao: OpenBaoServer, team_mount: str, memory_keyring: MemoryKeyring,
        open_window: Callable[[Path], Session], qtbot: Any) -> None:
    mine = connected(tmp_path / "me", openbao, team_mount)
    with team.open_backend(app_paths(mine)) as v:
        first = v.add_key("binance", "mine", creds(1)).id
    theirs = connected(tmp_path / "teammate", openbao, team_mount)
    with team.open_backend(app_paths(theirs)) as v:
        added = v.add_key("kraken", "theirs", creds(3)).id
    s = open_window(mine)
    assert s.service.is_team
    assert s.first_rows == [first]  # the cache's: the teammate's key comes with the refresh after the first frame
    with qtbot.waitSignal(s.services.backendChecked, timeout=WAIT_MS) as got:
        pass
    assert got.args == [None]
    assert model_ids(s) == sorted([first, added])
    qtbot.waitUntil(lambda: s.window.model.rowCount() == 2, timeout=WAIT_MS)


def test_the_window_opens_on_the_cache_when_the_server_is_down(
        tmp_path: Path, own_server: OpenBaoServer, memory_keyring: MemoryKeyring,
        open_window: Callable[[Path], Session], qtbot: Any) -> None:
    d = connected(tmp_path / "me", own_server, own_server.new_mount())
    with team.open_backend(app_paths(d)) as v:
        kid = v.add_key("binance", "cached", creds(2)).id
    own_server.stop()
    s = open_window(d)
    assert s.first_rows == [kid]
    with qtbot.waitSignal(s.services.backendChecked, timeout=WAIT_MS) as got:
        pass
    reason = got.args[0]
    assert isinstance(reason, TeamUnavailable) and reason.reason is TeamReason.DOWN
    assert s.services.offline is reason and model_ids(s) == [kid]


def test_settings_connects_and_disconnects_and_the_window_reopens(
        tmp_path: Path, openbao: OpenBaoServer, team_mount: str, memory_keyring: MemoryKeyring,
        open_window: Callable[[Path], Session], qtbot: Any) -> None:
    teammate = connected(tmp_path / "teammate", openbao, team_mount)
    with team.open_backend(app_paths(teammate)) as v:
        theirs = v.add_key("binance", "the desk's key", creds(10)).id
    d = tmp_path / "me"
    watch_dir(d)
    from keyhygiene.store.vault import Vault

    with Vault(app_paths(d)) as local:
        mine = local.add_key("kraken", "my own key", creds(11)).id
        local.repo.set_setting("ui.prefs", {"audit_on_start": False})
    s = open_window(d)
    assert not s.service.is_team and s.first_rows == [mine]
    qtbot.waitUntil(lambda: s.window._built, timeout=WAIT_MS)
    dlg = s.window.open_settings()
    page = dlg.team_page
    dlg.tabs.setCurrentWidget(page)
    assert page.fields["state"].text().startswith("Not connected")
    assert not page.disconnect_button.isVisible()
    page.url.setText(openbao.url)
    page.mount.setText(team_mount)
    page.token.setText(openbao.root_token)
    with qtbot.waitSignal(page.switched, timeout=WAIT_MS) as got:
        qtbot.mouseClick(page.connect_button, Qt.MouseButton.LeftButton)
        assert page.token.text() == ""  # handed to the service, wiped from the field at once
        assert page.busy and page.progress.isVisible()
    assert got.args == [True]
    assert s.service.is_team and model_ids(s) == [theirs]
    qtbot.waitUntil(lambda: s.window.model.rowCount() == 1, timeout=WAIT_MS)
    assert page.fields["server"].text() == openbao.url and page.fields["mount"].text() == team_mount
    assert page.fields["role"].text().startswith("root") and page.fields["keys"].text() == "1"
    assert page.fields["cache"].text().startswith("Just now")
    assert page.disconnect_button.isVisible() and not page.busy
    ini = (d / "ui.ini").read_text() if (d / "ui.ini").exists() else ""
    assert openbao.root_token not in ini
    dlg.resize(640, 760)
    qtbot.wait(100)  # the layout and the focus ring settle, as they do on screen
    save_shot(dlg, "i22-settings-team-connected")

    with qtbot.waitSignal(page.switched, timeout=WAIT_MS) as got:
        qtbot.mouseClick(page.disconnect_button, Qt.MouseButton.LeftButton)
    assert got.args == [False]
    assert not s.service.is_team and model_ids(s) == [mine]
    assert page.fields["state"].text().startswith("Not connected")
    assert not team.status(app_paths(d)).connected


def test_settings_says_why_a_connect_failed_and_keeps_nothing(
        tmp_path: Path, openbao: OpenBaoServer, memory_keyring: MemoryKeyring,
        open_window: Callable[[Path], Session], qtbot: Any) -> None:
    d = tmp_path / "me"
    watch_dir(d)
    s = open_window(d)
    dlg = s.window.open_settings()
    page = dlg.team_page
    dlg.tabs.setCurrentWidget(page)
    page.url.setText(openbao.url)
    page.mount.setText("no-such-mount")
    page.token.setText(openbao.root_token)
    qtbot.mouseClick(page.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT_MS)
    assert page.banner.isVisible() and "KV version 2" in page.banner._text.text()
    assert not s.service.is_team and not team.status(app_paths(d)).connected
    dlg.resize(640, 760)
    qtbot.wait(100)  # the layout and the focus ring settle, as they do on screen
    save_shot(dlg, "i22-settings-team-error")


def banner_text(s: Session) -> str:
    b = s.window.team_banner
    return f"{b._title.text()} | {b._text.text()}" if b.isVisible() else ""


def test_server_stopped_mid_session_cache_read_only_with_banner(
        tmp_path: Path, own_server: OpenBaoServer, memory_keyring: MemoryKeyring,
        open_window: Callable[[Path], Session], qtbot: Any) -> None:
    d = connected(tmp_path / "me", own_server, own_server.new_mount())
    with team.open_backend(app_paths(d)) as v:
        kid = v.add_key("binance", "desk key", creds(20)).id
    s = open_window(d)
    with qtbot.waitSignal(s.services.backendChecked, timeout=WAIT_MS) as got:
        pass
    assert got.args == [None] and getattr(s.window, "team_banner", None) is None  # online: no banner at all
    s.window.select_key(kid)
    assert s.window.act_edit.isEnabled() and s.window.act_remove.isEnabled()
    own_server.stop()  # the server goes away while the window is open
    with qtbot.waitSignal(s.services.backendChecked, timeout=WAIT_MS) as got:
        s.services.refresh_backend()  # what Retry and the next start do
    assert isinstance(got.args[0], TeamUnavailable)
    text = banner_text(s)
    assert text.startswith("Team vault unavailable: the server does not answer \u2014 showing what was cached at ")
    assert "changes are off" in text and "does not answer" in text.split(" | ")[1]
    assert model_ids(s) == [kid] and s.window.model.rowCount() == 1  # the cached keys stay on screen
    s.window.select_key(kid)
    for a in (s.window.act_add, s.window.act_edit, s.window.act_share, s.window.act_remove, s.window.act_rotate):
        assert not a.isEnabled(), a.text()
    assert s.window.act_copy_id.isEnabled()  # reading what is cached still works
    # The detail pane's buttons and the shortcuts reach the same slots: refused there, with why.
    for attempt in (lambda: s.window.open_edit_dialog(kid), lambda: s.window.confirm_remove(kid),
                    lambda: s.window.rotate_key(kid), s.window.open_add_dialog):
        assert attempt() is None
        assert "Changes are off while the team vault is unavailable" in s.window.statusBar().currentMessage()
        # One wording, from one place: the status line says what the disabled buttons' tooltips say.
        assert s.window.statusBar().currentMessage() == READ_ONLY_TIP
        assert s.window.detail.rotate_button.toolTip() == READ_ONLY_TIP
    save_shot(s.window, "p6-after-read-only-status")
    retry = [b for b in s.window.team_banner._buttons if b.text() == "Retry"]
    assert retry
    with qtbot.waitSignal(s.services.backendChecked, timeout=WAIT_MS):
        qtbot.mouseClick(retry[0], Qt.MouseButton.LeftButton)
    assert banner_text(s).startswith("Team vault unavailable")
    s.window.resize(1200, 700)
    qtbot.wait(100)
    save_shot(s.window, "i22-window-team-unavailable")


def test_a_refused_token_then_a_new_one_from_settings_makes_the_window_writable_again(
        tmp_path: Path, openbao: OpenBaoServer, team_mount: str, memory_keyring: MemoryKeyring,
        open_window: Callable[[Path], Session], qtbot: Any) -> None:
    token = openbao.client().auth.token.create(policies=["root"], ttl="1h")["auth"]["client_token"]
    register_secret(token)
    d = connected(tmp_path / "me", openbao, team_mount, token)
    with team.open_backend(app_paths(d)) as v:
        kid = v.add_key("binance", "desk key", creds(21)).id
    openbao.client().auth.token.revoke(token)
    s = open_window(d)
    with qtbot.waitSignal(s.services.backendChecked, timeout=WAIT_MS):
        pass
    assert "the token was refused (expired or revoked)" in banner_text(s)
    assert not s.window.act_add.isEnabled() and model_ids(s) == [kid]
    dlg = s.window.open_settings()
    page = dlg.team_page
    page.url.setText(openbao.url)
    page.mount.setText(team_mount)
    page.token.setText(openbao.root_token)
    with qtbot.waitSignal(page.switched, timeout=WAIT_MS):
        page.connect_clicked()
    qtbot.waitUntil(lambda: not s.window.team_banner.isVisible(), timeout=WAIT_MS)
    s.window.select_key(kid)
    assert s.window.act_edit.isEnabled() and s.services.offline is None


def test_an_auditor_lists_and_reports_but_is_told_its_role_cannot_read_secrets(
        tmp_path: Path, openbao: OpenBaoServer, team_mount: str, memory_keyring: MemoryKeyring,
        open_window: Callable[[Path], Session], qtbot: Any) -> None:
    from PySide6.QtWidgets import QMessageBox

    from keyhygiene.service.team_policies import policy_hcl

    admin = connected(tmp_path / "admin", openbao, team_mount)
    with team.open_backend(app_paths(admin)) as v:
        kid = v.add_key("binance", "desk key", creds(22)).id
    token = openbao.token_with_policy(f"auditor-{team_mount}", policy_hcl("auditor", team_mount))
    d = connected(tmp_path / "auditor", openbao, team_mount, token)
    s = open_window(d)
    with qtbot.waitSignal(s.services.backendChecked, timeout=WAIT_MS) as got:
        pass
    assert got.args == [None] and model_ids(s) == [kid]  # listing works
    report = s.service.build_report()  # and reporting
    assert [k.id for k in report.keys] == [kid]
    s.window.select_key(kid)
    s.window.copy_api_key(kid)
    qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible() for w in s.window.open_dialogs()),
                    timeout=WAIT_MS)
    box = next(w for w in s.window.open_dialogs() if isinstance(w, QMessageBox))
    assert "your role cannot read secrets" in box.text()
    box.close()
    from keyhygiene.ui.widgets import Banner

    wizard = s.window.rotate_key(kid)  # a rotation needs the secret: the wizard says why it cannot start
    assert wizard is not None

    def told() -> bool:
        return any(b.isVisible() and "your role cannot read secrets" in b._text.text()
                   for b in wizard.findChildren(Banner))

    qtbot.waitUntil(told, timeout=WAIT_MS)
    wizard.close()


def test_window_preferences_and_the_policy_stay_this_machines_across_backends(
        tmp_path: Path, openbao: OpenBaoServer, team_mount: str, memory_keyring: MemoryKeyring) -> None:
    """Kept in the local database, not in the team cache: a deleted cache or a disconnect loses none of them."""
    from keyhygiene.core.policy import Policy
    from keyhygiene.service.app import App
    from keyhygiene.store.team_vault import TeamVault

    d = tmp_path / "me"
    watch_dir(d)
    team.connect(app_paths(d), openbao.url, openbao.root_token, mount=team_mount)
    with App.open(app_paths(d)) as app:
        assert app.is_team
        app.set_setting("ui.prefs", {"audit_on_start": False, "reveal_seconds": 9})
        app.save_policy(Policy(max_age_days=45))
        cache = TeamVault.cache_path(app_paths(d), app.vault.config)  # type: ignore[attr-defined]
    for suffix in ("", "-wal", "-shm"):
        Path(str(cache) + suffix).unlink(missing_ok=True)
    with App.open(app_paths(d)) as app:
        assert app.get_setting("ui.prefs")["reveal_seconds"] == 9 and app.load_policy().max_age_days == 45
    team.disconnect(app_paths(d))
    with App.open(app_paths(d)) as app:
        assert not app.is_team
        assert app.get_setting("ui.prefs")["reveal_seconds"] == 9 and app.load_policy().max_age_days == 45


def test_the_team_vault_tab_is_keyboard_accessible(
        tmp_path: Path, memory_keyring: MemoryKeyring, open_window: Callable[[Path], Session], qtbot: Any) -> None:
    from PySide6.QtWidgets import QApplication, QFormLayout, QLabel

    d = tmp_path / "me"
    watch_dir(d)
    s = open_window(d)
    dlg = s.window.open_settings()
    page = dlg.team_page
    dlg.tabs.setCurrentWidget(page)
    page.url.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.url, timeout=WAIT_MS)
    visited = []
    for _ in range(5):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        visited.append(QApplication.focusWidget())
    assert visited == [page.mount, page.token.edit, page.ca_cert, page.ca_button, page.connect_button]
    # Every field has a label with a mnemonic that leads to it (Alt+U, Alt+M, Alt+T, Alt+C).
    form = page.connect_box.layout()
    assert isinstance(form, QFormLayout)
    buddies = {}
    for field in (page.url, page.mount, page.token, page.ca_cert):
        label = next(w for w in page.connect_box.findChildren(QLabel) if w.buddy() in (field, page.token.edit)
                     or (field is page.token and w.buddy() is page.token))
        buddies[label.text()] = field
    assert sorted(buddies) == ["&Mount", "&Token", "CA &certificate", "Server &URL"]
    assert page.token.edit.echoMode() == page.token.edit.EchoMode.Password


def test_the_team_window_paints_before_hvac_loads_then_refreshes(
        tmp_path: Path, openbao: OpenBaoServer, team_mount: str, memory_keyring: MemoryKeyring) -> None:
    """In a fresh process: the first frame shows the cache without importing hvac/requests (~120 ms) or asking the
    server; the refresh after it loads them on a worker and brings the teammate's key."""
    import json
    import os
    import subprocess
    import sys
    import textwrap

    d = connected(tmp_path / "me", openbao, team_mount)
    with team.open_backend(app_paths(d)) as v:
        v.add_key("binance", "cached", creds(30))
    teammate = connected(tmp_path / "teammate", openbao, team_mount)
    with team.open_backend(app_paths(teammate)) as v:
        v.add_key("kraken", "new on the server", creds(31))
    script = textwrap.dedent(f"""
        import argparse, json, sys, time
        import keyring
        from keyhygiene.store.memory_keyring import MemoryKeyring
        keyring.set_keyring(MemoryKeyring())  # the token comes from BAO_TOKEN (a headless start)
        from keyhygiene.app import build_session, ensure_application
        app = ensure_application()
        s = build_session(argparse.Namespace(demo=False, data_dir={str(d)!r}, endpoints={{}}, smoke_test=False,
                                             screenshot=None), app)
        out = {{"team": s.service.is_team, "rows_built": s.window.model.rowCount(),
               "hvac_built": "hvac" in sys.modules}}
        checked = []
        from PySide6.QtCore import QEvent, QObject

        class FirstPaint(QObject):  # the first frame itself (firstPainted follows it, with the workers started)
            def eventFilter(self, _o, e):
                if e.type() == QEvent.Type.Paint:
                    out.setdefault("hvac_at_paint", "hvac" in sys.modules)
                return False

        probe = FirstPaint()
        s.window.installEventFilter(probe)
        s.services.backendChecked.connect(lambda r: checked.append(r))
        s.window.show()
        deadline = time.monotonic() + 30
        while not checked and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        deadline = time.monotonic() + 5
        while s.window.model.rowCount() < 2 and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        out.update(checked=[None if c is None else str(c) for c in checked], rows=s.window.model.rowCount())
        s.close()
        print(json.dumps(out))
    """)
    root = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEYHYGIENE_", "VAULT_", "BAO_"))}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(root), BAO_TOKEN=openbao.root_token)
    r = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out == {"team": True, "rows_built": 1, "hvac_built": False, "hvac_at_paint": False, "checked": [None],
                   "rows": 2}
