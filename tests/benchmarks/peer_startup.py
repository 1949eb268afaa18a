"""Outside-in startup against a real peer (issue 21): spawn a process, wait for the X server to map its first large
top-level window, read its memory at that moment.

Neither program is asked when it is ready: a private Xvfb runs, this process watches the root window for MapNotify
(python-xlib, SubstructureNotify), and the time from just before ``Popen`` to the MapNotify of the first top-level
window at least ``MIN_WINDOW`` in size is the start-up time. The child is then stopped (SIGSTOP) at once and its
``/proc/PID/status`` read: ``VmHWM`` (peak RSS so far) is its memory at first window. The same clock and the same
probe measure KeyHygiene, KeePassXC and a bare PySide6 window, so none of them can report itself favourably.

The peer is KeePassXC (a desktop vault a user would compare us with) opening a database of as many entries as we
have keys, made with ``keepassxc-cli import`` at a 100 ms decryption time and unlocked with ``--pw-stdin``.
Its entries are random strings made here; nothing in it is a key of ours. KeePassXC 2.7.4 maps its window before
it has decrypted the database (titled "KeePassXC" at the map, "<database> - KeePassXC" once open): the watcher
reads its memory at the map without stopping it and then also times that title (``ready_seconds``), for the line's
detail; KeyHygiene's window is mapped with its rows already in it.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

MIN_WINDOW = (300, 300)
SCREEN = "1920x1080x24"
DECRYPTION_MS = 100
DATABASE_NAME = "benchmark"  # KeePassXC titles its window "<name> - KeePassXC" once the database is open


def missing_tools() -> list[str]:
    """What the measurement needs and this machine lacks (empty when it can run)."""
    missing = [t for t in ("Xvfb", "keepassxc", "keepassxc-cli") if shutil.which(t) is None]
    try:
        import Xlib  # noqa: F401 - only probing for it
    except ImportError:
        missing.append("python-xlib")
    return missing


def memory_from_status(text: str) -> dict[str, float]:
    """``{"rss_kb", "hwm_kb"}`` from a ``/proc/PID/status`` text (kB figures; a missing line is absent)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        key = {"VmRSS": "rss_kb", "VmHWM": "hwm_kb"}.get(name.strip())
        if key and rest.split():
            out[key] = float(rest.split()[0])
    return out


def is_first_window(width: int, height: int, minimum: tuple[int, int] = MIN_WINDOW) -> bool:
    """A main window, not a splash, tooltip or helper: at least ``minimum`` in both directions."""
    return width >= minimum[0] and height >= minimum[1]


# ---- the X server -------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def xvfb(screen: str = SCREEN) -> Iterator[str]:
    """A private Xvfb on the first free display (``-displayfd``: the server picks it, so no race with other
    servers on the machine); yields its DISPLAY name."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp",
                             "-noreset"], pass_fds=(write_fd,), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + 30
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_fd], [], [], 1)
            if ready:
                chunk = os.read(read_fd, 16)
                if not chunk:
                    raise RuntimeError(f"Xvfb exited ({proc.poll()}) before naming its display")
                number += chunk
            if time.monotonic() > deadline:
                raise RuntimeError("Xvfb did not start within 30 s")
        yield ":" + number.decode().strip()
    finally:
        os.close(read_fd)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@dataclass
class Launch:
    """One program to start: argv, extra environment, bytes for its stdin, a hook run once it exists."""

    cmd: Sequence[str]
    env: Mapping[str, str]
    stdin: bytes | None = None
    pass_fds: tuple[int, ...] = ()
    spawned: Any = None  # called with no argument right after Popen (e.g. to start feeding a pipe)
    finished: Any = None  # called once the child is gone
    # Diagnosis: after the map, also wait until the window's title contains this (KeePassXC maps its window before
    # it has decrypted the database, and names the window after the database once it is open).
    ready_title: str | None = None


class MapWatcher:
    """A connection to the X server listening for top-level windows being mapped."""

    def __init__(self, display_name: str) -> None:
        from Xlib import X
        from Xlib import display as xdisplay

        self.display_name = display_name
        self._x = X
        self._d = xdisplay.Display(display_name)
        self._d.screen().root.change_attributes(event_mask=X.SubstructureNotifyMask)
        self._pid_atom = self._d.intern_atom("_NET_WM_PID")
        self._d.sync()

    def close(self) -> None:
        self._d.close()

    def _drain(self) -> None:
        while self._d.pending_events():
            self._d.next_event()

    def _window_pid(self, window: Any) -> int | None:
        try:
            prop = window.get_full_property(self._pid_atom, self._x.AnyPropertyType)
        except Exception:  # noqa: BLE001 - the window may be gone already
            return None
        return int(prop.value[0]) if prop is not None and len(prop.value) else None

    @staticmethod
    def _memory(pid: int) -> dict[str, float]:
        try:
            return memory_from_status(Path(f"/proc/{pid}/status").read_text())
        except OSError:
            return {}

    def _title(self, window: Any) -> str:
        for atom in (self._d.intern_atom("_NET_WM_NAME"), self._d.intern_atom("WM_NAME")):
            try:
                prop = window.get_full_property(atom, self._x.AnyPropertyType)
            except Exception:  # noqa: BLE001 - gone
                return ""
            if prop is not None and prop.value:
                v = prop.value
                return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
        return ""

    def _wait_for_title(self, window: Any, wanted: str, deadline: float) -> float:
        """perf_counter time at which ``window``'s title first contains ``wanted``."""
        window.change_attributes(event_mask=self._x.PropertyChangeMask)
        self._d.sync()
        while True:
            t = time.perf_counter()
            if wanted in self._title(window):
                return t
            select.select([self._d], [], [], 0.05)
            while self._d.pending_events():
                self._d.next_event()
            if time.monotonic() > deadline:
                raise RuntimeError(f"no window title with {wanted!r} in time")

    def measure(self, launch: Launch, *, log: Path, timeout: float = 60.0) -> dict[str, float]:
        """Start ``launch`` on this display; seconds from just before spawning to the MapNotify of its first
        top-level window of at least ``MIN_WINDOW``, and its memory then. The child is killed afterwards."""
        self._drain()  # what earlier children left (unmaps, destroys)
        env = {**launch.env, "DISPLAY": self.display_name, "QT_QPA_PLATFORM": "xcb"}
        with log.open("wb") as err:  # a file, not a pipe nobody reads while the child runs
            t0 = time.perf_counter()
            proc = subprocess.Popen(list(launch.cmd), env=env, stdin=subprocess.PIPE if launch.stdin else
                                    subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                    pass_fds=launch.pass_fds)
        try:
            if launch.spawned:
                launch.spawned()
            if launch.stdin and proc.stdin is not None:
                proc.stdin.write(launch.stdin)
                proc.stdin.close()
            deadline = time.monotonic() + timeout
            while True:
                select.select([self._d], [], [], 0.5)
                while self._d.pending_events():
                    event = self._d.next_event()
                    t = time.perf_counter()
                    if event.type != self._x.MapNotify or event.override:
                        continue
                    try:
                        geo = event.window.get_geometry()
                    except Exception:  # noqa: BLE001 - mapped and gone again
                        continue
                    if not is_first_window(geo.width, geo.height):
                        continue
                    pid = self._window_pid(event.window)
                    if pid is not None and pid != proc.pid:
                        continue  # not our child's (nothing else should draw on this server)
                    if launch.ready_title is None:
                        with contextlib.suppress(ProcessLookupError):
                            proc.send_signal(signal.SIGSTOP)  # its memory now, not after it carried on
                    out = {"seconds": t - t0, "width": float(geo.width), "height": float(geo.height),
                           **self._memory(proc.pid)}
                    if launch.ready_title is not None:
                        ready = self._wait_for_title(event.window, launch.ready_title, deadline)
                        out["ready_seconds"] = ready - t0
                        out.update({f"ready_{k}": v for k, v in self._memory(proc.pid).items()})
                    return out
                if proc.poll() is not None:
                    raise RuntimeError(f"{launch.cmd[:3]} exited with {proc.returncode} before mapping a window: "
                                       f"{log.read_text(errors='replace')[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{launch.cmd[:3]} mapped no window within {timeout:.0f} s")
        finally:
            if proc.poll() is None:
                proc.kill()  # works on a stopped process too
            proc.wait(30)
            if launch.finished:
                launch.finished()


# ---- the peer's database ------------------------------------------------------------------------------------------
def keepass_xml(entries: int) -> str:
    """A KeePass 2 XML export of ``entries`` random entries shaped like stored API keys."""
    def uuid() -> str:
        return base64.b64encode(os.urandom(16)).decode()

    def field(key: str, value: str) -> str:
        return f"<String><Key>{key}</Key><Value>{escape(value)}</Value></String>"

    rows = []
    for i in range(entries):
        rows.append(f"<Entry><UUID>{uuid()}</UUID>" + field("Title", f"exchange key {i:03d}")
                    + field("UserName", secrets.token_hex(16)) + field("Password", secrets.token_urlsafe(32))
                    + field("URL", f"https://exchange{i % 12}.invalid/account/api")
                    + field("Notes", "purpose: bot; shared with: none") + "</Entry>")
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<KeePassFile><Meta><Generator>KeyHygiene '
            f'benchmark</Generator><DatabaseName>{DATABASE_NAME}</DatabaseName></Meta><Root><Group><UUID>' + uuid()
            + "</UUID><Name>Root</Name>" + "".join(rows) + "</Group></Root></KeePassFile>\n")


@dataclass(frozen=True)
class PeerDatabase:
    path: Path
    password: str
    kdf: str  # what keepassxc-cli set, e.g. "AES (5555555 rounds)"


def make_keepass_database(folder: Path, entries: int, decryption_ms: int = DECRYPTION_MS) -> PeerDatabase:
    """``keepassxc-cli import`` of ``entries`` entries with a KDF calibrated to ``decryption_ms``."""
    folder.mkdir(parents=True, exist_ok=True)
    xml, db = folder / "peer.xml", folder / "peer.kdbx"
    password = secrets.token_urlsafe(18)
    xml.write_text(keepass_xml(entries), encoding="utf-8")
    db.unlink(missing_ok=True)
    try:
        proc = subprocess.run(["keepassxc-cli", "import", "-p", "-t", str(decryption_ms), str(xml), str(db)],
                              input=f"{password}\n{password}\n", capture_output=True, text=True, timeout=120)
    finally:
        xml.unlink(missing_ok=True)
    if proc.returncode != 0 or not db.exists():
        raise RuntimeError(f"keepassxc-cli import failed ({proc.returncode}): {proc.stderr[-1000:]}")
    return PeerDatabase(db, password, kdf_of(proc.stdout + proc.stderr))


def kdf_of(cli_output: str) -> str:
    """keepassxc-cli's "Setting N rounds for key derivation function." as "N rounds" ("" when absent)."""
    for line in cli_output.splitlines():
        words = line.split()
        if line.startswith("Setting ") and "rounds" in words:
            return f"{words[1]} rounds"
    return ""


def keepassxc_launch(db: PeerDatabase, config_dir: Path) -> Launch:
    """KeePassXC opening ``db`` with the password on stdin, with its own config files (not the user's)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    return Launch(["keepassxc", "--pw-stdin", "--config", str(config_dir / "keepassxc.ini"),
                   "--localconfig", str(config_dir / "keepassxc-local.ini"), str(db.path)],
                  env, stdin=f"{db.password}\n".encode(), ready_title=f"{DATABASE_NAME} - KeePassXC")
