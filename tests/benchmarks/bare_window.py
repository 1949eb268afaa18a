"""Baseline child for ``startup`` and ``memory``: a bare PySide6 QMainWindow, started like the app.

``python tests/benchmarks/bare_window.py`` with ``KEYHYGIENE_BENCH_FIRST_PAINT=PATH``: once the window's first
frame is finished (the same probe as ``keyhygiene.app._mark_first_frame``) it writes
``{"t": <wall-clock time>, "maxrss_kb": <peak RSS>}`` to PATH and quits.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

WINDOW_SIZE = (1360, 840)  # the main window's default size (keyhygiene/ui/main_window.py)


def main() -> int:
    out = Path(os.environ["KEYHYGIENE_BENCH_FIRST_PAINT"])
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.resize(*WINDOW_SIZE)

    def done() -> None:
        t = time.time()
        out.write_text(json.dumps({"t": t, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
        app.quit()

    class FirstFrame(QObject):
        def eventFilter(self, _obj: object, event: QEvent) -> bool:  # noqa: N802 - Qt API
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                QTimer.singleShot(0, done)
            return False

    probe = FirstFrame(window)
    window.installEventFilter(probe)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
