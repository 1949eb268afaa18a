"""Which keyhygiene module imports which, read from the source (ast): top-level, function-level and
``TYPE_CHECKING`` imports alike. Used by tests/unit/test_layers.py; run as a script it prints the import edges
between the top-level packages (the house plan for a review note):

    PYTHONPATH=. python -m tests.helpers.imports
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "keyhygiene"


@dataclass(frozen=True)
class Edge:
    source: str  # module that imports, e.g. keyhygiene.ui.services
    target: str  # module imported, e.g. keyhygiene.store.vault
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level:
        base = source.split(".")
        if not is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    # ``from keyhygiene.store import vault`` imports the submodule: name both, the test takes the longest.
    return [f"{prefix}.{a.name}" if a.name != "*" else prefix for a in node.names] or [prefix]


def edges_of(path: Path, root: Path = ROOT) -> Iterator[Edge]:
    source = module_name(path, root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield Edge(source, a.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            for target in _resolve(source, is_package, node):
                yield Edge(source, target, node.lineno)


def all_edges(root: Path = ROOT) -> list[Edge]:
    return [e for p in sorted(root.rglob("*.py")) for e in edges_of(p, root)]


def layer_of(module: str) -> str | None:
    """``keyhygiene.<package>`` for a module inside a package, ``keyhygiene`` for top-level modules (cli, app)."""
    parts = module.split(".")
    if parts[0] != "keyhygiene":
        return None
    if len(parts) == 1:
        return "keyhygiene"
    pkg = ROOT / parts[1]
    return parts[1] if pkg.is_dir() else "(top)"


def package_edges(root: Path = ROOT) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for e in all_edges(root):
        a, b = layer_of(e.source), layer_of(e.target)
        if a and b and a != b:
            counts[(a, b)] += 1
    return counts


def main() -> None:
    counts = package_edges()
    for (a, b), n in sorted(counts.items()):
        print(f"{a:>10} -> {b:<10} {n}")
    print(f"total cross-package import edges: {sum(counts.values())}", file=sys.stdout)


if __name__ == "__main__":
    main()
