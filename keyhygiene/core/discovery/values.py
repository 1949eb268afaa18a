"""Decide whether a config value is a real credential or a template's placeholder.

Sample configs ship with ``"key": "your_exchange_key"`` or ``BINANCE_API_KEY=<your key>``; reporting those would
bury the real findings. The rules are deliberately about *shape*, never about what a real key looks like on a
given exchange: the exchanges' formats differ and change.
"""

from __future__ import annotations

from typing import Any

# Substrings that only template values contain. Long enough that a random 32-64 character key practically
# never contains one by chance.
_PLACEHOLDER_MARKERS = (
    "your", "xxxx", "changeme", "change_me", "change-me", "placeholder", "example", "insert", "dummy",
    "replace", "here", "...", "\u2026", "<", ">", "{{", "}}", "todo", "fixme", "redacted", "sample",
)
_PLACEHOLDER_WORDS = frozenset({
    "key", "secret", "apikey", "api_key", "api-key", "password", "passphrase", "none", "null", "nil",
    "undefined", "false", "true", "no key", "nokey", "empty", "test", "demo",
})
MIN_CREDENTIAL_LEN = 8


def is_reference(value: str) -> bool:
    """``${VAR}``, ``$VAR``, ``%VAR%``: the value is read from somewhere else, so nothing is stored here."""
    s = value.strip()
    return s.startswith(("${", "$", "%")) or s.startswith("!") or s.startswith("env:")


def is_placeholder(value: str) -> bool:
    s = value.strip().lower()
    if not s or s in _PLACEHOLDER_WORDS:
        return True
    if len(set(s)) <= 2:  # "xxxxxxxx", "********", "00000000"
        return True
    return any(m in s for m in _PLACEHOLDER_MARKERS)


def looks_like_credential(value: Any, min_len: int = MIN_CREDENTIAL_LEN) -> bool:
    """A string long enough to be a key or secret, without spaces, that is neither a reference nor a template."""
    if not isinstance(value, str):
        return False
    s = value.strip()
    if s.startswith("-----BEGIN"):  # PEM private keys (Coinbase CDP, Kraken Futures) have lines and spaces
        return "PRIVATE KEY" in s and len(s) > 64
    if len(s) < min_len or any(ch.isspace() for ch in s):
        return False
    return not (is_reference(s) or is_placeholder(s))


def is_filled(value: Any) -> bool:
    """For passphrases and uids: any non-empty, non-placeholder string (users pick short ones)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    if not isinstance(value, str):
        return False
    s = value.strip()
    return bool(s) and not is_reference(s) and s.lower() not in _PLACEHOLDER_WORDS and not any(
        m in s.lower() for m in ("your", "<", ">", "xxxx", "changeme", "...")
    )
