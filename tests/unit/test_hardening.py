"""Issue 18 item 7/8: the process turns core dumps off and creates private files before any secret is read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The child reads its own limits after main() returned, and the mode of a file it then creates.
PROBE = """
import json, os, resource, sys
from keyhygiene.cli import main
from keyhygiene.hardening import is_dumpable
code = main(["--data-dir", sys.argv[1], "keys", "list", "--json"])
open(sys.argv[2], "w").close()
print(json.dumps({"code": code, "core": resource.getrlimit(resource.RLIMIT_CORE),
                  "dumpable": is_dumpable(), "mode": os.stat(sys.argv[2]).st_mode & 0o777}))
"""


@pytest.mark.skipif(sys.platform.startswith("win"), reason="no RLIMIT_CORE on Windows")
def test_the_cli_disables_core_dumps_and_uses_a_private_umask(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    p = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "d"), str(tmp_path / "probe")],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["code"] == 0
    assert out["core"] == [0, 0]
    if sys.platform.startswith("linux"):
        assert out["dumpable"] is False
    assert out["mode"] == 0o600
    db = tmp_path / "d" / "keyhygiene.sqlite3"
    assert db.stat().st_mode & 0o777 == 0o600
    for f in (tmp_path / "d").rglob("*"):
        assert f.stat().st_mode & 0o077 == 0, f"{f} is readable by others"
