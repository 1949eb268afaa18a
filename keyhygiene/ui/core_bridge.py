"""The UI's single adapter to the core's rules, registry and policy.

Those modules are optional at run time in one sense only: a build without them (or a registry file that fails to
load) still opens the vault and lists keys, just without findings. Everything the UI needs from them goes through
the few functions below, so no widget imports a rule module directly.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import date, datetime
from types import ModuleType
from typing import Any

from keyhygiene.core.models import Finding, KeyProfile, KeyRecord

log = logging.getLogger(__name__)


def optional_module(name: str) -> ModuleType | None:
    """The module, or None if *it* does not exist (an ImportError inside it is a bug and propagates)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise


@dataclass(frozen=True)
class ServiceInfo:
    """A registry service as the pickers show it."""

    id: str
    name: str
    category: str = ""


@dataclass(frozen=True)
class IncidentInfo:
    service: str
    day: date | None
    title: str
    source: str = ""


# ---- registry -------------------------------------------------------------------------------------------------
def load_registry() -> Any | None:
    mod = optional_module("keyhygiene.core.registry")
    if mod is None:
        return None
    try:
        return mod.load_registry()
    except Exception:
        log.exception("the exposure registry could not be loaded; findings about services are off")
        return None


def registry_services(registry: Any | None) -> list[ServiceInfo]:
    if registry is None:
        return []
    out: list[ServiceInfo] = []
    for svc in _services_of(registry):
        sid = str(getattr(svc, "id", "") or "")
        if not sid:
            continue
        out.append(ServiceInfo(id=sid, name=str(getattr(svc, "name", sid) or sid),
                               category=str(getattr(svc, "category", "") or "")))
    return sorted(out, key=lambda s: s.name.lower())


def _services_of(registry: Any) -> list[Any]:
    services = getattr(registry, "services", None)
    if isinstance(services, dict):
        return list(services.values())
    if services is not None:
        return list(services)
    return []


def service_name(registry: Any | None, service: str) -> str:
    """Display name of a registry id; free text and ``file:`` consumers are shown as entered."""
    if service.startswith("file:"):
        return service[5:].rsplit("/", 1)[-1] or service
    if registry is not None:
        for svc in _services_of(registry):
            if getattr(svc, "id", None) == service:
                return str(getattr(svc, "name", service) or service)
    return service


def resolver(registry: Any | None) -> Any:
    """The alias resolver the vault uses to turn '3Commas' into '3commas'."""
    mod = optional_module("keyhygiene.core.registry")
    if mod is not None and hasattr(mod, "default_resolver"):
        try:
            return mod.default_resolver()
        except Exception:
            log.exception("registry resolver unavailable")
    return None


def incidents_touching(registry: Any | None, record: KeyRecord) -> list[IncidentInfo]:
    """Registry incidents of a service this key was given to, dated after it was given (or undated)."""
    if registry is None:
        return []
    out: list[IncidentInfo] = []
    for exp in record.exposures:
        for inc in _incidents_of(registry, exp.service):
            day = _as_date(getattr(inc, "date", None) or getattr(inc, "day", None))
            if exp.shared_at is not None and day is not None and day < exp.shared_at:
                continue  # the incident predates the sharing: this key was not in that leak
            if exp.revoked_at is not None and day is not None and day > exp.revoked_at:
                continue  # the sharing had ended before the incident
            out.append(IncidentInfo(service=exp.service, day=day,
                                    title=str(getattr(inc, "title", None) or getattr(inc, "summary", "") or ""),
                                    source=str(getattr(inc, "source", "") or "")))
    return out


def _incidents_of(registry: Any, service: str) -> list[Any]:
    fn = getattr(registry, "incidents_for", None)
    if callable(fn):
        try:
            return list(fn(service))
        except Exception:
            log.exception("registry incidents_for failed")
            return []
    svc = None
    services = getattr(registry, "services", None)
    if isinstance(services, dict):
        svc = services.get(service)
    return list(getattr(svc, "incidents", None) or [])


def _as_date(v: Any) -> date | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


# ---- policy ---------------------------------------------------------------------------------------------------
def load_policy(repo: Any) -> Any | None:
    mod = optional_module("keyhygiene.core.policy")
    if mod is None:
        return None
    cls = mod.Policy
    for name in ("load", "from_repository", "from_settings"):
        fn = getattr(cls, name, None) or getattr(mod, f"{name}_policy", None)
        if callable(fn):
            try:
                return fn(repo)
            except Exception:
                log.exception("stored policy unreadable; using defaults")
                break
    return cls()


def save_policy(repo: Any, policy: Any) -> None:
    for fn in (getattr(policy, "save", None), getattr(optional_module("keyhygiene.core.policy"), "save_policy", None)):
        if callable(fn):
            if fn is getattr(policy, "save", None):
                fn(repo)
            else:
                fn(repo, policy)
            return
    raise RuntimeError("this build cannot save the policy")


def policy_value(policy: Any | None, name: str, default: int) -> int:
    return int(getattr(policy, name, default) if policy is not None else default)


# ---- rules ----------------------------------------------------------------------------------------------------
def rules_available() -> bool:
    return optional_module("keyhygiene.core.rules") is not None


def evaluate(record: KeyRecord, profile: KeyProfile | None, *, policy: Any, registry: Any, now: datetime,
             context: Any = None) -> list[Finding]:
    mod = optional_module("keyhygiene.core.rules")
    if mod is None or policy is None or registry is None:
        return []
    return list(mod.evaluate(record, profile, policy=policy, registry=registry, now=now, context=context))


def blast_radius(record: KeyRecord, profile: KeyProfile | None) -> str:
    mod = optional_module("keyhygiene.core.rules")
    if mod is None:
        return ""
    try:
        return str(mod.blast_radius(record, profile))
    except Exception:
        log.exception("blast radius failed for %s", record.id)
        return ""


def key_score(findings: list[Finding]) -> int | None:
    mod = optional_module("keyhygiene.core.score")
    return None if mod is None else int(mod.key_score(findings))


def overall_score(scores: list[int]) -> int | None:
    mod = optional_module("keyhygiene.core.score")
    if mod is None:
        return None
    return int(mod.overall_score(scores))
