"""How the CLI reads what scripts and people give it: piped or typed secrets (PEM blocks too), endpoints."""

from __future__ import annotations

import io

import pytest

from keyhygiene import cliutil
from keyhygiene.cli import build_parser

PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIabc\nAwEHoUQDQgAE\n-----END EC PRIVATE KEY-----\n"


class _Stdin(io.StringIO):
    def __init__(self, text: str, tty: bool) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_piped_values_are_one_line_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin("key\r\nsecret\n", tty=False))
    assert cliutil._ask("k: ") == "key"
    assert cliutil._ask("s: ") == "secret"
    assert cliutil._ask("p: ") == ""  # nothing left


def test_a_piped_pem_block_arrives_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin("organizations/o/apiKeys/k\n" + PEM + "after\n", tty=False))
    assert cliutil._ask("k: ") == "organizations/o/apiKeys/k"
    assert cliutil._ask("s: ") == PEM
    assert cliutil._ask("x: ") == "after"


def test_an_unterminated_pem_block_returns_what_came(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin("-----BEGIN EC PRIVATE KEY-----\nMHc\n", tty=False))
    assert cliutil._ask("s: ") == "-----BEGIN EC PRIVATE KEY-----\nMHc\n"


def test_a_pem_pasted_at_the_hidden_prompt_is_read_to_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    typed = iter(PEM.splitlines())
    prompts: list[str] = []

    def getpass(prompt: str) -> str:
        prompts.append(prompt)
        return next(typed)

    monkeypatch.setattr("sys.stdin", _Stdin("", tty=True))
    monkeypatch.setattr("getpass.getpass", getpass)
    assert cliutil._ask("secret: ") == PEM
    assert prompts == ["secret: ", "", "", ""]  # the prompt once, not per line


@pytest.mark.parametrize(("given", "stored"), [
    (PEM.replace("\n", "\\n"), PEM),  # a CDP JSON download's escapes
    (PEM, PEM),
    ("abc\\ndef", "abc\\ndef"),  # not a PEM: left alone
])
def test_escaped_pem_newlines(monkeypatch: pytest.MonkeyPatch, given: str, stored: str) -> None:
    monkeypatch.setenv(cliutil.ENV_KEY, "organizations/o/apiKeys/k")
    monkeypatch.setenv(cliutil.ENV_SECRET, given)
    assert cliutil.read_credentials("coinbase", False).secret == stored


def test_endpoints_add_up_before_between_and_after_subcommands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cliutil.ENDPOINTS_ENV, raising=False)
    p = build_parser()
    # (real exchange ids: an override for an unknown one is refused, issue 18)
    args = p.parse_args(["--endpoint", "binance=http://a", "keys", "--endpoint", "okx=http://b/", "list",
                         "--endpoint", "kraken=http://c"])
    assert cliutil.parse_endpoints(args.endpoint) == {"binance": "http://a", "okx": "http://b", "kraken": "http://c"}
    assert p.parse_args(["inspect", "--exchange", "x"]).endpoint == []
    assert p.parse_args(["--endpoint", "a=http://a", "inspect", "--exchange", "x"]).endpoint == ["a=http://a"]


def test_endpoint_errors_name_their_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cliutil.ENDPOINTS_ENV, "binance")
    with pytest.raises(cliutil.UsageError, match=cliutil.ENDPOINTS_ENV):
        cliutil.parse_endpoints([])
    monkeypatch.delenv(cliutil.ENDPOINTS_ENV)
    with pytest.raises(cliutil.UsageError, match="--endpoint"):
        cliutil.parse_endpoints(["okx=ftp://x"])


def test_endpoints_of_supported_exchanges_are_checked_without_loading_ccxt() -> None:
    """The app parses --endpoint / KEYHYGIENE_ENDPOINTS before its window shows; ccxt (~0.7 s, ~60 MB) must not
    load for that (DESIGN.md: only after the first paint). Only a name outside the supported twelve needs ccxt's
    list. A fresh process: other tests have ccxt loaded."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import sys
        from keyhygiene import cliutil
        from keyhygiene.exchanges.catalog import SUPPORTED
        got = cliutil.parse_endpoints([f"{ex}=http://127.0.0.1:9" for ex in SUPPORTED])
        assert sorted(got) == sorted(SUPPORTED), got
        print("ccxt" in sys.modules)
        cliutil.parse_endpoints(["binanceus=http://127.0.0.1:9"])  # known to ccxt, not supported: ccxt decides
        print("ccxt" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "True"]
