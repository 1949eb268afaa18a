"""Key pairs generated locally: formats ccxt signs with, the exchanges that take them, nothing secret in repr."""

from __future__ import annotations

import base64
import urllib.parse

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from keyhygiene.core import keypair
from keyhygiene.core.keypair import generate_keypair, keypair_kinds


@pytest.fixture(scope="module")
def ed() -> keypair.KeyPair:
    return generate_keypair("ed25519")


@pytest.fixture(scope="module")
def rs() -> keypair.KeyPair:
    return generate_keypair("rsa")


def test_exchanges_that_take_a_public_key_and_that_ccxt_signs_with() -> None:
    assert keypair_kinds("binance") == ("ed25519", "rsa")  # Ed25519 first: Binance's recommended type
    assert keypair_kinds("bybit") == ("rsa",)
    assert keypair_kinds(" Bybit ") == ("rsa",)
    for other in ("okx", "kucoin", "bitget", "coinbase", "kraken", "gate", "htx", "bitfinex", "bingx", "mexc", "x"):
        assert keypair_kinds(other) == ()


def test_ed25519_pair_is_pkcs8_and_short_enough_for_ccxt_binance_to_pick_eddsa(ed: keypair.KeyPair) -> None:
    assert ed.kind == "ed25519" and ed.bits is None and ed.label == "Ed25519"
    assert ed.private_pem.startswith("-----BEGIN PRIVATE KEY-----\n") and "\r" not in ed.private_pem
    # ccxt binance.sign(): 'PRIVATE KEY' in the secret and len <= 120 -> Ed25519; longer -> RSA.
    assert len(ed.private_pem) <= 120
    assert ed.public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    private = serialization.load_pem_private_key(ed.private_pem.encode(), None)
    public = serialization.load_pem_public_key(ed.public_pem.encode())
    assert isinstance(private, ed25519.Ed25519PrivateKey) and isinstance(public, ed25519.Ed25519PublicKey)
    public.verify(private.sign(b"timestamp=1"), b"timestamp=1")


def test_rsa_pair_is_pkcs8_2048_and_long_enough_for_ccxt_binance_to_pick_rsa(rs: keypair.KeyPair) -> None:
    assert rs.kind == "rsa" and rs.bits == 2048 and rs.label == "RSA 2048-bit"
    assert rs.private_pem.startswith("-----BEGIN PRIVATE KEY-----\n") and len(rs.private_pem) > 120
    public = serialization.load_pem_public_key(rs.public_pem.encode())
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048


def test_ccxt_signs_with_each_generated_kind_the_way_the_docs_say(ed: keypair.KeyPair, rs: keypair.KeyPair) -> None:
    import ccxt

    def binance_signature(pair: keypair.KeyPair) -> tuple[bytes, bytes]:
        client = ccxt.binance({"apiKey": "k" * 64, "secret": pair.private_pem})
        url = client.sign("account/apiRestrictions", ["sapi", "private"], "GET", {})["url"]
        query = url.split("?", 1)[1]
        payload, _, sig = query.rpartition("&signature=")
        return payload.encode(), base64.b64decode(urllib.parse.unquote(sig))

    payload, sig = binance_signature(ed)
    serialization.load_pem_public_key(ed.public_pem.encode()).verify(sig, payload)  # type: ignore[call-arg]
    payload, sig = binance_signature(rs)
    serialization.load_pem_public_key(rs.public_pem.encode()).verify(  # type: ignore[call-arg]
        sig, payload, padding.PKCS1v15(), hashes.SHA256())

    bybit = ccxt.bybit({"apiKey": "k" * 18, "secret": rs.private_pem})
    req = bybit.sign("v5/user/query-api", ["private"], "GET", {})
    h = req["headers"]
    auth = f"{h['X-BAPI-TIMESTAMP']}{h['X-BAPI-API-KEY']}{h['X-BAPI-RECV-WINDOW']}".encode()
    serialization.load_pem_public_key(rs.public_pem.encode()).verify(  # type: ignore[call-arg]
        base64.b64decode(h["X-BAPI-SIGN"]), auth, padding.PKCS1v15(), hashes.SHA256())


def test_every_pair_is_new_and_repr_hides_the_private_key(ed: keypair.KeyPair) -> None:
    other = generate_keypair("ed25519")
    assert other.private_pem != ed.private_pem and other.public_pem != ed.public_pem
    body = ed.private_pem.splitlines()[1]
    assert body not in repr(ed) and "PRIVATE" not in repr(ed) and "PRIVATE" not in str(ed)


def test_rsa_4096_and_refusals() -> None:
    assert generate_keypair("rsa", bits=4096).bits == 4096
    with pytest.raises(ValueError, match="2048 or 4096"):
        generate_keypair("rsa", bits=1024)
    with pytest.raises(ValueError, match="unknown key type"):
        generate_keypair("ecdsa")


def test_public_key_and_kind_come_back_from_the_stored_private_key(ed: keypair.KeyPair, rs: keypair.KeyPair
                                                                    ) -> None:
    assert keypair.public_key_of(ed.private_pem) == ed.public_pem
    assert keypair.public_key_of(rs.private_pem) == rs.public_pem
    assert keypair.kind_of(ed.private_pem) == "ed25519" and keypair.kind_of(rs.private_pem) == "rsa"
    assert keypair.kind_of("a" * 48) is None  # an HMAC secret
    broken = ed.private_pem.replace(ed.private_pem.splitlines()[1], "AAAA")
    assert keypair.kind_of(broken) is None
    with pytest.raises(ValueError) as err:
        keypair.public_key_of(broken)
    assert "AAAA" not in str(err.value)
    encrypted = serialization.load_pem_private_key(ed.private_pem.encode(), None).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw-12345678"),
    ).decode()
    assert keypair.kind_of(encrypted) is None


def test_a_generated_private_key_is_scrubbed_from_logs_and_messages_from_birth() -> None:
    from keyhygiene.core import redact

    pair = generate_keypair("ed25519")
    line = pair.private_pem.splitlines()[1]
    assert redact.scrub(f"error near {line}") == f"error near {redact.PLACEHOLDER}"
    assert pair.private_pem not in redact.scrub(pair.private_pem)
