"""A third-party service and its incidents as every surface shows them: the window's pickers, the report, the
rotation's consumer checklist. One type, built from the exposure registry by ``service_from``.

Plain data (tests and golden files build it by hand); the registry's ``Service`` stays the source of the facts.
"""

from __future__ import annotations

import datetime as _dt  # the field named ``date`` below would shadow the type
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from keyhygiene.core.timeutil import parse_iso


@dataclass(frozen=True)
class IncidentInfo:
    """A dated, sourced incident at a third-party service (from the registry)."""

    date: _dt.date | None  # first day it may have happened on
    title: str
    summary: str | None = None
    sources: tuple[str, ...] = ()
    last_date: _dt.date | None = None  # last day it may have happened on, when only the month is known
    when: str | None = None  # the date as the registry states it ("2022-12-28", "October 2022")
    verified: bool = True
    id: str | None = None  # the registry's incident id (findings name it in their evidence)

    @property
    def until(self) -> _dt.date | None:
        return self.last_date or self.date


@dataclass(frozen=True)
class ServiceInfo:
    """A third-party service as the registry knows it: name, published egress IPs, what it needs, incidents."""

    id: str
    name: str
    ips: tuple[str, ...] = ()
    ips_published: str = "unknown"  # yes | no | discouraged | not_applicable | unknown
    ips_url: str | None = None
    needs: str | None = None  # none | read | trade
    category: str | None = None  # as people say it: "trading bot", "tax tool"
    incidents: tuple[IncidentInfo, ...] = ()

    @property
    def category_label(self) -> str:
        return self.category or ""


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    dt = parse_iso(str(value))
    return dt.date() if dt else None


def incident_from(obj: Any) -> IncidentInfo:
    """A registry ``Incident`` (or any object or mapping with the same names) as the surfaces show it."""

    def get(name: str, default: Any = None) -> Any:
        if isinstance(obj, Mapping):
            return obj.get(name, default)
        return getattr(obj, name, default)

    sources = tuple(str(s) for s in (get("sources") or ()) if s)
    first = _day(get("first_day") or get("date"))
    last = _day(get("last_day")) or first
    title = get("title") or get("kind_label") or get("kind") or "Security incident"
    ident = get("id")
    return IncidentInfo(
        date=first,
        title=str(title)[:1].upper() + str(title)[1:],
        summary=get("summary"),
        sources=sources,
        last_date=last if last != first else None,
        when=get("when") or (first.isoformat() if first else None),
        verified=bool(get("verified", True)),
        id=str(ident) if ident else None,
    )


def service_from(svc: Any) -> ServiceInfo:
    """A registry ``Service`` as the surfaces show it."""
    egress = getattr(svc, "egress", None)
    return ServiceInfo(
        id=str(svc.id),
        name=str(svc.name),
        ips=tuple(getattr(egress, "ips", ()) or ()),
        ips_published=str(getattr(egress, "published", "unknown") or "unknown"),
        ips_url=getattr(egress, "url", None),
        needs=getattr(svc, "needs", None),
        category=getattr(svc, "category_label", None) or getattr(svc, "category", None),
        incidents=tuple(incident_from(i) for i in getattr(svc, "incidents", ())),
    )
