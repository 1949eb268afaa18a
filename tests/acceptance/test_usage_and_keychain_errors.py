"""Exit 2 for what the user typed wrong, exit 3 when no keychain can be used (and then nothing written)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.acceptance.conftest import SimCatalogue
from tests.acceptance.harness import Cli, SimProcess

FAIL_BACKEND = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}

USAGE_ERRORS: list[tuple[str, ...]] = [
    ("frobnicate",),
    ("keys",),
    ("keys", "frob"),
    ("keys", "list", "--bogus"),
    ("keys", "add", "--exchange", "binance"),  # no --label
    ("keys", "add", "--exchange", "binance", "--label", "x", "--purpose", "spending"),
    ("keys", "add", "--exchange", "binance", "--label", "x", "--created", "2024-13-01"),
    ("keys", "add", "--exchange", "binance", "--label", "x", "--created", "20240101"),
    ("keys", "add", "--exchange", "binance", "--label", "x", "--created", "01/02/2024"),
    ("keys", "add", "--exchange", "binance", "--label", "x", "--created", "2999-01-01"),
    ("keys", "add", "--exchange", "binance", "--label", "x", "--shared-with", "3commas@2022-02-30"),
    ("keys", "add", "--exchange", "binance", "--label", "x", "--shared-with", "3commas@yesterday"),
    ("keys", "add", "--exchange", "binance", "--label", "x", "--shared-with", "@2022-01-01"),
    ("keys", "add", "--exchange", "nosuchexchange", "--label", "x"),
    ("keys", "add", "--exchange", "binance", "--label", "  "),
    ("keys", "remove", "k00000000"),
    ("keys", "remove"),
    ("keys", "share", "k00000000", "3commas"),
    ("keys", "unshare", "k00000000", "3commas"),
    ("keys", "share", "k00000000"),
    ("inspect",),
    ("inspect", "--exchange", "nosuchexchange"),
    ("inspect", "--exchange", "binance", "--bogus"),
    ("audit", "--fail-on", "severe"),
    ("audit", "--json", "extra"),
    ("rotate",),
    ("rotate", "k00000000", "--revoke-timeout", "soon"),
    ("rotate", "k00000000", "--revoke-timeout", "-1"),
    ("report", "--format", "docx", "-o", "out.docx"),
    ("scan", "/nonexistent/keyhygiene/path"),
    ("--endpoint", "binance", "inspect", "--exchange", "binance"),
    ("inspect", "--exchange", "binance", "--endpoint", "binance=ftp://127.0.0.1:1"),
    ("keys", "list", "--data-dir"),
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=lambda a: " ".join(a))
def test_usage_errors_exit_2_with_a_message_and_no_stdout(args: tuple[str, ...], cli: Cli) -> None:
    # Credentials in the environment, so nothing fails for want of them; a keychain that would refuse (exit 3),
    # so a usage error must be found before the keychain is even asked.
    env = {"KEYHYGIENE_API_KEY": "k" * 32, "KEYHYGIENE_API_SECRET": "s" * 32} | FAIL_BACKEND
    r = cli.run(*args, env=env)
    assert r.returncode == 2, r
    assert r.stdout == "", r
    assert r.stderr.strip(), r


def test_an_unknown_endpoint_entry_in_the_environment_is_a_usage_error(cli: Cli) -> None:
    r = cli.run("inspect", "--exchange", "binance", env={"KEYHYGIENE_ENDPOINTS": "binance"})
    assert r.returncode == 2 and "KEYHYGIENE_ENDPOINTS" in r.stderr, r


@pytest.mark.parametrize("args", [
    ("keys", "add", "--exchange", "binance", "--label", "x"),
    ("keys", "add", "--exchange", "okx", "--label", "x", "--shared-with", "3commas@2022-01-01", "--json"),
    ("audit",),
    ("audit", "--json", "--fail-on", "low"),
    ("rotate", "k00000000"),
    ("rotate", "k00000000", "--resume", "--yes"),
    ("scan", "--import", "."),
], ids=lambda a: " ".join(a))
def test_no_keychain_exits_3_and_writes_nothing(args: tuple[str, ...], cli: Cli, catalogue: SimCatalogue,
                                                tmp_path: Path) -> None:
    creds = catalogue["okx" if "okx" in args else "binance", "read_only"]
    (tmp_path / "empty").mkdir()
    r = cli.run(*[str(tmp_path / "empty") if a == "." else a for a in args], env=creds.env() | FAIL_BACKEND)
    assert r.returncode == 3, r
    assert "keychain" in r.stderr.lower() and r.stdout == "", r
    assert not cli.data_dir.exists(), f"{sorted(p.name for p in cli.data_dir.rglob('*'))} written"


def test_no_keychain_leaves_an_existing_vault_untouched(cli: Cli, catalogue: SimCatalogue,
                                                        sim: SimProcess) -> None:
    # A vault made earlier (keys list needs no keychain) must not change when a later command is refused.
    assert cli.run("keys", "list", "--json", env=FAIL_BACKEND).returncode == 0
    before = {p: p.read_bytes() for p in cli.data_dir.rglob("*") if p.is_file()}
    r = cli.run("keys", "add", "--exchange", "binance", "--label", "x", *sim.endpoint_args("binance"),
                env=catalogue["binance", "read_only"].env() | FAIL_BACKEND)
    assert r.returncode == 3, r
    after = {p: p.read_bytes() for p in cli.data_dir.rglob("*") if p.is_file()}
    assert after == before
    assert cli.run("keys", "list", "--json", env=FAIL_BACKEND).json() == []


def test_listing_needs_no_keychain(cli: Cli) -> None:
    # Metadata only: a script can list (an empty vault here) even where no keychain runs.
    r = cli.run("keys", "list", "--json", env=FAIL_BACKEND)
    assert r.returncode == 0 and r.json() == [], r


def test_a_closed_pipe_ends_quietly(cli: Cli) -> None:
    # `keyhygiene keys list --json | head -c0`: the reader is gone before the JSON is written.
    import os
    import subprocess

    from tests.acceptance.harness import clean_env, keyhygiene_command

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        p = subprocess.run([*keyhygiene_command(), "keys", "list", "--json"], stdout=write_end,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, timeout=120,
                           env=clean_env({"KEYHYGIENE_DATA_DIR": str(cli.data_dir)}))
    finally:
        os.close(write_end)
    assert p.returncode == 141, p.stderr  # what a shell reports for a tool whose reader closed the pipe
    assert p.stderr == ""


# Issue 18 item 6: a misspelled exchange in an override must not silently send the key to the production host,
# and a malformed URL is a usage error, not exit 4 or a traceback.
@pytest.mark.parametrize("endpoint", [
    "binanse=http://127.0.0.1:9",
    "http://[::1",
    "binance=http://[::1",
    "binance=http://127.0.0.1 :9",
    "binance=http://127.0.0.1:99999",
    "binance=http://",
    "binance=http://127.0.0.1:9/a b",
])
def test_a_bad_endpoint_override_is_a_usage_error(endpoint: str, cli: Cli) -> None:
    env = {"KEYHYGIENE_API_KEY": "k" * 32, "KEYHYGIENE_API_SECRET": "s" * 32} | FAIL_BACKEND
    r = cli.run("--endpoint", endpoint, "inspect", "--exchange", "binance", env=env)
    assert r.returncode == 2, r
    assert "--endpoint" in r.stderr and r.stdout == "", r


def test_a_misspelled_exchange_in_an_override_names_the_close_match(cli: Cli) -> None:
    env = {"KEYHYGIENE_API_KEY": "k" * 32, "KEYHYGIENE_API_SECRET": "s" * 32,
           "KEYHYGIENE_ENDPOINTS": "binanse=http://127.0.0.1:9"}
    r = cli.run("inspect", "--exchange", "binance", env=env)
    assert r.returncode == 2 and "KEYHYGIENE_ENDPOINTS" in r.stderr, r
    assert "binanse" in r.stderr and "did you mean binance" in r.stderr, r


# Issue 18 item 9: bad bytes are usage errors naming the field, never a traceback.
INVALID_UTF8 = os.fsdecode(b"bad\xff\xfelabel")  # how Python hands invalid UTF-8 in argv to the app


@pytest.mark.parametrize(("args", "field"), [
    (("keys", "add", "--exchange", "binance", "--label", INVALID_UTF8), "label"),
    (("keys", "add", "--exchange", "binance", "--label", "x", "--shared-with", INVALID_UTF8), "service"),
    (("keys", "add", "--exchange", "binance", "--label", "x", "--shared-with", "bot\x1b[31mred"), "service"),
    (("keys", "add", "--exchange", "binance", "--label", "x", "--shared-with", "b" * 5000), "service"),
    (("keys", "share", "k00000000", "bot\x07"), "service"),
    (("scan", ".", "--max-size", "99999999999999999999999"), "--max-size"),
    (("scan", ".", "--max-size", "0"), "--max-size"),
], ids=["label-utf8", "service-utf8", "service-esc", "service-long", "share-bel", "max-size-huge", "max-size-0"])
def test_bad_bytes_in_arguments_are_usage_errors_naming_the_field(args: tuple[str, ...], field: str, cli: Cli,
                                                                  tmp_path: Path) -> None:
    env = {"KEYHYGIENE_API_KEY": "k" * 32, "KEYHYGIENE_API_SECRET": "s" * 32} | FAIL_BACKEND
    args = tuple(str(tmp_path) if a == "." else a for a in args)
    r = cli.run(*args, env=env)
    assert r.returncode == 2, r
    assert field in r.stderr.lower(), r


@pytest.mark.parametrize("key", ["abc\x1bdef" + "k" * 20, "abc\r\ndef" + "k" * 20, "abc\ndef" + "k" * 20],
                         ids=["esc", "crlf", "lf"])
def test_control_characters_in_the_api_key_blame_the_key(key: str, cli: Cli,
                                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.acceptance.test_vault_consistency import _env

    file_keychain = _env(tmp_path_factory.mktemp("keychain") / "keyring.json")
    for args, keychain in ((("inspect", "--exchange", "binance"), FAIL_BACKEND),
                           (("keys", "add", "--exchange", "binance", "--label", "x"), file_keychain)):
        r = cli.run(*args, env={"KEYHYGIENE_API_KEY": key, "KEYHYGIENE_API_SECRET": "s" * 32} | keychain)
        assert r.returncode == 2, r
        assert "api key" in r.stderr.lower() and "secret" not in r.stderr.lower(), r


@pytest.mark.parametrize(("key", "words"), [("abc\x00def" + "k" * 20, "api key")], ids=["nul"])
def test_a_nul_in_the_api_key_on_stdin_blames_the_key(key: str, words: str, cli: Cli) -> None:
    import subprocess

    from tests.acceptance.harness import clean_env

    # NUL cannot travel in an environment variable: the key comes on stdin, as a script would pipe it.
    env = clean_env(FAIL_BACKEND | {"KEYHYGIENE_DATA_DIR": str(cli.data_dir)})
    p = subprocess.run([*cli.command, "inspect", "--exchange", "binance"], env=env,
                       input=(key + "\n" + "s" * 32 + "\n").encode(), capture_output=True, timeout=120)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 2, err
    assert words in err.lower() and "secret" not in err.lower(), err
    assert "Traceback" not in err


def test_invalid_utf8_on_stdin_is_a_usage_error_naming_the_field(cli: Cli) -> None:
    import subprocess

    from tests.acceptance.harness import clean_env

    env = clean_env(FAIL_BACKEND | {"KEYHYGIENE_DATA_DIR": str(cli.data_dir)})
    p = subprocess.run([*cli.command, "inspect", "--exchange", "binance"], env=env,
                       input=b"key\xff\xfe\n" + b"s" * 32 + b"\n", capture_output=True, timeout=120)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 2 and "api key" in err.lower() and "utf-8" in err.lower(), err
    assert "Traceback" not in err
