"""The UI's adapter to the core: our own modules are imported plainly, so a broken one fails loudly."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from keyhygiene.core.models import KeyRecord
from keyhygiene.ui import core_bridge


def _judge() -> Any:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    rec = KeyRecord(id="k0000001", exchange="binance", label="x", purpose="bot", fingerprint="abcd…wxyz",
                    key_sha256="d" * 64, created_at=None, added_at=now, updated_at=now)
    return core_bridge.assess(rec, None, None, policy=object(), registry=object(), now=now)


CASES: list[tuple[str, Callable[[], Any]]] = [
    ("keyhygiene.core.registry", core_bridge.load_registry),
    ("keyhygiene.core.policy", lambda: core_bridge.load_policy(None)),
    ("keyhygiene.core.policy", core_bridge.thresholds),
    ("keyhygiene.core.rules", core_bridge.rule_list),
    ("keyhygiene.core.rules", lambda: core_bridge.context_for("k0000001", None, lambda _k, _n: [])),
    ("keyhygiene.core.assessment", _judge),
    ("keyhygiene.core.assessment", lambda: core_bridge.summarize([])),
    ("keyhygiene.core.score", lambda: core_bridge.overall_score([90])),
]


@pytest.mark.parametrize(("module", "call"), CASES)
def test_a_missing_core_module_is_an_error_not_an_empty_answer(module: str, call: Callable[[], Any],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    parent, _, name = module.rpartition(".")
    monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    monkeypatch.delattr(sys.modules[parent], name, raising=False)
    with pytest.raises(ImportError):
        call()


def test_overall_score_is_a_number() -> None:
    assert core_bridge.overall_score([]) == 100
    assert core_bridge.overall_score([80, 100]) == 85


def test_the_window_module_does_not_load_the_rules() -> None:
    # The assessment, the rules and the registry load after the first paint (judge_in_background); a module-level
    # import in a widget module would put them on the startup path again.
    import subprocess

    script = ("import sys, keyhygiene.ui.main_window, keyhygiene.ui.tray, keyhygiene.ui.reminders; "
              "print(sorted(m for m in sys.modules if m.startswith(('keyhygiene.core.rules', "
              "'keyhygiene.core.assessment', 'keyhygiene.core.registry'))))")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "[]"
