"""What the simulator knows about a key: its secrets and the settings an exchange would hold for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class SimKey:
    exchange: str
    api_key: str
    secret: str
    passphrase: str | None = None
    permissions: set[str] = field(default_factory=lambda: {"read"})  # DESIGN.md vocabulary
    ip_whitelist: list[str] | None = None  # None/empty: unrestricted
    created_at: datetime | None = None
    expires_at: datetime | None = None
    trade_expires_at: datetime | None = None
    is_master: bool = True
    third_party_link: str | None = None
    revoked: bool = False
    uid: str = "100000001"
    # Exchange-specific raw fields merged over the rendered response (tests of odd shapes, unknown tokens).
    raw: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)  # other credentials (e.g. HTX uid)
    # A key the user created by registering a public key (PEM, "BEGIN PUBLIC KEY"): requests are signed with the
    # matching private key and ``secret`` is empty and never used (sim/signatures.py).
    public_key: str | None = None
    label: str | None = None  # the name given on the exchange's API page (sim console)

    def __repr__(self) -> str:
        return f"SimKey({self.exchange}, {self.api_key[:4]}…, perms={sorted(self.permissions)})"
