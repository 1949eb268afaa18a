"""A ``keyhygiene rotate`` process killed with SIGKILL at every journalled step, then ``--resume``d.

Real pieces only: the CLI in a subprocess, the Secret Service keychain (it outlives the killed process), ccxt
against the loopback simulator (Bybit, so the old key is deleted through its delete-api). The kill comes from the
``KEYHYGIENE_TEST_CRASH_AT=<action>:<phase>`` test hook (keyhygiene/core/rotation/journal.py): the process sends
itself SIGKILL right after that journal entry is committed.

Run inside a throwaway Secret Service, e.g.::

    export XDG_DATA_HOME=$(mktemp -d)
    dbus-run-session -- bash -c 'eval "$(printf %s pw | gnome-keyring-daemon --unlock --components=secrets)"; \
        KEYHYGIENE_CI_KEYCHAIN=1 /work/venv/bin/pytest tests/integration/test_rotation_kill.py'
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials
from keyhygiene.core.rotation.journal import CRASH_ENV
from keyhygiene.core.rotation.states import HAPPY_PATH_POINTS, KEYPAIR_PATH_POINTS, Action, Phase, Step, crash_point
from keyhygiene.paths import app_paths
from keyhygiene.sim import SimKey, run_simulator_in_thread
from keyhygiene.sim.server import Simulator
from keyhygiene.store.keychain import CURRENT, PENDING
from keyhygiene.store.rotation_journal import SqliteJournal as Journal
from keyhygiene.store.rotation_journal import history
from keyhygiene.store.vault import ServiceRef, Vault
from tests.helpers.simkeys import creds_of, make_key

pytestmark = [
    pytest.mark.keychain,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("KEYHYGIENE_CI_KEYCHAIN") != "1",
                       reason="needs a real Secret Service (set KEYHYGIENE_CI_KEYCHAIN=1 inside dbus-run-session)"),
]

THIS_COMPUTER = "203.0.113.10"
# Until STORE_PENDING is done the new key is not in the keychain yet: the resumed run must be given it again.
BEFORE_PENDING = {(Action.START, Phase.DONE), (Action.STORE_PENDING, Phase.BEGIN)}
DELETE_PATH = "/v5/user/delete-api"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with run_simulator_in_thread(exchanges=("bybit",), enforce_rate_limits=False) as s:
        yield s


@pytest.fixture
def real_vault(data_dir: Path) -> Iterator[Vault]:
    import keyring

    from keyhygiene.store.keychain import backend_name

    v = Vault(app_paths(data_dir))  # the platform keychain, as the subprocess will see it
    st = v.secrets.status()
    if not st.usable or "SecretService" not in backend_name(keyring.get_keyring()).replace(" ", ""):
        v.close()
        pytest.skip(f"no usable Secret Service ({st.state.value}, {st.backend})")
    yield v
    for k in v.list_keys():
        v.remove_key(k.id)  # leave nothing behind in the session keyring
    v.close()


def rotate(sim: Simulator, data_dir: Path, key_id: str, *flags: str, creds: SimKey | None = None,
           crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHYGIENE_")}
    env["KEYHYGIENE_CI_KEYCHAIN"] = "1"
    if creds is not None:
        env["KEYHYGIENE_API_KEY"], env["KEYHYGIENE_API_SECRET"] = creds.api_key, creds.secret
    if crash:
        env[CRASH_ENV] = crash
    cmd = [sys.executable, "-m", "keyhygiene", "rotate", key_id, "--yes", "--revoke-timeout", "20",
           "--data-dir", str(data_dir), "--endpoint", f"bybit={sim.endpoints['bybit']}", *flags]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def works(sim: Simulator, creds: Credentials | None) -> bool:
    if creds is None:
        return False
    k = sim.find_key("bybit", creds.api_key)
    return k is not None and not k.revoked


def assert_invariants(sim: Simulator, vault: Vault, key_id: str, old: SimKey) -> None:
    current = vault.secrets.get(key_id, CURRENT)
    pending = vault.secrets.get(key_id, PENDING)
    assert works(sim, current) or works(sim, pending), "no working credential for the account in the keychain"
    if current != creds_of(old):
        assert old.revoked, "the old secret left the keychain while the exchange still accepted the old key"


@pytest.mark.parametrize("point", HAPPY_PATH_POINTS, ids=lambda p: crash_point(*p))
def test_sigkill_at_every_journal_point_then_resume(point: tuple[Action, Phase], sim: Simulator, data_dir: Path,
                                                    real_vault: Vault) -> None:
    old = sim.add_key(make_key("bybit", permissions={"read", "spot_trade", "withdraw"}))
    new = sim.add_key(make_key("bybit", permissions={"read", "spot_trade"}, ip_whitelist=[THIS_COMPUTER]))
    rec = real_vault.add_key("bybit", "Grid bot", creds_of(old), purpose="bot",
                             shared_with=[ServiceRef("3commas", date(2022, 6, 1)),
                                          ServiceRef("koinly", date(2024, 2, 1))])
    deletes = sim.request_count("bybit", DELETE_PATH)

    # Against the defaults (3Commas stop, Koinly keep), given only to the killed run: the resumed run must find
    # the decisions in the journal.
    killed = rotate(sim, data_dir, rec.id, "--keep", "3commas", "--stop", "koinly", creds=new,
                    crash=crash_point(*point))
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert_invariants(sim, real_vault, rec.id, old)

    journal = Journal(real_vault.db, hook=None)
    if point == HAPPY_PATH_POINTS[-1]:
        assert journal.open_for(rec.id) is None  # killed after the very last entry: nothing to resume
    else:
        rot = journal.open_for(rec.id)
        assert rot is not None
        # After the pending key is stored, --resume needs no credentials: it reads them from the keychain.
        resumed = rotate(sim, data_dir, rec.id, "--resume", creds=new if point in BEFORE_PENDING else None)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "Resuming" in resumed.stdout
        for text in (killed.stdout, killed.stderr, resumed.stdout, resumed.stderr):
            for s in (old.api_key, old.secret, new.api_key, new.secret):
                assert s not in text
    assert_invariants(sim, real_vault, rec.id, old)

    after = real_vault.get_key(rec.id)
    assert (after.id, after.label) == (rec.id, rec.label) and after.fingerprint == mask_key(new.api_key)
    # Exactly the kept consumer, once, from the rotation day; the old key's sharings closed that day.
    (done_rotation,) = history(real_vault.db, rec.id)
    day = done_rotation.finished_at.date()  # type: ignore[union-attr]
    assert [(e.service, e.shared_at) for e in after.exposures if e.active] == [("3commas", day)]
    assert sorted((e.service, e.revoked_at) for e in after.exposures if not e.active) == [
        ("3commas", day), ("koinly", day)]
    assert real_vault.secrets.get(rec.id, CURRENT) == creds_of(new)
    assert real_vault.secrets.get(rec.id, PENDING) is None
    assert old.revoked and not new.revoked
    assert sim.request_count("bybit", DELETE_PATH) == deletes + 1, "the old key's deletion was sent twice"
    assert done_rotation.state == Step.DONE.value and done_rotation.old_dead_at is not None
    rot_id = real_vault.db.query("SELECT id FROM rotations WHERE key_id = ?", (rec.id,))[0]["id"]
    done = Counter(e.action for e in journal.entries(rot_id) if e.phase is Phase.DONE)
    assert set(done) == {a for a, ph in HAPPY_PATH_POINTS if ph is Phase.DONE}
    assert all(n == 1 for n in done.values()), f"a step was done twice: {done}"


def rotate_keypair(sim: Simulator, data_dir: Path, key_id: str, *flags: str, crash: str | None = None,
                   registered: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``rotate`` as a person runs it with --generate-keypair: when the public key appears on stdout, register it
    on the (simulated) exchange's page and type the API key it returns at the prompt (stdin)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHYGIENE_")}
    env["KEYHYGIENE_CI_KEYCHAIN"] = "1"
    if crash:
        env[CRASH_ENV] = crash
    cmd = [sys.executable, "-m", "keyhygiene", "rotate", key_id, "--yes", "--revoke-timeout", "20",
           "--data-dir", str(data_dir), "--endpoint", f"bybit={sim.endpoints['bybit']}", *flags]
    out: list[str] = []
    with subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        assert proc.stdout is not None and proc.stdin is not None and proc.stderr is not None
        pem: list[str] = []
        for line in proc.stdout:
            out.append(line)
            if line.startswith("-----BEGIN PUBLIC KEY-----") or pem:
                pem.append(line)
            if line.startswith("-----END PUBLIC KEY-----"):
                public = "".join(pem).strip()
                pem = []
                if public not in registered:
                    registered[public] = sim.register_public_key(
                        "bybit", public, permissions=["read", "spot_trade"], ip_whitelist=[THIS_COMPUTER]).api_key
                try:
                    proc.stdin.write(registered[public] + "\n")
                    proc.stdin.flush()
                except BrokenPipeError:
                    pass
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        err = proc.stderr.read()
        rc = proc.wait(timeout=120)
    return subprocess.CompletedProcess(cmd, rc, "".join(out), err)


@pytest.mark.parametrize("point", KEYPAIR_PATH_POINTS, ids=lambda p: crash_point(*p))
def test_sigkill_on_the_keypair_path_then_resume(point: tuple[Action, Phase], sim: Simulator, data_dir: Path,
                                                 real_vault: Vault) -> None:
    from keyhygiene.core.keypair import kind_of
    from tests.helpers.secrets_watch import find_pem_leaks

    old = sim.add_key(make_key("bybit", permissions={"read", "spot_trade", "withdraw"}))
    rec = real_vault.add_key("bybit", "Grid bot", creds_of(old), purpose="bot",
                             shared_with=[ServiceRef("3commas", date(2022, 6, 1))])
    registered: dict[str, str] = {}
    killed = rotate_keypair(sim, data_dir, rec.id, "--generate-keypair", "rsa", crash=crash_point(*point),
                            registered=registered)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert "PRIVATE KEY" not in killed.stdout + killed.stderr
    current = real_vault.secrets.get(rec.id, CURRENT)
    assert current == creds_of(old) or old.revoked, "the old secret left before the exchange rejected the old key"
    if point != KEYPAIR_PATH_POINTS[-1]:
        resumed = rotate_keypair(sim, data_dir, rec.id, "--resume", "--generate-keypair", "rsa",
                                 registered=registered)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "PRIVATE KEY" not in resumed.stdout + resumed.stderr
    after = real_vault.secrets.get(rec.id, CURRENT)
    assert after is not None and kind_of(after.secret) == "rsa" and after.api_key in registered.values()
    assert real_vault.secrets.get(rec.id, PENDING) is None
    assert old.revoked
    assert real_vault.get_key(rec.id).shared_with == []  # 3Commas leaked after it got the key: stopped
    assert find_pem_leaks([data_dir], [after.secret]) == []
