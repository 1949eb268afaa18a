"""Masked fingerprints and digests: the only forms of an API key that leave the keychain."""

from __future__ import annotations

ELLIPSIS = "\u2026"


def mask_key(api_key: str) -> str:
    """First 4 … last 4 characters (DESIGN.md), less for short keys so most of the key stays hidden.

    Coinbase CDP key names are paths (``organizations/{org}/apiKeys/{id}``): every one would start "orga…", so
    only the key's own id, after the last slash, is masked.
    """
    k = api_key.strip()
    # Only that path shape: other keys may contain "/" too (Kraken's are base64) and must mask whole.
    if k.startswith("organizations/") and "/apiKeys/" in k and k.rsplit("/", 1)[-1]:
        k = k.rsplit("/", 1)[-1]
    if len(k) >= 16:
        return f"{k[:4]}{ELLIPSIS}{k[-4:]}"
    if len(k) >= 8:
        return f"{k[:2]}{ELLIPSIS}{k[-2:]}"
    return ELLIPSIS


def key_digest(exchange: str, api_key: str) -> str:
    """SHA-256 for duplicate detection. Salted with the exchange id so the same string on two exchanges differs."""
    import hashlib  # here: its OpenSSL set-up costs ~3 ms, and only adding or importing a key needs it

    return hashlib.sha256(f"{exchange.lower()}\0{api_key.strip()}".encode()).hexdigest()
