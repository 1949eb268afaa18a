"""The connection to a team vault (OpenBao or HashiCorp Vault, KV v2, through ``hvac``) and what its errors mean.

Every server call goes through ``TeamClient.call``, which turns transport and HTTP failures into one of a few
plain statuses (server down, timeout, TLS, sealed, token refused, forbidden) and a ``TeamUnavailable`` that the
command line maps to exit 3, as for a missing keychain. Messages name the server and the path, never a token
or a secret.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from keyhygiene.core import redact
from keyhygiene.store.keychain import KeychainCorrupt, KeychainError, KeychainState, KeychainStatus

log = logging.getLogger(__name__)
_T = TypeVar("_T")
DEFAULT_MOUNT = "keyhygiene"
DEFAULT_TIMEOUT = 10.0
# The paths inside the mount (DESIGN.md item 9): secrets, the metadata beside them, and the rotation journal.
KEYS = "keys"
META = "meta"
ROTATIONS = "rotations"


class TeamReason(StrEnum):
    OK = "ok"
    DOWN = "down"  # connection refused, DNS, no route
    TIMEOUT = "timeout"
    TLS = "tls"  # the certificate could not be verified
    SEALED = "sealed"
    TOKEN_REFUSED = "token_refused"  # expired, revoked or unknown token
    FORBIDDEN = "forbidden"  # a valid token whose policy does not allow the request
    NOT_KV2 = "not_kv2"  # the mount is missing or is not a KV version 2 engine
    NOT_CONNECTED = "not_connected"
    REDIRECTED = "redirected"  # the server sent us elsewhere; the token is never sent after a redirect


# How each reason looks to the code above that already knows the keychain's states (exit 3, banners).
_STATE = {
    TeamReason.OK: KeychainState.AVAILABLE,
    TeamReason.DOWN: KeychainState.UNAVAILABLE,
    TeamReason.TIMEOUT: KeychainState.UNAVAILABLE,
    TeamReason.TLS: KeychainState.UNAVAILABLE,
    TeamReason.SEALED: KeychainState.LOCKED,
    TeamReason.TOKEN_REFUSED: KeychainState.REFUSED,
    TeamReason.FORBIDDEN: KeychainState.REFUSED,
    TeamReason.NOT_KV2: KeychainState.UNAVAILABLE,
    TeamReason.NOT_CONNECTED: KeychainState.UNAVAILABLE,
    TeamReason.REDIRECTED: KeychainState.UNAVAILABLE,
}


@dataclass(frozen=True)
class TeamConfig:
    """Where the team vault is. Kept in the local settings; the token is not part of it (it lives in the keychain)."""

    url: str
    mount: str = DEFAULT_MOUNT
    ca_cert: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "mount": self.mount, "ca_cert": self.ca_cert}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TeamConfig:
        return cls(url=str(d["url"]), mount=str(d.get("mount") or DEFAULT_MOUNT), ca_cert=d.get("ca_cert"))

    @property
    def slug(self) -> str:
        """A file-name-safe, stable name for this server and mount (the cache file's name)."""
        import hashlib

        return hashlib.sha256(f"{self.url.rstrip('/')}\0{self.mount}".encode()).hexdigest()[:16]

    @property
    def display(self) -> str:
        return f"team vault {self.url.rstrip('/')} ({self.mount})"


def team_message(reason: TeamReason, cfg: TeamConfig, detail: str = "") -> str:
    where = cfg.url.rstrip("/")
    text = {
        TeamReason.OK: f"The team vault at {where} is ready.",
        TeamReason.DOWN: f"The team vault at {where} does not answer: check that the server runs and the URL is "
                         "right. The window keeps showing the cached keys, read-only.",
        TeamReason.TIMEOUT: f"The team vault at {where} did not answer in time: check the network and the server. "
                            "The window keeps showing the cached keys, read-only.",
        TeamReason.TLS: f"The team vault's TLS certificate at {where} could not be verified; for a private CA "
                        "give its certificate with `keyhygiene team connect URL --ca-cert FILE`.",
        TeamReason.SEALED: f"The team vault at {where} is sealed: an operator must unseal it "
                           "(`bao operator unseal`). The window keeps showing the cached keys, read-only.",
        TeamReason.TOKEN_REFUSED: f"The team vault at {where} refused the token (expired, revoked or unknown): get a "
                                  "new token and run `keyhygiene team connect` again.",
        TeamReason.FORBIDDEN: f"Your token's policy does not allow this on the team vault at {where}: ask an admin "
                              "(`keyhygiene team policy` prints the roles' policies).",
        TeamReason.NOT_KV2: f"The team vault at {where} has no KV version 2 engine at {cfg.mount}/ that this token "
                            f"may use: enable one (`bao secrets enable -path={cfg.mount} kv-v2`), give its name "
                            "with --mount, or ask an admin for a policy (`keyhygiene team policy`).",
        TeamReason.NOT_CONNECTED: "No team vault is connected: run `keyhygiene team connect URL`.",
        TeamReason.REDIRECTED: f"The team vault at {where} answered with a redirect, which KeyHygiene does not "
                               "follow with your token: connect to the active node's or the load balancer's address.",
    }[reason]
    return f"{text} ({detail})" if detail else text


class TeamUnavailable(KeychainError):
    """The team vault cannot be used now. A KeychainError, so every caller that handles a locked or missing
    keychain (exit 3, the window's banner) handles this the same way."""

    noun = "team vault"

    def __init__(self, reason: TeamReason, cfg: TeamConfig, detail: str = "") -> None:
        self.reason = reason
        status = KeychainStatus(state=_STATE[reason], backend=cfg.display, message=team_message(reason, cfg))
        super().__init__(status, redact.scrub(detail) if detail else "")


class SecretsForbidden(KeychainCorrupt):
    """The token may read the key's metadata but not its secret (the auditor role). A KeychainCorrupt: this one key's
    secret cannot be read, and the audit judges it on its last inspection while the other keys go on."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(f"Key {key_id}: your role cannot read secrets in the team vault.")


class CheckAndSetConflict(Exception):
    """Someone wrote the path after we read it (KV v2 check-and-set refused the write)."""


class TeamClient:
    """One authenticated ``hvac`` client with the error mapping. Thread-safe for the calls we make."""

    def __init__(self, cfg: TeamConfig, token: str, client: Any = None) -> None:
        self.cfg = cfg
        redact.remember([token])
        self._token = token
        self._hvac: Any = client
        self._hvac_lock = threading.Lock()

    @property
    def has_token(self) -> bool:
        return bool(self._token) or self._hvac is not None

    @property
    def hvac(self) -> Any:
        """The hvac client, made on first use: importing hvac and requests costs ~120 ms, which the window's first
        frame on the team vault's cache does not wait for (the refresh that needs them runs on a worker)."""
        if self._hvac is None:
            with self._hvac_lock:
                if self._hvac is None:
                    import hvac

                    # hvac follows redirects by default, and requests keeps the X-Vault-Token header on the way: a
                    # request that carries the token must never be sent to another address than the one the user
                    # connected to.
                    self._hvac = hvac.Client(url=self.cfg.url, token=self._token, verify=self.cfg.ca_cert or True,
                                             timeout=self.cfg.timeout, allow_redirects=False,
                                             session=_session_for(self.cfg))
        return self._hvac

    @property
    def kv(self) -> Any:
        return self.hvac.secrets.kv.v2

    def call(self, fn: Callable[..., _T], *args: Any, path: str = "", secret_key: str | None = None,
             **kwargs: Any) -> _T:
        """``fn(*args, **kwargs)`` with failures mapped. ``secret_key`` marks a read of a key's secret: a 403 there
        from a token that is otherwise valid is SecretsForbidden (the auditor), not an outage."""
        import hvac.exceptions as hx
        import requests

        try:
            result = fn(*args, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise TeamUnavailable(TeamReason.TLS, self.cfg, _first_line(exc)) from None
        except requests.exceptions.Timeout:
            raise TeamUnavailable(TeamReason.TIMEOUT, self.cfg, f"after {self.cfg.timeout:g} s") from None
        except requests.exceptions.ConnectionError:
            raise TeamUnavailable(TeamReason.DOWN, self.cfg, "connection failed") from None
        except hx.VaultDown:
            raise TeamUnavailable(TeamReason.SEALED, self.cfg) from None
        except (hx.Forbidden, hx.Unauthorized):
            if not self.token_valid():
                raise TeamUnavailable(TeamReason.TOKEN_REFUSED, self.cfg) from None
            if secret_key is not None:
                raise SecretsForbidden(secret_key) from None
            raise TeamUnavailable(TeamReason.FORBIDDEN, self.cfg, f"403 on {self.cfg.mount}/{path}") from None
        except hx.InvalidRequest as exc:
            if "check-and-set" in str(exc):
                raise CheckAndSetConflict(path) from None
            raise
        except hx.VaultError as exc:
            if isinstance(exc, hx.InvalidPath):
                raise
            raise TeamUnavailable(TeamReason.DOWN, self.cfg, f"{type(exc).__name__} on {path}") from None
        # Without redirects followed, hvac hands a 3xx back as the raw response instead of raising.
        status = getattr(result, "status_code", None)
        if isinstance(status, int) and 300 <= status < 400:
            raise TeamUnavailable(TeamReason.REDIRECTED, self.cfg, f"{status} on {path}")
        return result

    def token_valid(self) -> bool:
        """Whether the server accepts our token at all (lookup-self is allowed by every token's default policy)."""
        import hvac.exceptions as hx

        try:
            self.hvac.auth.token.lookup_self()
            return True
        except (hx.Forbidden, hx.Unauthorized):
            return False
        except Exception:
            return True  # not a token problem; the caller reports what it saw

    # ---- status -------------------------------------------------------------------------------------------
    def health(self) -> TeamReason:
        """Server-level state without the token: down, sealed or ok."""
        import requests

        try:
            h = self.hvac.sys.read_health_status(method="GET")
        except requests.exceptions.SSLError:
            return TeamReason.TLS
        except requests.exceptions.Timeout:
            return TeamReason.TIMEOUT
        except requests.exceptions.ConnectionError:
            return TeamReason.DOWN
        except Exception:
            log.info("team vault health check failed", exc_info=True)
            return TeamReason.DOWN
        if 300 <= int(getattr(h, "status_code", 200) or 200) < 400:
            return TeamReason.REDIRECTED
        body = h if isinstance(h, dict) else _json_or_empty(h)
        if body.get("sealed") or getattr(h, "status_code", 200) == 503:
            return TeamReason.SEALED
        if body and not body.get("initialized", True):
            return TeamReason.SEALED
        return TeamReason.OK

    def probe(self) -> tuple[TeamReason, dict[str, Any]]:
        """Health, then the token, then the mount: the first problem found, and what the token is (policies, TTL)."""
        import hvac.exceptions as hx

        reason = self.health()
        if reason is not TeamReason.OK:
            return reason, {}
        try:
            info = self.call(self.hvac.auth.token.lookup_self).get("data") or {}
        except TeamUnavailable as exc:
            return exc.reason, {}
        token = {"policies": sorted(info.get("policies") or []), "ttl": info.get("ttl"),
                 "expire_time": info.get("expire_time"), "display_name": info.get("display_name")}
        try:
            mount = self.call(self.hvac.adapter.get, f"/v1/sys/internal/ui/mounts/{self.cfg.mount}",
                              path="(mount)")
        except hx.InvalidPath:
            return TeamReason.NOT_KV2, token
        except TeamUnavailable as exc:
            # The server answers 403 both for a mount that does not exist and for one the token may not use.
            return (TeamReason.NOT_KV2 if exc.reason is TeamReason.FORBIDDEN else exc.reason), token
        data = (mount or {}).get("data") or {} if isinstance(mount, dict) else {}
        if data.get("type") != "kv" or str((data.get("options") or {}).get("version")) != "2":
            return TeamReason.NOT_KV2, token
        return TeamReason.OK, token


def _session_for(cfg: TeamConfig) -> Any:
    """The session hvac sends through (team_http.LeanSession: a quarter of requests' CPU per call), with the
    environment (proxies, REQUESTS_CA_BUNDLE) read once, here, as requests would read it on every request."""
    from keyhygiene.store.team_http import LeanSession

    session = LeanSession(cfg.url)
    settings = session.merge_environment_settings(cfg.url, {}, None, cfg.ca_cert or True, None)
    session.proxies = settings["proxies"]
    session.verify = settings["verify"]
    session.trust_env = False  # what it would read is in proxies and verify now (no ~/.netrc auth: the token is)
    return session


def _json_or_empty(resp: Any) -> dict[str, Any]:
    try:
        body = resp.json()
        return body if isinstance(body, dict) else {}
    except Exception:
        return {}


def _first_line(exc: BaseException) -> str:
    return redact.scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:200]
