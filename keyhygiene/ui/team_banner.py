"""The window on a team vault whose server cannot be used: the cached keys, read-only, and a banner that says why.

"Team vault unavailable: the server does not answer — showing what was cached at 14:02; changes are off", with
Retry (a refresh on a worker). The window's writing actions (add, edit, share, remove, rotate) are off meanwhile
(``read_only`` is what ``MainWindow._update_key_actions`` asks). Made on the first report of a team vault's state,
so a local window never builds it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from keyhygiene.core import redact
from keyhygiene.core.timeutil import utcnow

if TYPE_CHECKING:
    from keyhygiene.ui.main_window import MainWindow

# What each TeamReason (store/team_client.py) is, in a few words for the banner's title.
_SHORT = {
    "down": "the server does not answer",
    "timeout": "the server did not answer in time",
    "tls": "its TLS certificate could not be verified",
    "sealed": "the server is sealed",
    "token_refused": "the token was refused (expired or revoked)",
    "forbidden": "your token's policy does not allow this (403)",
    "not_kv2": "the mount is missing or not KV version 2",
    "not_connected": "no token",
    "redirected": "the server redirected the request",
}


# Why a change is refused while the team vault is read-only, said the same everywhere: the tooltip of a button that
# would change the vault (detail pane), the main window's status line when a shortcut or button is refused
# (READ_ONLY_TIP), and after "Import: " / "Clean up: " in the scan window (READ_ONLY_WHY).
READ_ONLY_WHY = ("off while the team vault is unavailable: its cached keys are read-only (Retry in the banner at the "
                 "top of the main window when the server is back).")
READ_ONLY_TIP = "Changes are " + READ_ONLY_WHY


def short_reason(reason: object) -> str:
    code = str(getattr(getattr(reason, "reason", None), "value", "") or "")
    return _SHORT.get(code, "it could not be read")


def cached_at_text(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "an earlier start"
    local = at.astimezone()
    return f"{local:%H:%M}" if local.date() == now.astimezone().date() else f"{local:%Y-%m-%d %H:%M}"


def writing_actions(window: MainWindow) -> list[Any]:
    """The actions that change the vault: off while the team vault is read-only."""
    return [window.act_add, window.act_edit, window.act_share, window.act_remove, window.act_rotate]


def show_backend_state(window: MainWindow, reason: object) -> None:
    """``Services.backendChecked``: the banner and the actions after a team vault refresh (``reason`` None: fine)."""
    banner = getattr(window, "team_banner", None)
    if banner is None:
        if reason is None:
            return
        from keyhygiene.ui.widgets import Banner

        banner = Banner(window._keys_page)
        banner.setAccessibleName("Team vault")
        window._page_layout.insertWidget(0, banner)
        window.team_banner = banner
    services = window.services
    if reason is None:
        banner.hide()
        status = services.keychain_status
        window.act_add.setEnabled(status is None or status.usable)
    else:
        message = redact.scrub(getattr(getattr(reason, "status", None), "message", None) or str(reason))
        at = cached_at_text(services.cache_refreshed_at, utcnow())
        banner.show_message(
            f"Team vault unavailable: {short_reason(reason)} \u2014 showing what was cached at {at}; changes are off",
            message, "critical", [("Retry", lambda: retry(window))])
        window.act_add.setEnabled(False)
        keychain_banner = getattr(window, "keychain_banner", None)
        if keychain_banner is not None:
            keychain_banner.hide()  # the same outage, said once
    window._update_key_actions()


def retry(window: MainWindow) -> None:
    window.team_banner.show_message("Team vault", "Asking the server again\u2026", "info")
    window.services.refresh_backend()
    window.services.check_keychain()
