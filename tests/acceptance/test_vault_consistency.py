"""Issue 18 items 1-3 outside-in: a zeroed database, an add killed at random points, a keychain that never answers.

The keychain here must outlive each ``keyhygiene`` process, as the real one does: ``FileKeyring``
(tests/helpers/process_keyrings.py) keeps test secrets in one JSON file outside the data dir.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import time
from pathlib import Path

import pytest

from tests.acceptance.harness import Cli, fresh_creds

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test keychain's file: outside the test's tmp_path, which the leak check reads at teardown."""
    return tmp_path_factory.mktemp("keychain") / "keyring.json"


def _env(keyring_file: Path, backend: str = "FileKeyring", **extra: str) -> dict[str, str]:
    return {"PYTHON_KEYRING_BACKEND": f"tests.helpers.process_keyrings.{backend}",
            "KEYHYGIENE_TEST_KEYRING": str(keyring_file),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **extra}


def _entries(keyring_file: Path) -> dict[str, str]:
    return json.loads(keyring_file.read_text()) if keyring_file.exists() else {}


def _key_ids_in_keychain(keyring_file: Path) -> set[str]:
    return {k.split("\n")[0].split("/")[2] for k in _entries(keyring_file)}


def test_a_zeroed_database_exits_6_keeps_a_copy_and_doctor_lists_the_orphans(cli: Cli, tmp_path: Path,
                                                                              kr: Path) -> None:
    creds = fresh_creds("binance")
    r = cli.run("keys", "add", "--exchange", "binance", "--label", "main", "--json", env=_env(kr) | creds.env())
    assert r.returncode == 0, r
    key_id = json.loads(r.stdout)["id"]
    db = cli.data_dir / "keyhygiene.sqlite3"
    db.write_bytes(b"")  # `: > keyhygiene.sqlite3`
    r = cli.run("keys", "list", env=_env(kr))
    assert r.returncode == 6, r
    assert "damaged" in r.stderr and "No keys stored yet" not in r.stdout
    assert db.stat().st_size == 0  # not turned into a new vault
    assert list(cli.data_dir.glob("keyhygiene.sqlite3.damaged-*"))
    r = cli.run("doctor", "--json", env=_env(kr))
    doc = json.loads(r.stdout)
    assert r.returncode == 6 and doc["consistency"]["database"], r
    assert [(f["kind"], f["key_id"]) for f in doc["consistency"]["findings"]] == [("orphaned_secret", key_id)]
    # Moving the damaged file away and repairing adopts the key into a new database of the same vault.
    db.rename(tmp_path / "damaged.sqlite3")
    r = cli.run("doctor", "--repair", env=_env(kr), stdin="adopt\n")
    assert r.returncode == 0 and "adopted" in r.stdout, r
    listed = cli.run("keys", "list", "--json", env=_env(kr)).json()
    assert [(k["id"], k["label"]) for k in listed] == [(key_id, "main")]


def _kill_loop(cli: Cli, kr: Path, kills: int, seed: int) -> list[str]:
    """``keys add`` killed (SIGKILL) at a random moment, ``kills`` times; returns the ids of the finished adds."""
    rng = random.Random(seed)
    # How long a whole add takes here: kills are spread over that span, so they land in every phase.
    creds = fresh_creds("binance")
    started = time.monotonic()
    r = cli.run("keys", "add", "--exchange", "binance", "--label", "probe", "--json", env=_env(kr) | creds.env())
    span = time.monotonic() - started
    assert r.returncode == 0, r
    finished = [json.loads(r.stdout)["id"]]
    from tests.acceptance.harness import clean_env

    for i in range(kills):
        creds = fresh_creds("binance")
        env = clean_env(_env(kr) | creds.env() | {"KEYHYGIENE_DATA_DIR": str(cli.data_dir)})
        p = subprocess.Popen([*cli.command, "keys", "add", "--exchange", "binance", "--label", f"k{i}", "--json"],
                             env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(span * 0.3, span * 1.1))
        p.kill()
        out, _err = p.communicate(timeout=60)
        if p.returncode == 0:
            finished.append(json.loads(out)["id"])
    return finished


def _forked_kill_loop(cli: Cli, kr: Path, kills: int, seed: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The same, with each ``keys add`` a fork of this process: no interpreter start-up to spend the kills on,
    so they land inside the add itself (vault open, row, keychain write, commit) — where a crash can hurt."""
    import signal
    import sys

    import keyring

    from keyhygiene.cli import main
    from tests.helpers.process_keyrings import FileKeyring

    monkeypatch.setenv("KEYHYGIENE_TEST_KEYRING", str(kr))
    monkeypatch.setenv("KEYHYGIENE_DATA_DIR", str(cli.data_dir))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    rng = random.Random(seed)
    # Loaded once here, so each child spends its time on the add rather than on imports.
    from keyhygiene.cli import build_parser
    from keyhygiene.core.registry import default_resolver
    from keyhygiene.exchanges import catalog

    build_parser()
    default_resolver()
    catalog.needs_passphrase("binance")

    def add(i: int) -> int:
        creds = fresh_creds("binance")
        pid = os.fork()
        if pid == 0:  # the child: one `keyhygiene keys add`, then gone without running any cleanup
            code = 70
            try:
                os.environ.update(creds.env())
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                code = main(["keys", "add", "--exchange", "binance", "--label", f"f{i}"])
            finally:
                os._exit(code)
        return pid

    try:
        started = time.monotonic()
        _pid, status = os.waitpid(add(-1), 0)
        span = time.monotonic() - started
        assert os.waitstatus_to_exitcode(status) == 0
        finished = 1
        for i in range(kills):
            pid = add(i)
            time.sleep(rng.uniform(0, span))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _pid, status = os.waitpid(pid, 0)
            finished += os.waitstatus_to_exitcode(status) == 0
    finally:
        keyring.set_keyring(previous)
    return [str(finished)]


def _check_consistent_or_reported(cli: Cli, kr: Path, kills: int) -> None:
    listed = {k["id"] for k in cli.run("keys", "list", "--json", env=_env(kr)).json()}
    r = cli.run("doctor", "--json", env=_env(kr))
    assert r.returncode == 0, r
    findings = json.loads(r.stdout)["consistency"]["findings"]
    reported = {f["key_id"] for f in findings}
    print(f"{kills} kills: {len(listed)} keys listed, {len(findings)} interrupted adds reported: "
          f"{sorted(tuple(f['actions']) for f in findings)}")
    in_keychain = _key_ids_in_keychain(kr)
    # Every keychain entry is a listed key or reported; every reported one is an interrupted add, never a
    # secret nothing points to.
    assert in_keychain - listed <= reported, (in_keychain - listed, reported)
    assert {f["kind"] for f in findings} <= {"unfinished_add"}, findings
    assert not any(f["kind"] == "missing_secret" for f in findings)
    # And the repair leaves them agreeing, every interrupted add either finished or gone.
    answers = "".join(("adopt\n" if "adopt" in f["actions"] else "remove\n") for f in findings)
    r = cli.run("doctor", "--repair", "--json", env=_env(kr), stdin=answers)
    assert r.returncode == 0 and json.loads(r.stdout)["consistency"]["findings"] == [], r
    listed = {k["id"] for k in cli.run("keys", "list", "--json", env=_env(kr)).json()}
    assert _key_ids_in_keychain(kr) == listed


@pytest.mark.slow
def test_keys_add_processes_killed_at_random_points_leave_keychain_and_database_consistent(
    cli: Cli, kr: Path
) -> None:
    kills = int(os.environ.get("KEYHYGIENE_KILL_LOOP_PROCESSES", "10"))
    finished = _kill_loop(cli, kr, kills, seed=18)
    listed = {k["id"] for k in cli.run("keys", "list", "--json", env=_env(kr)).json()}
    assert set(finished) <= listed
    _check_consistent_or_reported(cli, kr, kills)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_keys_add_killed_at_random_points_leaves_keychain_and_database_consistent_or_reported(
    cli: Cli, kr: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kills = int(os.environ.get("KEYHYGIENE_KILL_LOOP", "50"))
    _forked_kill_loop(cli, kr, kills, seed=18, monkeypatch=monkeypatch)
    _check_consistent_or_reported(cli, kr, kills)


def test_a_stuck_keychain_fails_add_and_doctor_within_the_deadline(cli: Cli, tmp_path: Path) -> None:
    env = _env(tmp_path / "unused.json", backend="StuckKeyring", KEYHYGIENE_KEYCHAIN_TIMEOUT="1")
    creds = fresh_creds("binance")
    started = time.monotonic()
    r = cli.run("keys", "add", "--exchange", "binance", "--label", "x", env=env | creds.env(), timeout=60)
    assert r.returncode == 3, r
    assert "did not answer in 1 s" in r.stderr, r
    assert not cli.data_dir.exists()  # nothing written
    r = cli.run("doctor", "--require-keychain", env=env, timeout=60)
    assert r.returncode == 3 and "did not answer in 1 s" in r.stdout, r
    assert time.monotonic() - started < 45


# ---- the same on the real Secret Service (CI runs these inside a throwaway gnome-keyring) ---------------------
@pytest.mark.keychain
def test_a_zeroed_database_on_the_real_keychain_is_reported_and_adopted(keychain: Cli, tmp_path: Path) -> None:
    creds = fresh_creds("binance")
    r = keychain.run("keys", "add", "--exchange", "binance", "--label", "real", "--json", env=creds.env())
    assert r.returncode == 0, r
    key_id = json.loads(r.stdout)["id"]
    db = keychain.data_dir / "keyhygiene.sqlite3"
    db.write_bytes(b"")
    r = keychain.run("keys", "list")
    assert r.returncode == 6 and "damaged" in r.stderr, r
    doc = json.loads(keychain.run("doctor", "--json").stdout)["consistency"]
    assert doc["listable"] is True  # the Secret Service can be searched for our items
    assert [(f["kind"], f["key_id"]) for f in doc["findings"]] == [("orphaned_secret", key_id)]
    db.rename(tmp_path / "damaged.sqlite3")
    r = keychain.run("doctor", "--repair", stdin="adopt\n")
    assert r.returncode == 0 and "adopted" in r.stdout, r
    assert [k["id"] for k in keychain.run("keys", "list", "--json").json()] == [key_id]


def _secret_service_pid() -> int | None:
    try:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection
    except ImportError:
        return None
    try:
        with open_dbus_connection(bus="SESSION") as conn:
            bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                              interface="org.freedesktop.DBus")
            msg = new_method_call(bus, "GetConnectionUnixProcessID", "s", ("org.freedesktop.secrets",))
            return int(conn.send_and_get_reply(msg, timeout=5).body[0])
    except Exception:  # noqa: BLE001 - no session bus, no daemon: the test skips
        return None


@pytest.mark.keychain
@pytest.mark.skipif(not hasattr(os, "kill") or os.name != "posix", reason="SIGSTOP")
def test_a_stopped_secret_service_daemon_fails_within_the_deadline(keychain: Cli) -> None:
    import signal

    pid = _secret_service_pid()
    if pid is None:
        pytest.skip("no Secret Service daemon on the session bus")
    env = {"KEYHYGIENE_KEYCHAIN_TIMEOUT": "2"}
    creds = fresh_creds("binance")
    os.kill(pid, signal.SIGSTOP)  # the throwaway session's daemon, resumed below whatever happens
    try:
        started = time.monotonic()
        r = keychain.run("keys", "add", "--exchange", "binance", "--label", "x", env=env | creds.env(), timeout=90)
        assert r.returncode == 3 and "did not answer in 2 s" in r.stderr, r
        r = keychain.run("doctor", "--require-keychain", env=env, timeout=90)
        assert r.returncode == 3 and "did not answer in 2 s" in r.stdout, r
        assert time.monotonic() - started < 60
    finally:
        os.kill(pid, signal.SIGCONT)
    assert not (keychain.data_dir / "keyhygiene.sqlite3").exists()
