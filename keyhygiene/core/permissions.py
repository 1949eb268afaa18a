"""The public permission vocabulary (DESIGN.md, "Public contracts")."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Permission(StrEnum):
    READ = "read"
    SPOT_TRADE = "spot_trade"
    MARGIN_TRADE = "margin_trade"
    FUTURES_TRADE = "futures_trade"
    OPTIONS_TRADE = "options_trade"
    WITHDRAW = "withdraw"
    TRANSFER = "transfer"


ALL_PERMISSIONS: tuple[str, ...] = tuple(sorted(p.value for p in Permission))
TRADE_PERMISSIONS: frozenset[str] = frozenset(
    {Permission.SPOT_TRADE, Permission.MARGIN_TRADE, Permission.FUTURES_TRADE, Permission.OPTIONS_TRADE}
)
# Exchanges that grant one "trade" right covering every market list all of these (DESIGN.md).
ALL_TRADE_KINDS: tuple[str, ...] = tuple(sorted(TRADE_PERMISSIONS))


# The one user-facing name of each permission: the window's chips and the HTML/PDF reports print these (JSON and
# CSV keep the vocabulary ids, a public contract).
PERMISSION_LABELS: dict[str, str] = {
    "read": "Read",
    "spot_trade": "Spot",
    "margin_trade": "Margin",
    "futures_trade": "Futures",
    "options_trade": "Options",
    "withdraw": "Withdraw",
    "transfer": "Transfer",
}


def permission_label(perm: str) -> str:
    """The user-facing name of a permission id; an id outside the vocabulary is shown as it is."""
    return PERMISSION_LABELS.get(perm, perm)


def can_trade(perms: Iterable[str]) -> bool:
    return any(p in TRADE_PERMISSIONS for p in perms)


# Exchanges with a key-info adapter whose answer proves only that the key can read (MEXC's GET /api/v3/account
# reports account flags, not the key's permissions): what else the key may do is what the user declares, shown
# and judged as declared, exactly as for an exchange without introspection (DESIGN.md, "Public contracts").
DECLARED_BEYOND_READ: frozenset[str] = frozenset({"mexc"})
