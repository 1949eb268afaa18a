"""The exposure registry: third-party services that take exchange API keys, and what happened to them.

The data ships in ``resources/services.json``, checked against ``resources/services.schema.json`` by the test suite
(tests/unit/core/test_registry.py); any other registry file is checked against the schema when it is loaded. Every
load applies the few rules a JSON schema cannot say (unique ids, aliases that resolve to one service only, real
calendar dates). Matching a user's "3 Commas" to the id ``3commas`` happens here, locally: nothing
about the services a user records ever leaves the machine (DESIGN.md §3).
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from keyhygiene.paths import resource

Day = date  # Incident has a field named ``date``; inside that class the name no longer means the type

REGISTRY_FILE = "services.json"
SCHEMA_FILE = "services.schema.json"
# Exposures that point at a local config file rather than a service (see models.Exposure).
FILE_PREFIX = "file:"


class RegistryError(ValueError):
    """The registry data is broken: a packaging or editing mistake, never the user's fault."""


class IncidentKind(StrEnum):
    KEY_LEAK = "key_leak"
    ACCOUNT_DATA_BREACH = "account_data_breach"
    WALLET_BREACH = "wallet_breach"
    PHISHING_CLONE = "phishing_clone"
    OTHER = "other"


# Noun phrases with their article, so sentences read "3Commas had an API-key leak".
INCIDENT_KIND_LABELS: dict[str, str] = {
    IncidentKind.KEY_LEAK: "an API-key leak",
    IncidentKind.ACCOUNT_DATA_BREACH: "an account-data breach",
    IncidentKind.WALLET_BREACH: "a breach of its own wallets",
    IncidentKind.PHISHING_CLONE: "phishing clones of its website",
    IncidentKind.OTHER: "a security event",
}

CATEGORY_LABELS: dict[str, str] = {
    "trading_bot": "trading bot",
    "copy_trading": "copy trading",
    "signals": "signals / auto-trade",
    "terminal": "trading terminal",
    "portfolio": "portfolio tracker",
    "tax": "tax tool",
    "self_hosted_bot": "self-hosted bot",
    "exchange_bots": "exchange with built-in bots",
}


@dataclass(frozen=True)
class Incident:
    id: str
    service_id: str
    date: Day
    date_precision: str  # "day" or "month"
    kind: str
    summary: str
    sources: tuple[str, ...]
    verified: bool

    @property
    def first_day(self) -> Day:
        return self.date

    @property
    def last_day(self) -> Day:
        """The last day the incident may have happened on: the date itself, or the month's end."""
        if self.date_precision == "month":
            return self.date.replace(day=calendar.monthrange(self.date.year, self.date.month)[1])
        return self.date

    @property
    def when(self) -> str:
        return self.date.strftime("%B %Y") if self.date_precision == "month" else self.date.isoformat()

    @property
    def kind_label(self) -> str:
        return INCIDENT_KIND_LABELS.get(self.kind, self.kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "service": self.service_id,
            "date": self.date.isoformat(),
            "date_precision": self.date_precision,
            "kind": self.kind,
            "summary": self.summary,
            "sources": list(self.sources),
            "verified": self.verified,
        }


@dataclass(frozen=True)
class EgressIps:
    published: str  # yes | no | discouraged | not_applicable | unknown
    verified: bool
    where: str | None = None
    url: str | None = None
    ips: tuple[str, ...] = ()
    ips_note: str | None = None

    @property
    def available(self) -> bool:
        return self.published == "yes"


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    aliases: tuple[str, ...]
    category: str
    website: str
    custody: str  # vendor | self_hosted | none
    needs: str  # none | read | trade
    permission_detail: str
    permission_verified: bool
    egress: EgressIps
    status: str  # active | defunct
    status_verified: bool
    status_note: str | None
    incidents: tuple[Incident, ...]
    notes: str | None
    sources: tuple[str, ...]

    @property
    def third_party(self) -> bool:
        """True when giving the key to this service puts a copy on someone else's servers."""
        return self.custody == "vendor"

    @property
    def defunct(self) -> bool:
        return self.status == "defunct"

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)

    def incidents_of(self, *kinds: str) -> list[Incident]:
        return [i for i in self.incidents if i.kind in kinds]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "aliases": list(self.aliases),
            "category": self.category,
            "website": self.website,
            "custody": self.custody,
            "needs": self.needs,
            "permission_detail": self.permission_detail,
            "egress_ips": {
                "published": self.egress.published,
                "where": self.egress.where,
                "url": self.egress.url,
                "ips": list(self.egress.ips),
            },
            "status": self.status,
            "incidents": [i.to_json() for i in self.incidents],
        }


def normalise_name(text: str) -> str:
    """The form names are matched in: lowercase letters and digits only ("3 Commas" == "3commas" == "3-Commas")."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


class Registry:
    """Services by id, alias resolution and incidents. Immutable once built."""

    def __init__(self, services: Iterable[Service], *, updated: date | None = None) -> None:
        self.updated = updated
        self._by_id: dict[str, Service] = {}
        self._names: dict[str, str] = {}
        for s in services:
            if s.id in self._by_id:
                raise RegistryError(f"service id {s.id!r} appears twice")
            self._by_id[s.id] = s
        for s in self._by_id.values():
            for name in (s.id, s.name, *s.aliases):
                key = normalise_name(name)
                if not key:
                    raise RegistryError(f"{s.id}: name {name!r} has no letters or digits")
                other = self._names.setdefault(key, s.id)
                if other != s.id:
                    raise RegistryError(f"{name!r} would resolve to both {other!r} and {s.id!r}")
        incident_ids = [i.id for s in self._by_id.values() for i in s.incidents]
        if len(incident_ids) != len(set(incident_ids)):
            raise RegistryError("incident ids must be unique")

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Service]:
        return iter(self._by_id.values())

    def __contains__(self, service_id: object) -> bool:
        return service_id in self._by_id

    @property
    def services(self) -> dict[str, Service]:
        return dict(self._by_id)

    def get(self, name: str) -> Service | None:
        """The service an id *or* alias names, or None for a service the registry does not know."""
        sid = self.resolve(name)
        return self._by_id[sid] if sid else None

    def resolve(self, name: str) -> str | None:
        if name.startswith(FILE_PREFIX):
            return None
        return self._names.get(normalise_name(name))

    def canonical(self, name: str) -> str:
        """The registry id for a known name; otherwise the user's own text, lowercased and trimmed."""
        return self.resolve(name) or name.strip().lower()

    def display_name(self, name: str) -> str:
        if name.startswith(FILE_PREFIX):
            return name[len(FILE_PREFIX):]
        svc = self.get(name)
        return svc.name if svc else name

    def incidents_for(self, name: str) -> list[Incident]:
        """A service's incidents (by id or alias), oldest first; empty for unknown services."""
        svc = self.get(name)
        return list(svc.incidents) if svc else []

    def incidents(self, *kinds: str) -> list[Incident]:
        """Every incident (of the given kinds, if any), newest first."""
        out = [i for s in self._by_id.values() for i in s.incidents if not kinds or i.kind in kinds]
        return sorted(out, key=lambda i: (i.date, i.id), reverse=True)


# ---- loading -------------------------------------------------------------------------------------------------

def _validator() -> Any:
    import jsonschema

    schema = json.loads(resource(SCHEMA_FILE).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_document(doc: Any) -> list[str]:
    """Every problem with a registry document, as readable lines; empty when it is valid."""
    problems = []
    for err in sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        problems.append(f"{where}: {err.message}")
    return problems


def _parse_day(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RegistryError(f"{where}: {text!r} is not a calendar date") from None


def _service(d: dict[str, Any]) -> Service:
    sid = d["id"]
    incidents = []
    for i in d["incidents"]:
        day = _parse_day(i["date"], f"{sid}/{i['id']}")
        if i["date_precision"] == "month" and day.day != 1:
            raise RegistryError(f"{sid}/{i['id']}: a month-precision date must be the 1st of the month")
        incidents.append(
            Incident(
                id=i["id"], service_id=sid, date=day, date_precision=i["date_precision"], kind=i["kind"],
                summary=i["summary"], sources=tuple(i["sources"]), verified=bool(i["verified"]),
            )
        )
    e = d["egress_ips"]
    perm = d["permission"]
    return Service(
        id=sid,
        name=d["name"],
        aliases=tuple(d["aliases"]),
        category=d["category"],
        website=d["website"],
        custody=d["custody"],
        needs=perm["needs"],
        permission_detail=perm["detail"],
        permission_verified=bool(perm["verified"]),
        egress=EgressIps(
            published=e["published"], verified=bool(e["verified"]), where=e.get("where"), url=e.get("url"),
            ips=tuple(e.get("ips", ())), ips_note=e.get("ips_note"),
        ),
        status=d["status"],
        status_verified=bool(d.get("status_verified", True)),
        status_note=d.get("status_note"),
        incidents=tuple(sorted(incidents, key=lambda i: i.date)),
        notes=d.get("notes"),
        sources=tuple(d["sources"]),
    )


def registry_from_document(doc: Any, *, validate: bool = True) -> Registry:
    """``validate=False`` skips the schema (for the shipped file, which the test suite validates); a document
    that lacks what the parser reads still fails, as a RegistryError."""
    if validate:
        problems = validate_document(doc)
        if problems:
            raise RegistryError("the service registry does not match its schema:\n  " + "\n  ".join(problems[:20]))
    try:
        return Registry([_service(s) for s in doc["services"]], updated=_parse_day(doc["updated"], "updated"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise RegistryError(f"the service registry is malformed ({type(exc).__name__}: {exc})") from None


def load_registry(path: Path | None = None) -> Registry:
    """The shipped registry (cached), or the one at ``path``. Raises RegistryError when it is not valid."""
    if path is None:
        return _shipped_registry()
    return _load(path)


def _load(path: Path, *, validate: bool = True) -> Registry:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegistryError(f"cannot read the service registry {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise RegistryError(f"the service registry {path} is not valid JSON: {exc}") from None
    return registry_from_document(doc, validate=validate)


@cache
def _shipped_registry() -> Registry:
    # Not against the schema here: the test suite does that for the file the app ships, and the validator
    # (jsonschema, referencing, rpds, attrs) costs every window process ~5 MB to say again what the tests said.
    return _load(resource(REGISTRY_FILE), validate=False)


def default_resolver() -> Callable[[str], str]:
    """What ``keys add/share/unshare`` use to turn a typed service name into the stored one (see cliutil)."""
    return load_registry().canonical
