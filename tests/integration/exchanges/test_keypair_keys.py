"""Keys made from a locally generated key pair, through real ccxt against the simulator: Binance Ed25519 and RSA,
Bybit RSA. The simulator verifies each signature as the exchange documents it; inspection answers exactly as for
an HMAC key with the same settings; a wrong private key is the same ``invalid_signature`` as a wrong HMAC secret."""

from __future__ import annotations

import base64
import dataclasses
import time
import urllib.parse
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from keyhygiene.core.keypair import KeyPair, generate_keypair
from keyhygiene.core.models import Credentials, Status
from keyhygiene.sim.registration import Refused
from keyhygiene.sim.signatures import verify
from tests.helpers.secrets_watch import register_secret
from tests.helpers.sim_force import raw_request
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_sync

CASES = [("binance", "ed25519"), ("binance", "rsa"), ("bybit", "rsa")]
SETTINGS = {"permissions": {"read", "spot_trade"}, "ip_whitelist": ["203.0.113.10"]}
CREATED = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def pair_of(kind: str) -> KeyPair:
    pair = generate_keypair(kind)
    register_secret(pair.private_pem, *pair.private_pem.splitlines()[1:-1])
    return pair


def creds(key, pair: KeyPair) -> Credentials:  # type: ignore[no-untyped-def]
    register_secret(key.api_key)
    return Credentials(api_key=key.api_key, secret=pair.private_pem)


@pytest.mark.parametrize(("exchange", "kind"), CASES)
def test_generated_key_inspects_ok_with_the_same_profile_as_an_hmac_key(sim, exchange: str, kind: str) -> None:  # type: ignore[no-untyped-def]
    pair = pair_of(kind)
    key = sim.register_public_key(exchange, pair.public_pem, **SETTINGS)
    key.created_at = CREATED
    assert key.secret == "" and key.api_key
    p = inspect_sync(sim, key, creds=creds(key, pair))
    assert p.status is Status.OK, p.message

    hmac_key = sim.add_key(make_key(exchange, created_at=CREATED, **SETTINGS))
    h = inspect_sync(sim, hmac_key)
    assert h.status is Status.OK, h.message
    mine, theirs = p.to_json(), h.to_json()
    mine.pop("key"), theirs.pop("key")
    assert mine == theirs
    assert {"read", "spot_trade"} <= set(mine["permissions"]) and mine["ip_restricted"] is True


@pytest.mark.parametrize(("exchange", "kind"), CASES)
def test_a_wrong_private_key_is_the_same_invalid_signature_as_a_wrong_hmac_secret(sim, exchange: str, kind: str  # type: ignore[no-untyped-def]
                                                                                 ) -> None:
    pair = pair_of(kind)
    key = sim.register_public_key(exchange, pair.public_pem)
    wrong = pair_of(kind)
    p = inspect_sync(sim, key, creds=creds(key, wrong))
    assert p.status is Status.INVALID_SIGNATURE, p.message

    hmac_key = sim.add_key(make_key(exchange))
    h = inspect_sync(sim, hmac_key, creds=dataclasses.replace(creds_of(hmac_key), secret=make_key(exchange).secret))
    assert h.status is p.status and h.message == p.message
    assert not any(line in (p.message or "") for line in wrong.private_pem.splitlines()[1:-1])


@pytest.mark.parametrize("exchange", ["binance", "bybit"])
def test_an_hmac_signature_never_passes_for_a_public_key_key(sim, exchange: str) -> None:  # type: ignore[no-untyped-def]
    pair = pair_of("rsa")
    key = sim.register_public_key(exchange, pair.public_pem)
    # ``secret`` is empty: an HMAC over the empty secret is what anyone could compute, and must not verify.
    from keyhygiene.sim.base import hmac_hex

    assert not verify(key, "timestamp=1", hmac_hex("", "timestamp=1"))
    p = inspect_sync(sim, key, creds=Credentials(api_key=key.api_key, secret="a" * 48))
    assert p.status is Status.INVALID_SIGNATURE, p.message


@pytest.mark.parametrize(("exchange", "kind"), CASES)
def test_a_deleted_generated_key_is_rejected_like_a_deleted_hmac_key(sim, exchange: str, kind: str) -> None:  # type: ignore[no-untyped-def]
    pair = pair_of(kind)
    key = sim.register_public_key(exchange, pair.public_pem)
    assert sim.delete_key(exchange, key.api_key) and not sim.delete_key(exchange, key.api_key)
    p = inspect_sync(sim, key, creds=creds(key, pair))

    hmac_key = sim.add_key(make_key(exchange))
    sim.delete_key(exchange, hmac_key.api_key)
    # Bybit says "invalid key"; Binance's -2015 does not say which of key, IP or permission: "rejected".
    assert p.status is inspect_sync(sim, hmac_key).status in (Status.INVALID_KEY, Status.REJECTED)


def test_binance_signature_built_from_the_docs_not_from_ccxt(sim) -> None:  # type: ignore[no-untyped-def]
    """binance-spot-api-docs request-security, "Ed25519 Keys": sign the query string, base64, percent-encode."""
    pair = pair_of("ed25519")
    key = sim.register_public_key("binance", pair.public_pem)
    private = serialization.load_pem_private_key(pair.private_pem.encode(), None)
    query = f"timestamp={int(time.time() * 1000)}&recvWindow=5000"
    sig = base64.b64encode(private.sign(query.encode())).decode()  # type: ignore[call-arg]
    url = f"{sim.endpoints['binance']}/sapi/v1/account/apiRestrictions?{query}&signature="
    headers = {"X-MBX-APIKEY": key.api_key}
    status, body = raw_request(url + urllib.parse.quote(sig, safe=""), headers=headers)
    assert status == 200, body
    # One flipped character of the signature: Binance's -1022.
    bad = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    status, body = raw_request(url + urllib.parse.quote(bad, safe=""), headers=headers)
    assert status == 400 and '"code": -1022' in body


def test_bybit_rsa_signature_built_from_the_docs_not_from_ccxt(sim) -> None:  # type: ignore[no-untyped-def]
    """bybit docs v5/guide: timestamp + api key + recv window + query string, RSA_SHA256, base64 in X-BAPI-SIGN."""
    pair = pair_of("rsa")
    key = sim.register_public_key("bybit", pair.public_pem)
    private = serialization.load_pem_private_key(pair.private_pem.encode(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    ts = str(int(time.time() * 1000))
    sig = base64.b64encode(private.sign(f"{ts}{key.api_key}5000".encode(), padding.PKCS1v15(), hashes.SHA256()))
    headers = {"X-BAPI-API-KEY": key.api_key, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": "5000",
               "X-BAPI-SIGN": sig.decode()}
    status, body = raw_request(f"{sim.endpoints['bybit']}/v5/user/query-api", headers=headers)
    assert status == 200 and '"retCode": 0' in body, body
    # The hex HMAC form of the same bytes is not accepted for an RSA key.
    headers["X-BAPI-SIGN"] = base64.b64decode(sig).hex()
    status, body = raw_request(f"{sim.endpoints['bybit']}/v5/user/query-api", headers=headers)
    assert '"retCode": 10004' in body


def test_the_exchanges_refuse_what_they_do_not_take(sim) -> None:  # type: ignore[no-untyped-def]
    ed = pair_of("ed25519")
    with pytest.raises(Refused, match="RSA public keys only"):
        sim.register_public_key("bybit", ed.public_pem)
    with pytest.raises(Refused, match="does not accept a public key"):
        sim.register_public_key("okx", ed.public_pem)
    with pytest.raises(Refused, match="private key"):
        sim.register_public_key("binance", ed.private_pem)
    with pytest.raises(Refused, match="Not a public key"):
        sim.register_public_key("binance", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(Refused, match="2048 or 4096 bits"):
        sim.register_public_key("binance", small)
    sim.register_public_key("binance", ed.public_pem)
    with pytest.raises(Refused, match="already registered"):
        sim.register_public_key("binance", ed.public_pem)
