"""``rotate`` exit codes from outside: 0 complete, 5 saved and waiting (``--revoke-timeout``), ``--resume``.

Each test runs its own simulator process; "the user deletes the old key on the exchange's website" is a restart
of that process with the old key marked revoked (the CLI only ever sees endpoint URLs).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.acceptance.harness import SIM_CLIENT_IP, Cli, Creds, SimKeySpec, SimProcess, fresh_creds

pytestmark = pytest.mark.keychain

RECENT = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


def old_key(exchange: str, **kw: Any) -> SimKeySpec:
    return SimKeySpec(fresh_creds(exchange), {"permissions": ["read", "spot_trade"], **kw})


def safe_new_key(exchange: str) -> SimKeySpec:
    return SimKeySpec(fresh_creds(exchange), {"permissions": ["read", "spot_trade"], "ip_whitelist": [SIM_CLIENT_IP],
                                              "created_at": RECENT})


def store(cli: Cli, creds: Creds, *flags: str) -> str:
    r = cli.run("keys", "add", "--exchange", creds.exchange, "--label", "rotating", "--json", *flags,
                env=creds.env())
    assert r.returncode == 0, r
    return str(r.json()["id"])


def rotate(cli: Cli, sim: SimProcess, key_id: str, *flags: str, new: Creds | None = None) -> Any:
    env = {"KEYHYGIENE_ENDPOINTS": sim.endpoints_env, **(new.env() if new else {})}
    return cli.run("rotate", key_id, *flags, env=env)


def current_key(cli: Cli, key_id: str) -> str:
    (k,) = [k for k in cli.run("keys", "list", "--json").json() if k["id"] == key_id]
    return str(k["key"])


def test_api_revocation_completes_in_one_run(keychain: Cli, start_sim: Callable[..., SimProcess]) -> None:
    # Bybit deletes a master key with a withdrawal permission through its API.
    old = old_key("bybit", permissions=["read", "spot_trade", "withdraw"], is_master=True)
    new = safe_new_key("bybit")
    sim = start_sim([old, new])
    key_id = store(keychain, old.creds, "--shared-with", "3commas@2022-06-01")
    r = rotate(keychain, sim, key_id, "--yes", "--revoke-timeout", "30", new=new.creds)
    assert r.returncode == 0, r
    assert current_key(keychain, key_id) == new.creds.masked()
    r = keychain.run("audit", "--json", env={"KEYHYGIENE_ENDPOINTS": sim.endpoints_env})
    (k,) = r.json()["keys"]
    assert k["status"] == "ok" and k["key"] == new.creds.masked()


def test_waiting_for_the_user_exits_5_then_resumes(keychain: Cli, start_sim: Callable[..., SimProcess]) -> None:
    old, new = old_key("binance"), safe_new_key("binance")
    sim = start_sim([old, new])
    key_id = store(keychain, old.creds)

    r = rotate(keychain, sim, key_id, "--yes", "--revoke-timeout", "0", new=new.creds)
    assert r.returncode == 5, r
    assert "--resume" in r.stdout + r.stderr
    assert current_key(keychain, key_id) == old.creds.masked()  # a working key stays current until the end

    r = rotate(keychain, sim, key_id, "--yes", "--revoke-timeout", "0")
    assert r.returncode == 2 and "--resume" in r.stderr, r  # a rotation in progress needs --resume

    r = rotate(keychain, sim, key_id, "--resume", "--yes", "--revoke-timeout", "0")
    assert r.returncode == 5, r  # the old key still works: still waiting

    old.settings["revoked"] = True  # deleted on the exchange's website
    sim.stop()
    sim = start_sim([old, new])
    r = rotate(keychain, sim, key_id, "--resume", "--revoke-timeout", "0")
    assert r.returncode == 0, r
    assert current_key(keychain, key_id) == new.creds.masked()

    r = rotate(keychain, sim, key_id, "--resume")
    assert r.returncode == 2, r  # nothing left to resume


def test_a_risky_new_key_waits_for_accept_risk(keychain: Cli, start_sim: Callable[..., SimProcess]) -> None:
    old = old_key("okx")
    risky = SimKeySpec(fresh_creds("okx"), {"permissions": ["read", "withdraw"]})
    sim = start_sim([old, risky])
    key_id = store(keychain, old.creds)
    r = rotate(keychain, sim, key_id, "--yes", "--revoke-timeout", "0", new=risky.creds)
    assert r.returncode == 5, r
    assert "--accept-risk" in r.stdout + r.stderr
    r = rotate(keychain, sim, key_id, "--resume", "--yes", "--accept-risk", "--revoke-timeout", "0")
    assert r.returncode == 5, r  # past the risk; now waiting for the old key to be deleted


def test_a_new_key_the_exchange_rejects_exits_4(keychain: Cli, start_sim: Callable[..., SimProcess]) -> None:
    old = old_key("kucoin")
    sim = start_sim([old])
    key_id = store(keychain, old.creds)
    r = rotate(keychain, sim, key_id, "--yes", new=fresh_creds("kucoin"))  # unknown to the exchange
    assert r.returncode == 4, r
    assert current_key(keychain, key_id) == old.creds.masked()


def test_without_yes_and_without_a_terminal_nothing_starts(keychain: Cli,
                                                          start_sim: Callable[..., SimProcess]) -> None:
    old = old_key("gate")
    sim = start_sim([old])
    key_id = store(keychain, old.creds)
    r = rotate(keychain, sim, key_id)
    assert r.returncode == 2, r
    r = rotate(keychain, sim, key_id, "--resume")
    assert r.returncode == 2, r  # nothing was saved


def test_no_new_key_after_the_plan_exits_5_and_says_how_to_resume(keychain: Cli,
                                                                  start_sim: Callable[..., SimProcess]) -> None:
    # `rotate KEY --yes </dev/null` without credentials: the plan is saved before the key is asked for, so the
    # command ends with the rotation waiting (5, with the --resume line), not with a usage error (2).
    old, new = old_key("bybit"), safe_new_key("bybit")
    sim = start_sim([old, new])
    key_id = store(keychain, old.creds)
    r = rotate(keychain, sim, key_id, "--yes")
    assert r.returncode == 5, r
    assert f"keyhygiene rotate {key_id} --resume" in r.stderr, r
    r = rotate(keychain, sim, key_id, "--resume", "--yes", new=old.creds)  # the old key pasted again
    assert r.returncode == 5 and "old key again" in r.stderr and "--resume" in r.stderr, r
    r = rotate(keychain, sim, key_id, "--resume", "--yes", "--revoke-timeout", "0", new=new.creds)
    assert r.returncode == 5 and "stored in the keychain as pending" in r.stdout, r  # past the new key: resumed
    assert "Bybit still accepts the old key" in r.stdout, r  # now waiting for its deletion on bybit.com


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_revoke_timeout_that_is_not_finite_is_a_usage_error(value: str, keychain: Cli) -> None:
    r = keychain.run("rotate", "k00000000", "--revoke-timeout", value)
    assert r.returncode == 2 and "--revoke-timeout" in r.stderr and r.stdout == "", r


def shared_with(cli: Cli, key_id: str) -> list[str]:
    (k,) = [k for k in cli.run("keys", "list", "--json").json() if k["id"] == key_id]
    return list(k["shared_with"])


def test_keep_and_stop_decide_who_gets_the_new_key(keychain: Cli, start_sim: Callable[..., SimProcess]) -> None:
    # Bybit deletes a master key with a withdrawal permission through its API: one run to the end.
    old = old_key("bybit", permissions=["read", "spot_trade", "withdraw"], is_master=True)
    new, newer = safe_new_key("bybit"), safe_new_key("bybit")
    sim = start_sim([old, new, newer])
    key_id = store(keychain, old.creds, "--shared-with", "3commas@2022-06-01", "--shared-with", "koinly@2024-01-05")
    r = rotate(keychain, sim, key_id, "--yes", "--stop", "nobody-i-know", new=new.creds)
    assert r.returncode == 2 and "not a consumer" in r.stderr, r  # nothing saved
    # --yes takes the defaults: 3Commas leaked keys after it got this one (stop), Koinly keeps it.
    r = rotate(keychain, sim, key_id, "--yes", "--revoke-timeout", "30", new=new.creds)
    assert r.returncode == 0, r
    assert shared_with(keychain, key_id) == ["koinly"]
    r = keychain.run("audit", "--json", env={"KEYHYGIENE_ENDPOINTS": sim.endpoints_env})
    (k,) = r.json()["keys"]
    assert not any(f["rule"] == "shared_with_leaked_service" for f in k["findings"]), k["findings"]
    # The next rotation, decided by hand: Koinly stops, nobody else had it.
    r = rotate(keychain, sim, key_id, "--yes", "--stop", "Koinly", "--revoke-timeout", "0", new=newer.creds)
    assert r.returncode == 5, r  # the new key is not a master key with withdrawal: deleted on bybit's page
    r = keychain.run("rotate", "--help")
    assert "--keep SERVICE" in r.stdout and "--stop SERVICE" in r.stdout and "--generate-keypair" in r.stdout
