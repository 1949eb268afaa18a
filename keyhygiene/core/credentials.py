"""A key's secrets as they pass through a call (keychain, exchange client, rotation).

Its own module so the window's start-up does not build it: the first frame reads no secret (``core.models``
re-exports it on first use, as it does ``Finding``; issue 21)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Credentials:
    """A key's secrets. Lives in memory only as long as a call needs it; ``repr`` never shows values."""

    api_key: str
    secret: str
    passphrase: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # any other ccxt credential: uid, privateKey, …

    def __repr__(self) -> str:  # never leak into logs or tracebacks
        return f"Credentials(api_key=<{len(self.api_key)} chars>, secret=<hidden>, passphrase=<hidden>)"

    __str__ = __repr__

    def secret_values(self) -> list[str]:
        vals = [self.api_key, self.secret, self.passphrase or "", *self.extra.values()]
        return [v for v in vals if v]

    def to_ccxt(self) -> dict[str, str]:
        cfg = {"apiKey": self.api_key, "secret": self.secret}
        if self.passphrase:
            cfg["password"] = self.passphrase
        cfg.update(self.extra)
        return cfg

    def to_dict(self) -> dict[str, Any]:
        return {"api_key": self.api_key, "secret": self.secret, "passphrase": self.passphrase, "extra": self.extra}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Credentials:
        return cls(
            api_key=d["api_key"],
            secret=d["secret"],
            passphrase=d.get("passphrase"),
            extra=dict(d.get("extra") or {}),
        )
