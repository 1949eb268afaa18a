"""Baseline child for ``startup`` and ``memory``: a bare PySide6 QMainWindow, started like the app.

``python tests/benchmarks/bare_window.py`` with ``KEYHYGIENE_BENCH_FIRST_PAINT=PATH``: once the window's first
frame is finished (the same probe as ``keyhygiene.app._mark_first_frame``) it writes
``{"t": <wall-clock time>, "maxrss_kb": <peak RSS>}`` to PATH and quits.
"""

from __future__ import annotations

import sys

from first_frame import show_and_report

from PySide6.QtWidgets import QApplication, QMainWindow

WINDOW_SIZE = (1360, 840)  # the main window's default size (keyhygiene/ui/main_window.py)


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.resize(*WINDOW_SIZE)
    return show_and_report(app, window)


if __name__ == "__main__":
    sys.exit(main())
