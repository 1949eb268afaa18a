"""The walk never fails: symlink loops, unreadable folders, huge and binary files are counted and passed over."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keyhygiene.core.discovery import Root, WalkOptions, default_roots, scan
from keyhygiene.core.discovery import walker as walker_mod
from keyhygiene.core.discovery.walker import walk


def _env(path: Path, key: str, sec: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"BINANCE_API_KEY={key}\nBINANCE_API_SECRET={sec}\n")
    return path


@pytest.fixture
def pair(secret):  # type: ignore[no-untyped-def]
    return secret("WK"), secret("WS")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loop_ends(tmp_path: Path, pair: tuple[str, str]) -> None:
    _env(tmp_path / "a" / "b" / ".env", *pair)
    os.symlink(tmp_path / "a", tmp_path / "a" / "b" / "loop")  # a/b/loop -> a
    os.symlink(tmp_path / "a" / "b" / "loop", tmp_path / "a" / "self")
    result = scan([tmp_path])
    assert [Path(f.path).name for f in result.found] == [".env"]  # found once, not once per path to it
    assert result.stats.symlink_loops >= 1


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_dangling_symlink_is_harmless(tmp_path: Path) -> None:
    os.symlink(tmp_path / "missing", tmp_path / ".env")
    os.symlink(tmp_path / "missing-dir", tmp_path / "dir")
    result = scan([tmp_path])
    assert result.found == [] and result.stats.unreadable >= 1


def test_unreadable_folder_is_counted_not_fatal(tmp_path: Path, pair: tuple[str, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _env(tmp_path / "ok" / ".env", *pair)
    locked = tmp_path / "locked"
    _env(locked / ".env", *pair)
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(walker_mod.os, "scandir", scandir)
    result = scan([tmp_path])
    assert [Path(f.path).parent.name for f in result.found] == ["ok"]
    assert result.stats.unreadable == 1 and "locked" in result.errors[0]


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads anything; chmod means little on Windows")
def test_unreadable_folder_for_real(tmp_path: Path, pair: tuple[str, str]) -> None:
    locked = tmp_path / "locked"
    _env(locked / ".env", *pair)
    _env(tmp_path / "unreadable-file" / ".env", *pair).chmod(0)
    locked.chmod(0)
    try:
        result = scan([tmp_path])
    finally:
        locked.chmod(0o700)
    assert result.found == [] and result.stats.unreadable == 2


def test_unreadable_file_is_counted(tmp_path: Path, pair: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    target = _env(tmp_path / ".env", *pair)
    real_open = open

    def fake_open(path, *a, **kw):  # type: ignore[no-untyped-def]
        if Path(path) == target:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **kw)

    monkeypatch.setattr("builtins.open", fake_open)
    result = scan([tmp_path])
    assert result.found == [] and result.stats.unreadable == 1


def test_large_and_binary_files_are_skipped(tmp_path: Path, pair: tuple[str, str]) -> None:
    big = _env(tmp_path / "big" / ".env", *pair)
    with big.open("a") as fh:
        fh.write("# padding\n" * 200)
    binary = tmp_path / "bin" / ".env"
    binary.parent.mkdir()
    binary.write_bytes(b"\x00\x01" + f"BINANCE_API_KEY={pair[0]}\nBINANCE_API_SECRET={pair[1]}\n".encode())
    result = scan([tmp_path], options=WalkOptions(max_file_bytes=1000))
    assert result.found == []
    assert (result.stats.skipped_large, result.stats.skipped_binary) == (1, 1)
    assert len(scan([tmp_path]).found) == 1  # the big one, under the default limit


def test_skipped_folders(tmp_path: Path, pair: tuple[str, str]) -> None:
    for rel in ("node_modules/p/.env", ".git/.env", "env1/lib/.env", "proj/__pycache__/.env"):
        _env(tmp_path / rel, *pair)
    (tmp_path / "env1" / "pyvenv.cfg").write_text("home = /usr\n")
    result = scan([tmp_path])
    assert result.found == [] and result.stats.skipped_dirs == 4


def test_root_that_is_itself_a_virtualenv_is_scanned(tmp_path: Path, pair: tuple[str, str]) -> None:
    (tmp_path / "pyvenv.cfg").write_text("home = /usr\n")
    _env(tmp_path / ".env", *pair)
    assert len(scan([tmp_path]).found) == 1


def test_excluded_folder(tmp_path: Path, pair: tuple[str, str]) -> None:
    _env(tmp_path / "data" / "backups" / ".env", *pair)
    _env(tmp_path / "bot" / ".env", *pair)
    result = scan([tmp_path], options=WalkOptions(exclude=[tmp_path / "data"]))
    assert [Path(f.path).parent.name for f in result.found] == ["bot"]


def test_depth_limit_and_overlapping_roots(tmp_path: Path, pair: tuple[str, str]) -> None:
    _env(tmp_path / ".env", *pair)
    _env(tmp_path / "a" / "b" / "c" / ".env", *pair)
    shallow = list(walk([Root(tmp_path, max_depth=1)]))
    assert [c.path for c in shallow] == [tmp_path / ".env"]
    # the deep folder given as its own root is still walked fully, and no file is reported twice
    result = scan([tmp_path, tmp_path / "a"])
    assert sorted(Path(f.path).parent.name for f in result.found) == ["c", tmp_path.name]


def test_missing_root_is_an_error_entry(tmp_path: Path) -> None:
    result = scan([tmp_path / "nope"])
    assert result.found == [] and result.stats.unreadable == 1 and result.errors


def test_cancel_stops_the_walk(tmp_path: Path, pair: tuple[str, str]) -> None:
    for i in range(5):
        _env(tmp_path / f"d{i}" / ".env", *pair)
    result = scan([tmp_path], should_stop=lambda: True)
    assert result.cancelled and result.found == []


def test_progress_is_reported(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"f{i}.txt").write_text("x")
    seen = []
    scan([tmp_path], on_progress=seen.append)
    assert seen and seen[-1].files == 30 and seen[-1].current == ""


def test_default_roots(tmp_path: Path) -> None:
    for d in ("freqtrade", ".cryptohopper", "projects"):
        (tmp_path / d).mkdir()
    roots = default_roots(tmp_path)
    assert [(r.path.name, r.max_depth) for r in roots] == [
        ("freqtrade", None), (".cryptohopper", None), ("projects", None), (tmp_path.name, 2)]
