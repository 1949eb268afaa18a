"""``keyhygiene keys …`` end to end: in-process with an in-memory keychain, plus subprocesses with none."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import keyring
import pytest

from keyhygiene import exitcodes
from keyhygiene.cli import build_parser, main
from keyhygiene.core.timeutil import utcnow
from keyhygiene.store.memory_keyring import MemoryKeyring
from tests.helpers.filesystem import make_unwritable, open_sqlite_read_only
from tests.helpers.keyrings import FlakyWriteKeyring, LockedKeyring, RefusingKeyring

Secret = Callable[..., str]
CRED_ENV = ("KEYHYGIENE_API_KEY", "KEYHYGIENE_API_SECRET", "KEYHYGIENE_API_PASSPHRASE")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@pytest.fixture
def cli(data_dir: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    for name in CRED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal: prompts read piped stdin

    def run(*argv: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
        with monkeypatch.context() as m:
            for k, v in (env or {}).items():
                m.setenv(k, v)
            if stdin is not None:
                m.setattr(sys, "stdin", io.StringIO(stdin))
            capsys.readouterr()
            try:
                code = main(["--data-dir", str(data_dir), *argv])
            except SystemExit as exc:  # argparse errors
                code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def creds(secret: Secret) -> dict[str, str]:
    return {"KEYHYGIENE_API_KEY": secret("K"), "KEYHYGIENE_API_SECRET": secret("S")}


def add(cli: Callable[..., Result], env: dict[str, str], *extra: str, exchange: str = "binance",
        label: str = "Main") -> Result:
    return cli("keys", "add", "--exchange", exchange, "--label", label, *extra, env=env)


def disk_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


# ---- add / list / remove -----------------------------------------------------------------------------------
def test_add_list_remove_round_trip(cli: Callable[..., Result], creds: dict[str, str],
                                    memory_keyring: MemoryKeyring, data_dir: Path) -> None:
    r = add(cli, creds, "--purpose", "bot", "--shared-with", "3Commas@2022-05-01", "--shared-with", "koinly",
            "--created", "2022-01-15")
    assert r.code == 0, r.err
    key = creds["KEYHYGIENE_API_KEY"]
    masked = f"{key[:4]}…{key[-4:]}"
    assert masked in r.out and "In-memory" in r.out

    r = cli("keys", "list", "--json")
    assert r.code == 0
    items = r.json()
    assert isinstance(items, list) and len(items) == 1
    item = items[0]
    assert {k: item[k] for k in ("exchange", "label", "key", "purpose", "shared_with", "created_at")} == {
        "exchange": "binance", "label": "Main", "key": masked, "purpose": "bot",
        "shared_with": ["3commas", "koinly"], "created_at": "2022-01-15T00:00:00Z",
    }
    assert item["id"].startswith("k")
    assert key not in r.out and creds["KEYHYGIENE_API_SECRET"] not in r.out
    assert len(memory_keyring.entries()) == 1

    r = cli("keys", "list")
    assert r.code == 0
    assert item["id"] in r.out and masked in r.out and "3commas, koinly" in r.out and "2022-01-15" in r.out

    r = cli("keys", "remove", item["id"])
    assert r.code == 0 and "still works on the exchange" in r.out
    assert memory_keyring.entries() == {}
    assert cli("keys", "list", "--json").json() == []
    assert "No keys stored yet" in cli("keys", "list").out
    disk = disk_bytes(data_dir)
    assert key.encode() not in disk and creds["KEYHYGIENE_API_SECRET"].encode() not in disk


def test_add_json_prints_the_stored_record(cli: Callable[..., Result], creds: dict[str, str]) -> None:
    r = add(cli, creds, "--json")
    assert r.code == 0
    rec = r.json()
    assert isinstance(rec, dict) and rec["exchange"] == "binance" and rec["shared_with"] == []
    assert creds["KEYHYGIENE_API_KEY"] not in r.out


def test_data_dir_may_come_after_the_subcommand_or_from_the_environment(
    data_dir: Path, memory_keyring: MemoryKeyring, creds: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for k, v in creds.items():
        monkeypatch.setenv(k, v)
    assert main(["keys", "add", "--exchange", "binance", "--label", "x", "--data-dir", str(data_dir)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("KEYHYGIENE_DATA_DIR", str(data_dir))
    assert main(["keys", "list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_credentials_from_piped_stdin(cli: Callable[..., Result], secret: Secret,
                                      memory_keyring: MemoryKeyring) -> None:
    key, sec, pw = secret("K"), secret("S"), secret("P", 12)
    r = cli("keys", "add", "--exchange", "kucoin", "--label", "x", stdin=f"{key}\n{sec}\n{pw}\n")
    assert r.code == 0, r.err
    stored = json.loads(next(iter(memory_keyring.entries().values())))
    assert (stored["api_key"], stored["secret"], stored["passphrase"]) == (key, sec, pw)


def test_a_terminal_prompt_hides_what_is_typed(cli: Callable[..., Result], secret: Secret,
                                               memory_keyring: MemoryKeyring,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    key, sec = secret("K"), secret("S")
    answers = iter([key, sec])
    prompts: list[str] = []

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(sys, "stdin", Tty(""))
    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setattr("builtins.input", lambda prompt="": pytest.fail("a visible prompt was used"))
    r = cli("keys", "add", "--exchange", "binance", "--label", "x")
    assert r.code == 0, r.err
    assert prompts == ["binance API key: ", "binance API secret (hidden): "]
    assert key not in r.out + r.err and sec not in r.out + r.err


# ---- secrets never in argv ----------------------------------------------------------------------------------
def _all_option_strings(parser: argparse.ArgumentParser) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _all_option_strings(sub)
    return found


def test_no_option_takes_a_secret() -> None:
    options = _all_option_strings(build_parser())
    assert "--exchange" in options and "--label" in options  # the walk reaches `keys add`
    forbidden = ("secret", "passphrase", "password", "api-key", "apikey", "token")
    for opt in options:
        assert not any(w in opt.lower() for w in forbidden), opt


def test_a_secret_on_the_command_line_is_a_usage_error(cli: Callable[..., Result], secret: Secret,
                                                       memory_keyring: MemoryKeyring) -> None:
    s = secret()
    r = cli("keys", "add", "--exchange", "binance", "--label", "x", "--api-key", s)
    assert r.code == exitcodes.USAGE
    assert memory_keyring.entries() == {}


# ---- bad input ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "env_over", "words"),
    [
        (["--exchange", "notanexchange"], {}, "Unknown exchange"),
        (["--exchange", "binance", "--label", "   "], {}, "label is empty"),
        (["--exchange", "binance", "--label", "x" * 201], {}, "at most 200"),
        (["--exchange", "kucoin"], {}, "passphrase"),
        (["--exchange", "okx"], {"KEYHYGIENE_API_PASSPHRASE": "  "}, "passphrase"),
        (["--exchange", "binance"], {"KEYHYGIENE_API_SECRET": "   "}, "secret is empty"),
        (["--exchange", "binance"], {"KEYHYGIENE_API_SECRET": ""}, "No API secret"),
        (["--exchange", "binance"], {"KEYHYGIENE_API_KEY": ""}, "No API key"),
        (["--exchange", "binance", "--shared-with", "3commas@2022-13-01"], {}, "YYYY-MM-DD"),
        (["--exchange", "binance", "--shared-with", "3commas@20220501"], {}, "YYYY-MM-DD"),
        (["--exchange", "binance", "--shared-with", "@2022-01-01"], {}, "No service"),
        (["--exchange", "binance", "--shared-with", "3commas@2999-01-01"], {}, "future"),
        (["--exchange", "binance", "--created", "last week"], {}, "YYYY-MM-DD"),
        (["--exchange", "binance", "--created", "2999-01-01"], {}, "future"),
        (["--exchange", "binance", "--label", "a\nb"], {}, "label contains a control character (U+000A)"),
        (["--exchange", "binance", "--label", "a\tb"], {}, "control character (U+0009)"),
    ],
    ids=["exchange", "blank-label", "long-label", "kucoin-no-pass", "okx-blank-pass", "blank-secret",
         "empty-secret", "empty-key", "bad-month", "basic-iso", "no-service", "future-share", "bad-created",
         "future-created", "newline-label", "tab-label"],
)
def test_bad_input_exits_2_with_a_clear_message_and_stores_nothing(
    cli: Callable[..., Result], creds: dict[str, str], memory_keyring: MemoryKeyring,
    args: list[str], env_over: dict[str, str], words: str,
) -> None:
    if "--label" not in args:
        args = [*args, "--label", "x"]
    r = cli("keys", "add", *args, env={**creds, **env_over})
    assert r.code == exitcodes.USAGE, r.err
    assert words in r.err and r.err.startswith("keyhygiene: ")
    assert "Traceback" not in r.err
    assert memory_keyring.entries() == {}
    for v in creds.values():
        assert v not in r.err
    assert cli("keys", "list", "--json").json() == []


def test_an_unknown_purpose_is_an_argparse_error(cli: Callable[..., Result], creds: dict[str, str]) -> None:
    r = add(cli, creds, "--purpose", "hodl")
    assert r.code == exitcodes.USAGE and "invalid choice" in r.err


def test_a_duplicate_api_key_exits_2_naming_the_stored_key(cli: Callable[..., Result],
                                                           creds: dict[str, str]) -> None:
    assert add(cli, creds).code == 0
    first = cli("keys", "list", "--json").json()[0]  # type: ignore[index]
    r = add(cli, creds, label="again")
    assert r.code == exitcodes.USAGE and first["id"] in r.err and "already stored" in r.err
    assert len(cli("keys", "list", "--json").json()) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize(("backend", "word"), [(LockedKeyring(), "locked"), (RefusingKeyring(), "refused")])
def test_a_locked_or_refused_keychain_exits_3_naming_what_to_unlock(
    cli: Callable[..., Result], creds: dict[str, str], monkeypatch: pytest.MonkeyPatch,
    backend: MemoryKeyring, word: str,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("should-not-be-read\n"))
    keyring.set_keyring(backend)  # the memory_keyring fixture restores the previous backend afterwards
    r = add(cli, {})  # no credentials in the environment: the keychain is checked before any prompt
    assert r.code == exitcodes.KEYCHAIN
    assert word in r.err and "unlock" in r.err
    if sys.platform.startswith("linux"):
        assert "Secret Service" in r.err and "gnome-keyring-daemon --unlock" in r.err
    assert sys.stdin.read() == "should-not-be-read\n"


def test_a_keychain_that_fails_to_write_exits_3_and_stores_nothing(
    cli: Callable[..., Result], creds: dict[str, str]
) -> None:
    keyring.set_keyring(FlakyWriteKeyring())
    r = add(cli, creds)
    assert r.code == exitcodes.KEYCHAIN and "unavailable" in r.err
    assert cli("keys", "list", "--json").json() == []


def test_remove_with_a_locked_keychain_exits_3_and_keeps_the_key(
    cli: Callable[..., Result], creds: dict[str, str], memory_keyring: MemoryKeyring
) -> None:
    assert add(cli, creds).code == 0
    key_id = cli("keys", "list", "--json").json()[0]["id"]  # type: ignore[index]
    keyring.set_keyring(LockedKeyring())
    r = cli("keys", "remove", key_id)
    assert r.code == exitcodes.KEYCHAIN
    keyring.set_keyring(memory_keyring)
    assert [k["id"] for k in cli("keys", "list", "--json").json()] == [key_id]  # type: ignore[union-attr]
    assert len(memory_keyring.entries()) == 1


def test_remove_an_unknown_key_exits_2(cli: Callable[..., Result]) -> None:
    r = cli("keys", "remove", "k00000000")
    assert r.code == exitcodes.USAGE and "No key with id" in r.err


def test_keys_without_an_action_is_a_usage_error(cli: Callable[..., Result]) -> None:
    assert cli("keys").code == exitcodes.USAGE


# ---- share / unshare ----------------------------------------------------------------------------------------
def test_list_marks_a_cut_label_and_keeps_columns_aligned(cli: Callable[..., Result], creds: dict[str, str]
                                                         ) -> None:
    long_label = "Binance sub-account for the grid bot on BTC and ETH pairs"  # 58 characters: over the 40 shown
    assert add(cli, creds, label=long_label).code == 0
    lines = cli("keys", "list").out.splitlines()
    header, row = lines[0], lines[1]
    assert long_label not in row and long_label[:39] + "\u2026" in row  # cut, and visibly so
    assert row.index("\u2026") + 3 == header.index("KEY")  # the next column starts where its heading does


def test_share_and_unshare(cli: Callable[..., Result], creds: dict[str, str]) -> None:
    assert add(cli, creds).code == 0
    key_id = cli("keys", "list", "--json").json()[0]["id"]  # type: ignore[index]
    r = cli("keys", "share", key_id, "3Commas@2022-05-01")
    assert r.code == 0 and "3commas" in r.out
    assert cli("keys", "share", key_id, "koinly").code == 0
    item = cli("keys", "list", "--json").json()[0]  # type: ignore[index]
    assert item["shared_with"] == ["3commas", "koinly"]
    exp = {e["service"]: e for e in item["exposures"]}
    assert exp["3commas"]["shared_at"] == "2022-05-01"

    r = cli("keys", "share", key_id, "3COMMAS")
    assert r.code == exitcodes.USAGE and "already recorded" in r.err
    r = cli("keys", "unshare", key_id, "3commas@2022-04-01")
    assert r.code == exitcodes.USAGE and "before the sharing began" in r.err
    r = cli("keys", "unshare", key_id, "3commas@2022-12-28")
    assert r.code == 0 and "koinly" in r.out
    item = cli("keys", "list", "--json").json()[0]  # type: ignore[index]
    assert item["shared_with"] == ["koinly"]
    assert {e["service"]: e["revoked_at"] for e in item["exposures"]}["3commas"] == "2022-12-28"
    r = cli("keys", "unshare", key_id, "3commas")
    assert r.code == exitcodes.USAGE and "not currently shared" in r.err
    r = cli("keys", "unshare", key_id, "koinly")
    assert r.code == 0 and "no one" in r.out


def test_a_share_date_before_the_creation_date_is_kept_as_typed(cli: Callable[..., Result],
                                                                 creds: dict[str, str]) -> None:
    # The contract's own example (tests/acceptance/test_keys_contract.py) records such dates: they are stored as
    # given, and the audit points out that one of the two must be wrong (exposure_rules).
    assert add(cli, creds, "--created", "2024-01-02", "--shared-with", "3commas@2022-06-01").code == 0
    item = cli("keys", "list", "--json").json()[0]  # type: ignore[index]
    assert item["shared_with"] == ["3commas"] and item["created_at"] == "2024-01-02T00:00:00Z"


@pytest.mark.parametrize("service", ["3commas@2022-02-30", "3commas@tomorrow", "@", ""])
def test_share_with_a_bad_service_or_date_exits_2(cli: Callable[..., Result], creds: dict[str, str],
                                                  service: str) -> None:
    assert add(cli, creds).code == 0
    key_id = cli("keys", "list", "--json").json()[0]["id"]  # type: ignore[index]
    r = cli("keys", "share", key_id, service)
    assert r.code == exitcodes.USAGE, r.err
    assert cli("keys", "list", "--json").json()[0]["shared_with"] == []  # type: ignore[index]


def test_share_an_unknown_key_exits_2(cli: Callable[..., Result]) -> None:
    tomorrow = (utcnow() + timedelta(days=1)).date()
    assert cli("keys", "share", "k00000000", "koinly").code == exitcodes.USAGE
    assert cli("keys", "unshare", "k00000000", f"koinly@{tomorrow}").code == exitcodes.USAGE


# ---- storage problems: exit 6 -----------------------------------------------------------------------------
def test_a_corrupt_database_exits_6_and_is_kept(cli: Callable[..., Result], data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    db = data_dir / "keyhygiene.sqlite3"
    db.write_bytes(b"garbage, not a database\n" * 100)
    r = cli("keys", "list")
    assert r.code == exitcodes.STORAGE
    assert "damaged" in r.err and "copy was saved" in r.err and "Nothing was overwritten" in r.err
    assert db.read_bytes() == b"garbage, not a database\n" * 100
    assert len(list(data_dir.glob("keyhygiene.sqlite3.damaged-*"))) == 1


def test_a_read_only_database_exits_6_and_leaves_no_keychain_entry(
    cli: Callable[..., Result], creds: dict[str, str], memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli("keys", "list").code == 0  # creates the vault
    open_sqlite_read_only(monkeypatch)
    assert cli("keys", "list", "--json").code == 0  # reading still works
    r = add(cli, creds)
    assert r.code == exitcodes.STORAGE and "read-only" in r.err
    assert memory_keyring.entries() == {}


def test_a_data_dir_that_cannot_be_created_exits_6(cli: Callable[..., Result], tmp_path: Path,
                                                   creds: dict[str, str]) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data folder should be")
    r = cli("--data-dir", str(blocker / "vault"), "keys", "add", "--exchange", "binance", "--label", "x",
            env=creds)
    assert r.code == exitcodes.STORAGE and "cannot be used" in r.err and "--data-dir" in r.err


def test_an_unwritable_data_dir_exits_6(cli: Callable[..., Result], tmp_path: Path) -> None:
    d = tmp_path / "ro"
    d.mkdir()
    with make_unwritable(d):
        r = cli("--data-dir", str(d), "keys", "list")
    assert r.code == exitcodes.STORAGE
    assert "Traceback" not in r.err


# ---- crashes and logs never show a secret ------------------------------------------------------------------
def test_an_unexpected_error_is_exit_70_with_the_secret_redacted_on_stderr_and_in_the_log(
    cli: Callable[..., Result], creds: dict[str, str], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keyhygiene.store.vault import Vault

    def explode(self: Vault, exchange: str, label: str, c: object, **kw: object) -> None:
        # A library echoing its input: the secret the CLI read from the environment ends up in an exception.
        raise RuntimeError(f"unexpected response for key {creds['KEYHYGIENE_API_KEY']} "
                           f"signed with {creds['KEYHYGIENE_API_SECRET']}")

    monkeypatch.setattr(Vault, "add_key", explode)
    r = add(cli, creds)
    assert r.code == exitcodes.INTERNAL
    assert "Traceback" in r.err and "RuntimeError" in r.err and "[redacted]" in r.err
    log = (data_dir / "logs" / "keyhygiene.log").read_text()
    assert "unexpected error" in log and "RuntimeError" in log and "[redacted]" in log
    for v in creds.values():
        assert v not in r.err and v not in r.out and v not in log


# ---- subprocesses without any keychain --------------------------------------------------------------------
def _run(args: list[str], data_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHYGIENE_")}
    full_env.update(env)
    full_env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return subprocess.run(
        [sys.executable, "-m", "keyhygiene", "--data-dir", str(data_dir), *args],
        env=full_env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


def test_no_keychain_add_exits_3_and_writes_nothing_secret(data_dir: Path, creds: dict[str, str]) -> None:
    p = _run(["keys", "add", "--exchange", "binance", "--label", "x"], data_dir, creds)
    assert p.returncode == exitcodes.KEYCHAIN, p.stderr
    assert "keychain unavailable" in p.stderr and "never in plain files" in p.stderr
    if sys.platform.startswith("linux"):
        assert "gnome-keyring" in p.stderr
    disk = disk_bytes(data_dir)
    for v in creds.values():
        assert v not in p.stdout and v not in p.stderr
        assert v.encode() not in disk
    p = _run(["keys", "list", "--json"], data_dir, {})
    assert p.returncode == 0 and json.loads(p.stdout) == []


def test_no_keychain_remove_exits_3(data_dir: Path) -> None:
    # A vault made by another run (where a keychain worked) cannot be changed without one.
    from keyhygiene.paths import app_paths
    from keyhygiene.store.vault import Vault

    with Vault(app_paths(data_dir), backend=MemoryKeyring()) as v:
        from keyhygiene.core.models import Credentials

        rec = v.add_key("binance", "x", Credentials(api_key="A" * 20, secret="B" * 30))
    p = _run(["keys", "remove", rec.id], data_dir, {})
    assert p.returncode == exitcodes.KEYCHAIN, p.stderr
    p = _run(["keys", "list", "--json"], data_dir, {})
    assert [k["id"] for k in json.loads(p.stdout)] == [rec.id]
