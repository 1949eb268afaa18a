"""PySide's support code, kept compiled where PySide itself looks for it (issue 21: time to the first window).

shiboken6 carries its Python support package (``shibokensupport``: the signature loader, parser, pyi generator)
as source inside its library and compiles it on every import: 12-16 ms of each start, before any window. PySide
looks first for a plain copy of that package in ``shiboken6/files.dir`` (its documented ``SBK_EMBED=0`` switch
writes one) and imports it like any package, from bytecode. The app writes that copy once, with its bytecode, on
its first start in an environment where it may (``build``), and checks it at every start before PySide is
imported (``check``): a copy that no longer matches the installed shiboken6 is removed, never used.

Why it is safe to write there:
- the content is PySide's own: the files are taken from the embedded archive of the library already loaded;
- written to a temporary directory and renamed into place: a crash or a second instance never leaves a partial
  copy where PySide would import it;
- only for a pip/uv install (their uninstall and upgrade read the package's ``RECORD``, to which the files are
  added: upgrading or removing PySide removes them too), never in a frozen bundle, and only where writable;
- a stamp of the shiboken6 binaries it was taken from: any other shiboken6 (an upgrade by another tool) makes
  ``check`` remove the copy before PySide could import it; a copy without our stamp (a developer's
  ``SBK_EMBED=0``) is left alone;
- modes copied from the package's own files: the app's private umask (hardening) must not make the copy
  unreadable to other users of a shared install.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILES_DIR = "files.dir"  # the name shiboken6's bootstrap looks for (signature_bootstrap.find_incarnated_files)
STAMP = "keyhygiene-stamp.json"
TMP_PREFIX = ".files.dir.keyhygiene-"
INSTALLERS = ("pip", "uv")  # installers whose uninstall removes what RECORD lists
_BINARY_SUFFIXES = (".so", ".pyd", ".dll", ".dylib")


def shiboken_dir() -> Path | None:
    """The installed shiboken6 package's folder, found without importing it (importing it runs the bootstrap)."""
    if getattr(sys, "frozen", False):
        return None  # a bundle ships what it ships (and may be signed or read-only)
    try:
        spec = find_spec("shiboken6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent


def signature(sdir: Path) -> dict[str, list[int]]:
    """Size and modification time of the package's binaries: a reinstall or upgrade changes them."""
    out: dict[str, list[int]] = {}
    with os.scandir(sdir) as it:
        for e in it:
            if e.is_file() and any(s in e.name for s in _BINARY_SUFFIXES):
                st = e.stat()
                out[e.name] = [st.st_size, st.st_mtime_ns]
    return out


_checked: dict[Path, str] = {}  # once per process: cli.main checks for every command, the window's start again


def check(sdir: Path | None = None) -> str:
    """Before PySide's import, every start: remove our copy if it was made for another shiboken6. Returns what
    it found ("none", "ours", "stale": removed, "stuck": stale but not removable, "foreign") for tests and the log;
    the first answer for a folder stands."""
    sdir = sdir or shiboken_dir()
    if sdir is None:
        return "none"
    if sdir not in _checked:
        _checked[sdir] = _check(sdir)
    return _checked[sdir]


def _check(sdir: Path) -> str:
    files = sdir / FILES_DIR
    try:
        stamp = json.loads((files / STAMP).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "foreign" if files.exists() else "none"
    except (OSError, ValueError):
        stamp = None
    try:
        current = signature(sdir)
    except OSError:
        return "ours"  # cannot tell: leave it (PySide's own import will fail the same way without it)
    if isinstance(stamp, dict) and stamp.get("binaries") == current:
        return "ours"
    if _remove(files, sdir):
        log.info("removed PySide's compiled support files made for another shiboken6")
        return "stale"
    # Not ours to delete any more (e.g. a root-owned install): PySide will import it. Say so where it can be seen.
    log.warning("PySide's compiled support files in %s were made for another shiboken6 and cannot be removed; "
                "delete that folder if PySide fails to start", files)
    return "stuck"


def build(sdir: Path | None = None, archive: Any = None) -> bool:
    """After PySide's import, on a start that found no copy: write one. ``archive`` is the ``zipfile.ZipFile``
    shiboken6 loaded its support package from (default: taken from the loaded package's loader). Never raises:
    at worst the next start compiles the embedded source again, as PySide does anyway."""
    try:
        return _build(sdir or shiboken_dir(), archive)
    except Exception as exc:  # noqa: BLE001 - an optimisation must never stop the app from starting
        log.info("PySide's support files not kept compiled: %s", exc)
        return False


def _build(sdir: Path | None, archive: Any) -> bool:
    if sdir is None or (sdir / FILES_DIR).exists():
        return False
    if archive is None:
        archive = getattr(getattr(sys.modules.get("shibokensupport"), "__loader__", None), "zfile", None)
    if archive is None:
        return False  # loaded from files on disk already, or a PySide without the embedded archive
    record = _record_file(sdir)
    if record is None or not os.access(sdir, os.W_OK):
        return False
    _remove_leftovers(sdir)
    dir_mode = sdir.stat().st_mode & 0o777
    file_mode = (sdir / "__init__.py").stat().st_mode & 0o666
    tmp = sdir / f"{TMP_PREFIX}{os.getpid()}"
    try:
        write_copy(archive, tmp)
        (tmp / STAMP).write_text(json.dumps({"binaries": signature(sdir)}), encoding="utf-8")
        written = _set_modes(tmp, dir_mode, file_mode)
        os.rename(tmp, sdir / FILES_DIR)  # atomic: PySide sees no copy or a whole one
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if (sdir / FILES_DIR).exists():
            return False  # another instance was first
        raise
    _add_to_record(record, sdir, written)
    return True


def write_copy(archive: Any, dest: Path, *, frozen: bool = False) -> list[str]:
    """The archive's Python files under ``dest``, each with its bytecode; the names written. ``frozen``: bytecode
    valid whatever the files' times (a bundle copies files without keeping them), for the bundle's build."""
    import compileall
    import py_compile

    names = [n for n in archive.namelist()
             if n.endswith(".py") and not n.startswith("/") and ".." not in Path(n).parts]
    for name in names:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(name))
    mode = py_compile.PycInvalidationMode.UNCHECKED_HASH if frozen else py_compile.PycInvalidationMode.TIMESTAMP
    if not compileall.compile_dir(str(dest), quiet=2, workers=1, invalidation_mode=mode):
        raise OSError("compiling PySide's support files failed")
    return names


def embedded_archive_bytes() -> bytes:
    """shiboken6's embedded archive, read by a fresh interpreter that does not see a ``files.dir`` (one the app
    made here earlier), so PySide loads its support package from the archive: for the bundle's build and tests."""
    import subprocess

    code = (
        "import pathlib, sys\n"
        "exists = pathlib.Path.exists\n"
        "pathlib.Path.exists = lambda p: False if p.name == 'files.dir' else exists(p)\n"
        "import shiboken6\n"
        "z = sys.modules['shibokensupport'].__loader__.zfile\n"
        "z.fp.seek(0)\n"
        "sys.stdout.buffer.write(z.fp.read())\n"
    )
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120).stdout


def _set_modes(root: Path, dir_mode: int, file_mode: int) -> list[Path]:
    files: list[Path] = []
    os.chmod(root, dir_mode)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(Path(dirpath) / d, dir_mode)
        for f in filenames:
            p = Path(dirpath) / f
            os.chmod(p, file_mode)
            files.append(p.relative_to(root))
    return files


def _record_file(sdir: Path) -> Path | None:
    """shiboken6's RECORD, if an installer that honours it put the package there."""
    for info in sorted(sdir.parent.glob("shiboken6-*.dist-info")):
        try:
            installer = (info / "INSTALLER").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if installer in INSTALLERS and (info / "RECORD").is_file():
            return info / "RECORD"
    return None


def _add_to_record(record: Path, sdir: Path, files: list[Path]) -> None:
    """List the copy in shiboken6's RECORD (no hash, as pip lists the bytecode it compiles): pip's and uv's
    uninstall, and so an upgrade, remove it with the package."""
    prefix = f"{sdir.name}/{FILES_DIR}"
    lines = "".join(f"{prefix}/{p.as_posix()},,\n" for p in sorted(files))
    text = record.read_text(encoding="utf-8")
    with record.open("a", encoding="utf-8") as fh:
        fh.write(("" if not text or text.endswith("\n") else "\n") + lines)


def _remove(files: Path, sdir: Path) -> bool:
    # Renamed away first, so PySide never imports a half-removed copy; then deleted.
    gone = sdir / f"{TMP_PREFIX}stale-{os.getpid()}"
    try:
        os.rename(files, gone)
    except OSError:
        return not files.exists()
    shutil.rmtree(gone, ignore_errors=True)
    return True


def _remove_leftovers(sdir: Path) -> None:
    """Temporary copies of builds that died (their process is gone)."""
    for p in sdir.glob(f"{TMP_PREFIX}*"):
        pid = p.name[len(TMP_PREFIX):]
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextlib.contextmanager
def kept_compiled() -> Any:
    """Around PySide's first import: check the copy before, build one after if there was none."""
    sdir = shiboken_dir()
    found = check(sdir) if sdir is not None else "none"
    yield
    if sdir is not None and found in ("none", "stale"):
        build(sdir)
