"""Each detector on its own: the structures it must recognise and the look-alikes it must not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keyhygiene.core.discovery.detectors import BY_FORMAT, detectors_for
from keyhygiene.core.discovery.detectors.dotenv_file import split_role
from keyhygiene.core.discovery.detectors.hummingbot import read_flat_yaml
from keyhygiene.core.discovery.model import KIND_SERVICE_TOKEN, Document, FoundKey
from tests.fixtures.discovery.trees import fake_hummingbot_value, octobot_encrypt


def detect(fmt: str, text: str, path: str = "/x/config.json") -> list[FoundKey]:
    return BY_FORMAT[fmt].detect(Document(Path(path), text))


@pytest.fixture
def kv(secret):  # type: ignore[no-untyped-def]
    """A fresh (key, secret) pair registered with the leak check."""
    return lambda: (secret("K"), secret("S"))


# ---- file names ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "parent", "formats"), [
    ("config.json", "user_data", {"freqtrade", "octobot", "json-keys"}),
    ("config.json", ".cryptohopper", {"cryptohopper", "freqtrade", "octobot", "json-keys"}),
    ("config-private.json", "ft", {"freqtrade", "json-keys"}),
    ("profile.json", "default", {"octobot"}),
    ("keys.local.json", "ccxt", {"json-keys"}),
    ("config.js", "gunbot", {"gunbot"}),
    (".env", "bot", {"dotenv"}), (".env.production", "bot", {"dotenv"}), ("binance.env", "bot", {"dotenv"}),
    ("binance.yml", "connectors", {"hummingbot"}), ("encrypted_binance_api_key.json", "conf", {"hummingbot"}),
    ("binance.yml", "conf", set()), ("package.json", "web", set()), ("main.py", "src", set()),
    ("docker-compose.yml", "app", set()), ("tsconfig.json", "app", set()),
])
def test_candidates_are_chosen_by_name(name: str, parent: str, formats: set[str]) -> None:
    assert {d.format for d in detectors_for(name, parent)} == formats


# ---- freqtrade ----------------------------------------------------------------------------------------------

def test_freqtrade_full(kv, secret) -> None:  # type: ignore[no-untyped-def]
    k, s = kv()
    uid = secret("UID")
    found = detect("freqtrade", json.dumps({"exchange": {"name": "okx", "key": k, "secret": s, "password": "pw12",
                                                         "uid": uid}}))
    assert len(found) == 1
    f = found[0]
    assert (f.exchange, f.exchange_known, f.cleanable) == ("okx", True, True)
    assert f.fields == ["exchange.key", "exchange.secret", "exchange.password", "exchange.uid"]
    assert f.credentials is not None and f.credentials.passphrase == "pw12" and f.credentials.extra == {"uid": uid}
    assert "FREQTRADE__EXCHANGE__PASSWORD" in f.advice


@pytest.mark.parametrize("exchange", [
    {"name": "binance", "key": "your_exchange_key", "secret": "your_exchange_secret"},
    {"name": "binance", "key": "", "secret": ""},
    {"name": "binance", "key": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zv"},  # a key id alone opens nothing
    {"name": "binance"},
    "binance",
])
def test_freqtrade_without_usable_keys(exchange: object) -> None:
    assert detect("freqtrade", json.dumps({"exchange": exchange})) == []


def test_freqtrade_unknown_exchange_is_reported_but_not_importable(kv) -> None:  # type: ignore[no-untyped-def]
    k, s = kv()
    [f] = detect("freqtrade", json.dumps({"exchange": {"name": "someDEX", "key": k, "secret": s}}))
    assert (f.exchange, f.exchange_known, f.importable) == ("somedex", False, False)


def test_freqtrade_wallet_private_key(secret) -> None:  # type: ignore[no-untyped-def]
    pk = "0x" + secret("", 64)
    [f] = detect("freqtrade", json.dumps({"exchange": {
        "name": "hyperliquid", "walletAddress": "0x" + "ab" * 20, "privateKey": pk}}))
    assert f.fields == ["exchange.privateKey", "exchange.walletAddress"]
    assert f.secret_paths == [("exchange", "privateKey")]  # the address is public: never cleaned
    assert not f.importable and f.fingerprint is None


def test_freqtrade_ignores_non_objects() -> None:
    for text in ("[]", "null", "42", '"x"', "{", ""):
        assert detect("freqtrade", text) == []


# ---- OctoBot ------------------------------------------------------------------------------------------------

def test_octobot_plaintext_values(kv) -> None:  # type: ignore[no-untyped-def]
    k, s = kv()
    [f] = detect("octobot", json.dumps({"exchanges": {"kucoin": {"api-key": k, "api-secret": s,
                                                                  "api-password": "pp123"}}}))
    assert f.protection is None and f.credentials is not None and f.credentials.passphrase == "pp123"
    assert f.fields == ["exchanges.kucoin.api-key", "exchanges.kucoin.api-secret", "exchanges.kucoin.api-password"]


def test_octobot_encrypted_with_an_unknown_key_is_still_reported(kv) -> None:  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet

    k, s = kv()
    other = Fernet(Fernet.generate_key())
    cfg = {"api-key": other.encrypt(k.encode()).decode(), "api-secret": other.encrypt(s.encode()).decode()}
    [f] = detect("octobot", json.dumps({"exchanges": {"binance": cfg}}))
    assert f.protection == "octobot-unknown-key" and not f.protected
    assert f.credentials is None and f.fingerprint is None and not f.importable


def test_octobot_profile_layout(kv) -> None:  # type: ignore[no-untyped-def]
    k, s = kv()
    text = json.dumps({"profile": {}, "config": {"exchanges": {"binance": {
        "api-key": octobot_encrypt(k), "api-secret": octobot_encrypt(s)}}}})
    [f] = detect("octobot", text, "/u/profiles/p/profile.json")
    assert f.location == "config.exchanges.binance" and f.credentials is not None and f.credentials.api_key == k


def test_octobot_empty_or_placeholder_values() -> None:
    cfg = {"binance": {"api-key": "", "api-secret": ""}, "okx": {"api-key": octobot_encrypt("your-api-key-here"),
                                                                 "api-secret": octobot_encrypt("NO KEY")}}
    assert detect("octobot", json.dumps({"exchanges": cfg})) == []


# ---- ccxt keys and other exchange maps ------------------------------------------------------------------------

def test_ccxt_keys_file(kv) -> None:  # type: ignore[no-untyped-def]
    k, s = kv()
    text = json.dumps({"kraken": {"apiKey": k, "secret": s}, "binance": {"skip": True},
                       "options": {"secret": "not-an-exchange-entry"}})
    [f] = detect("json-keys", text, "/p/keys.local.json")
    assert (f.format, f.tool, f.exchange) == ("ccxt-keys", "ccxt", "kraken")


def test_generic_exchange_map_under_exchanges(kv) -> None:  # type: ignore[no-untyped-def]
    k, s = kv()
    text = json.dumps({"exchanges": {"Binance": {"api_key": k, "api_secret": s}},
                       "telegram": {"token": "123456:abcdefghijklmnop", "secret": "abcdefghijklmnop1234"}})
    [f] = detect("json-keys", text, "/p/config.json")
    assert (f.format, f.exchange, f.location) == ("json-keys", "binance", "exchanges.Binance")
    assert f.fields == ["exchanges.Binance.api_key", "exchanges.Binance.api_secret"]


# ---- .env ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("var", "want"), [
    ("BINANCE_API_KEY", ("BINANCE", "key")), ("BINANCE_API_SECRET", ("BINANCE", "secret")),
    ("BINANCE_SECRET_KEY", ("BINANCE", "secret")), ("BINANCE_API_SECRET_KEY", ("BINANCE", "secret")),
    ("OKX_API_PASSPHRASE", ("OKX", "passphrase")), ("BYBIT_KEY", ("BYBIT", "key")),
    ("COINBASE_API_KEY_NAME", ("COINBASE", "key")), ("COINBASE_API_PRIVATE_KEY", ("COINBASE", "secret")),
    ("BINANCE_PERPETUAL_FUTURES_API_KEY", ("BINANCE_PERPETUAL_FUTURES", "key")),
    ("DATABASE_URL", None), ("_KEY", None), ("KEY", None),
])
def test_split_role(var: str, want: tuple[str, str] | None) -> None:
    assert split_role(var) == want


def test_dotenv_groups_by_stem(secret) -> None:  # type: ignore[no-untyped-def]
    v = {n: secret(n[:3]) for n in ("A1", "A2", "B1", "B2", "C1", "C2")}
    text = (
        f"BINANCE_PERPETUAL_FUTURES_API_KEY={v['A1']}\nBINANCE_PERPETUAL_FUTURES_API_SECRET={v['A2']}\n"
        f"BINANCE_PERPETUAL_FUTURES_TESTNET_API_KEY={v['B1']}\nBINANCE_PERPETUAL_FUTURES_TESTNET_API_SECRET={v['B2']}\n"
        f"bybit_api_key={v['C1']}\nbybit_secret_key={v['C2']}\n"
    )
    found = detect("dotenv", text, "/b/.env")
    got = sorted((f.exchange, f.location, f.credentials.api_key) for f in found)  # type: ignore[union-attr]
    assert got == sorted([
        ("binance", "BINANCE_PERPETUAL_FUTURES_*", v["A1"]),
        ("binance", "BINANCE_PERPETUAL_FUTURES_TESTNET_*", v["B1"]),
        ("bybit", "BYBIT_*", v["C1"]),
    ])


def test_dotenv_needs_a_secret_and_an_exchange_name() -> None:
    text = ("GEMINI_API_KEY=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv\nOPENAI_API_KEY=sk-abcdefghijklmnopqrstuv\n"
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYzzzzzzzzzz\nMYAPP_SECRET=abcdefghijklmnopqrstu\n"
            "BINANCE_API_KEY=your_api_key\nBINANCE_API_SECRET=your_api_secret\n")
    assert detect("dotenv", text, "/b/.env") == []


def test_dotenv_secret_without_key_is_reported_not_importable(secret) -> None:  # type: ignore[no-untyped-def]
    [f] = detect("dotenv", f"KRAKEN_PRIVATE_KEY={secret('KP')}\n", "/b/.env")
    assert f.exchange == "kraken" and f.fingerprint is None and not f.importable and f.fields == ["KRAKEN_PRIVATE_KEY"]


def test_dotenv_cryptohopper_token(secret) -> None:  # type: ignore[no-untyped-def]
    [f] = detect("dotenv", f"CRYPTOHOPPER_TOKEN={secret('CH', 40)}\n", "/b/.env")
    assert f.kind == KIND_SERVICE_TOKEN and not f.importable and not f.cleanable


def test_dotenv_quotes_export_and_comments(kv) -> None:  # type: ignore[no-untyped-def]
    k, s = kv()
    text = f"# comment\nexport KUCOIN_API_KEY='{k}'\nKUCOIN_API_SECRET=\"{s}\" # inline\nKUCOIN_API_PASSPHRASE=pp\n"
    [f] = detect("dotenv", text, "/b/.env")
    assert f.credentials is not None
    assert (f.credentials.api_key, f.credentials.secret, f.credentials.passphrase) == (k, s, "pp")


# ---- Gunbot -------------------------------------------------------------------------------------------------

def test_gunbot_distinct_master_and_trading_keys(kv) -> None:  # type: ignore[no-untyped-def]
    (mk, ms), (k, s) = kv(), kv()
    text = json.dumps({"exchanges": {"bybit": {"masterkey": mk, "mastersecret": ms, "key": k, "secret": s}}})
    found = detect("gunbot", text, "/g/config.js")
    assert sorted(f.credentials.api_key for f in found) == sorted([mk, k])  # type: ignore[union-attr]
    assert {tuple(f.fields) for f in found} == {
        ("exchanges.bybit.masterkey", "exchanges.bybit.mastersecret"),
        ("exchanges.bybit.key", "exchanges.bybit.secret"),
    }


def test_gunbot_javascript_object_literal(kv) -> None:  # type: ignore[no-untyped-def]
    k, s = kv()
    text = (f"module.exports = {{\n  // my keys\n  exchanges: {{\n    binanceFutures: {{ key: '{k}', "
            f"secret: '{s}', passphrase: '', }},\n    someExchange: {{ key: '{k}', secret: '{s}' }},\n  }},\n}};\n")
    found = detect("gunbot", text, "/g/config.js")
    assert sorted((f.exchange, f.exchange_known) for f in found) == [("binance", True), ("someexchange", False)]


def test_gunbot_without_exchanges() -> None:
    assert detect("gunbot", "module.exports = { pairs: {} };", "/g/config.js") == []


# ---- Cryptohopper -------------------------------------------------------------------------------------------

def test_cryptohopper_token(secret) -> None:  # type: ignore[no-untyped-def]
    t = secret("TOK", 40)
    [f] = detect("cryptohopper", json.dumps({"token": t, "appKey": "x"}), "/h/.cryptohopper/config.json")
    assert (f.kind, f.fields, f.exchange_known) == (KIND_SERVICE_TOKEN, ["token"], False)
    assert detect("cryptohopper", json.dumps({"apiUrl": "https://x"}), "/h/.cryptohopper/config.json") == []


# ---- Hummingbot ---------------------------------------------------------------------------------------------

def test_read_flat_yaml() -> None:
    text = ("# comment\nconnector: 'kucoin'\nkucoin_api_key: \"abc\"\nnested:\n  inner: 1\n- item\n"
            "kucoin_passphrase: pp # trailing comment\nempty:\n")
    assert read_flat_yaml(text) == {"connector": "kucoin", "kucoin_api_key": "abc", "nested": "",
                                    "kucoin_passphrase": "pp", "empty": ""}


def test_hummingbot_unencrypted_value_is_plaintext(kv) -> None:  # type: ignore[no-untyped-def]
    k, s = kv()
    text = f"connector: gate_io\ngate_io_api_key: {k}\ngate_io_secret_key: {s}\n"
    [f] = detect("hummingbot", text, "/h/conf/connectors/gate_io.yml")
    assert not f.protected and f.exchange == "gate" and f.importable
    assert f.credentials is not None and (f.credentials.api_key, f.credentials.secret) == (k, s)


def test_hummingbot_legacy_keyfile() -> None:
    keyfile = json.loads(bytes.fromhex(fake_hummingbot_value()))
    [f] = detect("hummingbot", json.dumps(keyfile), "/h/conf/encrypted_binance_api_key.json")
    assert f.protected and f.exchange == "binance" and f.fields == ["binance_api_key"]
    assert detect("hummingbot", json.dumps({"version": 3}), "/h/conf/encrypted_x.json") == []


def test_hummingbot_yaml_without_secrets() -> None:
    assert detect("hummingbot", "connector: binance\nbinance_api_key: \n", "/h/conf/connectors/binance.yml") == []
