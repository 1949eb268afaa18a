"""Guided key rotation (DESIGN.md §5): a crash-safe state machine in plain Python. ``states`` names the steps,
``assessment`` holds the judgements, ``journal`` defines what is journalled (the SQL is a store repository),
``machine`` runs it, ``flow`` says for every step what it shows and which actions it offers. The wizard
(keyhygiene/ui/rotation_wizard.py) and ``keyhygiene rotate`` only render and drive the flow."""

from keyhygiene.core.rotation.journal import RotationRecord
from keyhygiene.core.rotation.states import Action, Phase, Step, Verdict

__all__ = ["Action", "Phase", "RotationRecord", "Step", "Verdict"]
