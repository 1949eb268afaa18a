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
    monkeypatch.setattr(sys, "setswitchinterval", lambda _s: None)  # the test process keeps its own
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
