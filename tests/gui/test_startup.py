"""Startup manners and the scripted flags, run as the user would: in a fresh process."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHYGIENE_")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), KEYHYGIENE_SMOKE_TIMEOUT="120", **extra)
    return env


def _run(args: list[str], timeout: float = 240, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(**env), capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_showing_the_window_does_not_import_ccxt(tmp_path: Path) -> None:
    """The window paints from local metadata; ccxt (slow to import) loads only when an exchange is asked."""
    script = textwrap.dedent(f"""
        import argparse, json, sys
        import keyring
        from keyhygiene.store.memory_keyring import MemoryKeyring
        keyring.set_keyring(MemoryKeyring())
        from datetime import UTC, datetime
        from keyhygiene.core.models import KeyRecord
        from keyhygiene.paths import app_paths
        from keyhygiene.store.vault import Vault
        v = Vault(app_paths({str(tmp_path)!r}))
        now = datetime.now(UTC)
        with v.db.transaction() as c:
            for i in range(50):
                v.repo.insert_key(c, KeyRecord(id=f"k{{i}}", exchange="binance", label=f"key {{i}}",
                    purpose="bot", fingerprint="ab..cd", key_sha256=str(i), created_at=None, added_at=now,
                    updated_at=now))
        v.repo.set_setting("ui.prefs", {{"audit_on_start": False}})
        v.close()
        from keyhygiene.app import build_session, ensure_application
        app = ensure_application()
        args = argparse.Namespace(demo=False, data_dir={str(tmp_path)!r}, endpoints={{}}, smoke_test=False,
                                  screenshot=None)
        s = build_session(args, app)
        painted = []
        s.window.firstPainted.connect(lambda: painted.append(True))
        s.window.show()
        import time
        deadline = time.monotonic() + 30
        while (not painted or s.services.keychain_status is None) and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        out = {{"ccxt": "ccxt" in sys.modules, "painted": bool(painted), "rows": s.window.model.rowCount(),
               "keychain": s.services.keychain_status is not None}}
        s.close()
        print(json.dumps(out))
    """)
    r = _run(["-c", script], timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out == {"ccxt": False, "painted": True, "rows": 50, "keychain": True}


# What the first frame must do without (issue 21): each is imported later, when what needs it runs. Third-party
# stacks first, then the standard library's heavy corners, then our own modules for what is not on screen yet.
NOT_BEFORE_FIRST_FRAME = (
    "ccxt", "aiohttp", "keyring", "hvac", "requests", "jinja2", "cryptography",
    "asyncio", "concurrent.futures", "ssl", "http.client", "logging.handlers", "email",
    "PySide6.QtSvg",
    "locale",  # argparse's messages look up their translations; the app's usual command lines need no parser
    "keyhygiene.commands.keys",  # the subcommands' parsers: opening the window builds only its own flags
    "keyhygiene.core.registry", "keyhygiene.core.rules", "keyhygiene.core.assessment",
    "keyhygiene.core.rotation.journal",  # the keychain needs only the slots' names (core/rotation/slots.py)
    "keyhygiene.exchanges.warmup", "keyhygiene.store.team_client",
    "keyhygiene.ui.detail_pane", "keyhygiene.ui.charts_widget", "keyhygiene.ui.reminders",
    "keyhygiene.ui.settings_dialog", "keyhygiene.ui.tray", "keyhygiene.ui.welcome_page", "keyhygiene.ui.widgets",
    "keyhygiene.ui.focus_ring", "keyhygiene.ui.focus_regions", "keyhygiene.ui.rotation_wizard",
    "keyhygiene.ui.export_dialog", "keyhygiene.ui.scan_dialog", "keyhygiene.ui.report_pdf",
)


def test_the_first_frame_loads_only_what_it_shows(vault, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """``keyhygiene gui`` as a user starts it, its modules looked at in its first Paint event: the rows are there,
    none of ``NOT_BEFORE_FIRST_FRAME`` is loaded, and PySide has not created the Python type of every Qt widget
    class (it does that when Python is handed an object of a class private to Qt, such as a toolbar separator's
    widget or a scroll area's viewport: ~80 enums, 6-13 ms)."""
    from tests.helpers.gui import store
    from tests.helpers.simkeys import make_key

    for i in range(30):
        store(vault, make_key("binance"), f"Key {i}", purpose="bot")
    vault.repo.set_setting("ui.prefs", {"audit_on_start": False})
    script = textwrap.dedent(f"""
        import json, sys
        from keyhygiene import app as kapp, cli

        build = kapp.build_session

        def watched(args, app):
            s = build(args, app)
            from PySide6.QtCore import QEvent, QObject, QTimer
            import PySide6.QtGui
            import PySide6.QtWidgets as widgets

            class Probe(QObject):
                def eventFilter(self, _obj, event):
                    if event.type() == QEvent.Type.Paint:
                        s.window.removeEventFilter(self)
                        print(json.dumps({{"modules": sorted(sys.modules), "rows": s.window.model.rowCount(),
                                          "all_widget_types": "QWizard" in vars(widgets),
                                          "key_sequence_type": "QKeySequence" in vars(PySide6.QtGui),
                                          "finding_built": "Finding" in vars(sys.modules["keyhygiene.core.models"])
                                          or "keyhygiene.core.finding" in sys.modules,
                                          "credentials_built": "keyhygiene.core.credentials" in sys.modules
                                          or "Credentials" in vars(sys.modules["keyhygiene.core.models"]),
                                          "rounding": app.highDpiScaleFactorRoundingPolicy().name}}), flush=True)
                        QTimer.singleShot(0, lambda: app.exit(0))
                    return False

            s.window.installEventFilter(Probe(s.window))
            return s

        kapp.build_session = watched
        sys.exit(cli.main(["gui", "--data-dir", {str(data_dir)!r}, "--endpoint", "binance=http://127.0.0.1:9"]))
    """)
    r = _run(["-c", script], timeout=120, PYTHON_KEYRING_BACKEND="keyhygiene.store.memory_keyring.MemoryKeyring")
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["rows"] == 30
    loaded = set(out["modules"])
    assert "keyhygiene.ui.main_window" in loaded  # the probe ran in the real window
    assert out["all_widget_types"] is False
    assert out["key_sequence_type"] is False  # the shortcuts are set after the first frame: 80 enum members later
    assert out["finding_built"] is False  # a frozen dataclass (~5 M instructions): the rows are judged after it
    assert out["credentials_built"] is False  # the same (~4 M): the first frame reads no secret
    # Fractional scale factors stay crisp: Qt 6's default, no longer set by ensure_application.
    assert out["rounding"] == "PassThrough"
    assert sorted(m for m in NOT_BEFORE_FIRST_FRAME if m in loaded) == []


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.slow
def test_demo_screenshot(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    r = _run(["-m", "keyhygiene", "--demo", "--screenshot", str(shot)])
    assert r.returncode == 0, r.stderr[-3000:]
    w, h = _png_size(shot)
    assert w >= 1200 and h >= 750


@pytest.mark.slow
def test_demo_smoke_test() -> None:
    r = _run(["-m", "keyhygiene", "--demo", "--smoke-test"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert "smoke test passed" in r.stdout and "12 keys" in r.stdout


def test_smoke_test_fails_without_a_keychain(tmp_path: Path) -> None:
    r = _run(["-m", "keyhygiene", "--data-dir", str(tmp_path / "d"), "--smoke-test"], timeout=120,
             PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert r.returncode == 3, (r.stdout, r.stderr[-2000:])
    assert "keychain" in r.stderr


def test_automatic_gc_is_off_while_the_window_is_built_and_restored_after(monkeypatch: pytest.MonkeyPatch,
                                                                         qapp: object) -> None:
    """Start-up runs without the automatic collector (the GUI thread collects by itself once the window exists);
    a run that ends before there is a window gives the collector back as it found it."""
    import argparse
    import gc

    from keyhygiene import app as app_module
    from keyhygiene import exitcodes
    from keyhygiene.store.database import DatabaseError

    seen: list[bool] = []

    def refuse(_args: object, _app: object) -> object:
        seen.append(gc.isenabled())
        raise DatabaseError("the vault is damaged")

    monkeypatch.setattr(app_module, "build_session", refuse)
    args = argparse.Namespace(smoke_test=True, screenshot=None, demo=False, data_dir=None, endpoints={})
    before = gc.isenabled()  # the gui tests' own MainThreadGC has it off
    try:
        gc.enable()
        assert app_module.run(args) == exitcodes.STORAGE
        assert seen == [False]
        assert gc.isenabled()
        gc.disable()
        assert app_module.run(args) == exitcodes.STORAGE
        assert seen == [False, False]
        assert not gc.isenabled()  # it was off before, so it stays off
    finally:
        (gc.enable if before else gc.disable)()
