"""The JSON report carries, per key, exactly what ``audit --json`` printed for it (DESIGN.md §6)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.core.report.engine import AuditEngine
from keyhygiene.core.report.json_report import report_document
from keyhygiene.core.report.model import build_report
from keyhygiene.core.score import overall_score
from keyhygiene.service.audit import run_audit
from keyhygiene.store.vault import ServiceRef, Vault


def stocked(vault: Vault, secret) -> dict[str, KeyProfile]:
    """Four keys and what a fake exchange layer will say about each."""
    answers: dict[str, KeyProfile] = {}
    specs = [
        ("binance", "3Commas bot", ["read", "spot_trade", "futures_trade"], False, Status.OK,
         [ServiceRef("3commas", date(2022, 6, 1))]),
        ("bybit", "Withdrawer", ["read", "spot_trade", "withdraw"], None, Status.OK, []),
        ("kraken", "Tax", ["read"], True, Status.OK, [ServiceRef("koinly", date(2024, 1, 1))]),
        ("binance", "Revoked", [], None, Status.INVALID_KEY, []),
    ]
    for ex, label, perms, ip, status, shared in specs:
        api_key = secret("AK", 32)
        rec = vault.add_key(ex, label, Credentials(api_key, secret("SK", 32)), purpose="bot", shared_with=shared,
                            created_at=datetime(2023, 3, 1, tzinfo=UTC))
        answers[rec.id] = KeyProfile(exchange=ex, key=mask_key(api_key), status=status, permissions=perms,
                                     ip_restricted=ip, message=None if status == Status.OK else "Invalid API key.",
                                     ip_whitelist=["203.0.113.9"] if ip else None)
    return answers


def test_report_keys_match_audit_json(vault: Vault, secret) -> None:
    answers = stocked(vault, secret)
    vault.add_key("okx", "Never audited", Credentials(secret("AK", 32), secret("SK", 32), secret("PP", 12)))

    async def fake_inspector(items, *, endpoints=None, declared=None, on_result=None, cancel=None):
        out = {}
        for key_id, _exchange, _creds in items:
            if key_id in answers:
                out[key_id] = answers[key_id]
                on_result(key_id, answers[key_id])
        return out

    now = datetime(2024, 6, 1, 12, tzinfo=UTC)
    audit = run_audit(vault, inspector=fake_inspector, now=now).to_json()
    report = report_document(build_report(vault, engine=AuditEngine(vault.repo), now=now))

    assert [k["id"] for k in report["keys"]] == [k["id"] for k in audit["keys"]]
    for a, r in zip(audit["keys"], report["keys"], strict=True):
        assert {name: r[name] for name in a} == a, a["label"]
    assert report["summary"]["overall_score"] == audit["score"]
    assert report["summary"]["findings_by_severity"] == audit["counts"]
    assert {k: report["policy"][k] for k in audit["policy"]} == json.loads(json.dumps(audit["policy"]))
    assert report["summary"]["overall_score"] == overall_score([k["score"] for k in report["keys"]])
    assert any(k["findings"] for k in report["keys"])  # the real rules ran


def test_real_registry_marks_the_3commas_leak(vault: Vault, secret) -> None:
    answers = stocked(vault, secret)
    for key_id, profile in answers.items():
        vault.repo.record_inspection(key_id, profile, at=datetime(2024, 5, 31, tzinfo=UTC))
    report = build_report(vault, engine=AuditEngine(vault.repo), now=datetime(2024, 6, 1, tzinfo=UTC))
    bot = next(k for k in report.keys if k.label == "3Commas bot")
    assert "3commas" in bot.incident_services and bot.needs_rotation
    ex = bot.exposures[0]
    assert ex.service_name == "3Commas" and ex.in_registry and ex.incidents
    assert all(i.sources for i in ex.incidents)
    assert any(i.affects_key and i.date and i.date.year == 2022 for i in ex.incidents)
    tax = next(k for k in report.keys if k.label == "Tax")
    assert not tax.incident_services


def test_an_audit_result_repr_stays_short(vault: Vault, secret) -> None:
    """asyncio.run ending in the main thread (run_audit) formats the repr of the task holding the result twice on
    Python 3.11 (its SIGINT handler's repr): the full dataclass repr of every key's profile and findings cost ~25 ms
    each time for 200 keys after the audit was over. The repr names the counts, not the contents."""
    answers = stocked(vault, secret)

    async def fake_inspector(items, *, endpoints=None, declared=None, on_result=None, cancel=None):
        for key_id, _exchange, _creds in items:
            on_result(key_id, answers[key_id])
        return dict(answers)

    result = run_audit(vault, inspector=fake_inspector, now=datetime(2024, 6, 1, 12, tzinfo=UTC))
    text = repr(result)
    assert text.startswith("AuditResult(4 keys") and len(text) < 200, text
    assert not any(k.key.label in text for k in result.keys)
