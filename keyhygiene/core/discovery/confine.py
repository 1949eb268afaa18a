"""Where the scanner may write: the demo changes nothing outside its own temporary folder (DESIGN.md §10).

The demo's vault lives in memory and its folder is deleted on quit, so a key imported from a user's file, or a
backup taken before cleaning one, would be gone with it while the user's file had lost the key. So when the vault's
paths carry a ``sandbox`` (only the demo's do), import and clean-up refuse every file outside it, here in the core
where no surface can forget the check; scanning stays read-only and works anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEMO_REFUSAL = (
    "The demo only reads your files: anything it stores is gone when it closes, so it neither imports keys from "
    "them nor cleans them up. Try import and clean-up on the demo's sample files, or run KeyHygiene without "
    "--demo to do it for real."
)


def sandbox_of(vault: Any) -> Path | None:
    """The folder writes are confined to, or None when the app runs on the user's own vault."""
    root = getattr(getattr(vault, "paths", None), "sandbox", None)
    return root if isinstance(root, Path) else None


def is_within(path: str | os.PathLike[str], root: Path) -> bool:
    # resolve() follows symlinks: a link inside the sandbox pointing at a user's file is still the user's file.
    try:
        Path(path).resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def may_write(path: str | os.PathLike[str], vault: Any) -> bool:
    root = sandbox_of(vault)
    return root is None or is_within(path, root)
