"""The team_startup benchmark line's set-up (tests/benchmarks/team_keys.startup_pair): the same keys in a local and
a team vault, the team one opened as a user's is (token in the keychain, warm cache), and the count of requests
that tells a window which opened the team vault from one which did not. The GUI runs themselves belong to
``tests/benchmarks/run.py --quick --only team_startup``."""

from __future__ import annotations

import sys
from pathlib import Path

from keyhygiene.paths import app_paths
from keyhygiene.service.backend import open_backend
from keyhygiene.store.team_vault import TeamVault
from keyhygiene.ui.services import PREFS_SETTING
from tests.helpers.openbao import running_openbao

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import team_keys  # noqa: E402 - tests/benchmarks, put on the path above
import workload  # noqa: E402


def test_startup_pair_holds_the_keys_on_both_sides_and_counts_only_the_team(tmp_path: Path) -> None:
    with running_openbao():  # skips (saying why) where the bao binary is missing
        pass
    keys = workload.make_keys(6)
    with team_keys.startup_pair(tmp_path, keys, prefs={"audit_on_start": False}) as pair:
        start = pair.requests_made()
        with open_backend(app_paths(pair.local.data)) as local:
            assert not isinstance(local, TeamVault) and len(local.list_keys()) == 6
            fingerprints = sorted(k.fingerprint for k in local.list_keys())
            assert local.get_setting(PREFS_SETTING)["audit_on_start"] is False
        assert pair.requests_made() == start  # the local vault never asks the server
        with open_backend(app_paths(pair.team.data), offline_ok=True) as team:
            assert isinstance(team, TeamVault) and team.offline is None
            assert sorted(k.fingerprint for k in team.list_keys()) == fingerprints
            assert team.get_setting(PREFS_SETTING)["audit_on_start"] is False  # where its window reads it
        assert pair.requests_made() > start
        # The team folder's keychain holds the token as `team connect` keeps it: the window needs nothing else.
        assert any(user.endswith("team-token") or "team-token" in user for (_s, user) in pair.team.entries)
