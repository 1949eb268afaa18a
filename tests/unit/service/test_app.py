"""service.App over a vault: ccxt's facts reach validation through the injected catalog; the audit takes all keys
or some through one path; scanning never enters the vault's own data folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.paths import app_paths
from keyhygiene.service.app import App
from keyhygiene.service.audit import audit_async
from keyhygiene.service.types import ValidationError
from keyhygiene.store.memory_keyring import MemoryKeyring


@pytest.fixture
def app(data_dir: Path, memory_keyring: MemoryKeyring) -> Iterator[App]:
    a = App.open(app_paths(data_dir), backend=memory_keyring)
    yield a
    a.close()


def creds(secret, passphrase: bool = False) -> Credentials:  # type: ignore[no-untyped-def]
    return Credentials(api_key=secret("K"), secret=secret("S"), passphrase=secret("P", 12) if passphrase else None)


def test_the_local_vault_checks_exchanges_with_ccxt(app: App, secret, memory_keyring: MemoryKeyring) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="Unknown exchange") as info:
        app.add_key("notanexchange", "x", creds(secret))
    assert info.value.field == "exchange"
    with pytest.raises(ValidationError, match="passphrase"):
        app.add_key("okx", "x", creds(secret))  # OKX keys have a passphrase: ccxt says so, not the store
    assert memory_keyring.entries() == {}
    rec = app.add_key("OKX ", "x", creds(secret, passphrase=True))
    assert rec.exchange == "okx" and app.api_key(rec.id) == app.vault.credentials(rec.id).api_key


def test_an_audit_of_some_keys_checks_only_those(app: App, secret) -> None:  # type: ignore[no-untyped-def]
    a = app.add_key("binance", "a", creds(secret)).id
    b = app.add_key("binance", "b", creds(secret)).id
    asked: list[str] = []

    async def inspector(items, *, endpoints=None, declared=None, on_result=None, cancel=None):  # type: ignore[no-untyped-def]
        for key_id, exchange, _c in items:
            asked.append(key_id)
            p = KeyProfile(exchange=exchange, key="k", status=Status.OK, permissions=["read"], ip_restricted=True)
            if on_result:
                on_result(key_id, p)
        return {}

    result = app.runtime.run(audit_async(app.vault, key_ids=[b, "gone"], inspector=inspector))
    assert asked == [b] and [k.key.id for k in result.keys] == [b]
    assert app.latest_inspection(a) is None and app.latest_inspection(b) is not None


def test_a_scan_never_enters_the_data_folder(app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keyhygiene.core.discovery as discovery

    seen: dict[str, object] = {}

    def fake_scan(roots, *, vault, options, **kw):  # type: ignore[no-untyped-def]
        seen["exclude"], seen["vault"] = list(options.exclude), vault
        return "result"

    monkeypatch.setattr(discovery, "scan", fake_scan)
    assert app.scan([tmp_path]) == "result"
    assert seen == {"exclude": [app.paths.data_dir], "vault": app.vault}
