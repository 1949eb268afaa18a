"""Counted nouns in words: "1 key", "4 keys", never "4 key(s)" (issue 20). Plain Python, for every surface."""

from __future__ import annotations

# English plurals the app's own nouns need that adding "s" gets wrong.
_IRREGULAR = {"entry": "entries", "policy": "policies", "copy": "copies", "this": "these", "is": "are",
              "has": "have", "was": "were"}


def plural_of(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``plural(1, "key")`` -> ``1 key``; ``plural(1200, "file")`` -> ``1,200 files``."""
    return f"{n:,} {word if n == 1 else (many or plural_of(word))}"


def word_for(n: int, word: str, many: str | None = None) -> str:
    """The noun (or verb) alone, agreeing with ``n``: ``word_for(2, "has")`` -> ``have``."""
    return word if n == 1 else (many or plural_of(word))
