"""Signature checks for keys that are either an HMAC secret or a registered public key.

A simulated key with ``public_key`` set is verified only with that key, never with HMAC: its ``secret`` is empty,
and an HMAC over an empty secret is something anyone can compute.

As the exchanges document their asymmetric keys (sources in keyhygiene/core/keypair.py):
- Binance: ``signature`` = base64 of Ed25519, or of RSASSA-PKCS1-v1_5 with SHA-256, over the query string (then
  the body), percent-encoded in the query.
- Bybit: ``X-BAPI-SIGN`` = base64 of RSA-SHA256 (PKCS#1 v1.5) over the same pre-sign string as HMAC
  (timestamp + api key + recv window + query string or body).
"""

from __future__ import annotations

import base64
import binascii
import functools

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from keyhygiene.sim.base import hmac_hex, same
from keyhygiene.sim.model import SimKey

HMAC = "hmac"
ED25519 = "ed25519"
RSA = "rsa"


def request_query(request: web.Request) -> str:
    """The query string exactly as the client sent it: what it signed. (``request.query_string`` is re-encoded
    by yarl, which turns a signed ``%2F`` into ``/``.)"""
    _path, _sep, query = request.raw_path.partition("?")
    return query


@functools.lru_cache(maxsize=512)
def load_public_key(pem: str) -> ed25519.Ed25519PublicKey | rsa.RSAPublicKey:
    """ValueError for anything but an Ed25519 or RSA public key in SubjectPublicKeyInfo PEM."""
    if "-----BEGIN PUBLIC KEY-----" not in pem:
        raise ValueError("expected a PEM public key (-----BEGIN PUBLIC KEY-----)")
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii") + b"\n")
    except (ValueError, UnicodeEncodeError):
        raise ValueError("not a readable PEM public key") from None
    if not isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        raise ValueError("only Ed25519 and RSA public keys are accepted")
    return key


def key_type(key: SimKey) -> str:
    """"hmac", "ed25519" or "rsa"."""
    if not key.public_key:
        return HMAC
    return ED25519 if isinstance(load_public_key(key.public_key), ed25519.Ed25519PublicKey) else RSA


def verify_public(public_pem: str, payload: str, signature_b64: str | None) -> bool:
    """True when ``signature_b64`` (standard base64) is the signature of ``payload`` by the key's private half."""
    if not signature_b64:
        return False
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public = load_public_key(public_pem)
    except (binascii.Error, ValueError):
        return False
    try:
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, payload.encode())
        else:
            public.verify(signature, payload.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def verify(key: SimKey, payload: str, signature: str | None) -> bool:
    """The key's own scheme: a registered public key, or hex HMAC-SHA256 with its secret."""
    if key.public_key:
        return verify_public(key.public_key, payload, signature)
    return same(hmac_hex(key.secret, payload), signature)
