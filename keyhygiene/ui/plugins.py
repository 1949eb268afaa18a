"""Where the main window plugs in windows that other modules own: rotation wizard, report export, scan.

Each is imported lazily, the first time its action is used, so a slow or missing module never delays startup.

Contract for a module listed here: a function ``open_<name>(parent: QWidget, services: Services, **kwargs)
-> QWidget`` that creates the window, shows it without blocking (``open()``/``show()``) and returns it. Kwargs:
rotation gets ``key_id: str`` and ``resume: bool``; scan gets ``paths: list[str] | None``; export gets nothing.
The window talks to the vault through ``services`` (``services.vault``, ``services.runner``, ``services.pool``,
``services.endpoints``) and calls ``services.load_rows()`` (or ``refresh_row(key_id)``) after changing keys so the
list follows.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plugin:
    module: str
    function: str
    what: str  # for messages: "The rotation wizard"


PLUGINS: dict[str, Plugin] = {
    "rotation": Plugin("keyhygiene.ui.rotation_wizard", "open_rotation", "The rotation wizard"),
    "export": Plugin("keyhygiene.ui.export_dialog", "open_export", "Report export"),
    "scan": Plugin("keyhygiene.ui.scan_dialog", "open_scan", "The plaintext-key scanner"),
}


def available(name: str) -> bool:
    """Whether the module exists, without importing it (find_spec of a submodule imports only its package)."""
    plugin = PLUGINS[name]
    try:
        return importlib.util.find_spec(plugin.module) is not None
    except (ImportError, ValueError):
        return False


class PluginMissing(RuntimeError):
    pass


def open_plugin(name: str, parent: QWidget, services: Any, **kwargs: Any) -> QWidget:
    plugin = PLUGINS[name]
    if not available(name):
        raise PluginMissing(f"{plugin.what} is not part of this build.")
    module = importlib.import_module(plugin.module)
    fn = getattr(module, plugin.function, None)
    if not callable(fn):
        raise PluginMissing(f"{plugin.what} ({plugin.module}) has no {plugin.function}() to open it.")
    return fn(parent, services, **kwargs)
