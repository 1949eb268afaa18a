"""``keyhygiene scan`` end to end, in process, on the fixture tree and the in-memory keychain."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from keyhygiene import exitcodes
from keyhygiene.cli import main
from keyhygiene.core.discovery import file_service
from keyhygiene.store.memory_keyring import MemoryKeyring
from tests.fixtures.discovery.trees import FixtureTree, build_fixture_tree


@pytest.fixture
def tree(tmp_path: Path, secret) -> FixtureTree:  # type: ignore[no-untyped-def]
    return build_fixture_tree(tmp_path / "tree", secret)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _no_secret(tree: FixtureTree, *texts: str) -> None:
    for s in tree.secrets:
        for t in texts:
            assert s not in t


def test_scan_json(tree: FixtureTree, data_dir: Path, memory_keyring: MemoryKeyring,
                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--data-dir", str(data_dir), "scan", str(tree.root), "--json")
    assert code == exitcodes.OK
    _no_secret(tree, out, err)
    doc = json.loads(out)
    assert doc["schema_version"] == 1 and doc["roots"] == [str(tree.root)]
    got = sorted((f["file"], f["format"], f["exchange"], f["key"], f["protected"]) for f in doc["found"])
    want = sorted((str(tree.path(e.rel)), e.format, e.exchange, e.fingerprint, e.protected) for e in tree.expected)
    assert got == want
    assert all(f["in_vault"] is None for f in doc["found"])
    assert memory_keyring.entries() == {}  # a plain scan stores nothing


def test_scan_import_into_the_keychain(tree: FixtureTree, data_dir: Path, memory_keyring: MemoryKeyring,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--data-dir", str(data_dir), "scan", str(tree.root), "--import", "--json")
    assert code == exitcodes.OK
    _no_secret(tree, out, err)
    doc = json.loads(out)
    importable = [e for e in tree.expected if e.format not in ("hummingbot", "cryptohopper")]
    assert sorted(o["format"] for o in doc["imported"] if o["action"] == "imported") == sorted(
        e.format for e in importable)
    assert sorted(o["format"] for o in doc["imported"] if o["action"] == "skipped") == ["cryptohopper", "hummingbot"]
    assert all(f["in_vault"] for f in doc["found"] if f["importable"])

    code, out, _ = _run(capsys, "--data-dir", str(data_dir), "keys", "list", "--json")
    keys = json.loads(out)
    assert len(keys) == len(importable) and {k["purpose"] for k in keys} == {"bot"}
    assert {k["shared_with"][0] for k in keys} == {file_service(f["file"]) for f in doc["found"] if f["importable"]}
    stored = "".join(memory_keyring.entries().values())
    for e in tree.expected:
        if e.secret and e.format not in ("cryptohopper",):
            assert e.secret in stored

    # a second run finds the same keys, now all marked as stored, and stores nothing new
    code, out, _ = _run(capsys, "--data-dir", str(data_dir), "scan", str(tree.root), "--import", "--json")
    doc2 = json.loads(out)
    assert {o["action"] for o in doc2["imported"]} == {"unchanged", "skipped"}


def test_human_output_is_masked(tree: FixtureTree, data_dir: Path, memory_keyring: MemoryKeyring,
                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--data-dir", str(data_dir), "scan", str(tree.root))
    assert code == exitcodes.OK
    _no_secret(tree, out, err)
    assert "Found 9 credentials in 8 files" in out and "--import" in out
    assert "protected (hummingbot-password)" in out


def test_clean_with_yes(tree: FixtureTree, tmp_path: Path, memory_keyring: MemoryKeyring,
                        capsys: pytest.CaptureFixture[str]) -> None:
    # Its own data dir, not the leak-watched one: the clean-up backup is a plaintext copy by design.
    data = tmp_path / "cli-data"
    env = tree.path("mybot/.env")
    ft = tree.path("freqtrade/user_data/config.json")
    code, out, err = _run(capsys, "--data-dir", str(data), "scan", "--clean", str(env), "--clean", str(ft),
                          "--import", "--yes", "--json")
    assert code == exitcodes.OK, err
    _no_secret(tree, out, err)
    doc = json.loads(out)
    assert sorted(c["file"] for c in doc["cleaned"]) == sorted([str(env), str(ft)])
    assert doc["clean_errors"] == []
    for c in doc["cleaned"]:
        assert Path(c["backup"]).is_relative_to(data / "backups")
    assert json.loads(ft.read_text())["exchange"]["secret"] == ""
    # outside the backups, nothing in the data dir holds a secret
    for p in data.rglob("*"):
        if p.is_file() and "backups" not in p.parts:
            _no_secret(tree, p.read_bytes().decode("utf-8", "replace"))
    code, out, _ = _run(capsys, "--data-dir", str(data), "keys", "list", "--json")
    # Imported keys are named after the bot's folder and the exchange (issue 20), not the file's path.
    cleaned_keys = [k for k in json.loads(out) if k["label"] in ("mybot on Binance", "mybot on OKX",
                                                                  "freqtrade on Binance")]
    assert cleaned_keys and all(k["shared_with"] == [] for k in cleaned_keys)


def test_clean_refuses_without_consent(tree: FixtureTree, tmp_path: Path, memory_keyring: MemoryKeyring,
                                       capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "cli-data"
    env = tree.path("mybot/.env")
    original = env.read_bytes()
    monkeypatch.setattr(sys, "stdin", _FakeStdin("y\n", tty=False))  # piped "y" is not consent
    code, _, err = _run(capsys, "--data-dir", str(data), "scan", "--clean", str(env), "--import")
    assert code == exitcodes.USAGE and "--yes" in err
    assert env.read_bytes() == original
    # at a terminal, "n" keeps the file and "y" cleans it
    monkeypatch.setattr(sys, "stdin", _FakeStdin("n\n", tty=True))
    code, _, err = _run(capsys, "--data-dir", str(data), "scan", "--clean", str(env))
    assert code == exitcodes.USAGE and env.read_bytes() == original
    monkeypatch.setattr(sys, "stdin", _FakeStdin("y\n", tty=True))
    code, out, err = _run(capsys, "--data-dir", str(data), "scan", "--clean", str(env))
    assert code == exitcodes.OK and env.read_bytes() != original and "Clean this file?" in err
    assert "WARNING" in out and "git history" in out


def test_clean_refuses_a_key_not_yet_imported(tree: FixtureTree, tmp_path: Path, memory_keyring: MemoryKeyring,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    env = tree.path("mybot/.env")
    original = env.read_bytes()
    code, _, err = _run(capsys, "--data-dir", str(tmp_path / "d"), "scan", "--clean", str(env), "--yes")
    assert code == exitcodes.USAGE and "--import" in err and env.read_bytes() == original


def test_data_dir_inside_the_tree_is_not_scanned(tree: FixtureTree, memory_keyring: MemoryKeyring,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    data = tree.root / "appdata"
    backups = data / "backups" / "cleanup"
    backups.mkdir(parents=True)
    (backups / ".env").write_bytes(tree.path("mybot/.env").read_bytes())
    code, out, _ = _run(capsys, "--data-dir", str(data), "scan", str(tree.root), "--json")
    assert all("appdata" not in f["file"] for f in json.loads(out)["found"])


def test_missing_path_is_a_usage_error(tmp_path: Path, memory_keyring: MemoryKeyring,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--data-dir", str(tmp_path / "d"), "scan", str(tmp_path / "nope"))
    assert code == exitcodes.USAGE and "no such file" in err


class _FakeStdin:
    def __init__(self, text: str, tty: bool) -> None:
        self._lines = text.splitlines(keepends=True)
        self._tty = tty
        self.closed = False

    def isatty(self) -> bool:
        return self._tty

    def readline(self) -> str:
        return self._lines.pop(0) if self._lines else ""
