"""``KeyRows._row_from`` builds every row before the first frame and passes KeyRow's fields by position (issue 21):
a field moved or added in KeyRow must fail here, not shift a value into the wrong field."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from keyhygiene.core.models import KeyRecord, StoredProfile
from keyhygiene.ui import core_bridge
from keyhygiene.ui.key_row import IDLE, KeyRow
from keyhygiene.ui.key_rows import KeyRows

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def test_keyrow_fields_are_in_the_order_row_from_passes_them() -> None:
    assert [f.name for f in fields(KeyRow)] == ["record", "profile", "checked_at", "findings", "score",
                                                "blast_radius", "audit_state", "audit_message", "assessment"]


def test_row_from_gives_the_row_built_by_name() -> None:
    rec = KeyRecord(id="k1", exchange="binance", label="Main", purpose="trading", fingerprint="ABCD…WXYZ",
                    key_sha256="d1", created_at=None, added_at=T0, updated_at=T0)
    stored = StoredProfile("{}")
    assessment = object()
    j = core_bridge.Judgement(["finding"], 72, "trade", assessment)  # type: ignore[list-item, arg-type]
    row = KeyRows._row_from(KeyRows(), rec, stored, T0, j)
    by_name = KeyRow(record=rec, profile=stored, checked_at=T0, findings=j.findings, score=72,
                     blast_radius="trade", assessment=assessment)  # type: ignore[arg-type]
    assert row.stored_profile is stored  # as stored, until read (comparing the rows below decodes it)
    assert row == by_name
    assert row.audit_state == IDLE and row.audit_message == ""
    assert row.findings is j.findings and row.assessment is assessment and row.checked_at == T0
