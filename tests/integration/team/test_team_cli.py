"""``keyhygiene team …`` and every other command on a connected team vault, in-process with an in-memory keychain
and a real OpenBao server."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from keyhygiene import exitcodes
from keyhygiene.cli import main
from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.paths import app_paths
from keyhygiene.service import team
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.team_client import SecretsForbidden
from keyhygiene.store.vault import Vault
from tests.helpers.openbao import OpenBaoServer
from tests.helpers.secrets_watch import register_secret, watch_dir

ENV = ("KEYHYGIENE_API_KEY", "KEYHYGIENE_API_SECRET", "KEYHYGIENE_API_PASSPHRASE", "BAO_TOKEN", "VAULT_TOKEN")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


Run = Callable[..., Result]


@pytest.fixture
def run(memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    def go(data_dir: Path, *argv: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
        watch_dir(data_dir)
        with monkeypatch.context() as m:
            for k, v in (env or {}).items():
                m.setenv(k, v)
            if stdin is not None:
                m.setattr(sys, "stdin", io.StringIO(stdin))
            capsys.readouterr()
            try:
                code = main(["--data-dir", str(data_dir), *argv])
            except SystemExit as exc:
                code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return go


def policy_token(run: Run, tmp_path: Path, server: OpenBaoServer, mount: str, role: str) -> str:
    """A token for ``role`` made from the HCL that `keyhygiene team policy` prints: the policies must work."""
    hcl = run(tmp_path / "policy", "team", "policy", "--role", role, "--mount", mount)
    assert hcl.code == 0
    return server.token_with_policy(f"kh-{role}-{mount}", hcl.out)


def add_key(run: Run, d: Path, label: str, secret: Callable[..., str], *extra: str) -> str:
    env = {"KEYHYGIENE_API_KEY": secret("K"), "KEYHYGIENE_API_SECRET": secret("S")}
    r = run(d, "keys", "add", "--exchange", "binance", "--label", label, "--json", *extra, env=env)
    assert r.code == 0, r.err
    return str(r.json()["id"])  # type: ignore[index]


def test_connect_status_list_disconnect(run: Run, tmp_path: Path, openbao: OpenBaoServer, team_mount: str,
                                        memory_keyring: MemoryKeyring, secret: Callable[..., str]) -> None:
    d = tmp_path / "me"
    r = run(d, "team", "connect", openbao.url, "--mount", team_mount, "--json", env={"BAO_TOKEN": openbao.root_token})
    assert r.code == 0, r.err
    st = r.json()
    assert st["connected"] and st["reason"] == "ok" and st["keys"] == 0  # type: ignore[index]
    # The token went to the keychain, nowhere else.
    assert any(v == openbao.root_token or openbao.root_token in v for v in memory_keyring.entries().values())
    kid = add_key(run, d, "desk", secret, "--shared-with", "3commas@2022-01-01")
    listed = run(d, "keys", "list", "--json").json()
    assert [k["id"] for k in listed] == [kid] and listed[0]["shared_with"] == ["3commas"]  # type: ignore[index]
    r = run(d, "team", "status")
    assert r.code == 0 and "keys:       1" in r.out
    r = run(d, "team", "disconnect")
    assert r.code == 0 and "stay on the server" in r.out
    assert run(d, "keys", "list", "--json").json() == []  # back to the (empty) local vault
    assert run(d, "team", "status", "--json").json()["connected"] is False  # type: ignore[index]


def test_a_token_from_a_hidden_prompt_and_never_from_argv(run: Run, tmp_path: Path, openbao: OpenBaoServer,
                                                           team_mount: str) -> None:
    r = run(tmp_path / "d", "team", "connect", openbao.url, "--mount", team_mount, stdin=openbao.root_token + "\n")
    assert r.code == 0, r.err
    r = run(tmp_path / "d", "team", "connect", openbao.url, "--token", "x")
    assert r.code == exitcodes.USAGE


@pytest.mark.parametrize(("url", "words"), [("http://192.0.2.10:8200", "unencrypted"), ("ftp://x", "not a server"),
                                            ("https://vault.example.com/v1/secret", "address only")])
def test_bad_urls_are_usage_errors_before_any_prompt(run: Run, tmp_path: Path, url: str, words: str) -> None:
    r = run(tmp_path / "d", "team", "connect", url, env={"BAO_TOKEN": "whatever-token-1"})
    assert r.code == exitcodes.USAGE and words in r.err


def test_a_refused_token_or_a_missing_mount_keeps_nothing(run: Run, tmp_path: Path, openbao: OpenBaoServer,
                                                           team_mount: str) -> None:
    d = tmp_path / "d"
    register_secret("hvs.not-a-real-token-123")
    r = run(d, "team", "connect", openbao.url, "--mount", team_mount, env={"BAO_TOKEN": "hvs.not-a-real-token-123"})
    assert r.code == exitcodes.KEYCHAIN and "vault unavailable (token_refused)" in r.err
    r = run(d, "team", "connect", openbao.url, "--mount", "no-such-mount", env={"BAO_TOKEN": openbao.root_token})
    assert r.code == exitcodes.KEYCHAIN and "not_kv2" in r.err and "kv-v2" in r.err
    assert run(d, "team", "status", "--json").json()["connected"] is False  # type: ignore[index]


def test_policies_for_the_three_roles(run: Run, tmp_path: Path) -> None:
    r = run(tmp_path / "d", "team", "policy", "--mount", "desk")
    assert r.code == 0
    assert r.out.count("# KeyHygiene team vault:") == 3
    auditor = run(tmp_path / "d", "team", "policy", "--role", "auditor", "--mount", "desk").out
    assert 'path "desk/data/keys/*"' in auditor and '"deny"' in auditor
    assert '"desk/data/meta/*"' in auditor and "create" not in auditor and "update" not in auditor


def test_two_teammates_and_an_auditor(run: Run, tmp_path: Path, openbao: OpenBaoServer, team_mount: str,
                                      secret: Callable[..., str]) -> None:
    alice, bob, carol = tmp_path / "alice", tmp_path / "bob", tmp_path / "carol"
    for who, role in ((alice, "trader"), (bob, "trader"), (carol, "auditor")):
        tok = policy_token(run, tmp_path, openbao, team_mount, role)
        assert run(who, "team", "connect", openbao.url, "--mount", team_mount, env={"BAO_TOKEN": tok}).code == 0
    kid = add_key(run, alice, "alice's bot", secret, "--shared-with", "3commas@2022-05-01")
    assert run(bob, "keys", "share", kid, "koinly@2023-01-01").code == 0
    shared = run(alice, "keys", "list", "--json").json()[0]["shared_with"]  # type: ignore[index]
    assert shared == ["3commas", "koinly"]
    # An inspection recorded by a trader is what the auditor's report judges.
    with team.open_backend(app_paths(alice)) as v:
        v.repo.record_inspection(kid, KeyProfile(exchange="binance", key=v.get_key(kid).fingerprint,
                                                 status=Status.OK, permissions=["read", "withdraw"],
                                                 ip_restricted=False))
    # The auditor sees keys and sharings, is refused secrets, and still makes a report.
    assert [k["id"] for k in run(carol, "keys", "list", "--json").json()] == [kid]  # type: ignore[union-attr]
    with team.open_backend(app_paths(carol)) as v, pytest.raises(SecretsForbidden, match="cannot read secrets"):
        v.credentials(kid)
    audit = run(carol, "audit", "--json")
    assert audit.code == 0, audit.err
    key = audit.json()["keys"][0]  # type: ignore[index]
    assert "cannot read secrets" in json.dumps(key)
    assert {f["rule"] for f in key["findings"]} >= {"withdraw_enabled"}
    out = tmp_path / "report.json"
    r = run(carol, "report", "--format", "json", "-o", str(out))
    assert r.code == 0, r.err
    report = json.loads(out.read_text())
    assert report["keys"][0]["id"] == kid
    # And the auditor cannot change anything.
    assert run(carol, "keys", "unshare", kid, "koinly").code == exitcodes.KEYCHAIN


def test_import_copies_local_keys_resumably_and_removes_only_when_asked(
    run: Run, tmp_path: Path, openbao: OpenBaoServer, team_mount: str, secret: Callable[..., str]
) -> None:
    d = tmp_path / "me"
    a = add_key(run, d, "a", secret, "--shared-with", "koinly@2023-01-01")
    b = add_key(run, d, "b", secret)
    with Vault(app_paths(d)) as local:
        creds_a = local.credentials(a)
    token = {"BAO_TOKEN": openbao.root_token}
    assert run(d, "team", "connect", openbao.url, "--mount", team_mount, env=token).code == 0
    r = run(d, "team", "import", "--json")
    assert r.code == 0, r.err
    assert {k["id"]: k["result"] for k in r.json()["keys"]} == {a: "imported", b: "imported"}  # type: ignore[index]
    with team.open_backend(app_paths(d)) as v:
        assert v.credentials(a) == creds_a and v.get_key(a).shared_with == ["koinly"]
    with Vault(app_paths(d)) as local:
        assert {k.id for k in local.list_keys()} == {a, b}  # nothing removed without --remove-local
    r = run(d, "team", "import", "--remove-local", "--json")  # resumed: nothing copied twice
    assert {k["id"]: k["result"] for k in r.json()["keys"]} == {a: "already", b: "already"}  # type: ignore[index]
    assert sorted(r.json()["removed_locally"]) == sorted([a, b])  # type: ignore[index]
    with Vault(app_paths(d)) as local:
        assert local.list_keys() == [] and local.credentials(a) is None
    assert sorted(k["id"] for k in run(d, "keys", "list", "--json").json()) == sorted([a, b])  # type: ignore[union-attr]


def test_policy_creates_nothing(run: Run, tmp_path: Path) -> None:
    d = tmp_path / "never-made"
    r = run(d, "team", "policy", "--role", "trader")
    assert r.code == 0 and 'path "keyhygiene/data/keys/*"' in r.out
    assert not d.exists()


def test_status_and_every_command_exit_3_when_the_server_is_gone(run: Run, tmp_path: Path,
                                                                   secret: Callable[..., str]) -> None:
    from tests.helpers.openbao import running_openbao

    d = tmp_path / "d"
    with running_openbao() as server:
        token = {"BAO_TOKEN": server.root_token}
        assert run(d, "team", "connect", server.url, "--mount", server.new_mount(), env=token).code == 0
        add_key(run, d, "x", secret)
    r = run(d, "team", "status")
    assert r.code == exitcodes.KEYCHAIN and "state:      down" in r.out and "does not answer" in r.out
    for argv in (("keys", "list"), ("audit", "--json"), ("report", "--format", "json", "-o", "-")):
        r = run(d, *argv)
        assert r.code == exitcodes.KEYCHAIN and "vault unavailable (down)" in r.err, argv
