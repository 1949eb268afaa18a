"""Random and broken input never crashes a parser or a detector (and a detector never reports garbage keys)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyhygiene.core.discovery.detectors import DETECTORS
from keyhygiene.core.discovery.detectors.dotenv_file import parse_env
from keyhygiene.core.discovery.detectors.hummingbot import read_flat_yaml
from keyhygiene.core.discovery.jsonish import loads_tolerant, strip_comments
from keyhygiene.core.discovery.model import Document

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A path per detector that its name rule accepts, so each detector really parses the text.
PATHS = {
    "hummingbot": "/h/conf/connectors/binance.yml",
    "cryptohopper": "/h/.cryptohopper/config.json",
    "octobot": "/o/user/config.json",
    "freqtrade": "/f/config.json",
    "gunbot": "/g/config.js",
    "json-keys": "/c/keys.local.json",
    "dotenv": "/e/.env",
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(["exchange", "exchanges", "name", "key", "secret", "password", "api-key", "api-secret",
                         "apiKey", "binance", "okx", "config", "masterkey", "mastersecret", "token", "uid"])
        | st.text(max_size=10),
        children, max_size=6),
    max_leaves=30,
)


def _mutate(text: str, data: st.DataObject) -> str:
    """Break valid text: cut it, or drop / duplicate a character somewhere."""
    if not text:
        return text
    i = data.draw(st.integers(0, len(text) - 1))
    how = data.draw(st.sampled_from(["cut", "drop", "dup", "keep"]))
    if how == "cut":
        return text[:i]
    if how == "drop":
        return text[:i] + text[i + 1:]
    if how == "dup":
        return text[:i] + text[i] + text[i:]
    return text


def _run_all(text: str) -> None:
    for det in DETECTORS:
        found = det.detect(Document(Path(PATHS[det.format]), text))
        assert isinstance(found, list)
        for f in found:
            json.dumps(f.to_json())  # always serialisable
            assert f.fields  # a finding always names where the key is


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    _run_all(text)


@FUZZ
@given(json_values, st.data())
def test_random_and_broken_json(value: object, data: st.DataObject) -> None:
    text = _mutate(json.dumps(value, indent=data.draw(st.sampled_from([None, 2]))), data)
    _run_all(text)
    loads_tolerant(text)
    strip_comments(text)


_env_line = st.one_of(
    st.builds(lambda k, v, q: f"{k}={q}{v}{q}", st.from_regex(r"[A-Z][A-Z_]{0,30}", fullmatch=True),
              st.text(max_size=30), st.sampled_from(["", "'", '"'])),
    st.sampled_from(["# comment", "export X=1", "=novalue", "NOVALUE", 'A="unterminated', "   ", "\\"]),
    st.text(max_size=30),
)


@FUZZ
@given(st.lists(_env_line, max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_random_env_files(lines: list[str], nl: str) -> None:
    text = nl.join(lines)
    parse_env(text)
    _run_all(text)


_yaml_line = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}", st.from_regex(r"[a-z_]{1,20}(api_key|api_secret|_secret|connector)?",
                                                      fullmatch=True), st.text(max_size=80)),
    st.sampled_from(["- item", "  nested: 1", "key: 'x", 'k: "y', "---", ": nothing", "a:b"]),
    st.text(max_size=30),
)


@FUZZ
@given(st.lists(_yaml_line, max_size=12))
def test_random_yaml(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert isinstance(read_flat_yaml(text), dict)
    _run_all(text)


_js_piece = st.sampled_from([
    "module.exports = ", "{", "}", "[", "]", ",", ":", "exchanges", "binance", "'key'", '"secret"', "key:",
    "// c\n", "/* c */", "'abc'", '"x"', "1", "true", "null", ";", "\n", "export default ", "0x", "`t`", "\\",
])


@FUZZ
@given(st.lists(_js_piece, max_size=40))
def test_random_javascript(pieces: list[str]) -> None:
    text = "".join(pieces)
    loads_tolerant(text)
    _run_all(text)


def test_deep_nesting_does_not_crash() -> None:
    for text in ("[" * 50_000, "{\"a\":" * 50_000, "// " + "[" * 50_000):
        assert loads_tolerant(text) is None
        _run_all(text)
