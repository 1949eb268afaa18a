"""Opening the window: the first frame's domain modules load on a worker while the GUI thread loads Qt.

Most of the time to the window is imports. PySide6's (~70 ms: Qt's libraries, shiboken's type and signature
support) runs largely outside the GIL, and the domain modules the first frame needs (models, the store, the service
layer: ~35 ms of pure Python) need no Qt. ``cli.main`` therefore starts ``Preload`` as soon as argv says "open the
window", imports Qt on the GUI thread meanwhile (``load_qt``), and waits for the worker before it goes on: the domain
loads in Qt's shadow (measured on Xvfb: the window maps ~30 ms sooner, the same figure as the imports it hides).

Only imports and the pure check of ``--endpoint`` run on the worker: no Qt object, no keychain, no file, no
SQLite; everything else keeps its place and its order on the GUI thread. Nothing here may import PySide6 (tested).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Sequence

# The Qt-free modules on the way to the first frame (``python -X importtime -m keyhygiene``): what app.build_session,
# the window's model and cli.main import before the window is shown. A module missing here is merely imported later,
# on the GUI thread, as before.
FIRST_FRAME_MODULES: tuple[str, ...] = (
    "keyhygiene.cliutil",
    "keyhygiene.service.app",
    "keyhygiene.service.backend",  # which vault to open (the team stack itself loads only for a team vault)
    "keyhygiene.service.exchange_info",
    "keyhygiene.exchanges.catalog",
    "keyhygiene.core.policy",
    "keyhygiene.core.permissions",
    "keyhygiene.core.severity",
    "keyhygiene.core.masking",
    "keyhygiene.ui.workarounds",
    "keyhygiene.ui.core_bridge",
    "keyhygiene.ui.key_row",
)


class Preload(threading.Thread):
    """Imports ``FIRST_FRAME_MODULES``, then parses the ``--endpoint`` values; ``endpoints()`` waits for it."""

    def __init__(self, endpoint_values: Sequence[str] | None,
                 modules: Sequence[str] = FIRST_FRAME_MODULES) -> None:
        super().__init__(name="keyhygiene-preload", daemon=True)
        self._values = list(endpoint_values or [])
        self._modules = tuple(modules)
        self._endpoints: dict[str, str] = {}
        self._error: BaseException | None = None

    def run(self) -> None:
        for name in self._modules:
            try:
                __import__(name)  # the import statement's path, so -X importtime lists these as well
            except Exception:  # noqa: BLE001, S112 - only a head start: the GUI thread imports it again where it
                continue  # needs it, and fails there, with the traceback it always had
        try:
            from keyhygiene.cliutil import parse_endpoints

            self._endpoints = parse_endpoints(self._values)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, which raises it where it always did
            self._error = exc

    def endpoints(self) -> dict[str, str]:
        """The parsed ``--endpoint``s; raises what the worker raised (a UsageError: exit 2, as before)."""
        self.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self._endpoints


def load_qt() -> bool:
    """Import PySide6's modules on the calling (GUI) thread; False when PySide6 is missing (``run_gui`` says so).

    PySide6 puts a hook on every later import that reads the imported module's whole source; the fast check goes in
    right after the package itself, before QtCore, so the worker's imports meanwhile skip that read too."""
    try:
        import PySide6  # noqa: F401 - installs the import hook
    except ImportError:
        return False
    from keyhygiene.ui import pyside_import_hook, workarounds

    if workarounds.enabled("import_hook"):
        pyside_import_hook.use_fast_check()
    try:
        import PySide6.QtCore
        import PySide6.QtGui
        import PySide6.QtWidgets  # noqa: F401 - loaded for app.ensure_application
    except ImportError:
        return False
    return True


def endpoints_while_loading_qt(endpoint_values: Sequence[str] | None) -> dict[str, str]:
    """``Preload`` on a worker and ``load_qt`` here at once; the parsed ``--endpoint``s (or the worker's error).
    The automatic collector is held off meanwhile, as ``app.run`` does for the rest of the start-up: nothing
    allocated here dies before the app does."""
    from keyhygiene.ui import workarounds

    collecting = gc.isenabled() and workarounds.enabled("gc_guard")
    if collecting:
        gc.disable()
    try:
        worker = Preload(endpoint_values)
        worker.start()
        load_qt()
        return worker.endpoints()
    finally:
        if collecting:
            gc.enable()
