"""What every exchange adapter provides, and the per-exchange permission table with the source of each mapping."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.core.permissions import ALL_PERMISSIONS, Permission


@dataclass(frozen=True)
class Grant:
    """One mapping decision: an exchange's raw permission token → vocabulary permissions, and why."""

    raw: str
    permissions: tuple[str, ...]
    source: str

    def __post_init__(self) -> None:
        for p in self.permissions:
            Permission(p)  # a typo in a table fails at import, not silently at run time


class PermissionTable:
    """Maps raw tokens; a token not in the table is reported in ``other`` under its raw name, never dropped."""

    def __init__(self, grants: Iterable[Grant]) -> None:
        self.grants: dict[str, Grant] = {}
        for g in grants:
            if g.raw in self.grants:
                raise ValueError(f"duplicate mapping for {g.raw!r}")
            self.grants[g.raw] = g

    def map(self, raw_tokens: Iterable[str]) -> tuple[list[str], list[str]]:
        perms: set[str] = set()
        other: set[str] = set()
        for tok in raw_tokens:
            g = self.grants.get(tok)
            if g is None:
                other.add(str(tok))
            elif g.permissions:
                perms.update(g.permissions)
            else:
                other.add(str(tok))  # known, but outside the vocabulary (e.g. FIX API, Earn)
        return sorted(perms), sorted(other)


@dataclass(frozen=True)
class Endpoint:
    """An HTTP endpoint reached through a ccxt implicit method. The read-only guard checks (http, path)."""

    method: str  # ccxt implicit method name, e.g. "sapi_get_account_apirestrictions"
    http: str  # "GET" / "POST"
    path: str  # path as sent, e.g. "/sapi/v1/account/apiRestrictions"


class ParseError(ValueError):
    """The exchange answered, but not in the documented shape."""


class Adapter:
    """One exchange. Subclasses fill the class attributes and implement ``parse`` (pure: response → profile)."""

    exchange_id: ClassVar[str]
    key_info: ClassVar[Endpoint]
    # Other read endpoints this adapter may call (server time for clock resync, liveness reads).
    read_endpoints: ClassVar[tuple[Endpoint, ...]] = ()
    table: ClassVar[PermissionTable]
    # True when ccxt's signer uses options['timeDifference'] so load_time_difference() fixes clock skew.
    supports_time_resync: ClassVar[bool] = False
    # True when the exchange reports the key's permissions (False: liveness only, permissions declared).
    reports_permissions: ClassVar[bool] = True
    ccxt_options: ClassVar[Mapping[str, Any]] = {}
    # The requests one check makes one after another (each waits for the answer before it): what the audit's
    # schedule must allow for (audit_runner.start_urgency). A contract test counts them against the simulator.
    requests_in_turn: ClassVar[int] = 1

    def params(self, creds: Credentials) -> dict[str, Any]:
        return {}

    def configure(self, client: Any) -> None:
        """Adjust a new ccxt client after the endpoint override, before any request. Default: nothing.

        For signers that name the contacted URL (Coinbase's JWT ``uri`` claim) and need help with a non-https
        override; keep such patches tiny and leave the signing itself to ccxt.
        """

    async def fetch(self, client: Any, creds: Credentials) -> Any:
        return await getattr(client, self.key_info.method)(self.params(creds))

    def parse(self, data: Any, profile: KeyProfile) -> None:
        """Fill ``profile`` from the decoded response; raise ParseError on an undocumented shape."""
        raise NotImplementedError

    def apply_declared(self, profile: KeyProfile, declared: list[str] | None) -> None:
        """After a successful ``parse``: where the exchange does not report the key's permissions beyond what the
        answer itself proves (``reports_permissions`` False), add what the user declared and mark the profile
        "declared" ("unknown" when nothing was declared). Nothing is ever inferred from account-level flags."""
        if self.reports_permissions:
            return
        if declared is None:
            profile.permissions_source = "unknown"
            return
        profile.permissions = sorted(set(profile.permissions) | {p for p in declared if p in ALL_PERMISSIONS})
        profile.permissions_source = "declared"

    def classify(self, http_status: int | None, body: Any, exc: Exception) -> tuple[Status, str] | None:
        """Exchange-specific error codes → (status, plain message). None: fall back to the generic mapping."""
        return None

    def allowed(self) -> tuple[Endpoint, ...]:
        return (self.key_info, *self.read_endpoints)


def envelope(data: Any, *keys: str) -> Any:
    """Walk into ``data[k1][k2]…`` and raise ParseError naming the missing part."""
    cur = data
    for k in keys:
        if not isinstance(cur, Mapping) or k not in cur:
            raise ParseError(f"response has no {'.'.join(keys)}")
        cur = cur[k]
    return cur


def int_code(body: Any, *fields: str) -> int | None:
    """An exchange's numeric error code from the first of ``fields`` present in a JSON object body; None when
    the body is not an object or the code is missing or not a number (``"10003"`` and ``10003`` both count)."""
    if not isinstance(body, Mapping):
        return None
    for f in fields or ("code",):
        if f in body and body[f] is not None:
            try:
                return int(body[f])
            except (TypeError, ValueError):
                return None
    return None


def as_bool(value: Any) -> bool | None:
    """Exchanges send true/"true"/1/"1"; anything unrecognised is 'does not say'."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("true", "1", "yes"):
            return True
        if v in ("false", "0", "no", ""):
            return False
    return None


def split_ips(value: Any) -> list[str] | None:
    """An IP list given as a list or a comma/space/semicolon separated string; None when absent."""
    if value is None:
        return None
    if isinstance(value, list):
        items = [str(v).strip() for v in value]
    elif isinstance(value, str):
        items = [s.strip() for s in value.replace(";", ",").replace(" ", ",").split(",")]
    else:
        return None
    return [i for i in items if i]


MIN_VISIBLE = 4  # a masked key showing fewer characters than this names no key in particular


def masked_matches(masked: Any, api_key: str) -> bool:
    """Whether an exchange's masked key (``abcd****wxyz``, ``abcd****``) is ``api_key``: the characters it shows
    before and after the stars must be the key's own, and there must be at least ``MIN_VISIBLE`` of them (a bare
    ``****`` would match every key). Without stars, only the key itself matches."""
    if not isinstance(masked, str) or not masked:
        return False
    if "*" not in masked:
        return masked == api_key
    head, tail = masked.split("*", 1)[0], masked.rsplit("*", 1)[-1]
    shown = len(head) + len(tail)
    return MIN_VISIBLE <= shown <= len(api_key) and api_key.startswith(head) and api_key.endswith(tail)
