"""The session-end leak check must really find a planted secret (in a private watch list, not the session's)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import conftest
from tests.helpers import secrets_watch


@pytest.fixture
def private_watch(monkeypatch: pytest.MonkeyPatch) -> tuple[set[str], set[Path]]:
    """Swap in empty watch lists for this test; the session's own lists come back untouched afterwards."""
    secrets_set: set[str] = set()
    dirs: set[Path] = set()
    monkeypatch.setattr(secrets_watch, "TEST_SECRETS", secrets_set)
    monkeypatch.setattr(secrets_watch, "WATCHED_DIRS", dirs)
    return secrets_set, dirs


def test_find_leaks_detects_a_planted_secret_in_a_nested_file(
    tmp_path: Path, private_watch: tuple[set[str], set[Path]]
) -> None:
    planted = "PLANTED-" + "9f3a" * 6
    secrets_watch.register_secret(planted)
    secrets_watch.watch_dir(tmp_path)
    assert secrets_watch.find_leaks() == []
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "keyhygiene.log").write_bytes(b"2024 INFO x: stored " + planted.encode() + b"\n")
    leaks = secrets_watch.find_leaks()
    assert len(leaks) == 1 and str(tmp_path / "logs" / "keyhygiene.log") in leaks[0]
    assert planted not in leaks[0]  # the report itself shows only a prefix


def test_short_values_are_not_registered_and_missing_dirs_are_fine(
    tmp_path: Path, private_watch: tuple[set[str], set[Path]]
) -> None:
    secrets_watch.register_secret("short", "")
    secrets_watch.watch_dir(tmp_path / "never-created")
    assert private_watch[0] == set()
    assert secrets_watch.find_leaks() == []


def test_the_secret_fixture_registers_what_it_makes(secret: object) -> None:
    value = secret("X")  # type: ignore[operator]
    assert value in secrets_watch.TEST_SECRETS


def test_the_data_dir_fixture_is_watched(data_dir: Path) -> None:
    assert data_dir in secrets_watch.WATCHED_DIRS


def test_session_finish_fails_the_run_when_a_leak_is_found(
    tmp_path: Path, private_watch: tuple[set[str], set[Path]]
) -> None:
    lines: list[str] = []
    reporter = SimpleNamespace(write_line=lambda text, **kw: lines.append(text))
    session = SimpleNamespace(
        exitstatus=0, config=SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: reporter))
    )
    secrets_watch.watch_dir(tmp_path)
    secrets_watch.register_secret("LEAKED-" + "77" * 10)
    conftest.pytest_sessionfinish(session, 0)  # type: ignore[arg-type]
    assert session.exitstatus == 0 and lines == []
    (tmp_path / "settings.json").write_text('{"secret": "LEAKED-' + "77" * 10 + '"}')
    conftest.pytest_sessionfinish(session, 0)  # type: ignore[arg-type]
    assert session.exitstatus == 1
    assert "SECRET LEAK CHECK FAILED" in lines[0] and "settings.json" in lines[0]


def test_pem_leak_scan_finds_the_marker_and_any_single_body_line(tmp_path: Path) -> None:
    from keyhygiene.core.keypair import generate_keypair

    pem = generate_keypair("rsa").private_pem
    (tmp_path / "clean.log").write_text("key added (binance, vmPU…q3Fz)\n")
    assert secrets_watch.find_pem_leaks([tmp_path], [pem]) == []
    body_line = pem.splitlines()[5]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "report.csv").write_text(f"id,note\n1,{body_line}\n")
    (tmp_path / "dump.txt").write_text("-----BEGIN PRIVATE KEY-----\n")
    leaks = secrets_watch.find_pem_leaks([tmp_path], [pem])
    assert len(leaks) == 2 and any("report.csv" in x for x in leaks) and any("dump.txt" in x for x in leaks)
    assert body_line not in " ".join(leaks)
