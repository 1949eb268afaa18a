"""Where to look when the user names no folder: the usual homes of trading bots and their configs.

Named bot folders and development folders are scanned to any depth; the home folder itself only two levels
deep (``~/.env``, ``~/mybot/.env``, ``~/mybot/user_data/config.json``), because below that it is mostly other
programs' data. ``~/.cryptohopper`` and ``~/.config`` are where CLIs keep their logins.
"""

from __future__ import annotations

from pathlib import Path

from keyhygiene.core.discovery.walker import Root

HOME_DEPTH = 2

# Relative to the home folder. Case matters on Linux: both spellings the projects' docs use are listed.
FULL_DEPTH_DIRS: tuple[str, ...] = (
    "freqtrade", "ft_userdata", "user_data",
    "OctoBot", "octobot",
    "hummingbot", "hummingbot_files", "hummingbot-deploy",
    "gunbot", "Gunbot", "GUNBOT",
    "jesse", "jesse-bot",
    ".cryptohopper", ".ccxt", ".config",
    "bots", "trading", "crypto",
    "projects", "Projects", "code", "src", "dev", "git", "repos", "workspace", "work",
    "Documents", "Desktop", "Downloads",
)


def default_roots(home: Path | None = None) -> list[Root]:
    """Existing default folders, full-depth ones first (see scan(): an already-walked folder is not re-walked)."""
    base = home if home is not None else Path.home()
    roots = [Root(base / d) for d in FULL_DEPTH_DIRS if (base / d).is_dir()]
    roots.append(Root(base, max_depth=HOME_DEPTH))
    return roots
