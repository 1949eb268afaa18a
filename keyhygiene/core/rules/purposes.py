"""What each declared purpose needs, and what a service needs: the yardstick of ``excess_permission``."""

from __future__ import annotations

from keyhygiene.core.models import Purpose
from keyhygiene.core.permissions import TRADE_PERMISSIONS

READ: frozenset[str] = frozenset({"read"})
TRADE: frozenset[str] = READ | TRADE_PERMISSIONS

# None: the purpose says nothing about what the key needs, so nothing counts as excess.
PURPOSE_ALLOWS: dict[str, frozenset[str] | None] = {
    Purpose.READ_ONLY: READ,
    Purpose.TAX: READ,
    # A bot places orders; it never needs to move funds out or between accounts (3Commas, Coinrule, … say so).
    Purpose.BOT: TRADE,
    # A key a person trades with by hand may also move funds between their own accounts; never withdraw.
    Purpose.TRADING: TRADE | {"transfer"},
    Purpose.OTHER: None,
}

# Exchanges whose single trade right also moves funds between the user's own accounts, so "transfer" cannot be
# switched off without switching off trading (exchanges.md: OKX "trade" covers internal transfers; HTX trade =
# "create order, cancel order and transfer"). Flagging transfer on their trading keys would be advice nobody can follow.
TRANSFER_BUNDLED_WITH_TRADE: frozenset[str] = frozenset({"okx", "htx"})

SERVICE_ALLOWS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "read": READ,
    "trade": TRADE,
}


def purpose_allows(purpose: str) -> frozenset[str] | None:
    return PURPOSE_ALLOWS.get(purpose)

