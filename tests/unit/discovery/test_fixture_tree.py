"""The whole fixture tree: every format found with the right exchange, file and fingerprint; decoys silent."""

from __future__ import annotations

import json

from keyhygiene.core.discovery import scan
from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials
from keyhygiene.store.vault import Vault
from tests.fixtures.discovery.trees import FixtureTree


def _key(f) -> tuple[str, str, str, str | None]:  # type: ignore[no-untyped-def]
    return f.path, f.format, f.exchange, f.fingerprint


def test_every_format_is_found_and_nothing_else(tree: FixtureTree) -> None:
    result = scan([tree.root])
    got = sorted(_key(f) for f in result.found)
    want = sorted((str(tree.path(e.rel)), e.format, e.exchange, e.fingerprint) for e in tree.expected)
    assert got == want


def test_credentials_are_read_exactly(tree: FixtureTree) -> None:
    result = scan([tree.root])
    by = {(f.path, f.exchange): f for f in result.found}
    for e in tree.expected:
        f = by[(str(tree.path(e.rel)), e.exchange)]
        assert f.protected == e.protected
        if e.protected:
            assert f.credentials is None and f.fingerprint is None and not f.importable
            continue
        assert f.credentials is not None
        assert f.credentials.api_key == e.api_key
        if e.secret is not None:
            assert f.credentials.secret == e.secret
        assert f.credentials.passphrase == e.passphrase


def test_hummingbot_is_protected_and_octobot_is_not(tree: FixtureTree) -> None:
    by_format = {f.format: f for f in scan([tree.root]).found}
    hb = by_format["hummingbot"]
    assert hb.protected and hb.protection == "hummingbot-password"
    ob = by_format["octobot"]
    assert not ob.protected and ob.protection == "octobot-published-key" and ob.importable


def test_skipped_folders_and_binaries_are_counted(tree: FixtureTree) -> None:
    stats = scan([tree.root]).stats
    assert stats.skipped_dirs >= 3  # node_modules, the virtualenv, .git
    assert stats.skipped_binary == 1
    assert stats.parsed < stats.files  # decided by name: most files never opened


def test_json_output_never_holds_a_secret(tree: FixtureTree) -> None:
    text = json.dumps(scan([tree.root]).to_json(), ensure_ascii=False)
    for s in tree.secrets:
        assert s not in text
    assert "\u2026" in text  # masked keys are there


def test_repr_of_findings_hides_credentials(tree: FixtureTree) -> None:
    text = repr(scan([tree.root]).found)
    for s in tree.secrets:
        assert s not in text


def test_keys_already_in_the_vault_are_marked(tree: FixtureTree, vault: Vault) -> None:
    e = next(x for x in tree.expected if x.format == "freqtrade" and x.exchange == "binance")
    assert e.api_key and e.secret
    rec = vault.add_key("binance", "main", Credentials(api_key=e.api_key, secret=e.secret))
    found = scan([tree.root], vault=vault).found
    marked = [f for f in found if f.in_vault]
    assert [(f.path, f.in_vault) for f in marked] == [(str(tree.path(e.rel)), rec.id)]
    assert marked[0].fingerprint == mask_key(e.api_key) == rec.fingerprint


def test_a_file_named_explicitly_is_scanned_whatever_its_name(tree: FixtureTree, secret) -> None:  # type: ignore[no-untyped-def]
    k, s = secret("XK"), secret("XS")
    odd = tree.root / "bot-settings.txt"
    odd.write_text(f"BINANCE_API_KEY={k}\nBINANCE_API_SECRET={s}\n")
    assert scan([tree.root]).found and all(f.path != str(odd) for f in scan([tree.root]).found)
    found = scan([odd]).found
    assert [(f.format, f.exchange, f.fingerprint) for f in found] == [("dotenv", "binance", mask_key(k))]
