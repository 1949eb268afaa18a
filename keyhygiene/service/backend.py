"""Which vault backend the commands and the window get: the local one (OS keychain + SQLite, the default) or the
team vault that ``keyhygiene team connect`` recorded in the local settings.

Kept light on purpose: a local user's every command passes here, and the team vault's modules (hvac, requests,
thread pools) are imported only when a team vault is connected.
"""

from __future__ import annotations

from collections.abc import Callable

from keyhygiene.paths import AppPaths
from keyhygiene.store.vault import Vault

TEAM_SETTING = "team_vault"


def open_backend(paths: AppPaths, service_resolver: Callable[[str], str] | None = None,
                 *, offline_ok: bool = False, refresh: bool = True) -> Vault:
    """The vault every command and the window use: the team vault when one is connected, else the local one.

    The team vault refreshes its cache from the server first. When the server cannot be used this raises
    TeamUnavailable (exit 3), or with ``offline_ok`` returns the vault on its cache, ``offline`` set to the
    reason, for read-only display. ``refresh=False`` (the window) opens the team vault on its cache without a
    network call; the caller refreshes it off the GUI thread (``App.refresh_vault``)."""
    from keyhygiene.exchanges import catalog  # the module only: ccxt loads when a check needs it

    local = Vault(paths, service_resolver=service_resolver, catalog=catalog)
    try:
        raw = local.repo.get_setting(TEAM_SETTING)
    except BaseException:
        local.close()
        raise
    if not raw:
        return local
    from keyhygiene.service.team import open_team  # only now: hvac and the team stack

    team = open_team(local, raw, service_resolver, offline_ok=offline_ok, refresh=refresh)
    team.catalog = catalog  # keys added to the team vault are checked against ccxt as local ones are
    return team


def team_connected(paths: AppPaths) -> bool:
    """Whether the data dir is connected to a team vault; creates nothing when the data dir does not exist yet."""
    if not paths.database.is_file():
        return False
    with Vault(paths) as local:
        return bool(local.repo.get_setting(TEAM_SETTING))
