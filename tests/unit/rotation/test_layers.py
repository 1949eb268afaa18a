"""The rotation's core imports neither the store nor the exchange layer (DESIGN.md: core <- exchanges, store <-
service): the vault, the journal and the exchange calls are passed in. Read from the source, function-level
imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import keyhygiene.core.rotation as rotation

FORBIDDEN = ("keyhygiene.store", "keyhygiene.exchanges", "keyhygiene.ui", "keyhygiene.service", "PySide6", "ccxt",
             "keyring", "sqlite3")


def imports_of(path: Path) -> list[str]:
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
    return out


def test_core_rotation_imports_no_outer_layer() -> None:
    files = sorted(Path(rotation.__file__).parent.glob("*.py"))
    assert {f.name for f in files} >= {"machine.py", "flow.py", "journal.py", "assessment.py", "states.py"}
    bad = [(f.name, m) for f in files for m in imports_of(f) if m.startswith(FORBIDDEN)]
    assert bad == []


def test_asking_which_rotations_wait_loads_no_rotation_machinery() -> None:
    """The window's "Resume" banner asks at start-up: that must not load the machine, asyncio's flow or the key
    pairs' cryptography (a rotation opens them)."""
    import subprocess
    import sys

    code = ("import sys, keyhygiene.service.rotation_session as s; "
            "print(sorted(m for m in ('keyhygiene.core.rotation.machine', 'keyhygiene.core.rotation.flow', "
            "'keyhygiene.core.keypair', 'cryptography') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_verify_timeout_is_one_number() -> None:
    from keyhygiene.core.rotation import flow
    from keyhygiene.service import rotation_session

    assert rotation_session.VERIFY_TIMEOUT_S == flow.VERIFY_TIMEOUT_S
