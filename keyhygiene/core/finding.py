"""One hygiene problem with a key: what every surface (CLI, JSON, reports, the window) renders.

Its own module so the window's start-up does not build it (``core.models`` re-exports it on first use)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One hygiene problem with a key (DESIGN.md: ``rule``, ``severity``, ``title``, ``detail``, ``fix``)."""

    rule: str
    severity: str
    title: str
    detail: str
    fix: str  # the command-line wording of the fix: what JSON, CSV, the reports and ``audit`` print
    evidence: dict[str, Any] = field(default_factory=dict)
    # The same fix worded for the window (a button to press, not a command to type), when it differs: one rule
    # text rendered per surface by ``core.rules.fixes``. Not part of the JSON contract.
    fix_gui: str | None = field(default=None, compare=False, repr=False)

    def fix_for(self, surface: str) -> str:
        """The fix as ``surface`` ("cli" or "gui") words it."""
        return self.fix_gui if surface == "gui" and self.fix_gui else self.fix

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "fix": self.fix,
        }
