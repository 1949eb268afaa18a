"""Delivering a background result to a GUI callback, unless the widget that asked is gone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject


def alive(obj: QObject | None) -> bool:
    """False once Qt has deleted the C++ side (a dialog closed while its check was running)."""
    return obj is None or shiboken6.isValid(obj)


def deliver(context: QObject | None, fn: Callable[[Any], None], value: Any) -> None:
    if alive(context):
        fn(value)
