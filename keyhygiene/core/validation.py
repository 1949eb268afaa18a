"""What the user types about a key, checked the same way on every surface: errors, service references, labels,
credentials. Core types: the store, the service, the command line and the window all raise and catch these.

What only the exchange layer knows (is this a ccxt exchange id, does it need a passphrase) comes in as an
``ExchangeCatalog``: the service passes ``exchanges.catalog``, so the core never loads ccxt.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

from keyhygiene.core.exchange_facts import display_name
from keyhygiene.core.models import PURPOSES
from keyhygiene.core.timeutil import parse_day, utcnow

if TYPE_CHECKING:  # annotations only (core/credentials.py)
    from keyhygiene.core.credentials import Credentials

MAX_LABEL = 200
MAX_SERVICE = MAX_LABEL
MAX_SECRET_BYTES = 8 * 1024  # DESIGN.md: any secret up to 8 KB must store on every backend
# Control and format characters (newline, tab, escape, bidi overrides, …) and the Unicode line/paragraph separators:
# a label is shown on one line of a table or a terminal, and these would break the row or disguise the text.
_LABEL_FORBIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})
# Lone surrogates: how Python carries bytes that are not UTF-8 (argv, environment) into a str.
_NOT_UTF8 = "Cs"


class ValidationError(ValueError):
    """Bad input from the user. ``field`` names the input so the UI can put the message next to it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class NotFound(LookupError):
    pass


class ExchangeCatalog(Protocol):
    """The exchange facts validation needs that only ccxt knows (``keyhygiene.exchanges.catalog`` is one)."""

    def is_known(self, exchange_id: str) -> bool: ...

    def needs_passphrase(self, exchange_id: str) -> bool: ...


@dataclass(frozen=True)
class ServiceRef:
    """A consumer as the user named it, e.g. ``3commas@2022-05-01``."""

    service: str
    day: date | None = None

    @classmethod
    def parse(cls, text: str) -> ServiceRef:
        raw = text.strip()
        name, sep, day = raw.rpartition("@") if "@" in raw else (raw, "", "")
        if not name.strip():
            raise ValidationError("shared_with", f"No service named in {text!r}.")
        parsed: date | None = None
        if sep:
            try:
                parsed = parse_day(day)
            except ValueError:
                raise ValidationError(
                    "shared_with", f"{day.strip()!r} in {raw!r} is not a date in YYYY-MM-DD form."
                ) from None
        return cls(service=name, day=parsed).validated()

    def validated(self) -> ServiceRef:
        """The same reference with its name trimmed; ValidationError if it names nothing or is dated later than
        today. For references built from separate fields (the app's dialogs), whose names may contain "@"."""
        name = self.service.strip()
        if not name:
            raise ValidationError("shared_with", "No service named.")
        validated_text("shared_with", "service name", name, MAX_SERVICE)
        if self.day is not None and self.day > utcnow().date():
            raise ValidationError("shared_with", f"The date {self.day} is in the future.")
        return ServiceRef(service=name, day=self.day)


def validated_label(label: str) -> str:
    """The label trimmed; ValidationError if it is empty, too long or holds a control character. One rule for
    adding a key and for renaming it (the app's edit dialog), so a rename cannot bring back what add refuses."""
    lab = label.strip()
    if not lab:
        raise ValidationError("label", "The label is empty: give the key a name you will recognise.")
    return validated_text("label", "label", lab, MAX_LABEL)


def validated_text(field: str, what: str, text: str, max_len: int) -> str:
    """One line of plain text: valid UTF-8, no control or format characters, at most ``max_len`` characters.
    Labels and service names share it (issue 18: a service name once took escapes and megabytes)."""
    if len(text) > max_len:
        raise ValidationError(field, f"The {what} has {len(text)} characters; at most {max_len} are allowed.")
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == _NOT_UTF8:
            raise ValidationError(field, f"The {what} is not valid UTF-8 text: type it again.")
        if cat in _LABEL_FORBIDDEN:
            raise ValidationError(
                field, f"The {what} contains a control character (U+{ord(ch):04X}): use one line of plain text."
            )
    return text


def _check_key_text(field: str, what: str, value: str) -> None:
    """An API key or passphrase is one token: a line break, ESC or NUL inside means a bad paste of *that* field
    (and would otherwise surface later as a signing failure blamed on the secret)."""
    for ch in value:
        cat = unicodedata.category(ch)
        if cat == _NOT_UTF8:
            raise ValidationError(field, f"The {what} is not valid UTF-8 text: paste it again.")
        if cat in _LABEL_FORBIDDEN:
            kind = "a line break" if ch in "\r\n\u2028\u2029\x85" else f"a control character (U+{ord(ch):04X})"
            raise ValidationError(field, f"The {what} contains {kind}: paste just the {what}, on one line.")


def validated_exchange(exchange: str, catalog: ExchangeCatalog) -> str:
    """The exchange id as ccxt spells it (trimmed, lowercase); ValidationError if ccxt has no such exchange."""
    ex = exchange.strip().lower()
    if not ex or not catalog.is_known(ex):
        raise ValidationError(
            "exchange", f"Unknown exchange {exchange!r}: use a ccxt exchange id such as binance, okx or kraken."
        )
    return ex


def validate_metadata(exchange: str, label: str, purpose: str, catalog: ExchangeCatalog) -> tuple[str, str]:
    """Check what the user typed about a key (before asking for its secrets); returns (exchange id, label)."""
    ex = validated_exchange(exchange, catalog)
    lab = validated_label(label)
    if purpose not in PURPOSES:
        raise ValidationError("purpose", f"Unknown purpose {purpose!r}: one of {', '.join(PURPOSES)}.")
    return ex, lab


def validate_credentials(exchange: str, creds: Credentials, catalog: ExchangeCatalog) -> None:
    """Messages name the field, never its value."""
    if not creds.api_key.strip():
        raise ValidationError("api_key", "The API key is empty.")
    if creds.api_key == creds.api_key.strip():  # spaces around it have their own message below
        _check_key_text("api_key", "API key", creds.api_key)
    if creds.passphrase:
        _check_key_text("passphrase", "passphrase", creds.passphrase)
    if not creds.secret.strip():
        raise ValidationError("secret", "The API secret is empty.")
    if creds.api_key != creds.api_key.strip():
        raise ValidationError("api_key", "The API key has spaces or line breaks around it; paste it again.")
    if catalog.needs_passphrase(exchange) and not (creds.passphrase or "").strip():
        raise ValidationError(
            "passphrase", f"{display_name(exchange)} keys have a passphrase: it is needed to use the key."
        )
    fields = {"api_key": creds.api_key, "secret": creds.secret, "passphrase": creds.passphrase or "", **creds.extra}
    for name, value in fields.items():
        if len(value.encode()) > MAX_SECRET_BYTES:
            raise ValidationError(name, f"The {name.replace('_', ' ')} is longer than 8 KB.")
