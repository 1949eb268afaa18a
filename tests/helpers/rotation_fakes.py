"""A fake exchange for rotation tests: inspect and revoke as the state machine sees them, with a call log."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date

from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.core.rotation.machine import ExchangeOps
from keyhygiene.core.service_info import IncidentInfo, ServiceInfo
from tests.helpers.secrets_watch import register_secret

# What the registry would say about the consumers the rotation tests use.
SERVICES = {
    "3commas": ServiceInfo(id="3commas", name="3Commas", ips=("18.0.0.1", "18.0.0.2"), ips_published="yes",
                           needs="trade", website="https://3commas.io",
                           incidents=(IncidentInfo(date=date(2022, 12, 28), title="An API-key leak",
                                                   when="2022-12-28", kind="key_leak", id="3commas-2022-12"),)),
    "koinly": ServiceInfo(id="koinly", name="Koinly", needs="read", website="https://koinly.io"),
}


@dataclass
class FakeKey:
    permissions: set[str] = field(default_factory=lambda: {"read", "spot_trade"})
    ip_restricted: bool | None = True
    account: str | None = "acct-1"
    is_master: bool | None = True
    revoked: bool = False
    status: Status = Status.OK  # forced answer while not revoked (e.g. ip_not_allowed)
    dead_status: Status = Status.INVALID_KEY  # answer once revoked


@dataclass
class RevokeAnswer:
    supported: bool
    ok: bool
    message: str


class FakeExchange:
    """Keys by api_key. ``unreachable`` makes every call answer ``unreachable``."""

    def __init__(self, api_revoke: set[str] | None = None) -> None:
        self.keys: dict[str, FakeKey] = {}
        self.api_revoke = api_revoke if api_revoke is not None else {"bybit"}
        self.calls: list[tuple[str, str]] = []  # (operation, masked key)
        self.unreachable = False
        self.revoke_refuses = False

    def add(self, **kw: object) -> Credentials:
        creds = Credentials(api_key="AK" + secrets.token_hex(10), secret="SE" + secrets.token_hex(16))
        register_secret(creds.api_key, creds.secret)
        self.keys[creds.api_key] = FakeKey(**kw)  # type: ignore[arg-type]
        return creds

    def count(self, op: str) -> int:
        return sum(1 for o, _k in self.calls if o == op)

    async def inspect(self, exchange: str, creds: Credentials, declared: list[str] | None) -> KeyProfile:
        self.calls.append(("inspect", mask_key(creds.api_key)))
        prof = KeyProfile(exchange=exchange, key=mask_key(creds.api_key))
        k = self.keys.get(creds.api_key)
        if self.unreachable:
            prof.status, prof.message = Status.UNREACHABLE, "no answer"
        elif k is None:
            prof.status, prof.message = Status.INVALID_KEY, "unknown key"
        elif k.revoked:
            prof.status, prof.message = k.dead_status, "rejected"
        elif k.status is not Status.OK:
            prof.status, prof.message = k.status, "refused"
        else:
            prof.permissions = sorted(k.permissions)
            prof.ip_restricted = k.ip_restricted
            prof.is_master = k.is_master
            prof.account_id = k.account  # type: ignore[attr-defined]
        return prof

    async def revoke(self, exchange: str, creds: Credentials) -> RevokeAnswer:
        self.calls.append(("revoke", mask_key(creds.api_key)))
        if exchange not in self.api_revoke:
            return RevokeAnswer(False, False, "no API")
        k = self.keys.get(creds.api_key)
        if k is None or k.revoked:
            return RevokeAnswer(True, False, "invalid key")
        if self.revoke_refuses:
            return RevokeAnswer(True, False, "The exchange refused to delete this key through the API.")
        k.revoked = True
        return RevokeAnswer(True, True, "deleted")

    def works(self, creds: Credentials | None) -> bool:
        if creds is None:
            return False
        k = self.keys.get(creds.api_key)
        return k is not None and not k.revoked

    def ops(self) -> ExchangeOps:
        return ExchangeOps(
            inspect=self.inspect,
            revoke=self.revoke,
            can_revoke=lambda ex: ex in self.api_revoke,
            key_page=lambda ex: f"https://{ex}.example/api-management",
            display_name=str.capitalize,
        )


class FakeClock:
    """Monotonic time that only moves when the machine sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
