"""Layers point one way (DESIGN.md): core <- exchanges, store <- service <- commands, ui.

Every import of every module counts, read from the source: top-level, inside functions and under
``TYPE_CHECKING`` alike (a function-level import is still a dependency, only a later one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.imports import ROOT, Edge, all_edges, edges_of

# The layer of a module: its package under keyhygiene/, or the layer a top-level module belongs to.
TOP_LEVEL = {
    "keyhygiene.cliutil": "commands",  # what every command shares
    "keyhygiene.cli": "commands",
    "keyhygiene.app": "ui",  # the QApplication bootstrap
}

# What each layer must never import. Unlisted: no constraint (sim, the demo: they compose the others).
FORBIDDEN: dict[str, set[str]] = {
    "core": {"exchanges", "store", "service", "ui", "commands", "sim"},
    "exchanges": {"store", "service", "ui", "commands"},
    "store": {"exchanges", "service", "ui", "commands"},
    "service": {"ui", "commands"},
    "commands": {"exchanges", "store", "ui"},
    "ui": {"exchanges", "store", "commands"},
}

# Known, named exceptions: (importing module, imported package) -> why. Each must still exist (see below), so
# one that is fixed is struck from this list rather than forgotten.
KNOWN: dict[tuple[str, str], str] = {
    # The PDF report is drawn by Qt (QPdfWriter): the one place the command line needs a Qt module.
    ("keyhygiene.commands.report", "ui"): "PDF rendering is Qt",
}


def layer(module: str) -> str | None:
    if module in TOP_LEVEL:
        return TOP_LEVEL[module]
    parts = module.split(".")
    if parts[0] != "keyhygiene" or len(parts) < 2:
        return None
    return parts[1] if (ROOT / parts[1]).is_dir() else None


def violations(edges: list[Edge]) -> list[Edge]:
    bad = []
    for e in edges:
        src, dst = layer(e.source), layer(e.target)
        if src is None or dst is None or src == dst:
            continue
        if dst in FORBIDDEN.get(src, set()) and (e.source, dst) not in KNOWN:
            bad.append(e)
    return bad


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return all_edges()


def test_layers_point_one_way(edges: list[Edge]) -> None:
    bad = violations(edges)
    assert not bad, "imports against the layers (DESIGN.md):\n" + "\n".join(
        f"  {e.source}:{e.line} imports {e.target}" for e in bad)


def test_ui_imports_neither_exchanges_nor_store(edges: list[Edge]) -> None:
    hits = [e for e in edges if layer(e.source) == "ui" and layer(e.target) in ("exchanges", "store")]
    assert hits == []


def test_every_known_exception_is_still_needed(edges: list[Edge]) -> None:
    used = {(e.source, layer(e.target)) for e in edges}
    assert set(KNOWN) <= used, f"fixed, strike from KNOWN: {set(KNOWN) - used}"


def test_the_walk_sees_every_layer(edges: list[Edge]) -> None:
    sources = {layer(e.source) for e in edges}
    assert {"core", "exchanges", "store", "service", "commands", "ui"} <= sources
    assert len({e.source for e in edges}) > 100


def test_a_function_level_or_type_checking_import_counts(tmp_path: Path) -> None:
    # Guard against a check that cannot fail: a fake package tree with every kind of import the rule forbids.
    root = tmp_path / "keyhygiene"
    for pkg in ("core", "store", "ui"):
        (root / pkg).mkdir(parents=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "ui" / "window.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from keyhygiene.store.vault import Vault\n"
        "def f():\n    import keyhygiene.store.keychain\n"
        "from ..store import database\n"
    )
    found = [e.target for e in edges_of(root / "ui" / "window.py", root)]
    assert "keyhygiene.store.vault.Vault" in found
    assert "keyhygiene.store.keychain" in found
    assert "keyhygiene.store.database" in found
    assert all(layer(t) == "store" for t in found if t.startswith("keyhygiene."))
    assert len(violations([Edge("keyhygiene.ui.window", t, 1) for t in found])) == 3
