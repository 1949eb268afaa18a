"""The report use case: the report model from what the vault records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keyhygiene.store.vault import Vault

if TYPE_CHECKING:
    from keyhygiene.core.policy import Policy
    from keyhygiene.core.registry import Registry
    from keyhygiene.core.report.model import Report


class ReportUseCases:
    vault: Vault

    # ---- reports ----------------------------------------------------------------------------------------------
    def build_report(self, *, policy: Policy | None = None, registry: Registry | None = None,
                     refreshed: bool = False) -> Report:
        """The report model from what the vault records (no exchange call: ``audit`` first to refresh)."""
        from keyhygiene.core.report import build_report
        from keyhygiene.core.report.engine import AuditEngine

        engine = AuditEngine(self.vault, policy=policy, registry=registry)
        return build_report(self.vault, engine=engine, refreshed=refreshed)
