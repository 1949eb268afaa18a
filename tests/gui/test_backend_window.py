"""The window opens the command line's backend (service/backend.py), and the local start stays as light as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_local_window_start_imports_no_team_stack(tmp_path: Path) -> None:
    """A local user's window never loads hvac, requests or the team vault's modules (~120 ms of imports)."""
    script = textwrap.dedent(f"""
        import argparse, json, sys
        import keyring
        from keyhygiene.store.memory_keyring import MemoryKeyring
        keyring.set_keyring(MemoryKeyring())
        from keyhygiene.paths import app_paths
        from keyhygiene.store.vault import Vault
        from keyhygiene.core.models import Credentials
        with Vault(app_paths({str(tmp_path)!r})) as v:
            v.add_key("binance", "local key", Credentials(api_key="LOCALKEY" + "x" * 16, secret="S" * 24))
            v.repo.set_setting("ui.prefs", {{"audit_on_start": False}})
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
        while not painted and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        loaded = sorted(m for m in ("hvac", "requests", "keyhygiene.store.team_vault", "keyhygiene.service.team")
                        if m in sys.modules)
        out = {{"painted": bool(painted), "rows": s.window.model.rowCount(), "team": s.service.is_team,
               "loaded": loaded}}
        s.close()
        print(json.dumps(out))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHYGIENE_")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out == {"painted": True, "rows": 1, "team": False, "loaded": []}
