"""Team vault use cases: connect, status, disconnect, import, and the choice of backend every command opens.

The local vault (OS keychain + SQLite) stays the default. ``team connect`` checks the server, keeps the token in
the OS keychain (the local vault's namespace; never a file, never argv) and records the server in the local
settings; from then on ``open_backend`` hands every command the team vault instead, and everything above works
unchanged. ``team disconnect`` goes back to the local vault; the team's keys stay on the server.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from keyhygiene.core import redact
from keyhygiene.core.models import Credentials
from keyhygiene.core.timeutil import iso
from keyhygiene.paths import AppPaths
from keyhygiene.service.backend import TEAM_SETTING, open_backend
from keyhygiene.store.keychain import CURRENT, PENDING, KeychainError
from keyhygiene.store.team_client import DEFAULT_MOUNT, TeamClient, TeamConfig, TeamReason, TeamUnavailable
from keyhygiene.store.team_client import team_message as _team_message
from keyhygiene.store.team_vault import TeamVault
from keyhygiene.store.vault import ValidationError, Vault

log = logging.getLogger(__name__)
TOKEN_KEY_ID = "team-token"  # the token's entry in the local keychain namespace (key ids are "k" + hex)
TOKEN_ENVS = ("BAO_TOKEN", "VAULT_TOKEN")


# ---- configuration ----------------------------------------------------------------------------------------
def validated_url(url: str) -> str:
    """https, or plain http only to this machine (a dev server): a token must not cross a network in clear."""
    u = url.strip().rstrip("/")
    parts = urlsplit(u)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("url", f"{url!r} is not a server address such as https://vault.example.com:8200.")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValidationError(
            "url", f"{u} is plain http to another machine: the token and the keys would cross the network "
                   "unencrypted. Use https (with --ca-cert FILE for a private CA)."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValidationError("url", f"{u}: give the server's address only (the mount goes in --mount).")
    return u


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def config_of(local: Vault) -> TeamConfig | None:
    raw = local.repo.get_setting(TEAM_SETTING)
    return TeamConfig.from_json(raw) if raw else None


def connected_mount(paths: AppPaths) -> str | None:
    if not paths.database.is_file():  # `team policy` must not create a vault just to ask
        return None
    with Vault(paths) as local:
        cfg = config_of(local)
    return cfg.mount if cfg else None


def env_token() -> str | None:
    for name in TOKEN_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            redact.remember([value])
            return value
    return None


def stored_token(local: Vault) -> str | None:
    creds = local.secrets.get(TOKEN_KEY_ID, CURRENT)
    return creds.secret if creds else None


# ---- the backend seam (service/backend.py decides; this opens the team side) ------------------------------
def open_team(local: Vault, raw: dict[str, Any], service_resolver: Callable[[str], str] | None = None,
              *, offline_ok: bool = False, refresh: bool = True) -> Vault:
    """The team vault recorded in ``local``'s settings (``raw``); closes ``local``. Without ``refresh`` it is
    opened on its cache alone (no network call); ``refresh_team`` brings it up to date later."""
    paths = local.paths
    missing: TeamUnavailable | None = None
    try:
        cfg = TeamConfig.from_json(raw)
        try:
            token = _token_for(local, cfg)
        except TeamUnavailable as exc:
            if not offline_ok:
                raise
            token, missing = "", exc  # no token: the cache can still be shown, read-only, with the reason
    finally:
        local.close()
    team = TeamVault(paths, cfg, token, service_resolver, refresh=False)
    if missing is not None:
        team.offline = missing
        return team
    if not refresh:
        return team
    try:
        team.refresh()
    except TeamUnavailable as exc:
        if not offline_ok:
            team.close()
            raise
        team.offline = exc
    except BaseException:
        team.close()
        raise
    return team


def refresh_team(vault: Vault) -> TeamUnavailable | None:
    """Bring a team vault's cache up to date with the server; the reason when the server cannot be used (the
    vault's ``offline`` is set to it, and cleared again once a refresh works). A local vault: nothing to do."""
    if not isinstance(vault, TeamVault):
        return None
    if isinstance(vault.offline, TeamUnavailable) and not vault.client.has_token:
        return vault.offline  # no token at all: only connecting again helps
    try:
        vault.refresh()
    except TeamUnavailable as exc:
        vault.offline = exc
        return exc
    vault.offline = None
    return None


def _token_for(local: Vault, cfg: TeamConfig) -> str:
    """The token kept at connect time; the environment's only when the keychain holds none (headless scripts)."""
    try:
        token = stored_token(local)
    except KeychainError:
        token = None
        if env_token() is None:
            raise
    token = token or env_token()
    if not token:
        raise TeamUnavailable(TeamReason.TOKEN_REFUSED, cfg, "no token in the keychain; run `keyhygiene team "
                                                             "connect` again or set BAO_TOKEN")
    redact.remember([token])
    return token


# ---- connect / disconnect / status ------------------------------------------------------------------------
@dataclass
class TeamStatus:
    connected: bool
    url: str | None = None
    mount: str | None = None
    ca_cert: str | None = None
    state: str = "unavailable"
    reason: str = TeamReason.NOT_CONNECTED.value
    message: str = ""
    token: dict[str, Any] | None = None
    keys: int | None = None
    cache: str | None = None
    refreshed_at: str | None = None  # when the cache last matched the server (the window's "cache age")

    @property
    def usable(self) -> bool:
        return self.reason == TeamReason.OK.value

    def to_json(self) -> dict[str, Any]:
        return {
            "connected": self.connected, "url": self.url, "mount": self.mount, "ca_cert": self.ca_cert,
            "state": self.state, "reason": self.reason, "message": self.message, "token": self.token,
            "keys": self.keys, "cache": self.cache,
        }


def connect(paths: AppPaths, url: str, token: str, mount: str = DEFAULT_MOUNT, ca_cert: str | None = None,
            service_resolver: Callable[[str], str] | None = None) -> TeamStatus:
    """Check the server, the token and the mount; then keep the token in the keychain and the server in the
    settings. Nothing is kept when any check fails (TeamUnavailable, exit 3; ValidationError, exit 2)."""
    cfg = TeamConfig(url=validated_url(url), mount=_validated_mount(mount), ca_cert=_validated_ca(ca_cert))
    if not token.strip():
        raise ValidationError("token", "No token given: set BAO_TOKEN or VAULT_TOKEN, or type it at the prompt.")
    token = token.strip()
    redact.remember([token])
    reason, _info = TeamClient(cfg, token).probe()
    if reason is not TeamReason.OK:
        raise TeamUnavailable(reason, cfg)
    with Vault(paths, service_resolver=service_resolver) as local:
        local.secrets.require()  # the token goes to the keychain or nowhere: exit 3 before anything is written
        local.secrets.put(TOKEN_KEY_ID, Credentials(api_key=token, secret=token), CURRENT)
        local.repo.set_setting(TEAM_SETTING, cfg.to_json())
    return status(paths, service_resolver)


def _validated_mount(mount: str) -> str:
    m = (mount or "").strip().strip("/")
    if not m or any(ch.isspace() for ch in m) or ".." in m.split("/"):
        raise ValidationError("mount", f"{mount!r} is not a mount path such as {DEFAULT_MOUNT} or secret.")
    return m


def _validated_ca(ca_cert: str | None) -> str | None:
    if not ca_cert:
        return None
    p = Path(ca_cert).expanduser()
    if not p.is_file():
        raise ValidationError("ca_cert", f"The CA certificate {ca_cert} does not exist or is not a file.")
    return str(p.resolve())


def disconnect(paths: AppPaths) -> TeamConfig | None:
    """Back to the local vault: forget the server and the token, drop the cache. The team's keys stay on the
    server. Returns what was connected (None when nothing was)."""
    with Vault(paths) as local:
        cfg = config_of(local)
        if cfg is None:
            return None
        local.secrets.delete(TOKEN_KEY_ID, CURRENT)
        local.repo.set_setting(TEAM_SETTING, None)
    cache = TeamVault.cache_path(paths, cfg)
    for suffix in ("", "-wal", "-shm"):
        Path(str(cache) + suffix).unlink(missing_ok=True)
    return cfg


def status(paths: AppPaths, service_resolver: Callable[[str], str] | None = None) -> TeamStatus:
    with Vault(paths, service_resolver=service_resolver) as local:
        cfg = config_of(local)
        if cfg is None:
            return TeamStatus(connected=False, message=_team_message(TeamReason.NOT_CONNECTED, TeamConfig(url="")))
        st = TeamStatus(connected=True, url=cfg.url, mount=cfg.mount, ca_cert=cfg.ca_cert,
                        cache=str(TeamVault.cache_path(paths, cfg)))
        try:
            token = _token_for(local, cfg)
        except TeamUnavailable as exc:
            return _failed(st, exc)
    reason, info = TeamClient(cfg, token).probe()
    if reason is not TeamReason.OK:
        return _failed(st, TeamUnavailable(reason, cfg), info)
    try:
        with open_backend(paths, service_resolver) as team:
            st.keys = len(team.list_keys())
            st.refreshed_at = _refreshed_at(team)
    except TeamUnavailable as exc:
        st.refreshed_at = _cached_at(paths, cfg)
        return _failed(st, exc, info)
    st.state, st.reason, st.token = "available", TeamReason.OK.value, info
    st.message = _team_message(TeamReason.OK, cfg)
    return st


def _refreshed_at(vault: Vault) -> str | None:
    at = vault.refreshed_at() if isinstance(vault, TeamVault) else None
    return iso(at) if at else None


def _cached_at(paths: AppPaths, cfg: TeamConfig) -> str | None:
    """When the cache of ``cfg`` last matched the server, read without a server (None: no cache yet)."""
    if not TeamVault.cache_path(paths, cfg).is_file():
        return None
    from keyhygiene.store.database import Database
    from keyhygiene.store.repository import Repository
    from keyhygiene.store.team_vault import REFRESHED_SETTING

    db = Database(TeamVault.cache_path(paths, cfg))
    try:
        return Repository(db).get_setting(REFRESHED_SETTING)
    finally:
        db.close()


def _failed(st: TeamStatus, exc: TeamUnavailable, info: dict[str, Any] | None = None) -> TeamStatus:
    st.state, st.reason, st.message = exc.status.state.value, exc.reason.value, exc.status.message
    st.token = info or None
    return st


# ---- moving in --------------------------------------------------------------------------------------------
@dataclass
class ImportItem:
    key_id: str
    label: str
    result: str  # imported | already | skipped | failed
    message: str = ""

    def to_json(self) -> dict[str, str]:
        return {"id": self.key_id, "label": self.label, "result": self.result, "message": self.message}


@dataclass
class ImportResult:
    items: list[ImportItem] = field(default_factory=list)
    removed_locally: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(i.result in ("imported", "already") for i in self.items)


def import_local(paths: AppPaths, service_resolver: Callable[[str], str] | None = None, *,
                 remove_local: bool = False, progress: Callable[[ImportItem], None] | None = None) -> ImportResult:
    """Copy every local key (secret, record, sharings, inspections) into the connected team vault, keeping its id.

    All-or-nothing per key (the team vault's add removes the secret again when its metadata is refused);
    resumable (a key already there with the same id and secret counts as done); with ``remove_local`` a local
    key is deleted only after its secret and record were read back from the team vault and matched."""
    local = Vault(paths, service_resolver=service_resolver)
    try:
        cfg = config_of(local)
        if cfg is None:
            raise TeamUnavailable(TeamReason.NOT_CONNECTED, TeamConfig(url=""))
        local.secrets.require()
        team = open_backend(paths, service_resolver)
    except BaseException:
        local.close()
        raise
    result = ImportResult()
    try:
        assert isinstance(team, TeamVault)

        open_rotations = {r.key_id for r in local.rotation_journal(None).open_rotations()}
        for rec in local.list_keys():
            item = _import_one(local, team, rec, open_rotations)
            result.items.append(item)
            if progress is not None:
                progress(item)
        if remove_local:
            for item in result.items:
                if item.result in ("imported", "already") and _verified(local, team, item.key_id):
                    local.remove_key(item.key_id)
                    result.removed_locally.append(item.key_id)
    finally:
        team.close()
        local.close()
    return result


def _import_one(local: Vault, team: TeamVault, rec: Any, open_rotations: set[str]) -> ImportItem:
    item = ImportItem(rec.id, rec.label, "failed")
    if rec.id in open_rotations:
        item.result, item.message = "skipped", "a rotation is in progress: finish or cancel it, then import again"
        return item
    creds = local.credentials(rec.id)
    if creds is None:
        item.result, item.message = "skipped", "its secret is missing from the keychain"
        return item
    other = team.repo.find_by_digest(rec.key_sha256)
    if other is not None:
        if other.id == rec.id and _verified(local, team, rec.id):
            item.result, item.message = "already", "already in the team vault"
        else:
            item.result, item.message = "skipped", f"the team vault already holds this key as {other.id}"
        return item
    inspections = local.repo.inspection_history(rec.id, 20)
    team.import_record(rec, creds, inspections)
    if not _verified(local, team, rec.id):
        item.message = "the copy in the team vault does not read back the same; nothing was removed locally"
        return item
    item.result = "imported"
    return item


def _verified(local: Vault, team: TeamVault, key_id: str) -> bool:
    """The team vault's copy, read back from the server, has the local key's secret and record."""
    try:
        theirs = team.secrets.get(key_id, CURRENT)
        mine = local.credentials(key_id)
        doc = team.read_record(key_id)
    except (KeychainError, LookupError):
        return False
    rec = local.get_key(key_id)
    return (theirs is not None and theirs == mine and doc is not None and doc.key_sha256 == rec.key_sha256
            and sorted(doc.shared_with) == sorted(rec.shared_with) and not team.secrets.has(key_id, PENDING))
