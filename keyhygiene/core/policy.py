"""The user's hygiene policy: the thresholds the rules apply. Stored in the vault's settings table.

Only thresholds live here; what each rule checks lives in ``keyhygiene.core.rules``. A damaged or hand-edited
setting never stops an audit: unknown names are ignored and bad values fall back to the default, with a warning
in the log. ``with_changes`` (what the settings dialog and scripts use) is strict instead and raises.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, NamedTuple, Protocol

log = logging.getLogger(__name__)

SETTING_NAME = "policy"


class SettingsStore(Protocol):
    """The two Repository methods a policy needs (keeps this module free of the store layer)."""

    def get_setting(self, name: str, default: Any = None) -> Any: ...

    def set_setting(self, name: str, value: Any) -> None: ...


class PolicyError(ValueError):
    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(message)


class Threshold(NamedTuple):
    """How the settings UI shows a numeric threshold, and its allowed range. A NamedTuple, not a frozen dataclass:
    the same immutable record at a fifth of the cost of building its class, which the window's start pays (the
    policy is read before the first frame; issue 21)."""

    label: str
    help: str
    minimum: int
    maximum: int
    unit: str = "days"


THRESHOLDS: dict[str, Threshold] = {
    "max_age_days": Threshold(
        "Maximum key age", "Keys older than this should be replaced (rotation).", 7, 3650
    ),
    "expiry_warning_days": Threshold(
        "Warn before expiry",
        "How early to warn that a key, its trading permission or its rotation date is coming up.", 1, 365,
    ),
    "max_consumers": Threshold(
        "Consumers per key",
        "How many services or bots may share one key before it is flagged (one key per consumer is best).",
        1, 50, unit="consumers",
    ),
}


@dataclass(frozen=True)
class Policy:
    max_age_days: int = 90
    expiry_warning_days: int = 14
    max_consumers: int = 1
    disabled_rules: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name, t in THRESHOLDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise PolicyError(name, f"{t.label} must be a whole number, got {value!r}.")
            if not t.minimum <= value <= t.maximum:
                raise PolicyError(name, f"{t.label} must be between {t.minimum} and {t.maximum} {t.unit}.")
        if not all(isinstance(r, str) and r for r in self.disabled_rules):
            raise PolicyError("disabled_rules", "Disabled rules must be rule ids.")
        object.__setattr__(self, "disabled_rules", tuple(sorted(set(self.disabled_rules))))

    # ---- conversion ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["disabled_rules"] = list(self.disabled_rules)
        return d

    @classmethod
    def from_dict(cls, data: Any) -> Policy:
        """Lenient: anything unusable falls back to the default (and is logged)."""
        if not isinstance(data, dict):
            if data is not None:
                log.warning("policy setting is not an object; using the defaults")
            return cls()
        base = cls()
        known = {f.name for f in fields(cls)}
        for name, value in data.items():
            if name not in known:
                log.warning("ignoring unknown policy setting %r", name)
                continue
            if name == "disabled_rules":
                value = tuple(value) if isinstance(value, list | tuple) else ()
            try:
                base = replace(base, **{name: value})
            except PolicyError as exc:
                log.warning("ignoring policy setting %s: %s", name, exc)
        return base

    def with_changes(self, **changes: Any) -> Policy:
        """Strict: raises PolicyError naming the bad field."""
        known = {f.name for f in fields(Policy)}
        for name in changes:
            if name not in known:
                raise PolicyError(name, f"Unknown policy setting {name!r}.")
        if "disabled_rules" in changes:
            changes["disabled_rules"] = tuple(changes["disabled_rules"])
        return replace(self, **changes)

    # ---- storage ------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, store: SettingsStore) -> Policy:
        return cls.from_dict(store.get_setting(SETTING_NAME, None))

    def save(self, store: SettingsStore) -> None:
        store.set_setting(SETTING_NAME, self.to_dict())

    def rule_enabled(self, rule_id: str) -> bool:
        return rule_id not in self.disabled_rules
