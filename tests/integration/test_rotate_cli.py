"""``keyhygiene rotate`` end to end, in process: real ccxt against the simulator, the in-memory keychain.

(The same command under SIGKILL, in a subprocess with the real Secret Service: test_rotation_kill.py.)
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from keyhygiene.cli import main
from keyhygiene.core.rotation.states import Step
from keyhygiene.paths import app_paths
from keyhygiene.sim import SimKey, Simulator, SimulatorThread
from keyhygiene.store.keychain import CURRENT, PENDING
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.rotation_journal import SqliteJournal as Journal
from keyhygiene.store.rotation_journal import history
from keyhygiene.store.vault import ServiceRef, Vault
from tests.helpers.simkeys import creds_of, make_key

THIS_COMPUTER = "203.0.113.10"  # the address the simulator sees requests coming from


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    runner = SimulatorThread(Simulator(exchanges=("bybit", "binance"), enforce_rate_limits=False))
    yield runner.start()
    runner.stop()


@pytest.fixture
def vault_at(data_dir: Path, memory_keyring: MemoryKeyring) -> Iterator[Vault]:
    v = Vault(app_paths(data_dir), backend=memory_keyring)
    yield v
    v.close()


def args(sim: Simulator, data_dir: Path, *extra: str) -> list[str]:
    eps = [a for ex, url in sim.endpoints.items() for a in ("--endpoint", f"{ex}={url}")]
    return ["rotate", *extra, "--data-dir", str(data_dir), *eps]


def give_env(monkeypatch: pytest.MonkeyPatch, key: SimKey | None) -> None:
    for name in ("KEYHYGIENE_API_KEY", "KEYHYGIENE_API_SECRET", "KEYHYGIENE_API_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    if key is not None:
        monkeypatch.setenv("KEYHYGIENE_API_KEY", key.api_key)
        monkeypatch.setenv("KEYHYGIENE_API_SECRET", key.secret)


def stored(vault: Vault, sim: Simulator, exchange: str, **kw: object) -> tuple[str, SimKey]:
    old = sim.add_key(make_key(exchange, **kw))
    rec = vault.add_key(exchange, "Grid bot", creds_of(old), purpose="bot",
                        shared_with=[ServiceRef("3commas", date(2022, 6, 1))])
    return rec.id, old


def safe_new(sim: Simulator, exchange: str) -> SimKey:
    return sim.add_key(make_key(exchange, permissions={"read", "spot_trade"}, ip_whitelist=[THIS_COMPUTER]))


def no_secrets(text: str, *keys: SimKey) -> None:
    for k in keys:
        assert k.api_key not in text and k.secret not in text


def test_bybit_rotation_through_api_revocation(sim: Simulator, vault_at: Vault, data_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                               ) -> None:
    key_id, old = stored(vault_at, sim, "bybit", permissions={"read", "spot_trade", "withdraw"})
    before = vault_at.get_key(key_id)
    new = safe_new(sim, "bybit")
    give_env(monkeypatch, new)
    deletes = sim.request_count("bybit", "/v5/user/delete-api")
    rc = main(args(sim, data_dir, key_id, "--yes", "--revoke-timeout", "30"))
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    no_secrets(out + err, old, new)
    assert "3Commas" in out and "through its API" in out
    assert old.revoked and not new.revoked
    assert sim.request_count("bybit", "/v5/user/delete-api") == deletes + 1
    after = vault_at.get_key(key_id)
    assert (after.id, after.label) == (before.id, before.label) and after.fingerprint != before.fingerprint
    assert after.shared_with == []
    assert vault_at.secrets.get(key_id, CURRENT) == creds_of(new)
    assert vault_at.secrets.get(key_id, PENDING) is None
    rec = history(vault_at.db, key_id)[0]
    assert rec.state == "done" and rec.old_dead_status == "invalid_key" and rec.old_dead_at is not None


def test_manual_deletion_waits_then_resume_reads_the_pending_key(
    sim: Simulator, vault_at: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_id, old = stored(vault_at, sim, "binance", permissions={"read", "spot_trade"})
    new = safe_new(sim, "binance")
    give_env(monkeypatch, new)
    rc = main(args(sim, data_dir, key_id, "--yes", "--revoke-timeout", "0"))
    out, err = capsys.readouterr()
    assert rc == 5, out + err
    assert before_fp(vault_at, key_id) in out and "binance.com" in out and "--resume" in out
    assert vault_at.secrets.get(key_id, CURRENT) == creds_of(old)  # old stays until the exchange rejects it
    assert vault_at.secrets.get(key_id, PENDING) == creds_of(new)

    give_env(monkeypatch, None)  # --resume needs no credentials: the pending key is in the keychain
    sim.revoke(old.api_key)  # the user deletes it on binance.com
    rc = main(args(sim, data_dir, key_id, "--resume", "--revoke-timeout", "10"))
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert "Resuming" in out
    assert vault_at.secrets.get(key_id, CURRENT) == creds_of(new)
    assert vault_at.secrets.get(key_id, PENDING) is None
    # Binance answers -2015 for a deleted key, a wrong IP and a missing permission alike: said, not hidden.
    assert history(vault_at.db, key_id)[0].old_dead_certain in (True, False)
    if history(vault_at.db, key_id)[0].old_dead_certain is False:
        assert "cannot be certain" in out


def before_fp(vault: Vault, key_id: str) -> str:
    return vault.get_key(key_id).fingerprint


def test_risky_new_key_waits_for_accept_risk(sim: Simulator, vault_at: Vault, data_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    key_id, old = stored(vault_at, sim, "bybit", permissions={"read", "spot_trade", "transfer"})
    risky = sim.add_key(make_key("bybit", permissions={"read", "withdraw"}))  # and no IP whitelist
    give_env(monkeypatch, risky)
    rc = main(args(sim, data_dir, key_id, "--yes"))
    out, _ = capsys.readouterr()
    assert rc == 5 and "RISK" in out and "--accept-risk" in out
    assert Journal(vault_at.db).open_for(key_id).state is Step.TEST_NEW  # type: ignore[union-attr]
    rc = main(args(sim, data_dir, key_id, "--resume", "--yes", "--accept-risk", "--revoke-timeout", "10"))
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert "Risk accepted" in out and old.revoked


def test_the_old_key_again_is_refused_and_the_rotation_waits(
    sim: Simulator, vault_at: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_id, old = stored(vault_at, sim, "bybit", permissions={"read", "spot_trade", "transfer"})
    give_env(monkeypatch, old)
    rc = main(args(sim, data_dir, key_id, "--yes"))
    _, err = capsys.readouterr()
    # The plan is saved before the key is read: the rotation waits for a new key (5), it is not a usage error.
    assert rc == 5 and "old key again" in err and f"keyhygiene rotate {key_id} --resume" in err
    assert vault_at.secrets.get(key_id, PENDING) is None
    assert Journal(vault_at.db).open_for(key_id).state is Step.NEW_KEY  # type: ignore[union-attr]
    # Without --resume the command refuses to start a second rotation.
    new = safe_new(sim, "bybit")
    give_env(monkeypatch, new)
    assert main(args(sim, data_dir, key_id, "--yes")) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(args(sim, data_dir, key_id, "--resume", "--yes", "--revoke-timeout", "10")) == 0


def test_a_key_the_exchange_rejects_exits_4(sim: Simulator, vault_at: Vault, data_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    key_id, _old = stored(vault_at, sim, "bybit")
    give_env(monkeypatch, make_key("bybit"))  # never created on the exchange
    assert main(args(sim, data_dir, key_id, "--yes")) == 4
    out, _ = capsys.readouterr()
    assert "REFUSED" in out and "rejected the new key" in out


def test_prompts_without_yes(sim: Simulator, vault_at: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    key_id, _old = stored(vault_at, sim, "bybit", permissions={"read", "spot_trade", "transfer"})
    new = safe_new(sim, "bybit")
    give_env(monkeypatch, None)
    # Not confirming the plan starts nothing.
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(args(sim, data_dir, key_id)) == 2
    assert Journal(vault_at.db).open_for(key_id) is None
    capsys.readouterr()
    # Plan: yes; key and secret typed at the prompt; 3Commas: not yet.
    monkeypatch.setattr("sys.stdin", io.StringIO(f"y\n{new.api_key}\n{new.secret}\nn\n"))
    assert main(args(sim, data_dir, key_id)) == 5
    out, _ = capsys.readouterr()
    # 3Commas leaked keys after it got this one: stopped by default, so its line asks about removing its access.
    assert "3Commas \u2014 stop: does not get the new key (3Commas had an API-key leak" in out
    assert "Done: 3Commas: access removed at the service? [y/N]" in out
    no_secrets(out, new)
    # 3Commas: done; delete through the API: no, so the user is guided to the website; then wait 0 s.
    monkeypatch.setattr("sys.stdin", io.StringIO("y\nn\n"))
    assert main(args(sim, data_dir, key_id, "--resume", "--revoke-timeout", "0")) == 5
    out, _ = capsys.readouterr()
    assert "bybit.com" in out and "Delete the key" in out


def test_resume_without_a_rotation_and_unknown_key(sim: Simulator, vault_at: Vault, data_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    key_id, _old = stored(vault_at, sim, "bybit")
    assert main(args(sim, data_dir, key_id, "--resume")) == 2
    assert "no rotation in progress" in capsys.readouterr().err
    assert main(args(sim, data_dir, "k00000000")) == 2
    with pytest.raises(SystemExit) as refused:  # now refused by argparse, before the keychain is opened
        main(args(sim, data_dir, key_id, "--revoke-timeout", "-1"))
    assert refused.value.code == 2


def test_no_credentials_after_the_plan_leaves_the_rotation_waiting_exit_5(
    sim: Simulator, vault_at: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `rotate KEY --yes </dev/null` with no credentials: the plan is confirmed and saved, then no key can be read.
    # The rotation is saved and waiting, so exit 5 with the --resume line, not the usage error (2) it used to be.
    key_id, old = stored(vault_at, sim, "bybit", permissions={"read", "spot_trade", "transfer"})
    give_env(monkeypatch, None)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    rc = main(args(sim, data_dir, key_id, "--yes"))
    out, err = capsys.readouterr()
    assert rc == 5, out + err
    assert "No API key given" in err and f"keyhygiene rotate {key_id} --resume" in err
    assert Journal(vault_at.db).open_for(key_id).state is Step.NEW_KEY  # type: ignore[union-attr]
    no_secrets(out + err, old)
    # Resuming with a new key in the environment finishes the rotation.
    new = safe_new(sim, "bybit")
    give_env(monkeypatch, new)
    rc = main(args(sim, data_dir, key_id, "--resume", "--yes", "--revoke-timeout", "10"))
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    no_secrets(out + err, old, new)


def test_the_old_key_again_on_resume_exits_5(sim: Simulator, vault_at: Vault, data_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    key_id, old = stored(vault_at, sim, "bybit", permissions={"read", "spot_trade", "transfer"})
    give_env(monkeypatch, None)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(args(sim, data_dir, key_id, "--yes")) == 5
    capsys.readouterr()
    give_env(monkeypatch, old)
    rc = main(args(sim, data_dir, key_id, "--resume", "--yes"))
    out, err = capsys.readouterr()
    assert rc == 5, out + err
    assert "old key again" in err and f"keyhygiene rotate {key_id} --resume" in err
    assert Journal(vault_at.db).open_for(key_id).state is Step.NEW_KEY  # type: ignore[union-attr]
    no_secrets(out + err, old)


def test_a_key_of_another_account_leaves_the_rotation_waiting_exit_5(
    sim: Simulator, vault_at: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Refused for a reason that is not the exchange rejecting it (4): the rotation is saved at test_new and waits
    # for another key, so exit 5.
    key_id, old = stored(vault_at, sim, "bybit", permissions={"read", "spot_trade", "transfer"})
    other = sim.add_key(make_key("bybit", permissions={"read", "spot_trade"}, ip_whitelist=[THIS_COMPUTER],
                                 uid="200000002"))
    give_env(monkeypatch, other)
    rc = main(args(sim, data_dir, key_id, "--yes"))
    out, err = capsys.readouterr()
    assert rc == 5, out + err
    assert "different bybit account" in out and f"keyhygiene rotate {key_id} --resume" in out
    assert Journal(vault_at.db).open_for(key_id).state is Step.TEST_NEW  # type: ignore[union-attr]
    no_secrets(out + err, old, other)


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "-1", "-0.5", "soon"])
def test_revoke_timeout_must_be_a_finite_number_of_seconds(value: str, sim: Simulator, vault_at: Vault,
                                                           data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    # "nan" used to pass float() and print "waiting up to nan s"; "inf" would wait forever.
    key_id, _old = stored(vault_at, sim, "bybit")
    give_env(monkeypatch, None)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(SystemExit) as refused:  # argparse's own exit: the console script's exit code
        main(args(sim, data_dir, key_id, "--yes", f"--revoke-timeout={value}"))
    assert refused.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "--revoke-timeout" in err
    assert Journal(vault_at.db).open_for(key_id) is None  # refused while parsing: nothing started


def audit_of(sim: Simulator, data_dir: Path, key_id: str, capsys: pytest.CaptureFixture[str]) -> dict:
    eps = [a for ex, url in sim.endpoints.items() for a in ("--endpoint", f"{ex}={url}")]
    main(["audit", "--json", "--data-dir", str(data_dir), *eps])
    doc = json.loads(capsys.readouterr().out)
    (k,) = [k for k in doc["keys"] if k["id"] == key_id]
    return dict(k)


def test_yes_takes_the_defaults_the_leaker_is_stopped_and_the_new_key_is_clean(
    sim: Simulator, vault_at: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Withdraw: Bybit deletes such a master key through its API, so the rotation finishes in one run.
    key_id, old = stored(vault_at, sim, "bybit", permissions={"read", "spot_trade", "withdraw"})
    vault_at.share(key_id, ServiceRef("koinly", date(2024, 1, 5)))
    before = audit_of(sim, data_dir, key_id, capsys)
    assert any("3Commas" in f["title"] for f in before["findings"])  # the leak is named before the rotation
    new = safe_new(sim, "bybit")
    give_env(monkeypatch, new)
    rc = main(args(sim, data_dir, key_id, "--yes", "--revoke-timeout", "30"))
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert "3Commas \u2014 stop: does not get the new key" in out and "Koinly \u2014 keep: gets the new key" in out
    after = vault_at.get_key(key_id)
    assert after.shared_with == ["koinly"]  # exactly the kept consumers, from the rotation day
    (kept,) = [e for e in after.exposures if e.active]
    rotated = history(vault_at.db, key_id)[0]
    assert rotated.state == "done" and kept.shared_at == rotated.finished_at.date()  # type: ignore[union-attr]
    closed = {e.service: e.revoked_at for e in after.exposures if not e.active}
    assert closed == {"3commas": kept.shared_at, "koinly": kept.shared_at}  # the history keeps the old sharings
    k = audit_of(sim, data_dir, key_id, capsys)
    named = [f for f in k["findings"] if "3commas" in json.dumps(f).lower() or f["rule"].startswith("shared_with_le")]
    assert named == [], named
    assert k["key"] == after.fingerprint and k["shared_with"] == ["koinly"]


def test_keep_and_stop_decide_each_consumer(sim: Simulator, vault_at: Vault, data_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    key_id, _old = stored(vault_at, sim, "bybit", permissions={"read", "spot_trade", "withdraw"})
    vault_at.share(key_id, ServiceRef("koinly", date(2024, 1, 5)))
    new = safe_new(sim, "bybit")
    give_env(monkeypatch, new)
    # A consumer the key was never given to is a usage error, and nothing is saved.
    assert main(args(sim, data_dir, key_id, "--yes", "--stop", "cryptohopper")) == 2
    assert "not a consumer" in capsys.readouterr().err
    assert Journal(vault_at.db).open_for(key_id) is None
    assert main(args(sim, data_dir, key_id, "--yes", "--keep", "koinly", "--stop", "koinly")) == 2
    capsys.readouterr()
    # Names as the user knows them, case-insensitive: keep 3Commas after all, stop Koinly.
    rc = main(args(sim, data_dir, key_id, "--yes", "--keep", "3COMMAS", "--stop", "Koinly", "--revoke-timeout", "30"))
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert "3Commas \u2014 keep: gets the new key" in out and "Koinly \u2014 stop: does not get the new key" in out
    assert "Done: " not in out  # --yes confirms the checklist
    after = vault_at.get_key(key_id)
    assert after.shared_with == ["3commas"]
    # Given the new key today, long after its leak: no finding names the leak for the new key.
    k = audit_of(sim, data_dir, key_id, capsys)
    assert not any(f["rule"] == "shared_with_leaked_service" for f in k["findings"]), k["findings"]


def test_help_names_keep_and_stop(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["rotate", "--help"])
    out = capsys.readouterr().out
    assert "--keep SERVICE" in out and "--stop SERVICE" in out


@pytest.mark.parametrize(("exchange", "kind"), [("binance", "ed25519"), ("bybit", "rsa")])
def test_generate_keypair_private_key_only_in_the_keychain(
    exchange: str, kind: str, sim: Simulator, vault_at: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from keyhygiene.core.keypair import kind_of
    from tests.helpers.secrets_watch import find_pem_leaks

    # Bybit deletes a master key with a withdrawal permission through its API; Binance's is deleted on its page.
    key_id, old = stored(vault_at, sim, exchange, permissions={"read", "spot_trade", "withdraw"})
    give_env(monkeypatch, None)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no API key yet: the exchange has not seen the public key
    rc = main(args(sim, data_dir, key_id, "--yes", "--generate-keypair", kind))
    out, err = capsys.readouterr()
    assert rc == 5, out + err
    assert "PRIVATE KEY" not in out + err
    public = out[out.index("-----BEGIN PUBLIC KEY-----"):out.index("-----END PUBLIC KEY-----") + 24]
    pending = vault_at.secrets.get(key_id, PENDING)
    assert pending is not None and pending.api_key == "" and kind_of(pending.secret) == kind
    assert f"keyhygiene rotate {key_id} --resume" in out
    # An exchange that takes no such key pair is a usage error before anything happens.
    assert main(args(sim, data_dir, key_id, "--resume", "--generate-keypair",
                     "ed25519" if kind == "rsa" else "rsa")) == (2 if exchange == "bybit" else 5)
    capsys.readouterr()

    # The user registers the public key on the exchange's page, which answers with the API key.
    new = sim.register_public_key(exchange, public, permissions=["read", "spot_trade"],
                                  ip_whitelist=[THIS_COMPUTER])
    if exchange == "binance":
        assert sim.delete_key("binance", old.api_key)  # deleted on Binance's page; no API for it
    monkeypatch.setenv("KEYHYGIENE_API_KEY", new.api_key)
    rc = main(args(sim, data_dir, key_id, "--resume", "--yes", "--revoke-timeout", "30"))
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert public.strip() in out  # shown again on --resume, from the private key in the keychain
    current = vault_at.secrets.get(key_id, CURRENT)
    assert current is not None and current.api_key == new.api_key and kind_of(current.secret) == kind
    assert vault_at.secrets.get(key_id, PENDING) is None
    assert old.revoked and not new.revoked
    # Inspection works like any other key's: the simulator verifies the signature against the public key.
    eps = [a for ex, url in sim.endpoints.items() for a in ("--endpoint", f"{ex}={url}")]
    monkeypatch.setenv("KEYHYGIENE_API_SECRET", current.secret)
    assert main(["inspect", "--exchange", exchange, "--json", *eps]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "ok"
    assert find_pem_leaks([data_dir], [current.secret]) == []
    assert history(vault_at.db, key_id)[0].state == "done"
