"""The first-frame probe of the startup benchmark's baseline children (bare_window.py, floor_window.py).

The same test as ``keyhygiene.app._mark_first_frame``: a 0 ms timer posted from the window's first Paint event runs
once that whole frame is done (children paint in the same pass). Then ``{"t": <wall-clock time>, "maxrss_kb": …}``
goes to ``KEYHYGIENE_BENCH_FIRST_PAINT`` and the app quits, unless ``KEYHYGIENE_BENCH_STAY`` is set: the outside-in
line (peer_startup.py) watches for the window's map on the X server and stops the child itself, and a child that had
quit by the time the watcher asked for its window's size made that line crash now and then.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from peak_rss import peak_rss_kb

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

STAY_ENV = "KEYHYGIENE_BENCH_STAY"


def show_and_report(app: QApplication, window: QWidget) -> int:
    out = Path(os.environ["KEYHYGIENE_BENCH_FIRST_PAINT"])

    def done() -> None:
        t = time.time()
        out.write_text(json.dumps({"t": t, "maxrss_kb": peak_rss_kb()}))
        if not os.environ.get(STAY_ENV):
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
