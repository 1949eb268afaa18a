"""The blast radius: one plain sentence (or three) saying what someone holding this key could do today."""

from __future__ import annotations

from collections.abc import Collection

from keyhygiene.core import exchange_facts as catalog
from keyhygiene.core.models import AUTH_REJECTIONS, KeyProfile, KeyRecord, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS, TRADE_PERMISSIONS
from keyhygiene.core.rules.facts import KeyFacts

LEVERAGED = frozenset({"margin_trade", "futures_trade", "options_trade"})


def blast_radius(key: KeyRecord, profile: KeyProfile | None) -> str:
    """What an attacker holding ``key`` could do, from its latest ``profile`` (or the declared permissions)."""
    perms: frozenset[str] | None = None
    declared = False
    ip: bool | None = None
    n_ips = 0
    if profile is not None and profile.status == Status.OK and profile.permissions_source in ("exchange", "declared"):
        perms = frozenset(p for p in profile.permissions if p in ALL_PERMISSIONS)
        declared = profile.permissions_source == "declared"
        ip = profile.ip_restricted
        n_ips = len(profile.ip_whitelist or ())
        if ip is None and n_ips:
            ip = True
    elif key.declared_permissions is not None and (profile is None or profile.status not in AUTH_REJECTIONS):
        perms, declared = frozenset(p for p in key.declared_permissions if p in ALL_PERMISSIONS), True
    return describe(key.exchange, profile.status if profile is not None else None, perms, ip, n_ips, declared)


def blast_radius_of(f: KeyFacts) -> str:
    """The same sentence from rule facts (which also fall back to the last successful inspection)."""
    status = Status.OK if f.permissions_origin == "previous" else f.status
    return describe(f.key.exchange, status, f.permissions, f.ip_restricted, len(f.ip_whitelist or ()),
                    f.permissions_origin == "declared")


def describe(
    exchange: str, status: Status | str | None, perms: Collection[str] | None, ip_restricted: bool | None,
    n_ips: int = 0, declared: bool = False,
) -> str:
    name = catalog.display_name(exchange)
    st = Status(status) if status is not None else None
    if st is Status.IP_NOT_ALLOWED:
        return (f"{name} refuses this key from this computer's IP address, so whoever holds it can use it only from "
                "its whitelisted addresses; what it may do there could not be checked.")
    if st is Status.INVALID_KEY:
        return f"Nothing today: {name} no longer accepts this key."
    if st in AUTH_REJECTIONS:
        return (f"Probably nothing today: {name} rejects this key as stored. If the key itself still exists, whoever "
                "has its real secret can still use it.")
    if perms is None:
        return (f"Unknown: {name} did not say what this key can do. Until it is checked, assume whoever holds it can "
                "do everything the key was created with.")

    if ip_restricted is True:
        where = (f", but only from its {n_ips} whitelisted IP address{'es' if n_ips != 1 else ''}" if n_ips
                 else ", but only from its whitelisted IP addresses")
        ip_note = ""
    elif ip_restricted is False:
        where, ip_note = " from any computer", ""
    else:
        where, ip_note = "", f" {name} does not say whether the key is restricted to certain IP addresses."
    prefix = "Going by the permissions you declared, whoever" if declared else "Whoever"

    trades = set(perms) & TRADE_PERMISSIONS
    leveraged = bool(trades & LEVERAGED)
    also: list[str] = []
    if "withdraw" in perms:
        first = f"{prefix} holds this key can withdraw your funds to their own address{where}."
        if trades:
            also.append("trade with your whole balance" + (", with leverage that can liquidate the account"
                                                           if leveraged else ""))
    elif trades and ip_restricted is True:
        first = (f"{prefix} holds this key can trade with your whole balance{where}; that restriction blocks the "
                 "3Commas pattern of draining an account through trades in illiquid coins from anywhere else.")
    elif trades:
        first = (f"{prefix} holds this key can trade with your whole balance{where}: buying an illiquid coin at an "
                 "inflated price from their own account drains value without a single withdrawal, as happened to "
                 "3Commas users in 2022.")
        if leveraged:
            also.append("open leveraged margin, futures or options positions that can liquidate the account")
    elif "transfer" in perms:
        first = f"{prefix} holds this key can move funds between your accounts and sub-accounts{where}."
    elif "read" in perms:
        first = f"{prefix} holds this key can see your balances, orders and history{where}, but cannot move funds."
    else:
        first = "This key cannot move funds or read the account."
    if "transfer" in perms and ("withdraw" in perms or trades):
        also.append("move funds between your accounts and sub-accounts")
    text = first + (f" They can also {' and '.join(also)}." if also else "")
    return text + ip_note
