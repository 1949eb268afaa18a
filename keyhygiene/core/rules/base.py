"""The shape of a rule: an id, a one-line summary for settings and docs, and a check that returns findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from keyhygiene.core import exchange_facts as catalog
from keyhygiene.core.exchange_facts import key_page
from keyhygiene.core.models import Finding
from keyhygiene.core.rules import fixes
from keyhygiene.core.rules.facts import KeyFacts
from keyhygiene.core.severity import Severity


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    check: Callable[[KeyFacts], Iterable[Finding]]
    # Rules about who holds the key matter little once the exchange says the key no longer exists.
    about_exposure: bool = False


def finding(rule: str, severity: Severity, title: str, detail: str, fix: str, **evidence: Any) -> Finding:
    """``fix`` may hold ``fixes`` placeholders: worded once for the command line and once for the window."""
    cli, gui = fixes.render(fix, fixes.CLI), fixes.render(fix, fixes.GUI)
    return Finding(rule=rule, severity=Severity(severity).value, title=title, detail=detail, fix=cli,
                   evidence=evidence, fix_gui=gui if gui != cli else None)


def exchange_name(f: KeyFacts) -> str:
    return catalog.display_name(f.key.exchange)


def on_exchange_page(f: KeyFacts) -> str:
    """"on Binance's API page (https://…)" — where the user fixes things by hand."""
    url = key_page(f.key.exchange)
    name = exchange_name(f)
    return f"on {name}'s API-key page ({url})" if url else f"on {name}'s API-key page"


def days(n: int) -> str:
    return f"{n} day" if abs(n) == 1 else f"{n} days"


def join_words(items: Iterable[str]) -> str:
    xs = list(items)
    if len(xs) <= 1:
        return "".join(xs)
    return ", ".join(xs[:-1]) + " and " + xs[-1]


PERMISSION_WORDS: dict[str, str] = {
    "read": "read",
    "spot_trade": "spot trading",
    "margin_trade": "margin trading",
    "futures_trade": "futures trading",
    "options_trade": "options trading",
    "withdraw": "withdrawal",
    "transfer": "transfers between accounts",
}


def permission_words(perms: Iterable[str]) -> str:
    return join_words(PERMISSION_WORDS.get(p, p) for p in sorted(perms))
