"""The app's usual command lines are read without argparse (issue 21: ~13 M instructions of the window's start),
and read exactly as argparse reads them; anything else still goes through argparse."""

from __future__ import annotations

import argparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyhygiene import cli

# Words a command line of the app is made of, and a few that only argparse may read (abbreviations, "--", values
# that look like options, other commands, help).
WORDS = ["gui", "--data-dir", "--data-dir=/tmp/v", "/tmp/a b", "--endpoint", "--endpoint=okx=http://127.0.0.1:9",
         "binance=http://127.0.0.1:9", "--demo", "--smoke-test", "--screenshot", "shot.png", "--screenshot=x.png",
         "--data", "--", "-x", "--demo=1", "", "keys", "list", "--help", "-h", "--version", "--endpoint=",
         "--smoke", "gui"]


def _argparse(tokens: list[str]) -> argparse.Namespace | None:
    try:
        return cli.build_parser(commands=False).parse_args(tokens)
    except (cli._NotTheGui, SystemExit):
        return None


@pytest.mark.parametrize("tokens", [
    [],
    ["gui"],
    ["gui", "--data-dir", "/tmp/v", "--endpoint", "binance=http://127.0.0.1:9", "--endpoint", "okx=http://x"],
    ["--data-dir", "/tmp/a", "gui", "--data-dir", "/tmp/b"],
    ["--endpoint", "a=http://a", "gui", "--endpoint=b=http://b", "--demo"],
    ["--smoke-test", "--screenshot", "gui", "--demo"],  # "gui" here is the screenshot's path, as argparse reads it
    ["--demo", "--screenshot=/tmp/shot.png"],
])
def test_the_apps_command_lines_are_read_as_argparse_reads_them_without_it(
        tokens: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _argparse(tokens)
    assert expected is not None

    def no_parser(**_kw: object) -> argparse.ArgumentParser:
        raise AssertionError("an argparse parser was built for an ordinary start of the window")

    monkeypatch.setattr(cli, "build_parser", no_parser)
    assert vars(cli.parse_args(tokens)) == vars(expected)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=7))
def test_what_the_quick_reader_accepts_argparse_reads_the_same_way(tokens: list[str]) -> None:
    quick = cli.parse_gui_args(tokens)
    if quick is not None:
        expected = _argparse(tokens)
        assert expected is not None, tokens
        assert vars(quick) == vars(expected), tokens


@pytest.mark.parametrize("tokens", [["--data", "x"], ["--", "gui"], ["--data-dir", "-x"], ["gui", "gui"],
                                    ["keys", "list"], ["--help"], ["--version"], ["--demo=1"], ["--data-dir"]])
def test_anything_else_is_left_to_argparse(tokens: list[str]) -> None:
    assert cli.parse_gui_args(tokens) is None
