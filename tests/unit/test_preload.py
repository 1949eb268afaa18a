"""preload.py: the first frame's domain modules on a worker while the GUI thread loads Qt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from keyhygiene.cliutil import UsageError
from keyhygiene.preload import FIRST_FRAME_MODULES, Preload

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHYGIENE_")}
    env.update(PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, *(["-c", code] if code else []), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_worker_loads_the_domain_and_no_qt() -> None:
    """Qt objects belong to the GUI thread: the worker imports none of PySide6, and what it imports is there."""
    r = _python(textwrap.dedent("""
        import json, sys
        from keyhygiene.preload import FIRST_FRAME_MODULES, Preload
        worker = Preload(["binance=http://127.0.0.1:9/"])
        worker.start()
        endpoints = worker.endpoints()
        print(json.dumps({"endpoints": endpoints, "qt": sorted(m for m in sys.modules if m.startswith(("PySide6",
              "shiboken6"))), "missing": [m for m in FIRST_FRAME_MODULES if m not in sys.modules]}))
    """))
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout) == {"endpoints": {"binance": "http://127.0.0.1:9"}, "qt": [], "missing": []}


def test_what_the_worker_raises_is_raised_where_the_endpoints_are_asked_for() -> None:
    worker = Preload(["nosuchexchange=http://127.0.0.1:9"], modules=())
    worker.start()
    with pytest.raises(UsageError, match="unknown exchange 'nosuchexchange'"):
        worker.endpoints()


def test_a_module_that_fails_to_load_on_the_worker_fails_where_the_gui_thread_imports_it() -> None:
    worker = Preload(["binance=http://127.0.0.1:9"], modules=("keyhygiene.no_such_module", "keyhygiene.paths"))
    worker.start()
    assert worker.endpoints() == {"binance": "http://127.0.0.1:9"}
    with pytest.raises(ImportError):
        __import__("keyhygiene.no_such_module")


def test_every_preloaded_module_exists_and_is_free_of_qt() -> None:
    """A renamed module would only make the worker fail; a module with Qt in it would build Qt types off the
    GUI thread. Read from the source, as the layer test does."""
    for name in FIRST_FRAME_MODULES:
        path = ROOT.joinpath(*name.split("."))
        source = path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py"
        text = source.read_text(encoding="utf-8")
        assert "from PySide6" not in text and "import PySide6" not in text, name


def test_opening_the_window_with_a_wrong_endpoint_exits_2_before_any_window() -> None:
    r = _python("", "-m", "keyhygiene", "--endpoint", "nosuchexchange=http://127.0.0.1:9", "gui")
    assert r.returncode == 2, r.stderr[-2000:]
    assert "unknown exchange 'nosuchexchange'" in r.stderr
