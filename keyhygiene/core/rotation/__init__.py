"""Guided key rotation (DESIGN.md §5): a crash-safe state machine in plain Python, journalled in the metadata
store. ``states`` names the steps, ``assessment`` holds the judgements, ``journal`` persists, ``machine`` runs it.
The wizard (keyhygiene/ui/rotation_wizard.py) and ``keyhygiene rotate`` only drive the machine."""

from keyhygiene.core.rotation.journal import RotationRecord, all_history, history
from keyhygiene.core.rotation.states import Action, Phase, Step, Verdict

__all__ = ["Action", "Phase", "RotationRecord", "Step", "Verdict", "all_history", "history"]
