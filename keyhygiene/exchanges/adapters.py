"""Which adapter serves which exchange. Each adapter module defines ``ADAPTER = <Adapter subclass>``."""

from __future__ import annotations

import importlib

from keyhygiene.exchanges.adapter import Adapter
from keyhygiene.exchanges.catalog import SUPPORTED


def get_adapter(exchange: str) -> Adapter | None:
    """The exchange's key-info adapter, or None for an exchange that gets the generic liveness check."""
    if exchange not in SUPPORTED:
        return None
    module = importlib.import_module(f"keyhygiene.exchanges.{exchange}")
    return module.ADAPTER()  # type: ignore[no-any-return]
