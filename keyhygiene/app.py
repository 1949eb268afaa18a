"""QApplication bootstrap: ``keyhygiene [gui] [--demo] [--smoke-test] [--screenshot PATH]``.

Order matters for a fast, honest startup: the window is built from local metadata and shown first; the keychain
probe, the tray and the first audit (which is when ccxt gets imported, on the asyncio thread) follow the first
paint. ``--smoke-test`` and ``--screenshot`` drive the same path and then exit with a status.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path
from typing import Any

from keyhygiene import APP_ID, APP_NAME, __version__, exitcodes
from keyhygiene.core import redact

log = logging.getLogger(__name__)

SMOKE_TIMEOUT_ENV = "KEYHYGIENE_SMOKE_TIMEOUT"
DEFAULT_TIMEOUT_S = 180
MIN_SHOT = (1200, 750)
SHOT_SIZE = (1400, 880)
# tests/benchmarks/run.py (startup): when set, the wall-clock time the first frame was finished is written there.
BENCH_FIRST_PAINT_ENV = "KEYHYGIENE_BENCH_FIRST_PAINT"


def _err(message: str) -> None:
    sys.stderr.write(f"keyhygiene: {redact.scrub(message)}\n")
    sys.stderr.flush()


def _headless_platform(args: argparse.Namespace) -> None:
    """Scripts run --smoke-test/--screenshot on machines without a display: use the offscreen platform there."""
    wants_headless = bool(getattr(args, "smoke_test", False) or getattr(args, "screenshot", None))
    has_display = any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY"))
    if wants_headless and not has_display and not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith(
            "linux"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def ensure_application() -> Any:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        # Fractional scale factors (150 %) render crisply: Qt 6's default rounding policy is already PassThrough
        # (QGuiApplication::highDpiScaleFactorRoundingPolicy), so it is not set here (naming it builds PySide's
        # whole Qt namespace, 93 enums in ~15 ms).
        from keyhygiene.qtcheck import start_application

        # A platform plugin that cannot start (missing system libraries) exits 2 with the packages to install.
        app = start_application(lambda: QApplication(sys.argv[:1]))
    from keyhygiene.ui import pyside_import_hook

    # Before the window's modules load: PySide's import hook would read each one's whole source. Always on (no
    # longer a switchable workaround): 16 M fewer instructions to the first frame (1.4 %, callgrind), below what
    # a wall-clock line can resolve, and never more work.
    pyside_import_hook.use_fast_check()
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(APP_ID)
    return app  # its icon is drawn after the first frame (MainWindow._load_icons): QtSvg is not needed before


class Session:
    """Everything one run of the window owns, closed in reverse order. A plain class: a dataclass costs ~3 M
    instructions at start-up (Python 3.11 compiles each generated method) for a holder never compared or printed."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.window: Any = None
        self.services: Any = None
        self.runner: Any = None
        self.pool: Any = None
        self.service: Any = None  # keyhygiene.service.App: the vault, the loop, the pool
        self.demo: Any = None
        self.settings: Any = None
        self.paths: Any = None
        self.exit_code: int | None = None
        self.notes: list[str] = []

    def close(self) -> None:
        if self.window is not None:
            try:
                self.window.close()
            except RuntimeError:
                pass
        if self.services is not None:
            self.services.cancel_audit()
        if self.runner is not None:
            self.runner.stop()
        if self.pool is not None:
            self.pool.shutdown()
        if self.window is not None:
            try:
                self.window.deleteLater()
            except RuntimeError:
                pass
            self.window = None
        if self.settings is not None:
            self.settings.sync()
        if self.service is not None:
            self.service.close()
        if self.demo is not None:
            from keyhygiene.ui import links

            links.demo_mode = False
            self.demo.close()


def build_session(args: argparse.Namespace, app: Any) -> Session:
    """Open the vault (or the demo) and build services and the window. Does not show it."""
    from PySide6.QtCore import QSettings

    from keyhygiene.logsetup import hold_early_records
    from keyhygiene.paths import app_paths
    from keyhygiene.service.app import App
    from keyhygiene.ui.async_runner import AsyncRunner
    from keyhygiene.ui.main_window import MainWindow
    from keyhygiene.ui.services import Services
    from keyhygiene.ui.task_pool import TaskPool

    s = Session(app=app)
    endpoints = dict(getattr(args, "endpoints", None) or {})
    try:
        if getattr(args, "demo", False):
            from keyhygiene.demo import start_demo

            s.demo = start_demo()
            paths = s.demo.paths
            endpoints = {**s.demo.endpoints, **endpoints}
            backend = s.demo.keyring
        else:
            paths = app_paths(getattr(args, "data_dir", None))
            backend = None
        paths.ensure()
        # The log file opens once the first frame is up (_open_log_file); what is logged before waits in memory.
        hold_early_records()
        s.paths = paths
        # The CLI's backend (service/backend.py): the team vault when one is connected, opened on its cache (no
        # network before the first frame; Services.refresh_backend reads the server on a worker), else the local one.
        s.service = App.open(paths, backend=backend, endpoints=endpoints, offline_ok=True, refresh=False)
        s.settings = QSettings(str(paths.data_dir / "ui.ini"), QSettings.Format.IniFormat)
        # The Qt adapters over the service's one loop and one pool.
        s.runner = AsyncRunner(runtime=s.service.runtime)
        s.pool = TaskPool(runtime=s.service.runtime)
        s.services = Services(s.service, runner=s.runner, pool=s.pool, defer_judging=True)
        if s.demo is not None:
            s.services.key_page = s.demo.key_page  # the simulator's own API page, never a real exchange's site
            from keyhygiene.ui import links

            links.demo_mode = True  # no other link opens a real exchange's site either
        s.services.load_rows()
        s.window = MainWindow(s.services, settings=s.settings, demo=bool(s.demo), staged=True)
        if s.service.is_team:  # the server's changes, read on a worker once the cached rows are on screen
            s.window.firstPainted.connect(s.services.refresh_backend)
    except BaseException:
        s.close()
        raise
    return s


def run(args: argparse.Namespace) -> int:
    from keyhygiene.hardening import harden_process

    harden_process()  # idempotent: cli.main did it already unless the app was started some other way
    _headless_platform(args)
    # No shorter GIL switch interval any more: ccxt parses replies in the exchange process, not on a thread here
    # (service/exchange_executor.py); the 20 us interval measured 0.92-1.37x on gui_stall since (issue 21).
    # The window collects garbage on the GUI thread itself (gc_guard.MainThreadGC, below). Switch the automatic
    # collector off already here, not once the window exists: start-up (PySide6's import, the window's modules,
    # 500 rows) otherwise runs ~70 collections before the first frame, over objects that live as long as the app
    # (measured: 13 ms of CPU on a busy 2-core machine, ~5% of the time to the first window).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    session = None
    try:
        from keyhygiene import pyside_cache

        with pyside_cache.kept_compiled():  # PySide's support code from bytecode, not compiled at every start
            app = ensure_application()
        from keyhygiene.service.types import DatabaseError

        try:
            session = build_session(args, app)
        except DatabaseError as exc:
            _err(str(exc))
            _tell_user(app, str(exc), args)
            return exitcodes.STORAGE
    finally:
        if session is None and gc_was_enabled:
            gc.enable()  # no window, so no MainThreadGC to hand the collection to
    from keyhygiene.ui.gc_guard import MainThreadGC

    gc_guard = MainThreadGC(restore_enabled=gc_was_enabled)
    _freeze_heap_when_loaded(session.services, gc_guard)
    try:
        return _run_session(session, args)
    finally:
        if session.paths is not None:
            _open_log_file(session.paths)  # a run that ended before its first frame keeps its early records too
        session.close()
        app.processEvents()
        gc_guard.stop()


def _freeze_heap_when_loaded(services: Any, guard: Any) -> None:
    """Take the long-lived heap out of the collector's sight twice: once the findings are judged (registry and
    rules loaded), and once the first audit results are in (ccxt and its HTTP stack loaded)."""
    frozen: set[str] = set()

    def once(what: str) -> None:
        if what not in frozen:
            frozen.add(what)
            guard.freeze()

    services.judged.connect(lambda: once("judged"))
    services.auditProgress.connect(lambda done, _total: once("exchanges") if done else None)


def _open_log_file(paths: Any) -> None:
    from keyhygiene.logsetup import configure_logging

    try:
        configure_logging(paths)
    except OSError as exc:
        log.warning("log file unavailable: %s", exc)


def _tell_user(app: Any, message: str, args: argparse.Namespace) -> None:
    if getattr(args, "smoke_test", False) or getattr(args, "screenshot", None):
        return
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.critical(None, APP_NAME, redact.scrub(message))


def _run_session(s: Session, args: argparse.Namespace) -> int:
    from PySide6.QtCore import QTimer

    window, services, app = s.window, s.services, s.app
    screenshot = getattr(args, "screenshot", None)
    smoke = bool(getattr(args, "smoke_test", False))
    scripted = smoke or bool(screenshot)
    if scripted:
        window.resize(*SHOT_SIZE)
    state: dict[str, Any] = {"keychain": None, "audit": None, "shown": False}

    def finish(code: int) -> None:
        if s.exit_code is None:
            s.exit_code = code
            app.exit(code)

    def maybe_finish_smoke() -> None:
        # The verdict needs both the keychain probe and the audit; they finish in either order.
        if smoke and state["audit"] is not None and state["keychain"] is not None and not state.get("judged"):
            state["judged"] = True
            QTimer.singleShot(50, lambda: finish(_smoke_verdict(window, state)))

    def on_keychain(status: Any) -> None:
        if state["keychain"] is None:
            state["keychain"] = status
            maybe_finish_smoke()

    services.keychainChecked.connect(on_keychain)

    def start_audit() -> None:
        if not services.start_audit():
            log.info("an audit was already running")

    def on_first_paint() -> None:
        state["shown"] = window.isVisible()
        if scripted or (services.prefs.audit_on_start and services.rows()):
            # Give the keychain probe a head start; the audit runs in the background either way.
            QTimer.singleShot(150, start_audit)

    window.firstPainted.connect(on_first_paint)
    window.firstPainted.connect(lambda: _open_log_file(s.paths))

    def on_audit(outcome: Any) -> None:
        if state["audit"] is not None:
            return
        state["audit"] = outcome
        if screenshot:
            _prepare_screenshot(window)
            QTimer.singleShot(400, lambda: finish(_save_screenshot(window, Path(screenshot))))
        else:
            maybe_finish_smoke()

    window.auditCompleted.connect(on_audit)

    if scripted:
        timeout = _timeout()

        def on_timeout() -> None:
            _err(f"gave up after {timeout} s: the first audit did not finish")
            finish(exitcodes.FINDINGS)

        QTimer.singleShot(timeout * 1000, on_timeout)

    if os.environ.get(BENCH_FIRST_PAINT_ENV):
        _mark_first_frame(window, Path(os.environ[BENCH_FIRST_PAINT_ENV]))
    window.show()
    code = app.exec()
    return int(s.exit_code if s.exit_code is not None else code)


def _mark_first_frame(window: Any, path: Path) -> None:
    """Benchmark hook: ``firstPainted`` fires from a 0 ms timer that runs before the first Paint event on the
    offscreen platform, so watch for that event itself; children paint in the same pass, so a 0 ms timer posted
    from it runs once the whole frame is done."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstFrame(QObject):
        def eventFilter(self, _obj: Any, event: Any) -> bool:  # noqa: N802 - Qt API
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                QTimer.singleShot(0, lambda: path.write_text(repr(time.time()), encoding="utf-8"))
            return False

    window.installEventFilter(FirstFrame(window))


def _timeout() -> int:
    try:
        return max(5, int(os.environ.get(SMOKE_TIMEOUT_ENV, DEFAULT_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_TIMEOUT_S


def _prepare_screenshot(window: Any) -> None:
    """Show the most urgent key in the detail pane, so the picture has findings in it."""
    proxy = window.proxy
    if proxy.rowCount():
        window.table.selectRow(0)
        window.table.scrollToTop()


def _save_screenshot(window: Any, path: Path) -> int:
    pm = window.grab()
    if pm.width() < MIN_SHOT[0] or pm.height() < MIN_SHOT[1]:
        window.resize(max(window.width(), SHOT_SIZE[0]), max(window.height(), SHOT_SIZE[1]))
        pm = window.grab()
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _err(f"cannot create {path.parent}: {exc.strerror}")
        return exitcodes.USAGE
    if not pm.save(str(path), "PNG"):
        _err(f"could not write the screenshot to {path}")
        return exitcodes.USAGE
    sys.stdout.write(f"Saved a {pm.width()}\u00d7{pm.height()} screenshot to {path}\n")
    sys.stdout.flush()
    return exitcodes.OK


def _smoke_verdict(window: Any, state: dict[str, Any]) -> int:
    problems: list[str] = []
    if not state["shown"] or not window.isVisible():
        problems.append("the window was not shown")
    outcome = state["audit"]
    if outcome is None:
        problems.append("no audit ran")
    elif outcome.error:
        problems.append(f"the audit failed: {outcome.error}")
    elif outcome.cancelled:
        problems.append("the audit was cancelled")
    status = state["keychain"]
    if status is None:
        problems.append("the keychain was never probed")
    elif not status.usable:  # the app could not store a key here: that is not a working install
        problems.append(f"the keychain is {status.state.value}: {status.message}")
    if problems:
        for p in problems:
            _err(f"smoke test: {p}")
        return exitcodes.KEYCHAIN if status is not None and not status.usable else exitcodes.FINDINGS
    rows = window.services.rows()
    checked = sum(1 for r in rows if r.profile is not None)
    sys.stdout.write(f"smoke test passed: window shown, {len(rows)} keys, {checked} inspected, keychain "
                     f"{status.backend if status else '?'}\n")
    sys.stdout.flush()
    return exitcodes.OK
