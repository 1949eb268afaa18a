"""The summary use case: every key judged on its latest recorded inspection, and the vault's summary - what the
window's header and reminder banner show before it audits, ``keyhygiene status`` prints and ``keys list`` shows per
key. No exchange is asked and no secret is read (``core.assessment.assess_stored`` and ``summarize``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from keyhygiene.store.vault import Vault

if TYPE_CHECKING:
    from keyhygiene.core.assessment import KeyAssessment, Summary


def stored_assessments(vault: Vault, now: datetime | None = None) -> list[KeyAssessment]:
    """Every key judged on its latest recorded inspection, as the window judges them before it audits."""
    from keyhygiene.core.assessment import assess_stored
    from keyhygiene.core.policy import Policy
    from keyhygiene.core.registry import load_registry
    from keyhygiene.core.timeutil import utcnow

    return assess_stored(vault.list_keys(), vault.latest_inspections(),
                         history=vault.inspection_history, last_rotation=vault.last_rotation_day,
                         policy=Policy.load(vault), registry=load_registry(), now=now or utcnow())


def stored_summary(vault: Vault, now: datetime | None = None) -> Summary:
    """The vault's summary from stored inspections: the window's header and banner, ``status``."""
    from keyhygiene.core.assessment import summarize

    return summarize(stored_assessments(vault, now))


class SummaryUseCases:
    vault: Vault

    def stored_assessments(self, now: datetime | None = None) -> list[KeyAssessment]:
        return stored_assessments(self.vault, now)

    def stored_summary(self, now: datetime | None = None) -> Summary:
        return stored_summary(self.vault, now)
