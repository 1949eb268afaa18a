"""What the vault remembers about keys: inspections, rotations, settings and the policy."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from keyhygiene.core.models import KeyProfile, StoredProfile
from keyhygiene.core.timeutil import utcnow
from keyhygiene.store.vault import Vault

if TYPE_CHECKING:
    from keyhygiene.core.policy import Policy


class HistoryUseCases:
    vault: Vault

    # ---- what the vault remembers -----------------------------------------------------------------------------
    def latest_inspection(self, key_id: str) -> tuple[datetime, KeyProfile] | None:
        return self.vault.latest_inspection(key_id)

    def latest_inspections(self) -> dict[str, tuple[datetime, KeyProfile]]:
        return self.vault.latest_inspections()

    def latest_stored_inspections(self) -> dict[str, tuple[datetime, StoredProfile]]:
        """The same, each profile decoded on first use: for a list that shows a few of many keys at first."""
        return self.vault.latest_stored_inspections()

    def inspection_history(self, key_id: str, limit: int = 50) -> list[tuple[datetime, KeyProfile]]:
        return self.vault.inspection_history(key_id, limit)

    def record_profile(self, key_id: str, profile: KeyProfile, at: datetime | None = None) -> None:
        """Keep an inspection made before the key was stored (the add dialog's 'Check now')."""
        self.vault.record_inspection(key_id, profile, at or utcnow())

    def rotation_history(self, key_id: str) -> list[Any]:
        """Rotations of a key, newest first (``core.rotation.RotationRecord``), from the store's journal."""
        from keyhygiene.service.rotation_session import rotation_history

        return rotation_history(self.vault, key_id)

    def open_rotations(self) -> list[tuple[str, str]]:
        """Rotations saved half-way: (key id, title of the step waiting)."""
        from keyhygiene.service.rotation_session import open_rotations

        return open_rotations(self.vault)

    def get_setting(self, name: str, default: Any = None) -> Any:
        return self.vault.get_setting(name, default)

    def set_setting(self, name: str, value: Any) -> None:
        self.vault.set_setting(name, value)

    def last_rotation_day(self, key_id: str) -> date | None:
        """When the key's latest rotation completed: the rules read it (a rotated key's old sharings were of the
        old key)."""
        return self.vault.last_rotation_day(key_id)

    def load_policy(self) -> Policy:
        from keyhygiene.core.policy import Policy

        return Policy.load(self.vault)

    def save_policy(self, policy: Policy) -> None:
        policy.save(self.vault)
