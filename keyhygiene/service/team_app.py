"""The team vault's use cases on the one ``App`` (Settings' "Team vault" section): status, connect, disconnect, and
reopening the app on the backend that is connected now.

Thin over ``service/team.py``, imported only when called: a local user's process never loads hvac.
All of them block on the network: the window runs them on the service's pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keyhygiene.store.vault import Vault

if TYPE_CHECKING:
    from keyhygiene.service.team import TeamStatus
    from keyhygiene.store.team_client import TeamConfig


class TeamUseCases:
    vault: Vault

    def team_status(self) -> TeamStatus:
        """Server, mount, the token's role and name, the number of keys, when the cache last matched the server."""
        from keyhygiene.service import team

        return team.status(self.vault.paths, self.vault.resolve_service)

    def team_connect(self, url: str, token: str, mount: str, ca_cert: str | None = None) -> TeamStatus:
        """Check the server and the token, keep the token in the OS keychain and the server in the settings
        (``keyhygiene team connect``); TeamUnavailable / ValidationError / KeychainError when it cannot."""
        from keyhygiene.service import team

        return team.connect(self.vault.paths, url, token, mount=mount or team.DEFAULT_MOUNT, ca_cert=ca_cert,
                            service_resolver=self.vault.resolve_service)

    def team_disconnect(self) -> TeamConfig | None:
        """Back to the local vault (``keyhygiene team disconnect``): the team's keys stay on the server."""
        from keyhygiene.service import team

        return team.disconnect(self.vault.paths)

    def open_current_backend(self) -> Vault:
        """The backend ``paths`` names now (after a connect or disconnect), opened on its cache for the window; the
        caller swaps it in with ``use_vault`` on the GUI thread and refreshes it on a worker."""
        from keyhygiene.service.backend import open_backend

        new = open_backend(self.vault.paths, self.vault.resolve_service, offline_ok=True, refresh=False)
        return new

    def use_vault(self, vault: Vault) -> Vault:
        """Make ``vault`` the app's; returns the one it replaces, for the caller to close (off the GUI thread: a
        team vault waits for its inspections to reach the server)."""
        old, self.vault = self.vault, vault
        return old
