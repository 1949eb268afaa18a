"""The report model: what it reads from the vault and what it concludes, on the fixed golden data set."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from keyhygiene.core.models import Finding
from keyhygiene.core.report.engine import IncidentInfo, PolicyView, StaticEngine, policy_view
from keyhygiene.core.report.model import build_report, incident_affects
from keyhygiene.core.report.rotations import read_rotations
from keyhygiene.store.vault import Vault
from tests.unit.report import dataset


def test_one_entry_per_stored_key_in_vault_order(golden_report, golden_vault: Vault) -> None:
    assert [k.id for k in golden_report.keys] == [k.id for k in golden_vault.list_keys()]
    assert golden_report.summary.key_count == 6


def test_latest_inspection_is_used_and_its_time_kept(golden_report) -> None:
    k1 = golden_report.key("k0000001")
    assert k1.checked_at == dataset.CHECKED  # the later of its two inspections
    assert golden_report.key("k0000004").profile is None
    assert golden_report.key("k0000004").checked_at is None


def test_results_age_is_measured_from_the_stalest_result(golden_report) -> None:
    r = golden_report.results
    assert r.oldest_check == datetime(2024, 5, 2, tzinfo=UTC)
    assert r.newest_check == dataset.CHECKED
    assert r.unchecked_keys == 1
    assert r.age_seconds == int((dataset.NOW - r.oldest_check).total_seconds())


def test_findings_come_from_the_engine_worst_first(golden_report) -> None:
    k1 = golden_report.key("k0000001")
    assert [f.severity for f in k1.findings] == ["critical", "high", "medium"]
    assert k1.highest_severity == "critical"
    assert golden_report.key("k0000006").findings == ()
    assert golden_report.key("k0000006").highest_severity is None


def test_summary_counts(golden_report) -> None:
    s = golden_report.summary
    assert s.findings_by_severity == {"critical": 2, "high": 2, "medium": 3, "low": 1, "info": 1}
    assert s.keys_by_highest_severity == {"critical": 2, "high": 1, "medium": 1, "low": 1, "info": 0, "none": 1}
    assert s.overall_score == min(k.score for k in golden_report.keys)  # StaticEngine's overall = minimum
    assert s.keys_shared == 3


def test_rotation_reasons(golden_report) -> None:
    assert golden_report.key("k0000001").rotation_reasons == ("age", "incident", "critical")
    assert golden_report.key("k0000002").rotation_reasons == ("critical",)
    assert golden_report.key("k0000004").rotation_reasons == ("age",)  # declared 2022-05-20, never inspected
    assert golden_report.key("k0000006").rotation_reasons == ()
    # No creation date anywhere: counted from when it was added (2024-01-02), so at least 151 days, over 90.
    assert golden_report.key("k0000003").rotation_reasons == ("age",)
    assert set(golden_report.summary.keys_needing_rotation) == {
        "k0000001", "k0000002", "k0000003", "k0000004", "k0000005"}


def test_age_counts_from_exchange_then_declared_then_added(golden_report) -> None:
    assert golden_report.key("k0000001").created_source == "exchange"
    assert golden_report.key("k0000001").age_days == (dataset.NOW - datetime(2022, 3, 1, 8, tzinfo=UTC)).days
    assert golden_report.key("k0000004").created_source == "declared"
    k3 = golden_report.key("k0000003")
    assert (k3.created_source, k3.age_days) == ("added", (dataset.NOW - datetime(2024, 1, 2, tzinfo=UTC)).days)


def test_incident_exposure_only_when_the_key_was_with_the_service(golden_report) -> None:
    k1, k5 = golden_report.key("k0000001"), golden_report.key("k0000005")
    assert k1.incident_services == ["3commas"]
    # k5 was with 3Commas from 2023-02-01 to 2023-06-01: after the 2022 leak, before the 2023 breach.
    ex = next(e for e in k5.exposures if e.service == "3commas")
    assert [i.affects_key for i in ex.incidents] == [False, False]
    assert k5.incident_services == []
    assert golden_report.summary.keys_with_incident_exposure == ("k0000001",)


@pytest.mark.parametrize(
    ("incident_day", "last_day", "shared", "revoked", "expected"),
    [
        (date(2022, 12, 28), None, date(2022, 5, 1), None, True),
        (date(2022, 12, 28), None, date(2023, 1, 1), None, False),  # shared after the incident
        (date(2022, 12, 28), None, date(2022, 5, 1), date(2022, 6, 1), False),  # ended before it
        (date(2022, 12, 28), None, date(2022, 12, 28), None, True),  # shared that very day
        (date(2022, 12, 28), None, None, None, True),  # unknown sharing day: cannot rule it out
        (date(2022, 10, 1), date(2022, 10, 31), date(2022, 10, 15), None, True),  # month precision
        (date(2022, 10, 1), date(2022, 10, 31), date(2022, 11, 1), None, False),
        (None, None, date(2022, 1, 1), None, True),  # undated incident, still shared
        (None, None, date(2022, 1, 1), date(2022, 2, 1), False),
    ],
)
def test_incident_affects(incident_day, last_day, shared, revoked, expected) -> None:
    inc = IncidentInfo(date=incident_day, title="x", last_date=last_day)
    assert incident_affects(inc, shared, revoked) is expected


def test_rejected_key_has_unknown_permissions_not_none(golden_report) -> None:
    k5 = golden_report.key("k0000005")
    assert k5.status == "invalid_key"
    assert k5.permissions is None
    assert golden_report.key("k0000003").permissions == ["read"]


def test_rotation_history_read_from_the_rotations_table(golden_report) -> None:
    rots = {r.id: r for r in golden_report.rotations}
    assert [r.id for r in golden_report.rotations] == [3, 1, 2]  # newest first
    assert rots[1].completed and rots[1].key_label == "Rotated spot key"
    assert not rots[2].completed  # cancelled: finished, but the key was not replaced
    assert rots[3].in_progress and not rots[3].completed
    assert golden_report.key("k0000006").last_rotated == datetime(2024, 5, 10, 11, tzinfo=UTC)
    assert golden_report.key("k0000004").last_rotated is None
    assert golden_report.key("k0000001").last_rotated is None


class _FakeDb:
    def __init__(self, columns: list[str], rows: list[dict]) -> None:
        self.columns, self.rows = columns, rows

    def query(self, sql: str, params: tuple = ()) -> list[dict]:
        if sql.startswith("PRAGMA"):
            return [{"name": c} for c in self.columns]
        return self.rows


def test_rotation_reader_tolerates_missing_table_columns_and_bad_rows() -> None:
    assert read_rotations(_FakeDb([], []), {}) == []
    rows = [
        {"id": 1, "key_id": "k1", "state": "done", "started_at": "2024-01-01T00:00:00Z", "updated_at": None,
         "finished_at": "2024-01-02T00:00:00Z", "old_fingerprint": "aa…bb", "new_fingerprint": None,
         "old_dead_at": None},
        {"id": 2, "key_id": "k1", "state": "done", "started_at": "not a date", "updated_at": None,
         "finished_at": None, "old_fingerprint": None, "new_fingerprint": None, "old_dead_at": None},
    ]
    out = read_rotations(_FakeDb(["id", "key_id", "state"], rows), {"k1": "Label"})
    assert [r.id for r in out] == [1]  # the unreadable row is skipped, not fatal
    assert out[0].completed and out[0].key_label == "Label"


def test_report_needs_no_keychain(golden_vault: Vault) -> None:
    # golden_vault's keychain is locked: every access raises. Building the report must not touch it.
    report = build_report(golden_vault, engine=dataset.engine(), now=dataset.NOW)
    assert report.summary.key_count == 6


def test_exchange_message_is_scrubbed(golden_vault: Vault, secret) -> None:
    from types import SimpleNamespace

    from keyhygiene.core import redact
    from keyhygiene.core.models import KeyProfile, Status

    leaked = secret("LEAK")
    redact.remember([leaked])
    latest = golden_vault.repo.latest_inspections()
    latest["k0000005"] = (datetime(2024, 5, 31, tzinfo=UTC), KeyProfile(
        exchange="bybit", key="AB05…Z005", status=Status.ERROR, message=f"bad request with {leaked}"))
    # An old inspection recorded before the secret was known to the scrubber: served from memory here, because
    # writing it to the watched data dir would (rightly) trip the session's leak check.
    fake = SimpleNamespace(list_keys=golden_vault.list_keys, rotation_entries=golden_vault.rotation_entries,
                           latest_inspections=lambda: latest)
    report = build_report(fake, engine=dataset.engine(), now=dataset.NOW)
    message = report.key("k0000005").profile.message or ""
    assert leaked not in message and "[redacted]" in message


def test_policy_view_reads_dataclasses_and_mappings() -> None:
    from keyhygiene.core.policy import Policy

    v = policy_view(Policy(max_age_days=30))
    assert v.max_age_days == 30 and v.to_json()["max_age_days"] == 30
    assert policy_view({"max_age_days": 45}).max_age_days == 45
    with pytest.raises(TypeError):
        policy_view(42)


def test_empty_vault(empty_report) -> None:
    assert empty_report.keys == ()
    assert empty_report.results.oldest_check is None
    assert empty_report.summary.keys_by_highest_severity["none"] == 0


def test_unknown_severity_from_an_engine_does_not_break_ordering(golden_vault: Vault) -> None:
    engine = StaticEngine(policy=PolicyView({"max_age_days": 90}, 90),
                          findings={"k0000001": [Finding("x", "low", "a", "b", "c"),
                                                 Finding("y", "critical", "a", "b", "c")]})
    report = build_report(golden_vault, engine=engine, now=dataset.NOW)
    assert [f.rule for f in report.key("k0000001").findings] == ["y", "x"]
