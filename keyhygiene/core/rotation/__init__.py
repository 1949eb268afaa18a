"""Guided key rotation (DESIGN.md §5): a crash-safe state machine in plain Python. ``states`` names the steps,
``assessment`` holds the judgements, ``journal`` defines what is journalled (the SQL is a store repository),
``machine`` runs it, ``flow`` says for every step what it shows and which actions it offers. The wizard
(keyhygiene/ui/rotation_wizard.py) and ``keyhygiene rotate`` only render and drive the flow."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Action", "Phase", "RotationRecord", "Step", "Verdict"]
# Loaded when first asked for (PEP 562): the keychain imports ``slots`` from this package on every start of the
# window, which has no rotation in its first frame.
_HOMES = {"RotationRecord": "journal", "Action": "states", "Phase": "states", "Step": "states", "Verdict": "states"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
