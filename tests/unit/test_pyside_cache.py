"""PySide's support code kept compiled in shiboken6/files.dir (keyhygiene/pyside_cache.py), on a fake install."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import zipfile
from pathlib import Path

import pytest

from keyhygiene import pyside_cache as pc

SOURCES = {
    "signature_bootstrap.py": "BOOT = 1\n",
    "shibokensupport/": "",
    "shibokensupport/__init__.py": "",
    "shibokensupport/signature/__init__.py": "",
    "shibokensupport/signature/loader.py": "VALUE = 42\n",
}


@pytest.fixture(autouse=True)
def _fresh_checks() -> None:
    pc._checked.clear()


def archive(sources: dict[str, str] = SOURCES) -> zipfile.ZipFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in sources.items():
            z.writestr(name, text)
    return zipfile.ZipFile(io.BytesIO(buf.getvalue()))


def install(root: Path, installer: str = "pip") -> Path:
    sdir = root / "shiboken6"
    sdir.mkdir(parents=True)
    (sdir / "__init__.py").write_text("")
    (sdir / "Shiboken.abi3.so").write_bytes(b"\x7fELF one")
    (sdir / "libshiboken6.abi3.so.6.11").write_bytes(b"\x7fELF lib")
    os.chmod(sdir, 0o755)
    os.chmod(sdir / "__init__.py", 0o644)
    info = root / "shiboken6-6.11.3.dist-info"
    info.mkdir()
    (info / "INSTALLER").write_text(installer + "\n")
    (info / "RECORD").write_text("shiboken6/__init__.py,sha256=x,0\nshiboken6-6.11.3.dist-info/RECORD,,\n")
    return sdir


def test_build_writes_every_support_file_with_its_bytecode_stamp_and_record(tmp_path: Path) -> None:
    sdir = install(tmp_path)
    old = os.umask(0o077)  # the app's private umask (hardening) must not make the copy private
    try:
        assert pc.build(sdir, archive()) is True
    finally:
        os.umask(old)
    files = sdir / pc.FILES_DIR
    py = sorted(p.relative_to(files).as_posix() for p in files.rglob("*.py"))
    assert py == sorted(n for n in SOURCES if n.endswith(".py"))
    for name in py:
        assert Path(importlib.util.cache_from_source(str(files / name))).is_file(), name
    assert (files / "shibokensupport/signature/loader.py").read_text() == "VALUE = 42\n"
    for p in [files, *files.rglob("*")]:
        assert p.stat().st_mode & 0o777 == (0o755 if p.is_dir() else 0o644), p
    stamp = json.loads((files / pc.STAMP).read_text())
    assert stamp["binaries"] == pc.signature(sdir)
    record = (tmp_path / "shiboken6-6.11.3.dist-info/RECORD").read_text().splitlines()
    listed = {line.split(",")[0] for line in record}
    assert "shiboken6/files.dir/shibokensupport/signature/loader.py" in listed
    assert "shiboken6/files.dir/" + pc.STAMP in listed
    assert all(("shiboken6/files.dir/" + p.relative_to(files).as_posix()) in listed
               for p in files.rglob("*") if p.is_file())
    assert not list(sdir.glob(pc.TMP_PREFIX + "*"))


def test_the_bytecode_is_what_python_loads_for_each_source(tmp_path: Path) -> None:
    sdir = install(tmp_path)
    pc.build(sdir, archive())
    for src in (sdir / pc.FILES_DIR).rglob("*.py"):
        header = Path(importlib.util.cache_from_source(str(src))).read_bytes()[:16]
        st = src.stat()
        assert header[:4] == importlib.util.MAGIC_NUMBER
        assert int.from_bytes(header[4:8], "little") == 0  # checked by time and size: valid until edited
        assert int.from_bytes(header[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
        assert int.from_bytes(header[12:16], "little") == st.st_size & 0xFFFFFFFF


def test_check_keeps_a_matching_copy_and_removes_one_made_for_other_binaries(tmp_path: Path) -> None:
    sdir = install(tmp_path)
    pc.build(sdir, archive())
    assert pc._check(sdir) == "ours"
    assert (sdir / pc.FILES_DIR).is_dir()
    (sdir / "libshiboken6.abi3.so.6.11").write_bytes(b"\x7fELF an upgraded library")  # another shiboken6
    assert pc._check(sdir) == "stale"
    assert not (sdir / pc.FILES_DIR).exists()
    assert not list(sdir.glob(pc.TMP_PREFIX + "*"))
    assert pc._check(sdir) == "none"


def test_check_removes_a_copy_whose_stamp_is_unreadable(tmp_path: Path) -> None:
    sdir = install(tmp_path)
    pc.build(sdir, archive())
    (sdir / pc.FILES_DIR / pc.STAMP).write_text("{not json")
    assert pc._check(sdir) == "stale"
    assert not (sdir / pc.FILES_DIR).exists()


def test_a_copy_the_app_did_not_make_is_left_alone(tmp_path: Path) -> None:
    sdir = install(tmp_path)
    (sdir / pc.FILES_DIR / "shibokensupport").mkdir(parents=True)  # a developer's SBK_EMBED=0
    assert pc._check(sdir) == "foreign"
    assert (sdir / pc.FILES_DIR / "shibokensupport").is_dir()
    assert pc.build(sdir, archive()) is False


@pytest.mark.parametrize("installer", ["conda", "debian"])
def test_no_copy_where_the_installer_would_not_remove_it(tmp_path: Path, installer: str) -> None:
    sdir = install(tmp_path, installer)
    assert pc.build(sdir, archive()) is False
    assert not (sdir / pc.FILES_DIR).exists()


def test_no_copy_without_a_record_or_a_writable_folder_or_an_archive(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sdir = install(tmp_path)
    monkeypatch.delitem(sys.modules, "shibokensupport", raising=False)  # no embedded archive loaded
    assert pc.build(sdir, None) is False
    monkeypatch.undo()
    (tmp_path / "shiboken6-6.11.3.dist-info/RECORD").unlink()
    assert pc.build(sdir, archive()) is False
    sdir2 = install(tmp_path / "b")
    monkeypatch.setattr(pc.os, "access", lambda *_a, **_k: False)
    assert pc.build(sdir2, archive()) is False
    assert not (sdir2 / pc.FILES_DIR).exists()


def test_a_second_instance_that_loses_the_race_leaves_nothing_behind(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sdir = install(tmp_path)
    real_rename = os.rename

    def first_wins(src: os.PathLike[str], dst: os.PathLike[str]) -> None:
        Path(dst).mkdir()  # the other instance renamed its copy in a moment ago
        (Path(dst) / "theirs").write_text("")
        real_rename(src, dst)  # raises: the target is a non-empty folder

    monkeypatch.setattr(pc.os, "rename", first_wins)
    assert pc.build(sdir, archive()) is False
    assert (sdir / pc.FILES_DIR / "theirs").exists()
    assert not list(sdir.glob(pc.TMP_PREFIX + "*"))
    record = (tmp_path / "shiboken6-6.11.3.dist-info/RECORD").read_text()
    assert "files.dir" not in record  # only the winner lists its files


def test_a_build_that_fails_half_way_leaves_no_copy(tmp_path: Path) -> None:
    sdir = install(tmp_path)
    bad = archive({**SOURCES, "shibokensupport/signature/parser.py": "def broken(:\n"})
    assert pc.build(sdir, bad) is False
    assert not (sdir / pc.FILES_DIR).exists()
    assert not list(sdir.glob(pc.TMP_PREFIX + "*"))


def test_a_damaged_archive_leaves_no_copy_and_does_not_stop_the_start(tmp_path: Path) -> None:
    sdir = install(tmp_path)

    class Broken:
        def namelist(self) -> list[str]:
            return ["shibokensupport/__init__.py", "shibokensupport/feature.py"]

        def read(self, name: str) -> bytes:
            if name.endswith("feature.py"):
                raise zipfile.BadZipFile("Bad CRC-32 for file 'feature.py'")
            return b""

    assert pc.build(sdir, Broken()) is False
    assert not (sdir / pc.FILES_DIR).exists()
    assert not list(sdir.glob(pc.TMP_PREFIX + "*"))


def test_leftovers_of_a_dead_build_are_removed_and_a_live_one_kept(tmp_path: Path) -> None:
    sdir = install(tmp_path)
    dead = sdir / f"{pc.TMP_PREFIX}999999999"
    live = sdir / f"{pc.TMP_PREFIX}{os.getppid()}"
    for d in (dead, live):
        (d / "shibokensupport").mkdir(parents=True)
    assert pc.build(sdir, archive()) is True
    assert not dead.exists()
    assert live.exists()


def test_kept_compiled_builds_only_after_the_import_and_only_when_there_was_no_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sdir = install(tmp_path)
    monkeypatch.setattr(pc, "shiboken_dir", lambda: sdir)
    built: list[str] = []
    monkeypatch.setattr(pc, "build", lambda s: built.append("built") or True)
    with pc.kept_compiled():
        assert built == []
    assert built == ["built"]
    pc._build(sdir, archive())
    built.clear()
    pc._checked.clear()  # the next start (a new process)
    with pc.kept_compiled():
        pass
    assert built == []


def test_frozen_app_never_touches_its_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert pc.shiboken_dir() is None


def test_the_real_archive_of_the_installed_shiboken6_compiles_whole(tmp_path: Path) -> None:
    pytest.importorskip("shiboken6")
    zfile = zipfile.ZipFile(io.BytesIO(pc.embedded_archive_bytes()))
    sdir = install(tmp_path)
    assert pc.build(sdir, zfile) is True
    files = sdir / pc.FILES_DIR
    names = {n for n in zfile.namelist() if n.endswith(".py")}
    assert "shibokensupport/signature/loader.py" in names
    assert {p.relative_to(files).as_posix() for p in files.rglob("*.py")} == names
    for name in names:
        assert Path(importlib.util.cache_from_source(str(files / name))).is_file(), name


def test_a_bundle_copy_is_valid_whatever_the_files_times(tmp_path: Path) -> None:
    dest = tmp_path / "files.dir"
    names = pc.write_copy(archive(), dest, frozen=True)
    assert "shibokensupport/signature/loader.py" in names
    pyc = Path(importlib.util.cache_from_source(str(dest / "shibokensupport/signature/loader.py")))
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01  # hash-based, not checked against the source


def test_check_runs_once_per_process_and_the_window_start_reuses_it(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    sdir = install(tmp_path)
    pc.build(sdir, archive())
    calls: list[Path] = []
    real = pc.signature
    monkeypatch.setattr(pc, "signature", lambda d: calls.append(d) or real(d))
    assert pc.check(sdir) == "ours" and pc.check(sdir) == "ours"
    assert len(calls) == 1


def test_the_command_line_checks_before_any_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from keyhygiene import cli

    seen: list[str] = []
    monkeypatch.setattr(pc, "check", lambda *a, **k: seen.append("check") or "none")
    monkeypatch.setattr(cli, "dispatch", lambda func, args: seen.append("dispatch") or 0)
    assert cli.main(["keys", "list"]) == 0
    assert seen == ["check", "dispatch"]


def test_a_stale_copy_that_cannot_be_removed_is_reported_not_claimed_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    sdir = install(tmp_path)
    pc.build(sdir, archive())
    (sdir / "libshiboken6.abi3.so.6.11").write_bytes(b"\x7fELF an upgraded library")

    def refused(*_a: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pc.os, "rename", refused)
    with caplog.at_level("INFO", logger=pc.__name__):
        assert pc._check(sdir) == "stuck"
    assert (sdir / pc.FILES_DIR).is_dir()
    assert "cannot be removed" in caplog.text and "removed PySide" not in caplog.text
    assert pc.build(sdir, archive()) is False  # and nothing is built over it
