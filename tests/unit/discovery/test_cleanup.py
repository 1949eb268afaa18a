"""Clean-up on copies: backup first (0600, outside the tree), minimal rewrite, verification, rollback."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from keyhygiene.core.discovery import (
    CleanupError,
    clean_file,
    import_found,
    plaintext_locations,
    plan_cleanup,
    scan,
)
from keyhygiene.core.discovery import cleanup as cleanup_mod
from keyhygiene.core.discovery.jsonish import loads_tolerant
from keyhygiene.store.vault import Vault
from tests.fixtures.discovery.trees import FixtureTree

YES = lambda plan: True  # noqa: E731


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    # Not a watched dir: a clean-up backup is by design a plaintext copy of the user's own file.
    return tmp_path / "appdata" / "backups"


@pytest.fixture
def imported(tree: FixtureTree, vault: Vault) -> Vault:
    import_found(vault, scan([tree.root], vault=vault).found)
    return vault


def _backups_in(d: Path) -> list[Path]:
    sub = d / cleanup_mod.BACKUP_SUBDIR
    return sorted(p for p in sub.glob("*.bak")) if sub.exists() else []


def test_freqtrade_clean(tree: FixtureTree, imported: Vault, backups: Path) -> None:
    path = tree.path("freqtrade/user_data/config.json")
    path.chmod(0o640)
    original = path.read_bytes()
    before = json.loads(original)
    plan = plan_cleanup(path, vault=imported)
    assert plan.fields == ["exchange.key", "exchange.secret"]
    result = clean_file(plan, backups, confirm=YES, vault=imported)

    after = json.loads(path.read_text())
    assert after["exchange"]["key"] == "" and after["exchange"]["secret"] == ""
    before["exchange"]["key"] = before["exchange"]["secret"] = ""
    assert after == before  # nothing else changed
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # permissions kept
    assert "FREQTRADE__EXCHANGE__KEY" in result.instructions and "FREQTRADE__EXCHANGE__SECRET" in result.instructions
    assert "git history" in result.warning and "Rotate" in result.warning
    for s in tree.secrets:
        assert s not in path.read_text()

    backup = Path(result.backup)
    assert backup.read_bytes() == original
    assert _backups_in(backups) == [backup]
    if os.name != "nt":
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        assert stat.S_IMODE(backup.parent.stat().st_mode) == 0o700
    assert str(path) in (backup.parent / cleanup_mod.INDEX_NAME).read_text()
    # the vault no longer believes the plaintext copy is there
    assert result.ended_locations and all(str(path) not in p for p in plaintext_locations(imported).values())


def test_freqtrade_comments_survive(tree: FixtureTree, imported: Vault, backups: Path) -> None:
    path = tree.path("ft_split/config-private.json")
    clean_file(plan_cleanup(path, vault=imported), backups, confirm=YES)
    text = path.read_text()
    assert "// keys live here" in text and "/* kucoin passphrase */" in text
    assert loads_tolerant(text) == {"exchange": {"key": "", "secret": "", "password": ""}}


def test_dotenv_clean(tree: FixtureTree, imported: Vault, backups: Path) -> None:
    path = tree.path("mybot/.env")
    before = path.read_text()
    result = clean_file(plan_cleanup(path, vault=imported), backups, confirm=YES, vault=imported)
    text = path.read_text()
    assert "DATABASE_URL=postgres://localhost/bot\n" in text and "LOG_LEVEL=info\n" in text
    assert "GEMINI_API_KEY=AIzaSyDUMMYdummyDUMMYdummy1234567\n" in text  # not an exchange key: untouched
    assert "BINANCE_API_KEY=\n" in text and "export BINANCE_API_SECRET=\n" in text
    assert "OKX_API_PASSPHRASE=\n" in text
    comments = [line for line in text.splitlines() if line.startswith("# KeyHygiene")]
    assert len(comments) == 5 and all("rotate the key" in c for c in comments)
    assert sorted(result.cleared) == sorted(["BINANCE_API_KEY", "BINANCE_API_SECRET", "OKX_API_KEY", "OKX_API_SECRET",
                                             "OKX_API_PASSPHRASE"])
    assert Path(result.backup).read_text() == before
    assert scan([path]).found == []  # a rescan finds nothing


def test_dotenv_crlf(tmp_path: Path, vault: Vault, backups: Path, secret) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "proj" / ".env"
    path.parent.mkdir()
    path.write_bytes(f"A=1\r\nBYBIT_API_KEY={secret('K')}\r\nBYBIT_API_SECRET={secret('S')}\r\nB=2\r\n".encode())
    import_found(vault, scan([path]).found)
    clean_file(plan_cleanup(path, vault=vault), backups, confirm=YES)
    data = path.read_bytes()
    assert b"\r\nBYBIT_API_KEY=\r\n" in data and data.endswith(b"B=2\r\n") and b"\n#" not in data.replace(b"\r\n", b"")


def test_refused_until_the_key_is_stored(tree: FixtureTree, vault: Vault, backups: Path) -> None:
    path = tree.path("mybot/.env")
    original = path.read_bytes()
    with pytest.raises(CleanupError, match="not in the KeyHygiene vault"):
        plan_cleanup(path, vault=vault)
    assert path.read_bytes() == original and _backups_in(backups) == []
    clean_file(plan_cleanup(path, vault=vault, allow_unstored=True), backups, confirm=YES)
    assert path.read_bytes() != original


def test_not_confirmed_changes_nothing(tree: FixtureTree, imported: Vault, backups: Path) -> None:
    path = tree.path("mybot/.env")
    original = path.read_bytes()
    with pytest.raises(CleanupError, match="not confirmed"):
        clean_file(plan_cleanup(path, vault=imported), backups, confirm=lambda plan: False)
    assert path.read_bytes() == original and _backups_in(backups) == []


@pytest.mark.parametrize(("rel", "tool"), [("gunbot/config.js", "Gunbot"), ("OctoBot/user/config.json", "OctoBot"),
                                           ("hummingbot/conf/connectors/binance.yml", "Hummingbot")])
def test_formats_without_a_reference_are_not_cleaned(tree: FixtureTree, imported: Vault, rel: str, tool: str) -> None:
    with pytest.raises(CleanupError, match=tool):
        plan_cleanup(tree.path(rel), vault=imported)


def test_nothing_to_clean(tree: FixtureTree) -> None:
    with pytest.raises(CleanupError, match="nothing to clean"):
        plan_cleanup(tree.path("webapp/config.json"))
    with pytest.raises(CleanupError, match="not a file"):
        plan_cleanup(tree.root)


def test_rollback_when_the_written_file_fails_verification(
    tree: FixtureTree, imported: Vault, backups: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tree.path("freqtrade/user_data/config.json")
    original = path.read_bytes()
    plan = plan_cleanup(path, vault=imported)

    def bad_verify(plan, text):  # type: ignore[no-untyped-def]
        assert text != original.decode()  # it really was rewritten before the check failed
        raise CleanupError("simulated: does not parse")

    monkeypatch.setattr(cleanup_mod, "_verify", bad_verify)
    with pytest.raises(CleanupError, match="restored from the backup"):
        clean_file(plan, backups, confirm=YES, vault=imported)
    assert path.read_bytes() == original
    assert _backups_in(backups) == []  # the original is back: no extra plaintext copy left behind
    assert any(str(path) in p for p in plaintext_locations(imported).values())  # still recorded


def test_write_failure_leaves_the_file(tree: FixtureTree, imported: Vault, backups: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tree.path("mybot/.env")
    original = path.read_bytes()
    plan = plan_cleanup(path, vault=imported)

    def no_replace(src, dst):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cleanup_mod.os, "replace", no_replace)
    with pytest.raises(CleanupError, match="left as it was"):
        clean_file(plan, backups, confirm=YES)
    assert path.read_bytes() == original and _backups_in(backups) == []
    assert [p.name for p in path.parent.iterdir() if "keyhygiene-tmp" in p.name] == []


def test_failed_restore_keeps_the_backup(tree: FixtureTree, imported: Vault, backups: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tree.path("mybot/.env")
    original = path.read_bytes()
    plan = plan_cleanup(path, vault=imported)
    real_write = cleanup_mod.atomic_write
    calls = []

    def write(p, data, mode):  # type: ignore[no-untyped-def]
        calls.append(p)
        if len(calls) > 1:
            raise OSError(5, "I/O error")
        real_write(p, data, mode)

    monkeypatch.setattr(cleanup_mod, "atomic_write", write)
    monkeypatch.setattr(cleanup_mod, "_verify", lambda plan, text: (_ for _ in ()).throw(CleanupError("bad")))
    with pytest.raises(CleanupError, match="the original is in") as info:
        clean_file(plan, backups, confirm=YES)
    [backup] = _backups_in(backups)
    assert str(backup) in str(info.value) and backup.read_bytes() == original


def test_backup_never_inside_the_cleaned_tree(tree: FixtureTree, imported: Vault) -> None:
    path = tree.path("mybot/.env")
    original = path.read_bytes()
    with pytest.raises(CleanupError, match="inside"):
        clean_file(plan_cleanup(path, vault=imported), tree.path("mybot/app-data"), confirm=YES)
    assert path.read_bytes() == original
    ft = tree.path("freqtrade/user_data/config.json")
    ft_original = ft.read_bytes()
    (tree.root / ".git").mkdir()  # the tree is a git work tree: a backup anywhere in it would be committable
    with pytest.raises(CleanupError, match="git repository"):
        clean_file(plan_cleanup(ft, vault=imported), tree.root / "elsewhere" / "backups", confirm=YES)
    assert ft.read_bytes() == ft_original and not (tree.root / "elsewhere").exists()


def test_unusual_quoting_is_refused_not_mangled(tmp_path: Path, vault: Vault, backups: Path, secret) -> None:  # type: ignore[no-untyped-def]
    k, s = secret("QK"), secret("QS")
    path = tmp_path / "ft" / "config.json"
    path.parent.mkdir()
    path.write_text(f"{{'exchange': {{'name': 'binance', 'key': '{k}', 'secret': '{s}'}}}}")  # JSON5 quotes
    import_found(vault, scan([path]).found)
    original = path.read_bytes()
    with pytest.raises(CleanupError, match="without touching anything else"):
        clean_file(plan_cleanup(path, vault=vault), backups, confirm=YES)
    assert path.read_bytes() == original and _backups_in(backups) == []


# ---- issue 18 item 8: never "Cleaned" while the key is still on disk; never a truncated backup ----------------
@pytest.mark.skipif(os.name != "posix", reason="symlinks and hard links as POSIX has them")
def test_cleaning_a_symlink_cleans_the_real_file(tree: FixtureTree, imported: Vault, backups: Path,
                                                 tmp_path: Path) -> None:
    real = tree.path("freqtrade/user_data/config.json")
    link = tmp_path / "linked-config.json"
    link.symlink_to(real)
    result = clean_file(plan_cleanup(link, vault=imported), backups, confirm=YES, vault=imported)
    assert link.is_symlink() and link.resolve() == real.resolve()  # the link is left a link
    text = real.read_text()
    for s in tree.secrets:
        assert s not in text
    assert result.path == str(real.resolve())


@pytest.mark.skipif(os.name != "posix", reason="hard links")
def test_a_file_with_other_hard_links_is_refused(tree: FixtureTree, imported: Vault, backups: Path,
                                                 tmp_path: Path) -> None:
    path = tree.path("freqtrade/user_data/config.json")
    other = tmp_path / "same-inode.json"
    os.link(path, other)
    before = path.read_bytes()
    with pytest.raises(CleanupError, match="hard link"):
        clean_file(plan_cleanup(path, vault=imported), backups, confirm=YES, vault=imported)
    assert path.read_bytes() == before == other.read_bytes()
    assert _backups_in(backups) == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_backup_killed_while_written_leaves_no_backup_that_passes_for_the_original(tmp_path: Path) -> None:
    import signal
    import time
    from datetime import UTC, datetime

    src = tmp_path / "tree" / "config.json"
    src.parent.mkdir()
    src.write_bytes(b"x" * 100_000)
    backups = tmp_path / "backups"
    when = datetime(2026, 1, 1, tzinfo=UTC)
    pid = os.fork()
    if pid == 0:  # the clean, stopped for good inside the backup's write (then killed)
        try:
            os.fsync = lambda fd: time.sleep(3600)  # type: ignore[assignment]
            cleanup_mod.make_backup(src, src.read_bytes(), backups, when)
        finally:
            os._exit(1)
    deadline = time.monotonic() + 30
    while not list(backups.rglob("*bak*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert _backups_in(backups) == []  # nothing under a backup's name
    # The next clean clears the leftover and makes a whole backup.
    backup = cleanup_mod.make_backup(src, src.read_bytes(), backups, when)
    assert backup.read_bytes() == src.read_bytes()
    assert [p.name for p in (backups / cleanup_mod.BACKUP_SUBDIR).iterdir()
            if p.name != cleanup_mod.INDEX_NAME] == [backup.name]
