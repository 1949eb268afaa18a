"""The rotation kill test on the team vault: ``keyhygiene rotate`` killed with SIGKILL at every journalled step
(KEYHYGIENE_TEST_CRASH_AT), then resumed; the secrets and the journal live on a real OpenBao server, and no key is
lost. The subprocess takes the team token from BAO_TOKEN (a headless script's way), so no Secret Service is needed.
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
from keyhygiene.core.rotation.journal import CRASH_ENV, Journal, history
from keyhygiene.core.rotation.states import HAPPY_PATH_POINTS, Action, Phase, Step, crash_point
from keyhygiene.paths import app_paths
from keyhygiene.service import team
from keyhygiene.sim import SimKey, run_simulator_in_thread
from keyhygiene.sim.server import Simulator
from keyhygiene.store.keychain import CURRENT, PENDING
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.team_vault import TeamVault
from keyhygiene.store.vault import ServiceRef
from tests.helpers.openbao import OpenBaoServer
from tests.helpers.simkeys import creds_of, make_key

pytestmark = pytest.mark.slow
THIS_COMPUTER = "203.0.113.10"
BEFORE_PENDING = {(Action.START, Phase.DONE), (Action.STORE_PENDING, Phase.BEGIN)}
DELETE_PATH = "/v5/user/delete-api"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with run_simulator_in_thread(exchanges=("bybit",), enforce_rate_limits=False) as s:
        yield s


@pytest.fixture
def team_dir(data_dir: Path, openbao: OpenBaoServer, team_mount: str, memory_keyring: MemoryKeyring) -> Path:
    team.connect(app_paths(data_dir), openbao.url, openbao.root_token, mount=team_mount)
    return data_dir


def rotate(sim: Simulator, server: OpenBaoServer, data_dir: Path, key_id: str, *flags: str,
           creds: SimKey | None = None, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEYHYGIENE_", "BAO_", "VAULT_"))}
    env["BAO_TOKEN"] = server.root_token
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # no keychain at all in the child
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


@pytest.mark.parametrize("point", HAPPY_PATH_POINTS, ids=lambda p: crash_point(*p))
def test_sigkill_at_every_journal_point_then_resume_on_the_team_vault(
    point: tuple[Action, Phase], sim: Simulator, openbao: OpenBaoServer, team_dir: Path
) -> None:
    old = sim.add_key(make_key("bybit", permissions={"read", "spot_trade", "withdraw"}))
    new = sim.add_key(make_key("bybit", permissions={"read", "spot_trade"}, ip_whitelist=[THIS_COMPUTER]))
    with team.open_backend(app_paths(team_dir)) as v:
        rec = v.add_key("bybit", "Grid bot", creds_of(old), purpose="bot",
                        shared_with=[ServiceRef("3commas", date(2022, 6, 1))])
    deletes = sim.request_count("bybit", DELETE_PATH)

    killed = rotate(sim, openbao, team_dir, rec.id, creds=new, crash=crash_point(*point))
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    def invariants(v: TeamVault) -> None:
        current, pending = v.secrets.get(rec.id, CURRENT), v.secrets.get(rec.id, PENDING)
        assert works(sim, current) or works(sim, pending), "no working credential for the account in the vault"
        if current != creds_of(old):
            assert old.revoked, "the old secret left the vault while the exchange still accepted the old key"

    with team.open_backend(app_paths(team_dir)) as v:
        assert isinstance(v, TeamVault)
        invariants(v)
        _version, doc = v.journal.read(rec.id)
        assert doc is not None and doc["journal"][-1]["step"] == point[0].value  # the server has the last entry
        open_rotation = Journal(v.db, hook=None).open_for(rec.id)
    if point == HAPPY_PATH_POINTS[-1]:
        assert open_rotation is None
    else:
        assert open_rotation is not None
        resumed = rotate(sim, openbao, team_dir, rec.id, "--resume",
                         creds=new if point in BEFORE_PENDING else None)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "Resuming" in resumed.stdout
        for text in (killed.stdout, killed.stderr, resumed.stdout, resumed.stderr):
            for s in (old.api_key, old.secret, new.api_key, new.secret, openbao.root_token):
                assert s not in text

    # A fresh cache from the server alone tells the same story: nothing lived only on this machine.
    with team.open_backend(app_paths(team_dir)) as v:
        assert isinstance(v, TeamVault)
        v.close()
    TeamVault.cache_path(app_paths(team_dir), v.config).unlink()
    with team.open_backend(app_paths(team_dir)) as v:
        invariants(v)
        after = v.get_key(rec.id)
        assert after.fingerprint == mask_key(new.api_key) and after.shared_with == []
        assert v.secrets.get(rec.id, CURRENT) == creds_of(new) and v.secrets.get(rec.id, PENDING) is None
        assert v.secrets.labels(rec.id)["current"] > 1 and "pending" not in v.secrets.labels(rec.id)
        (done_rotation,) = history(v.db, rec.id)
        assert done_rotation.state == Step.DONE.value and done_rotation.old_dead_at is not None
        rot_id = v.db.query("SELECT id FROM rotations WHERE key_id = ?", (rec.id,))[0]["id"]
        done = Counter(e.action for e in Journal(v.db, hook=None).entries(rot_id) if e.phase is Phase.DONE)
    assert set(done) == {a for a, ph in HAPPY_PATH_POINTS if ph is Phase.DONE}
    assert all(n == 1 for n in done.values()), f"a step was done twice: {done}"
    assert old.revoked and not new.revoked
    assert sim.request_count("bybit", DELETE_PATH) == deletes + 1, "the old key's deletion was sent twice"
