"""run_audit over a real vault (in-memory keychain) with a scripted inspector: recording, judging, fallbacks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime

import pytest

from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import default_resolver, load_registry
from keyhygiene.core.rules import RuleContext
from keyhygiene.service.audit import SCHEMA_VERSION, KeyAudit, run_audit
from keyhygiene.store.keychain import CURRENT, KeychainError
from keyhygiene.store.vault import ServiceRef, Vault
from tests.helpers.keyrings import LockedKeyring

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def scripted(answers: Mapping[str, KeyProfile | None]):  # type: ignore[no-untyped-def]
    """An inspector that answers from ``answers`` by key label; None means the exchange never answers."""
    seen: dict[str, object] = {}

    async def inspect_many(items: Sequence[tuple[str, str, Credentials]], *, endpoints: object = None,
                           declared: Mapping[str, list[str] | None] | None = None,
                           on_result: Callable[[str, KeyProfile], None] | None = None,
                           cancel: asyncio.Event | None = None) -> dict[str, KeyProfile]:
        seen["items"], seen["declared"], seen["endpoints"] = items, declared, endpoints
        out = {}
        for key_id, _exchange, _creds in items:
            profile = answers.get(key_id)
            if profile is None:
                continue
            out[key_id] = profile
            if on_result:
                on_result(key_id, profile)
        return out

    inspect_many.seen = seen  # type: ignore[attr-defined]
    return inspect_many


def add(vault: Vault, secret, label: str, exchange: str = "binance", **kw) -> str:  # type: ignore[no-untyped-def]
    creds = Credentials(api_key=secret("K"), secret=secret("S"),
                        passphrase=secret("P") if exchange in ("okx", "kucoin") else None)
    return vault.add_key(exchange, label, creds, **kw).id


def prof(exchange: str = "binance", perms=("read",), ip: bool | None = True, status=Status.OK, **kw) -> KeyProfile:  # type: ignore[no-untyped-def]
    return KeyProfile(exchange=exchange, key="abcd…wxyz", status=status, permissions=list(perms), ip_restricted=ip,
                      ip_whitelist=["203.0.113.10"] if ip else None,
                      message=None if status is Status.OK else "scripted failure", **kw)


def test_audit_records_judges_and_reports(vault: Vault, secret) -> None:  # type: ignore[no-untyped-def]
    vault.resolve_service = default_resolver()
    leaked = add(vault, secret, "3commas bot", purpose="bot", created_at=datetime(2022, 1, 1, tzinfo=UTC),
                 shared_with=[ServiceRef("3 Commas", date(2022, 5, 1))])
    tidy = add(vault, secret, "tax", purpose="tax", created_at=datetime(2026, 5, 20, tzinfo=UTC))
    answers = {leaked: prof(perms=("read", "spot_trade"), ip=False), tidy: prof()}
    got: list[KeyAudit] = []
    inspector = scripted(answers)
    result = run_audit(vault, endpoints={"binance": "http://127.0.0.1:1"}, policy=Policy(),
                       registry=load_registry(), on_result=got.append, now=NOW, inspector=inspector)

    assert inspector.seen["endpoints"] == {"binance": "http://127.0.0.1:1"}  # type: ignore[attr-defined]
    assert {a.key.id for a in got} == {leaked, tidy}
    by_id = {k.key.id: k for k in result.keys}
    assert by_id[leaked].findings[0].rule == "shared_with_leaked_service"
    assert by_id[leaked].findings[0].severity == "critical"
    assert by_id[leaked].score <= 20
    assert all(f.severity == "info" for f in by_id[tidy].findings)
    assert result.reaches("high") and not by_id[tidy].reaches("low")

    # Every inspection is in the history, with the exact profile.
    for kid, profile in answers.items():
        at, stored = vault.repo.latest_inspection(kid)  # type: ignore[misc]
        assert stored.to_json() == profile.to_json()

    doc = result.to_json()
    assert doc["schema_version"] == SCHEMA_VERSION and doc["generated_at"] == "2026-06-01T00:00:00Z"
    row = next(k for k in doc["keys"] if k["id"] == leaked)
    for field in ("exchange", "key", "status", "permissions", "ip_restricted", "created_at", "label", "id",
                  "findings", "score", "blast_radius"):
        assert field in row
    assert row["findings"][0].keys() == {"rule", "severity", "title", "detail", "fix"}
    assert "illiquid" in row["blast_radius"]


def test_a_key_without_its_secret_is_reported_not_inspected(vault: Vault, secret, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    kid = add(vault, secret, "orphan")
    vault.secrets.delete(kid, CURRENT)
    inspector = scripted({})
    result = run_audit(vault, now=NOW, inspector=inspector)
    assert inspector.seen == {}  # type: ignore[attr-defined]  # nothing to inspect: never called
    (ka,) = result.keys
    assert ka.profile.status is Status.ERROR and "missing from the keychain" in (ka.profile.message or "")
    # Recorded as a failed check, so the window, the report and `status` judge the key as this audit did.
    stored = vault.repo.latest_inspection(kid)
    assert stored is not None and stored[1].to_json() == ka.profile.to_json() and ka.checked_at == stored[0]


def test_a_key_without_its_secret_keeps_the_findings_of_its_last_good_answer(  # type: ignore[no-untyped-def]
        vault: Vault, secret, memory_keyring) -> None:
    # The key still works on the exchange with what it could do when last checked; losing the secret from the
    # keychain must not hide that it can withdraw (the window and the report judge it that way too).
    kid = add(vault, secret, "orphan with withdraw")
    vault.repo.record_inspection(kid, prof(perms=("read", "withdraw"), ip=False), datetime(2026, 5, 1, tzinfo=UTC))
    vault.secrets.delete(kid, CURRENT)
    (ka,) = run_audit(vault, now=NOW, inspector=scripted({})).keys
    assert ka.profile.status is Status.ERROR
    assert {"withdraw_enabled", "no_ip_restriction"} <= {f.rule for f in ka.findings}


def test_locked_keychain_raises_before_any_request(data_dir) -> None:  # type: ignore[no-untyped-def]
    from keyhygiene.paths import app_paths

    v = Vault(app_paths(data_dir), backend=LockedKeyring())
    try:
        with pytest.raises(KeychainError):
            run_audit(v, now=NOW, inspector=scripted({}))
    finally:
        v.close()


def test_unanswered_key_falls_back_to_its_last_check(vault: Vault, secret) -> None:  # type: ignore[no-untyped-def]
    kid = add(vault, secret, "slow")
    earlier = prof(perms=("read", "withdraw"), ip=False)
    vault.repo.record_inspection(kid, earlier, datetime(2026, 5, 1, tzinfo=UTC))
    result = run_audit(vault, now=NOW, inspector=scripted({kid: None}))
    (ka,) = result.keys
    assert ka.checked_at == datetime(2026, 5, 1, tzinfo=UTC)
    assert {f.rule for f in ka.findings} >= {"withdraw_enabled", "no_ip_restriction"}


def test_failed_check_uses_the_last_good_answer_and_records_the_failure(vault: Vault, secret) -> None:  # type: ignore[no-untyped-def]
    kid = add(vault, secret, "flaky")
    vault.repo.record_inspection(kid, prof(perms=("read", "withdraw"), ip=False), datetime(2026, 5, 1, tzinfo=UTC))
    result = run_audit(vault, now=NOW, inspector=scripted({kid: prof(status=Status.UNREACHABLE, perms=())}))
    (ka,) = result.keys
    assert ka.profile.status is Status.UNREACHABLE
    assert vault.repo.latest_inspection(kid)[1].status is Status.UNREACHABLE  # type: ignore[index]
    rules = {f.rule for f in ka.findings}
    assert {"withdraw_enabled", "inspection_failed"} <= rules
    assert "withdraw your funds" in ka.blast_radius


def test_declared_permissions_reach_the_inspector(vault: Vault, secret) -> None:  # type: ignore[no-untyped-def]
    kid = add(vault, secret, "other exchange", exchange="poloniex")
    vault.update_key(kid, declared_permissions=["read", "spot_trade"])
    inspector = scripted({kid: prof("poloniex", perms=("read", "spot_trade"), ip=None,
                                    permissions_source="declared")})
    result = run_audit(vault, now=NOW, inspector=inspector)
    assert inspector.seen["declared"] == {kid: ["read", "spot_trade"]}  # type: ignore[attr-defined]
    titles = {(f.rule, f.title) for f in result.keys[0].findings}
    assert ("permissions_unknown", "Permissions as declared") in titles


def test_a_failing_callback_does_not_stop_the_audit(vault: Vault, secret) -> None:  # type: ignore[no-untyped-def]
    ids = [add(vault, secret, f"k{i}") for i in range(3)]

    def boom(_a: KeyAudit) -> None:
        raise RuntimeError("UI went away")

    result = run_audit(vault, now=NOW, on_result=boom, inspector=scripted({i: prof() for i in ids}))
    assert len(result.keys) == 3 and not result.errors


def test_plaintext_copies_from_discovery_are_critical(vault: Vault, secret) -> None:  # type: ignore[no-untyped-def]
    kid = add(vault, secret, "on disk")
    ctx = RuleContext(plaintext_copies={kid: ["/home/me/.env"]})
    result = run_audit(vault, now=NOW, context=ctx, inspector=scripted({kid: prof()}))
    assert result.keys[0].findings[0].rule == "plaintext_copy"
    assert result.reaches("critical")


def test_empty_vault(vault: Vault) -> None:
    result = run_audit(vault, now=NOW, inspector=scripted({}))
    assert result.keys == [] and result.score == 100 and not result.reaches("info")
    assert result.to_json()["keys"] == []
