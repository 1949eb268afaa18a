"""Rotation sessions: the core rotation machine and flow wired to the real vault, exchange layer, exposure registry
and policy. The wizard and ``keyhygiene rotate`` both open a rotation here and then only drive its flow.

Exchange facts that vary by run (the simulator's endpoints, the demo's own API page) come in as arguments, so
nothing in the demo ever points at a real exchange's website.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from keyhygiene.core.rotation.journal import JournalHook, env_crash_hook

if TYPE_CHECKING:
    # The machine, the flow (asyncio) and the key pairs (cryptography) load when a rotation opens, not when the
    # window's banner asks which rotations wait (open_rotations, at start-up).
    from keyhygiene.core.models import Credentials, Finding, KeyProfile, KeyRecord
    from keyhygiene.core.rotation.flow import RotationFlow
    from keyhygiene.core.rotation.machine import Assessor, ExchangeOps, RevokeOutcome, RotationMachine
    from keyhygiene.core.service_info import ServiceInfo
    from keyhygiene.store.vault import Vault

VERIFY_TIMEOUT_S = 30 * 60  # core.rotation.flow.VERIFY_TIMEOUT_S (a test checks they agree)


def exchange_ops(endpoints: Mapping[str, str] | None = None,
                 key_page: Callable[[str], str | None] | None = None) -> ExchangeOps:
    """The real exchange calls (ccxt through keyhygiene.exchanges), optionally pointed at a simulator. ``key_page``
    replaces the exchanges' own API pages (the demo passes the simulator's page)."""
    from keyhygiene.core.rotation.machine import ExchangeOps
    from keyhygiene.exchanges.catalog import display_name, needs_passphrase
    from keyhygiene.exchanges.key_pages import key_page as exchange_key_page
    from keyhygiene.exchanges.revoke import supports_api_revoke

    eps = dict(endpoints or {})

    async def inspect(exchange: str, creds: Credentials, declared: list[str] | None) -> KeyProfile:
        from keyhygiene.exchanges.inspect import inspect_key

        return await inspect_key(exchange, creds, endpoints=eps, declared_permissions=declared)

    async def revoke(exchange: str, creds: Credentials) -> RevokeOutcome:
        from keyhygiene.exchanges.revoke import revoke_key

        return await revoke_key(exchange, creds, endpoints=eps)

    return ExchangeOps(inspect=inspect, revoke=revoke, can_revoke=supports_api_revoke,
                       key_page=key_page or exchange_key_page, display_name=display_name,
                       needs_passphrase=needs_passphrase)


def registry_services() -> Callable[[str], ServiceInfo | None]:
    """Consumer facts from the exposure registry (name, website, published egress IPs, needs, incidents): the one
    ``ServiceInfo`` every surface uses (core/service_info.py)."""
    from keyhygiene.core.registry import FILE_PREFIX, load_registry
    from keyhygiene.core.service_info import service_from

    registry = load_registry()

    def lookup(service: str) -> ServiceInfo | None:
        if service.startswith(FILE_PREFIX):
            return None
        svc = registry.get(service)
        return None if svc is None else service_from(svc)

    return lookup


def policy_assessor(vault: Vault) -> Assessor:
    """The hygiene rules' findings for a key and profile, under the vault's policy and the exposure registry."""
    # Imported here, not at the top: loading the registry and the rules is slow, and only a rotation needs them.
    from keyhygiene.core import rules
    from keyhygiene.core.policy import Policy
    from keyhygiene.core.registry import load_registry
    from keyhygiene.core.timeutil import utcnow

    policy = Policy.load(vault)
    registry = load_registry()

    def assess(record: KeyRecord, profile: KeyProfile) -> list[Finding]:
        return list(rules.evaluate(record, profile, policy=policy, registry=registry, now=utcnow()))

    return assess


def open_machine(vault: Vault, key_id: str, *, endpoints: Mapping[str, str] | None = None,
                 key_page: Callable[[str], str | None] | None = None, ops: ExchangeOps | None = None,
                 hook: JournalHook | None = env_crash_hook, **kw: Any) -> RotationMachine:
    """A machine for one key on the real collaborators (``ops`` replaces the exchange layer in tests)."""
    from keyhygiene.core.rotation.machine import RotationMachine

    try:
        services = registry_services()
    except Exception:  # noqa: BLE001 - a broken registry costs the checklist its IPs, not the rotation
        services = lambda _s: None  # noqa: E731
    machine = RotationMachine(vault, key_id, ops or exchange_ops(endpoints, key_page), services=services,
                              assess=policy_assessor(vault), hook=hook, **kw)
    machine.load()
    return machine


def open_flow(vault: Vault, key_id: str, *, verify_timeout: float = VERIFY_TIMEOUT_S, **kw: Any) -> RotationFlow:
    from keyhygiene.core.rotation.flow import RotationFlow

    return RotationFlow(open_machine(vault, key_id, **kw), verify_timeout=verify_timeout)


def open_rotations(vault: Vault) -> list[tuple[str, str]]:
    """Rotations saved half-way: (key id, title of the step waiting), for the window's "Resume" banner."""
    from keyhygiene.core.rotation.states import TITLES

    return [(r.key_id, TITLES.get(r.state, str(r.state))) for r in vault.rotation_journal(None).open_rotations()]


def rotation_history(vault: Vault, key_id: str) -> list[Any]:
    """Rotations of a key, newest first (``core.rotation.RotationRecord``)."""
    return vault.rotation_journal(None).history(key_id)
