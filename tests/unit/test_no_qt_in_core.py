"""keyhygiene.core and keyhygiene.exchanges never import Qt (DESIGN.md). Every module, found by walking."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PACKAGES = ("keyhygiene.core", "keyhygiene.exchanges")

# Runs in a fresh interpreter: this test process may have imported Qt already for other tests.
PROBE = r"""
import importlib, json, pkgutil, sys, traceback
imported, failed = [], {}
for pkg_name in PACKAGES:
    pkg = importlib.import_module(pkg_name)
    imported.append(pkg_name)
    for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg_name + "."):
        try:
            importlib.import_module(info.name)
            imported.append(info.name)
        except Exception:
            failed[info.name] = traceback.format_exc(limit=3)
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6"))
print(json.dumps({"imported": imported, "failed": failed, "qt": qt}))
"""


@pytest.fixture(scope="module")
def probe() -> dict[str, object]:
    code = f"PACKAGES = {PACKAGES!r}\n{PROBE}"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_every_core_and_exchange_module_imports_without_qt(probe: dict[str, object]) -> None:
    assert probe["failed"] == {}, "modules that fail to import:\n" + "\n".join(
        f"{k}:\n{v}" for k, v in probe["failed"].items()  # type: ignore[union-attr]
    )
    assert probe["qt"] == [], f"Qt was imported by a core/exchanges module: {probe['qt']}"


def test_the_walk_finds_the_known_modules(probe: dict[str, object]) -> None:
    imported = set(probe["imported"])  # type: ignore[arg-type]
    assert {"keyhygiene.core.models", "keyhygiene.core.redact", "keyhygiene.exchanges.catalog"} <= imported


def test_the_probe_would_notice_qt(tmp_path: object) -> None:
    # Guard against a probe that can never fail: importing PySide6 under the same check must be reported.
    code = "PACKAGES = ('keyhygiene.core',)\nimport PySide6.QtCore\n" + PROBE
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "PySide6.QtCore" in json.loads(p.stdout.strip().splitlines()[-1])["qt"]
