"""The JSON report: schema, content hash, and the per-key objects ``audit --json`` prints."""

from __future__ import annotations

import json
from functools import cache

import jsonschema
import pytest

from keyhygiene.core.report.integrity import HASH_FIELD, canonical_bytes, content_sha256
from keyhygiene.core.report.json_report import render_json, report_document
from keyhygiene.paths import resource


@cache
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(resource("report.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid(doc: dict) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(doc)]
    assert not errors, errors


def test_document_matches_the_schema(golden_report) -> None:
    assert_valid(json.loads(render_json(golden_report)))


def test_empty_vault_matches_the_schema(empty_report) -> None:
    assert_valid(json.loads(render_json(empty_report)))


def test_schema_rejects_a_full_api_key_and_missing_members(golden_report) -> None:
    doc = report_document(golden_report)
    doc["keys"][0]["key"] = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
    assert list(validator().iter_errors(doc))
    doc = report_document(golden_report)
    del doc["keys"][0]["findings"]
    assert list(validator().iter_errors(doc))


def test_names_app_version_time_and_policy(golden_report) -> None:
    doc = report_document(golden_report)
    assert doc["generator"] == {"name": "KeyHygiene", "version": golden_report.app_version}
    assert doc["generated_at"] == "2024-06-01T12:00:00Z"
    assert doc["policy"]["max_age_days"] == 90
    assert doc["schema_version"] == 1


def test_one_entry_per_key_with_the_audit_members(golden_report) -> None:
    doc = report_document(golden_report)
    assert [k["id"] for k in doc["keys"]] == [k.id for k in golden_report.keys]
    for k in doc["keys"]:
        for member in ("exchange", "key", "status", "permissions", "ip_restricted", "id", "label", "findings",
                       "score", "blast_radius", "checked_at", "shared_with", "purpose"):
            assert member in k
    never = next(k for k in doc["keys"] if k["id"] == "k0000004")
    # As ``audit --json`` shows a key that was never inspected.
    assert (never["status"], never["message"], never["checked_at"]) == ("error", "Not checked.", None)


def test_content_hash_covers_everything_but_itself(golden_report) -> None:
    doc = report_document(golden_report)
    assert doc[HASH_FIELD] == content_sha256(doc)
    assert HASH_FIELD.encode() not in canonical_bytes(doc)
    tampered = json.loads(json.dumps(doc))
    tampered["keys"][0]["score"] += 1
    assert content_sha256(tampered) != doc[HASH_FIELD]
    # Key order and whitespace do not matter: the digest is over the canonical form.
    reordered = dict(reversed(list(doc.items())))
    assert content_sha256(reordered) == doc[HASH_FIELD]


def test_canonical_form_is_the_documented_one(golden_report) -> None:
    doc = report_document(golden_report)
    body = {k: v for k, v in doc.items() if k != HASH_FIELD}
    expected = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert canonical_bytes(doc) == expected
    assert "\u2026".encode() in expected  # non-ASCII stays UTF-8, not \\u escapes


@pytest.mark.parametrize("fmt_indent", [None, 2])
def test_reparsed_document_verifies(golden_report, fmt_indent) -> None:
    doc = json.loads(json.dumps(report_document(golden_report), indent=fmt_indent))
    assert content_sha256(doc) == doc[HASH_FIELD]


def test_account_facts_and_unknown_permissions_are_reported(golden_vault) -> None:  # type: ignore[no-untyped-def]
    """Issue 15 item 2: a MEXC key's account flags reach the report as account facts, and a profile whose
    permissions the exchange does not say ("unknown") is a valid document."""
    from keyhygiene.core.models import KeyProfile, Status
    from keyhygiene.core.report.html import render_html
    from keyhygiene.core.report.model import build_report
    from tests.unit.report import dataset

    rec = dataset._rec(7, "mexc", "MEXC bot", "bot", None)
    with golden_vault.db.transaction() as c:
        golden_vault.repo.insert_key(c, rec)
    golden_vault.repo.record_inspection(rec.id, KeyProfile(
        exchange="mexc", key=rec.fingerprint, status=Status.OK, permissions=["read"], permissions_source="unknown",
        account_facts={"canTrade": True, "canWithdraw": True, "canDeposit": False, "accountType": "SPOT"}),
        at=dataset.CHECKED)
    report = build_report(golden_vault, engine=dataset.engine(), now=dataset.NOW)
    doc = json.loads(render_json(report))
    assert_valid(doc)
    entry = next(k for k in doc["keys"] if k["id"] == rec.id)
    assert entry["permissions"] == ["read"] and entry["permissions_source"] == "unknown"
    assert entry["account_facts"]["canWithdraw"] is True
    html = render_html(report)
    assert "canWithdraw: yes" in html and "not of this key" in html
