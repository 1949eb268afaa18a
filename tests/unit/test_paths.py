"""Every path in one place: platformdirs by default, --data-dir / KEYHYGIENE_DATA_DIR to override."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from keyhygiene.paths import DATA_DIR_ENV, app_paths, resource, resources_dir


def test_defaults_come_from_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    p = app_paths()
    assert not p.overridden
    assert p.data_dir == Path(platformdirs.user_data_dir("KeyHygiene", appauthor=False))
    assert p.log_dir == Path(platformdirs.user_log_dir("KeyHygiene", appauthor=False))
    assert p.database == p.data_dir / "keyhygiene.sqlite3"
    assert p.log_file == p.log_dir / "keyhygiene.log"
    assert p.backups_dir == p.data_dir / "backups"


def test_environment_overrides_and_moves_logs_under_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    p = app_paths()
    assert p.overridden
    assert p.data_dir == (tmp_path / "env").resolve()
    assert p.log_dir == p.data_dir / "logs"


def test_an_explicit_dir_beats_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    assert app_paths(tmp_path / "arg").data_dir == (tmp_path / "arg").resolve()


def test_an_empty_environment_value_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, "")
    assert not app_paths().overridden


def test_user_home_and_relative_paths_are_resolved(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert app_paths("~/vault").data_dir == (tmp_path / "vault").resolve()
    monkeypatch.chdir(tmp_path)
    assert app_paths("rel").data_dir == tmp_path / "rel"


def test_resolving_paths_creates_nothing(tmp_path: Path) -> None:
    app_paths(tmp_path / "not-yet")
    assert not (tmp_path / "not-yet").exists()


def test_ensure_creates_private_folders(tmp_path: Path) -> None:
    p = app_paths(tmp_path / "vault")
    p.ensure()
    p.ensure()  # idempotent
    for d in (p.data_dir, p.log_dir):
        assert d.is_dir()
        if os.name == "posix":
            assert stat.S_IMODE(d.stat().st_mode) == 0o700


def test_ensure_fails_loudly_when_the_folder_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError):
        app_paths(tmp_path / "file" / "vault").ensure()


def _package_at(monkeypatch: pytest.MonkeyPatch, package: Path) -> None:
    """Make the keyhygiene package be at ``package`` (a wheel's site-packages, a bundle)."""
    from keyhygiene import paths

    monkeypatch.setattr(paths, "_package_files", lambda: package)


def test_the_package_folder_is_what_importlib_resources_says_without_importing_it() -> None:
    # The first frame's exchange icons read resources: importlib.resources (8 modules) is not loaded for that.
    code = ("import sys; from keyhygiene.paths import _package_files, resources_dir; resources_dir(); "
            "print('importlib.resources' in sys.modules); import importlib.resources; "
            "print(_package_files() == importlib.resources.files('keyhygiene'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}).stdout
    assert out.split() == ["False", "True"]


def test_resources_are_read_inside_the_package_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A wheel or the frozen bundle: keyhygiene/resources, even when a checkout's resources/ sits beside it.
    package = tmp_path / "site" / "keyhygiene"
    (package / "resources").mkdir(parents=True)
    (package / "resources" / "x.txt").write_text("packaged")
    (tmp_path / "site" / "resources").mkdir()
    (tmp_path / "site" / "pyproject.toml").write_text("")
    _package_at(monkeypatch, package)
    assert resources_dir() == package / "resources"
    assert resource("x.txt").read_text() == "packaged"


def test_a_source_checkout_reads_the_top_level_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "repo" / "keyhygiene"
    package.mkdir(parents=True)
    (tmp_path / "repo" / "resources").mkdir()
    (tmp_path / "repo" / "pyproject.toml").write_text("")
    _package_at(monkeypatch, package)
    assert resources_dir() == tmp_path / "repo" / "resources"


def test_this_checkout_finds_its_own_resources() -> None:
    import keyhygiene

    assert resources_dir() == Path(keyhygiene.__file__).resolve().parent.parent / "resources"
    assert resource("services.json").is_file()


def test_missing_resources_are_explained_and_no_stray_folder_passes_for_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wheel built without them, installed next to another distribution's top-level resources/ folder, in a
    # prefix whose share/ holds an old wheel's data files: pipx or a bundle would not see those, so neither do we.
    package = tmp_path / "site" / "keyhygiene"
    package.mkdir(parents=True)
    (tmp_path / "site" / "resources").mkdir()
    (tmp_path / "prefix" / "share" / "keyhygiene" / "resources").mkdir(parents=True)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    _package_at(monkeypatch, package)
    with pytest.raises(FileNotFoundError, match="resources not found") as caught:
        resources_dir()
    assert str(package / "resources") in str(caught.value)


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_an_existing_data_dir_keeps_its_mode_and_is_warned_about_when_others_can_read_it(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    warnings = app_paths(shared).ensure()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # the user's folder, the user's mode
    assert len(warnings) == 1 and "other users" in warnings[0] and "0755" in warnings[0]
    private = tmp_path / "private"
    private.mkdir()
    private.chmod(0o700)
    assert app_paths(private).ensure() == []
    new = tmp_path / "new"
    assert app_paths(new).ensure() == []
    assert stat.S_IMODE(new.stat().st_mode) == 0o700
