"""What every format detector provides, and the small helpers they share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from keyhygiene.core.discovery.model import Document, FoundKey

ROTATE_NOTE = (
    "Copies of this file in backups, synced folders or git history still hold the key: "
    "the only sure fix is to rotate it (keyhygiene rotate KEY_ID)."
)


class Detector(Protocol):
    format: str
    tool: str

    def wants(self, name: str, parent: str) -> bool:
        """Decide from the file name alone (lowercased ``name``, lowercased parent folder ``parent``)."""
        ...

    def detect(self, doc: Document) -> list[FoundKey]:
        """Keys in ``doc``; an empty list when the structure is not this format's. Never raises on bad input."""
        ...


def first_str(d: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The first of ``names`` present in ``d`` with a string value: (field name, value)."""
    for n in names:
        v = d.get(n)
        if isinstance(v, str):
            return n, v
        if isinstance(v, int) and not isinstance(v, bool):
            return n, str(v)
    return None, None


def dict_at(data: Any, *path: str) -> dict[str, Any] | None:
    cur = data
    for p in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return cur if isinstance(cur, dict) else None
