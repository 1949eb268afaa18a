"""Policy: defaults, bounds, strict changes, lenient loading, storage in the vault's settings."""

from __future__ import annotations

import logging

import pytest

from keyhygiene.core.policy import SETTING_NAME, THRESHOLDS, Policy, PolicyError
from keyhygiene.core.rules import RULE_IDS
from keyhygiene.store.vault import Vault


def test_defaults_match_the_design() -> None:
    p = Policy()
    assert (p.max_age_days, p.expiry_warning_days, p.max_consumers, p.disabled_rules) == (90, 14, 1, ())


@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_bounds_are_enforced(name: str) -> None:
    t = THRESHOLDS[name]
    Policy().with_changes(**{name: t.minimum})
    Policy().with_changes(**{name: t.maximum})
    for bad in (t.minimum - 1, t.maximum + 1, "30", 30.5, True, None):
        with pytest.raises(PolicyError) as exc:
            Policy().with_changes(**{name: bad})
        assert exc.value.name == name


def test_unknown_setting_is_refused_when_changing() -> None:
    with pytest.raises(PolicyError):
        Policy().with_changes(max_age=30)


def test_disabled_rules_are_sorted_and_unique() -> None:
    p = Policy().with_changes(disabled_rules=["too_old", "expiring", "too_old"])
    assert p.disabled_rules == ("expiring", "too_old")
    assert not p.rule_enabled("too_old") and p.rule_enabled("withdraw_enabled")
    assert set(p.disabled_rules) <= set(RULE_IDS)


def test_round_trip_through_the_vault_settings(vault: Vault) -> None:
    assert Policy.load(vault.repo) == Policy()
    changed = Policy(max_age_days=30, expiry_warning_days=7, max_consumers=2, disabled_rules=("too_old",))
    changed.save(vault.repo)
    assert vault.repo.get_setting(SETTING_NAME)["max_age_days"] == 30
    assert Policy.load(vault.repo) == changed


def test_damaged_settings_fall_back_per_field(vault: Vault, caplog: pytest.LogCaptureFixture) -> None:
    vault.repo.set_setting(SETTING_NAME, {"max_age_days": -5, "expiry_warning_days": 21, "colour": "red",
                                          "disabled_rules": "nonsense"})
    with caplog.at_level(logging.WARNING):
        p = Policy.load(vault.repo)
    assert p == Policy(expiry_warning_days=21)
    assert "max_age_days" in caplog.text and "colour" in caplog.text


def test_a_setting_that_is_not_an_object_gives_the_defaults(vault: Vault) -> None:
    vault.repo.set_setting(SETTING_NAME, [1, 2, 3])
    assert Policy.load(vault.repo) == Policy()
