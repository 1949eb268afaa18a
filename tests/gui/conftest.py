"""Fixtures for driving the real widgets offscreen: services over a test vault, the main window, a simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from PySide6.QtCore import QSettings
from PySide6.QtGui import QFont

from keyhygiene.sim import SimKey, run_simulator_in_thread
from keyhygiene.store.vault import Vault
from keyhygiene.ui.gc_guard import MainThreadGC
from keyhygiene.ui.main_window import MainWindow
from keyhygiene.ui.services import Services
from tests.helpers.gui import WAIT_MS, make_services, stop_services


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread(qapp: Any) -> Iterator[None]:
    """As the app does (keyhygiene.ui.gc_guard): no cyclic GC on worker threads, where it would destroy
    leftover Qt objects on the wrong thread; collect here, on the GUI thread, after each test instead."""
    guard = MainThreadGC()
    try:
        yield
    finally:
        guard.stop()


@pytest.fixture
def gui_services(vault: Vault, qapp: Any) -> Iterator[Services]:
    s = make_services(vault)
    # Tests decide when to audit and remind; nothing starts by itself.
    s.prefs.audit_on_start = False
    try:
        yield s
    finally:
        stop_services(s)


@pytest.fixture
def make_window(qtbot: Any, gui_services: Services, data_dir: Path) -> Iterator[Callable[..., MainWindow]]:
    windows: list[MainWindow] = []

    def make(show: bool = True, staged: bool = False) -> MainWindow:
        gui_services.load_rows()
        settings = QSettings(str(data_dir / "ui.ini"), QSettings.Format.IniFormat)
        w = MainWindow(gui_services, settings=settings, staged=staged)
        qtbot.addWidget(w)
        windows.append(w)
        if show:
            with qtbot.waitSignal(w.firstPainted, timeout=WAIT_MS):
                w.show()
            qtbot.waitUntil(lambda: gui_services.pool.active() == 0, timeout=WAIT_MS)
        return w

    yield make
    for w in windows:
        w.close()


@pytest.fixture
def simulator() -> Iterator[Callable[..., Any]]:
    """``start(keys)`` runs the loopback simulator with those keys until the test ends."""
    stack: list[Any] = []

    def start(keys: list[SimKey], **kw: Any) -> Any:
        cm = run_simulator_in_thread(keys=keys, **kw)
        sim = cm.__enter__()
        stack.append(cm)
        return sim

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@pytest.fixture
def app_font(qapp: Any) -> Iterator[Callable[[float], None]]:
    """``scale(1.5)``: the application's font 1.5x as large, as a user who set the desktop's font so starts the
    app; the font it had is back after the test."""
    normal = QFont(qapp.font())

    def scale(factor: float) -> None:
        f = QFont(normal)
        f.setPointSizeF(normal.pointSizeF() * factor)
        qapp.setFont(f)

    yield scale
    qapp.setFont(normal)
