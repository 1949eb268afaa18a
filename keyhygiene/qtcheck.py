"""Qt's platform plugin, explained instead of aborting (issue 19).

Qt draws windows through a platform plugin (``xcb`` for X11, ``wayland``); on Linux those plugins need system
libraries a full desktop has and a fresh or minimal install may lack (``libxcb-cursor0`` on Debian/Ubuntu since
Qt 6.5). When none can start, Qt calls ``qFatal`` and the process aborts with a hint naming one library, whichever
is missing. The app catches that fatal message while it creates the QApplication, diagnoses what Qt looked for, and
prints which packages to install on Debian/Ubuntu, Fedora and Arch, exiting 2; ``doctor`` runs the same diagnosis
without starting Qt's GUI. Nothing here runs on a normal start but a message handler around one constructor.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from keyhygiene import exitcodes

DISTRIBUTIONS = ("Debian/Ubuntu", "Fedora", "Arch")
_INSTALL = {"Debian/Ubuntu": "sudo apt install", "Fedora": "sudo dnf install", "Arch": "sudo pacman -S --needed"}

# Each library the xcb plugin loads (ldd of PySide6's libqxcb.so and its Qt libraries) that a minimal install can
# lack, with the package holding it per distribution. The one-line installs are the union of a column.
LIBRARY_PACKAGES: dict[str, tuple[str, str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
}


def install_lines() -> list[tuple[str, str]]:
    """(distribution, the one command that installs every library above) for each distribution."""
    lines = []
    for column, distro in enumerate(DISTRIBUTIONS):
        packages = dict.fromkeys(p[column] for p in LIBRARY_PACKAGES.values())
        lines.append((distro, f"{_INSTALL[distro]} {' '.join(packages)}"))
    return lines


class PlatformCheck:
    """What Qt will try to draw windows with, and what stands in the way (``problem`` None: nothing found).

    A plain class, not a dataclass: this module loads on every start of the window and a dataclass costs ~1 ms."""

    __slots__ = ("platform", "plugin", "problem", "missing", "looked_in")

    def __init__(self, platform: str, plugin: str | None = None, problem: str | None = None,
                 missing: tuple[str, ...] = (), looked_in: tuple[str, ...] = ()) -> None:
        self.platform = platform
        self.plugin = plugin  # the plugin file Qt would load, when one was found
        self.problem = problem
        self.missing = missing  # libraries the plugin needs that do not load
        self.looked_in = looked_in

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "platform": self.platform, "plugin": self.plugin, "problem": self.problem,
                "missing_libraries": list(self.missing)}


def platforms_to_try(env: Mapping[str, str] | None = None) -> list[str]:
    """The platform plugins Qt tries, in order: QT_QPA_PLATFORM (``a;b``, ``name:options``), else the session's."""
    env = os.environ if env is None else env
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return [p.split(":", 1)[0] for p in chosen.split(";") if p.split(":", 1)[0]]
    if sys.platform == "darwin":
        return ["cocoa"]
    if sys.platform == "win32":
        return ["windows"]
    # Qt 6 puts wayland first in a Wayland session and falls back to xcb (XWayland).
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        return ["wayland", "xcb"]
    return ["xcb"]


def plugin_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """Where Qt looks for platform plugins: QT_QPA_PLATFORM_PLUGIN_PATH first, then ``platforms/`` under each of
    its library paths (its own plugin folder, QT_PLUGIN_PATH's, or what the app set)."""
    env = os.environ if env is None else env
    from PySide6.QtCore import QCoreApplication

    dirs = [Path(env["QT_QPA_PLATFORM_PLUGIN_PATH"])] if env.get("QT_QPA_PLATFORM_PLUGIN_PATH") else []
    dirs += [Path(p) / "platforms" for p in QCoreApplication.libraryPaths()]
    return list(dict.fromkeys(dirs))


def _plugin_file(name: str, dirs: list[Path]) -> Path | None:
    pattern = {"win32": f"q{name}.dll", "darwin": f"libq{name}.dylib"}.get(sys.platform, f"libq{name}.so")
    for d in dirs:
        candidate = d / pattern
        if candidate.is_file():
            return candidate
    return None


# A pattern, not compiled at import (~0.8 M instructions of every start of the window; re caches it on first use).
_SONAME = r"(lib[\w.+-]+\.so[\w.]*): cannot open shared object file"


def missing_libraries(plugin: Path) -> tuple[tuple[str, ...], str | None]:
    """(the libraries ``plugin`` needs that do not load, the loader's error when it fails for another reason).

    Loading it is the test the dynamic loader applies when Qt loads it; ldd then lists every missing library,
    where the loader's error names only the first."""
    import ctypes  # here, not at import: this module is on the window's startup path
    import shutil
    import subprocess

    try:
        ctypes.CDLL(str(plugin))
        return (), None
    except OSError as exc:
        error = str(exc)
    missing = dict.fromkeys(re.findall(_SONAME, error))
    ldd = shutil.which("ldd")
    if ldd:
        try:
            out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        missing.update(dict.fromkeys(re.findall(r"^\s*(\S+) => not found", out, re.MULTILINE)))
    return tuple(missing), (None if missing else error)


def diagnose(env: Mapping[str, str] | None = None) -> PlatformCheck:
    """The first platform Qt would try and whether its plugin loads (display-independent: doctor runs it over ssh).

    With several candidates (a Wayland session: wayland, then xcb) the first one that loads is what Qt uses."""
    env = os.environ if env is None else env
    names = platforms_to_try(env)
    dirs = plugin_dirs(env)
    looked_in = tuple(str(d) for d in dirs)
    checks = []
    for name in names:
        plugin = _plugin_file(name, dirs)
        if plugin is None:
            checks.append(PlatformCheck(name, None, f'Qt has no "{name}" platform plugin where it looks',
                                        looked_in=looked_in))
            continue
        missing, error = missing_libraries(plugin)
        if missing:
            problem = f'Qt\'s "{name}" platform plugin needs system libraries that are not installed'
        elif error:
            problem = f'Qt\'s "{name}" platform plugin does not load: {error}'
        else:
            return PlatformCheck(name, str(plugin), None, looked_in=looked_in)
        checks.append(PlatformCheck(name, str(plugin), problem, missing, looked_in))
    if not checks:
        return PlatformCheck("", None, "QT_QPA_PLATFORM names no platform plugin", looked_in=looked_in)
    # The xcb plugin's libraries are the common fix (X11 and XWayland alike): report them before the others.
    return next((c for c in checks if c.missing), checks[-1])


def _no_display(env: Mapping[str, str], platform: str) -> bool:
    """A desktop platform plugin on Linux with no display to connect to (Qt's "could not connect to display")."""
    return (platform in ("xcb", "wayland") and sys.platform.startswith("linux")
            and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")))


def explain(check: PlatformCheck, qt_messages: list[str] | None = None,
            env: Mapping[str, str] | None = None) -> list[str]:
    """The lines to print: what failed, then what to do about it."""
    env = os.environ if env is None else env
    lines = [f'the window cannot open: Qt could not start its "{check.platform or "?"}" platform plugin.']
    if check.ok:
        if _no_display(env, check.platform):
            lines.append("There is no display to open it on (DISPLAY and WAYLAND_DISPLAY are not set): start "
                         "KeyHygiene from your desktop session; scripts can set QT_QPA_PLATFORM=offscreen.")
        else:  # the plugin loads: what stopped Qt is in its own words
            lines += [f"  {m}" for m in (qt_messages or [])[-3:]]
    elif check.plugin is None:
        lines.append(f"{check.problem}; looked in: {', '.join(check.looked_in) or 'nowhere'}.")
        overrides = [v for v in ("QT_QPA_PLATFORM", "QT_QPA_PLATFORM_PLUGIN_PATH", "QT_PLUGIN_PATH") if env.get(v)]
        if overrides:
            lines.append(f"{' and '.join(overrides)} {'is' if len(overrides) == 1 else 'are'} set: unset "
                         f"{'it' if len(overrides) == 1 else 'them'} to use the plugins that come with KeyHygiene.")
        lines.append("Otherwise its copy of Qt is incomplete: reinstall KeyHygiene.")
    else:
        lines.append(f"{check.problem}" + (f": {', '.join(check.missing)}." if check.missing else "."))
        lines.append("Install the libraries Qt needs for windows (one line for your distribution), then start "
                     "KeyHygiene again:")
        width = max(len(d) for d in DISTRIBUTIONS) + 1
        lines += [f"  {(distro + ':').ljust(width)} {command}" for distro, command in install_lines()]
    lines.append("The command line works without a window: keyhygiene --help.")
    return lines


App = TypeVar("App")


def _say(text: str) -> None:
    if sys.stderr is not None:  # None under a console-less Windows gui-script
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


def start_application(create: Callable[[], App]) -> App:
    """Run ``create`` (the QApplication constructor) with Qt's messages watched: a fatal platform-plugin failure
    prints :func:`explain` and exits 2 instead of aborting. Other messages pass on unchanged once it returns."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    held: list[tuple[Any, str]] = []

    def handler(mode: Any, context: Any, message: str) -> None:
        category = getattr(context, "category", None)
        text = f"{category}: {message}" if category and category != "default" else message
        if mode != QtMsgType.QtFatalMsg:
            held.append((mode, text))
            return
        if "platform plugin" not in message:
            _say(text)  # not ours to explain: Qt aborts as it would have
            return
        try:
            check = diagnose()
        except Exception as exc:  # the explanation must come out, whatever went wrong in it
            check = PlatformCheck((platforms_to_try() or ["?"])[0], "?", f"{message.splitlines()[0]} ({exc})")
        for line in explain(check, [t for _m, t in held] + [message.splitlines()[0]]):
            _say(f"keyhygiene: {line}")
        if sys.stdout is not None:
            sys.stdout.flush()
        # qFatal aborts once the handler returns, and an exception cannot cross back into Qt: leave now.
        os._exit(exitcodes.USAGE)

    previous = qInstallMessageHandler(handler)
    try:
        return create()
    finally:
        qInstallMessageHandler(previous)
        for _mode, text in held:  # what Qt said while starting, as its own handler would have printed it
            _say(text)


def doctor_section() -> tuple[dict[str, Any], list[str]]:
    """``doctor``'s Qt entry: its JSON object and its text lines (the same diagnosis the app prints on failure)."""
    try:
        check = diagnose()
    except ImportError as exc:  # a CLI-only environment without PySide6
        check = PlatformCheck(",".join(platforms_to_try()), None, f"PySide6 does not import: {exc}")
        return check.to_json(), [f"window:    {check.problem}"]
    if check.ok:
        where = " (no display in this session)" if _no_display(os.environ, check.platform) else ""
        return check.to_json(), [f"window:    Qt platform plugin {check.platform!r} loads{where}"]
    lines = explain(check)[1:-1]  # without the headline about a window that was never asked for, and the CLI hint
    return check.to_json(), [f"window:    {lines[0]}", *(f"           {line}" for line in lines[1:])]
