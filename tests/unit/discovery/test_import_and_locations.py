"""--import stores keys in the (memory) keychain and records files as ``file:`` exposures the rules read."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyhygiene.core.discovery import (
    file_service,
    import_found,
    plaintext_locations,
    reconcile,
    record_all,
    scan,
)
from keyhygiene.core.discovery.importer import IMPORTED, RECORDED, SKIPPED, UNCHANGED, label_for
from keyhygiene.core.models import Credentials
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.vault import Vault
from tests.fixtures.discovery.trees import FixtureTree


def test_import_everything_importable(tree: FixtureTree, vault: Vault, memory_keyring: MemoryKeyring) -> None:
    result = scan([tree.root], vault=vault)
    outcomes = import_found(vault, result.found)
    imported = [o for o in outcomes if o.action == IMPORTED]
    skipped = {o.found.format: o.message for o in outcomes if o.action == SKIPPED}
    assert len(imported) == len([e for e in tree.expected if e.format not in ("hummingbot", "cryptohopper")])
    assert set(skipped) == {"hummingbot", "cryptohopper"}
    assert "protected" in skipped["hummingbot"] and "not an exchange key" in skipped["cryptohopper"]
    for o in imported:
        rec = vault.get_key(o.key_id)  # type: ignore[arg-type]
        assert rec.purpose == "bot" and rec.label == label_for(o.found) and o.found.path not in rec.label
        assert o.found.path in (rec.note or "")  # the file is named in the note, not the label
        assert rec.shared_with == [file_service(o.found.path)]
        creds = vault.credentials(rec.id)
        assert creds == o.found.credentials  # secrets went to the keychain intact
    # the keychain holds them; the SQLite file (watched by the leak check) must not
    stored = "".join(memory_keyring.entries().values())
    for e in tree.expected:
        if e.secret:
            assert e.secret in stored


def test_import_twice_is_idempotent_and_a_second_file_is_recorded(
    tree: FixtureTree, vault: Vault, memory_keyring: MemoryKeyring
) -> None:
    import_found(vault, scan([tree.root], vault=vault).found)
    again = import_found(vault, scan([tree.root], vault=vault).found)
    assert {o.action for o in again} == {UNCHANGED, SKIPPED}
    # the freqtrade key turns up in a second file: recorded as one more place it lives, not stored twice
    src = tree.path("freqtrade/user_data/config.json")
    copy = tree.root / "old-backup" / "config.json"
    copy.parent.mkdir()
    copy.write_bytes(src.read_bytes())
    n_keys = len(vault.list_keys())
    out = import_found(vault, scan([copy], vault=vault).found)
    assert [o.action for o in out] == [RECORDED]
    assert len(vault.list_keys()) == n_keys
    assert plaintext_locations(vault)[out[0].key_id] == sorted([str(src), str(copy)])  # type: ignore[index]


def test_already_stored_key_only_gets_the_file(tree: FixtureTree, vault: Vault) -> None:
    e = next(x for x in tree.expected if x.format == "ccxt-keys")
    assert e.api_key and e.secret
    rec = vault.add_key("bybit", "my bybit", Credentials(e.api_key, e.secret), purpose="trading")
    result = scan([tree.path(e.rel)], vault=vault)
    assert record_all(vault, result.found) == 1
    assert record_all(vault, result.found) == 0  # already recorded
    assert plaintext_locations(vault) == {rec.id: [str(tree.path(e.rel))]}
    assert vault.get_key(rec.id).label == "my bybit"  # nothing else changed


def test_rejected_by_validation_is_skipped_not_fatal(tmp_path: Path, vault: Vault, secret) -> None:  # type: ignore[no-untyped-def]
    env = tmp_path / ".env"
    env.write_text(f"OKX_API_KEY={secret('OK')}\nOKX_API_SECRET={secret('OS')}\n")  # OKX needs a passphrase
    [o] = import_found(vault, scan([env]).found)
    assert o.action == SKIPPED and "passphrase" in o.message.lower()
    assert vault.list_keys() == []


def test_reconcile_ends_locations_the_scan_disproved(tree: FixtureTree, vault: Vault) -> None:
    import_found(vault, scan([tree.root], vault=vault).found)
    before = plaintext_locations(vault)
    env = tree.path("mybot/.env")
    text = env.read_text()
    env.write_text("\n".join(line for line in text.splitlines() if not line.startswith("OKX_")) + "\n")
    gunbot = tree.path("gunbot/config.js")
    gunbot.unlink()
    outside = tree.path("ccxt-play/keys.local.json")
    result = scan([tree.path("mybot"), tree.path("gunbot")], vault=vault)  # the deleted file was in a root
    ended = reconcile(vault, result)
    after = plaintext_locations(vault)
    okx_id = next(k for k, paths in before.items() if str(env) in paths
                  and vault.get_key(k).exchange == "okx")
    gun_id = next(k for k, paths in before.items() if str(gunbot) in paths)
    assert sorted(ended) == sorted([(okx_id, str(env)), (gun_id, str(gunbot))])
    assert okx_id not in after and gun_id not in after
    assert any(str(env) in p for p in after.values())  # the binance key is still in that .env
    assert any(str(outside) in p for p in after.values())  # not scanned this time: left alone
    ended_exp = [e for e in vault.get_key(okx_id).exposures if e.service == file_service(env)]
    assert ended_exp and ended_exp[0].revoked_at is not None  # history kept, not deleted


def test_plaintext_locations_accepts_a_repository(tree: FixtureTree, vault: Vault) -> None:
    import_found(vault, scan([tree.root], vault=vault).found)
    assert plaintext_locations(vault.repo) == plaintext_locations(vault) != {}


def test_label_is_bounded() -> None:
    from keyhygiene.core.discovery.model import FoundKey

    f = FoundKey(path="/" + "x" * 500 + "/config.json", format="freqtrade", tool="freqtrade", exchange="binance",
                 exchange_known=True, fields=[], location="", advice="")
    label = label_for(f)
    assert len(label) <= 100 and label.endswith("(freqtrade) on Binance")


@pytest.mark.parametrize(("path", "tool", "exchange", "expected"), [
    ("bots/grid-bot/.env", ".env", "binance", "grid-bot on Binance"),
    ("ft/user_data/config.json", "freqtrade", "kucoin", "ft (freqtrade) on KuCoin"),
    ("freqtrade/user_data/config.json", "freqtrade", "okx", "freqtrade on OKX"),
    (".env", ".env", "okx", ".env file on OKX"),
])
def test_label_names_the_bot_and_the_exchange(tmp_path: Path, path: str, tool: str, exchange: str,
                                              expected: str) -> None:
    """Issue 20: an imported key is called what a person calls it, not after its file's path."""
    from keyhygiene.core.discovery.model import FoundKey

    f = FoundKey(path=str(tmp_path / path), format="x", tool=tool, exchange=exchange, exchange_known=True,
                 fields=[], location="", advice="")
    assert label_for(f, home=tmp_path) == expected


def test_the_rules_engine_reads_the_convention(tree: FixtureTree, vault: Vault) -> None:
    """plaintext_locations feeds RuleContext.plaintext_copies: the critical finding appears, and a file is not
    mistaken for a third-party service."""
    from keyhygiene.core.policy import Policy
    from keyhygiene.core.registry import load_registry
    from keyhygiene.core.rules.engine import evaluate
    from keyhygiene.core.rules.facts import RuleContext
    from keyhygiene.core.timeutil import utcnow

    import_found(vault, scan([tree.path("mybot")], vault=vault).found)
    ctx = RuleContext(plaintext_copies=plaintext_locations(vault))
    registry = load_registry()
    for rec in vault.list_keys():
        findings = evaluate(rec, None, policy=Policy(), registry=registry, now=utcnow(), context=ctx)
        rules = {f.rule: f for f in findings}
        assert rules["plaintext_copy"].severity == "critical"
        assert str(tree.path("mybot/.env")) in rules["plaintext_copy"].detail
        assert "shared_with_third_party" not in rules


def test_the_report_shows_a_recorded_plaintext_copy(tree: FixtureTree, vault: Vault) -> None:
    from keyhygiene.core.report import build_report
    from keyhygiene.core.report.engine import AuditEngine

    import_found(vault, scan([tree.path("mybot")], vault=vault).found)
    report = build_report(vault, engine=AuditEngine(vault.repo))
    rules = {f.rule for k in report.keys for f in k.findings}
    assert "plaintext_copy" in rules
