"""The CSV report: one row per key, IAM-credential-report style columns, formula injection guarded."""

from __future__ import annotations

import csv
import io

import pytest

from keyhygiene.core.report.csv_report import COLUMNS, guard, render_csv
from tests.unit.report import dataset


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_header_has_the_promised_columns() -> None:
    for col in ("exchange", "label", "key", "account_type", "created", "age_days", "expires", "last_checked",
                "status", "perm_read", "perm_spot_trade", "perm_margin_trade", "perm_futures_trade",
                "perm_options_trade", "perm_withdraw", "perm_transfer", "ip_restricted", "ip_count", "shared_with",
                "incident_exposure", "highest_severity", "score", "last_rotated"):
        assert col in COLUMNS
    assert COLUMNS.index("perm_read") < COLUMNS.index("perm_withdraw")  # vocabulary order, not alphabetical


def test_one_row_per_key(golden_report) -> None:
    rows = parse(render_csv(golden_report))
    assert [r["key_id"] for r in rows] == [k.id for k in golden_report.keys]


def test_values(golden_report) -> None:
    rows = {r["key_id"]: r for r in parse(render_csv(golden_report))}
    k1 = rows["k0000001"]
    assert (k1["exchange"], k1["key"], k1["account_type"], k1["status"]) == (
        "binance", "AB01\u2026Z001", "master", "ok")
    assert (k1["perm_read"], k1["perm_futures_trade"], k1["perm_withdraw"]) == ("true", "true", "false")
    assert (k1["ip_restricted"], k1["ip_count"]) == ("false", "")
    assert (k1["shared_with"], k1["incident_exposure"], k1["highest_severity"]) == ("3commas", "3commas", "critical")
    assert k1["age_days"] == str((dataset.NOW - dataset.datetime(2022, 3, 1, 8, tzinfo=dataset.UTC)).days)
    assert k1["needs_rotation"] == "true"
    k3 = rows["k0000003"]
    assert (k3["account_type"], k3["ip_restricted"], k3["ip_count"]) == ("sub-account", "true", "2")
    k2 = rows["k0000002"]
    assert k2["expires"] == "2024-06-10T00:00:00Z"
    assert k2["perm_withdraw"] == "true"
    k6 = rows["k0000006"]
    assert (k6["last_rotated"], k6["highest_severity"], k6["perm_other"]) == (
        "2024-05-10T11:00:00Z", "none", "wallet:accounts:read")


def test_unknown_is_empty_not_false(golden_report) -> None:
    rows = {r["key_id"]: r for r in parse(render_csv(golden_report))}
    never, rejected = rows["k0000004"], rows["k0000005"]
    assert never["status"] == "not_checked" and never["last_checked"] == ""
    for r in (never, rejected):
        assert all(r[f"perm_{p}"] == "" for p in ("read", "spot_trade", "withdraw"))
    assert rows["k0000002"]["ip_restricted"] == ""  # Kraken did not say


def test_every_row_names_version_time_and_policy(golden_report) -> None:
    for r in parse(render_csv(golden_report)):
        assert r["report_app_version"] == golden_report.app_version
        assert r["report_generated_at"] == "2024-06-01T12:00:00Z"
        assert "max_age_days=90" in r["report_policy"]


def test_formula_injection_is_guarded(golden_report) -> None:
    text = render_csv(golden_report)
    rows = {r["key_id"]: r for r in parse(text)}
    assert rows["k0000004"]["label"] == "'" + dataset.FORMULA_LABEL
    # No cell anywhere starts with a formula character.
    for r in csv.reader(io.StringIO(text, newline="")):
        for cell in r:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-2", "'-2"), ("@cmd", "'@cmd"), ("\tx", "'\tx"),
     ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"), ("", ""), (5, 5), (None, None)],
)
def test_guard(cell, expected) -> None:
    assert guard(cell) == expected


def test_crlf_and_quoting(golden_report) -> None:
    text = render_csv(golden_report)
    assert text.endswith("\r\n") and "\r\n" in text
    assert '"\'=HYPERLINK(""http://evil.example/x"",""click"")"' in text


def test_empty_vault_has_a_header_only(empty_report) -> None:
    assert render_csv(empty_report).strip() == ",".join(COLUMNS)


# Column order before report_sha256/created_source were added: scripts read these by position, so they stay put.
COLUMNS_BEFORE = (
    "exchange", "label", "key", "account_type", "created", "age_days", "expires", "last_checked", "status",
    "perm_read", "perm_spot_trade", "perm_margin_trade", "perm_futures_trade", "perm_options_trade",
    "perm_withdraw", "perm_transfer", "perm_other", "ip_restricted", "ip_count", "shared_with", "incident_exposure",
    "highest_severity", "findings", "score", "needs_rotation", "last_rotated", "key_id", "purpose",
    "report_app_version", "report_generated_at", "report_policy",
)


def test_new_columns_are_only_appended() -> None:
    assert COLUMNS[: len(COLUMNS_BEFORE)] == COLUMNS_BEFORE
    assert COLUMNS[len(COLUMNS_BEFORE):] == ("created_source", "report_sha256")


def test_created_and_its_source_agree_with_the_json_report(golden_report) -> None:
    from keyhygiene.core.report.json_report import report_document

    by_id = {k["id"]: k for k in report_document(golden_report)["keys"]}
    rows = {r["key_id"]: r for r in parse(render_csv(golden_report))}
    assert set(rows) == set(by_id)
    for key_id, r in rows.items():
        # `created` is the JSON's key_created_at (the age's start), not its created_at (what the exchange said).
        assert (r["created"], r["created_source"]) == (by_id[key_id]["key_created_at"] or "",
                                                        by_id[key_id]["key_created_source"] or "")
    # k0000003 has no known creation date: `created` is when it was added, and the CSV now says so.
    assert (rows["k0000003"]["created"], rows["k0000003"]["created_source"]) == ("2024-01-02T00:00:00Z", "added")
    assert rows["k0000001"]["created_source"] == "exchange" and rows["k0000002"]["created_source"] == "declared"


def test_every_row_carries_the_same_digest(golden_report) -> None:
    rows = parse(render_csv(golden_report))
    digests = {r["report_sha256"] for r in rows}
    assert len(digests) == 1 and len(rows) > 1
    assert all(c in "0123456789abcdef" for c in next(iter(digests))) and len(next(iter(digests))) == 64
