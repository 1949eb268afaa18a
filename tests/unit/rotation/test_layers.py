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
