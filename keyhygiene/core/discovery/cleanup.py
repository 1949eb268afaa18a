"""Remove plaintext keys from a file the user chose, with their consent, without ever losing the file.

Order of operations, each step undone if a later one fails:
  1. re-read the file and find the keys again (never trust a scan from minutes ago);
  2. compute the new text in memory and check that it parses and differs only where secrets were emptied;
  3. copy the original into the app's backups folder, outside the scanned tree, mode 0600;
  4. replace the file atomically (temp file + rename, the original's permissions kept);
  5. read it back and check it again; on any failure put the original back from the backup.
Only formats whose tool can read the key from elsewhere are cleaned: freqtrade (``FREQTRADE__EXCHANGE__*``
environment variables) and ``.env`` files (the program's environment). The old value survives in backups and
git history whatever we do, so every result carries the advice to rotate the key.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from keyhygiene.core import redact
from keyhygiene.core.discovery.confine import DEMO_REFUSAL, may_write
from keyhygiene.core.discovery.detectors.freqtrade import ENV_FOR_FIELD
from keyhygiene.core.discovery.jsonish import loads_tolerant
from keyhygiene.core.discovery.model import KIND_EXCHANGE_KEY, FoundKey
from keyhygiene.core.timeutil import utcnow

log = logging.getLogger(__name__)

CLEANABLE_FORMATS = ("freqtrade", "dotenv")
BACKUP_SUBDIR = "cleanup"
INDEX_NAME = "INDEX.tsv"
ROTATE_WARNING = (
    "The old value is still in the backup KeyHygiene just made, in any other backup or synced copy of this file, "
    "and in git history if the file was ever committed. Rotate the key (keyhygiene rotate KEY_ID) and delete "
    "the backup once the new key works."
)


class CleanupError(Exception):
    """The file was not changed (or was put back as it was). The message says why, without any secret."""


@dataclass
class CleanupPlan:
    path: Path
    format: str
    found: list[FoundKey]  # the cleanable findings in the file, as it is now
    fields: list[str]  # what will be emptied
    instructions: str  # what the user has to set instead

    def describe(self) -> str:
        keys = ", ".join(f"{f.exchange} {f.fingerprint or '(no key id)'}" for f in self.found)
        return f"{self.path}: empty {', '.join(self.fields)} ({keys})"


@dataclass
class CleanupResult:
    path: str
    backup: str
    cleared: list[str]
    instructions: str
    warning: str = ROTATE_WARNING
    ended_locations: list[str] = field(default_factory=list)  # key ids whose plaintext copy here was recorded

    def to_json(self) -> dict[str, Any]:
        return {"file": self.path, "backup": self.backup, "cleared": list(self.cleared),
                "instructions": self.instructions, "warning": self.warning,
                "keys_updated": list(self.ended_locations)}


# ---- planning ---------------------------------------------------------------------------------------------

def plan_cleanup(path: str | Path, *, vault: object | None = None, allow_unstored: bool = False) -> CleanupPlan:
    """What cleaning ``path`` would do. Raises CleanupError when it cannot or should not be cleaned."""
    from keyhygiene.core.discovery.scanner import scan

    given = Path(path).expanduser().absolute()
    # A symlink is cleaned where it points: replacing the link itself would leave the key in the real file
    # while reporting it cleaned (issue 18).
    p = given.resolve() if given.is_symlink() else given
    if not may_write(p, vault):
        raise CleanupError(DEMO_REFUSAL)
    if not p.is_file():
        raise CleanupError(f"{p} is not a file.")
    _refuse_hard_links(p)
    result = scan([p], vault=vault)
    found = [f for f in result.found if f.path == str(p)]
    if not found:
        raise CleanupError(f"No plaintext exchange key found in {p}: nothing to clean.")
    cleanable = [f for f in found if f.cleanable and f.format in CLEANABLE_FORMATS]
    if not cleanable:
        tools = ", ".join(sorted({f.tool for f in found}))
        raise CleanupError(
            f"KeyHygiene cannot clean {tools} files: the tool cannot read its key from anywhere else. "
            + found[0].advice
        )
    if not allow_unstored:
        missing = [f for f in cleanable if f.kind == KIND_EXCHANGE_KEY and not f.in_vault]
        if missing:
            what = ", ".join(f"{f.exchange} {f.fingerprint or '(no key id)'}" for f in missing)
            raise CleanupError(
                f"{what} in {p} is not in the KeyHygiene vault yet; cleaning now would leave it only in a backup. "
                "Import it first (keyhygiene scan --import)."
            )
    fmt = cleanable[0].format
    fields = [name for f in cleanable for name in (".".join(sp) for sp in f.secret_paths)]
    if fmt == "freqtrade":
        envs = sorted({ENV_FOR_FIELD[sp[-1]] for f in cleanable for sp in f.secret_paths if sp[-1] in ENV_FOR_FIELD})
        instructions = (
            f"freqtrade now needs {', '.join(envs)} in its environment (for example in the service file or the "
            "docker-compose `environment:` section, filled from your keychain), otherwise it starts without keys."
        )
    else:
        instructions = (
            f"Whatever reads this file now needs {', '.join(fields)} from its environment or a keychain; "
            "a comment in the file says so."
        )
    return CleanupPlan(path=p, format=fmt, found=cleanable, fields=fields, instructions=instructions)


# ---- rewriting --------------------------------------------------------------------------------------------

_JSON_PAIR = re.compile(r'("(?:[^"\\\n]|\\.)*")(\s*:\s*)("(?:[^"\\\n]|\\.)*")')


def _json_targets(plan: CleanupPlan, data: Any) -> dict[tuple[str, ...], str]:
    targets: dict[tuple[str, ...], str] = {}
    for f in plan.found:
        for sp in f.secret_paths:
            cur: Any = data
            for part in sp:
                cur = cur.get(part) if isinstance(cur, dict) else None
            if isinstance(cur, str) and cur:
                targets[sp] = cur
    return targets


def rewrite_json(text: str, plan: CleanupPlan) -> str:
    """Empty the secret strings in place, keeping comments, order and formatting; verify by re-parsing."""
    data = loads_tolerant(text)
    if not isinstance(data, dict):
        raise CleanupError(f"{plan.path} no longer parses as JSON; not touching it.")
    targets = _json_targets(plan, data)
    if not targets:
        raise CleanupError(f"The key fields in {plan.path} are already empty.")
    wanted = {(sp[-1], value) for sp, value in targets.items()}

    def repl(m: re.Match[str]) -> str:
        try:
            name, value = json.loads(m.group(1)), json.loads(m.group(3))
        except ValueError:
            return m.group(0)
        if (name, value) in wanted:
            return f'{m.group(1)}{m.group(2)}""'
        return m.group(0)

    new = _JSON_PAIR.sub(repl, text)
    expected = copy.deepcopy(data)
    for sp in targets:
        cur = expected
        for part in sp[:-1]:
            cur = cur[part]
        cur[sp[-1]] = ""
    if loads_tolerant(new) != expected:
        raise CleanupError(
            f"Could not empty the keys in {plan.path} without touching anything else (unusual quoting?); "
            "the file was not changed. Remove them by hand."
        )
    return new


def rewrite_dotenv(text: str, plan: CleanupPlan, day: str) -> str:
    """Empty each secret variable and put a comment above it saying where the key went."""
    from dotenv.parser import parse_stream

    owner = {sp[0]: f for f in plan.found for sp in f.secret_paths}
    targets = set(owner)
    bindings = list(parse_stream(io.StringIO(text)))
    if "".join(b.original.string for b in bindings) != text:
        raise CleanupError(f"{plan.path} has lines KeyHygiene cannot rewrite safely; the file was not changed.")
    out: list[str] = []
    for b in bindings:
        if b.key in targets and not b.error:
            orig = b.original.string
            newline = "\r\n" if orig.endswith("\r\n") else ("\n" if orig.endswith("\n") else "")
            export = "export " if orig.lstrip().startswith("export ") else ""
            kid = owner[b.key].in_vault
            where = f"is in the OS keychain as KeyHygiene key {kid}" if kid else "was removed"
            note = (f"# KeyHygiene {day}: the value of {b.key} {where}. Old copies remain in backups and git "
                    "history: rotate the key.")
            out.append(f"{note}{newline or chr(10)}{export}{b.key}={newline}")
        else:
            out.append(b.original.string)
    new = "".join(out)
    before, after = _env_values(text), _env_values(new)
    expected = {k: ("" if k in targets else v) for k, v in before.items()}
    if after != expected:
        raise CleanupError(f"Could not empty the keys in {plan.path} without changing other lines; "
                           "the file was not changed.")
    return new


def _env_values(text: str) -> dict[str, str | None]:
    from dotenv import dotenv_values

    return dict(dotenv_values(stream=io.StringIO(text), interpolate=False))


def _verify(plan: CleanupPlan, text: str) -> None:
    """The rewritten file, as read back from disk, must parse and hold none of the secrets."""
    if plan.format == "freqtrade":
        data = loads_tolerant(text)
        if not isinstance(data, dict) or _json_targets(plan, data):
            raise CleanupError("the rewritten file does not parse, or still holds a key")
    else:
        values = _env_values(text)
        for f in plan.found:
            for sp in f.secret_paths:
                if values.get(sp[0]):
                    raise CleanupError("the rewritten file still holds a key")
    for f in plan.found:
        if f.credentials is not None:
            for v in (f.credentials.api_key, f.credentials.secret):
                if v and len(v) >= 8 and v in text:
                    raise CleanupError("the rewritten file still holds a key")


# ---- files ------------------------------------------------------------------------------------------------

def _refuse_hard_links(path: Path) -> None:
    """The rewrite replaces the file's name with a new file: other hard links would keep the old content, key
    included. Refuse rather than report a clean that did not happen."""
    try:
        links = path.stat().st_nlink
    except OSError:
        return
    if links > 1:
        raise CleanupError(
            f"{path} has {links - 1} other hard link{'s' if links > 2 else ''} to the same content; cleaning this "
            "name would leave the key in the others. Remove the extra links (find them with `find / -samefile "
            f"{path}`) and try again, or remove the key by hand."
        )


def _git_root(path: Path) -> Path | None:
    for parent in path.parents:
        if (parent / ".git").exists():
            return parent
    return None


def _is_within(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def make_backup(path: Path, data: bytes, backups_dir: Path, now: datetime) -> Path:
    """Copy ``data`` into ``backups_dir/cleanup`` with mode 0600 (the folder 0700), never next to ``path``."""
    target_dir = backups_dir / BACKUP_SUBDIR
    if _is_within(target_dir, path.parent):
        raise CleanupError(f"The backups folder {target_dir} is inside {path.parent}; refusing to leave the copy "
                           "in the folder being cleaned.")
    repo_root = _git_root(path)
    if repo_root is not None and _is_within(target_dir, repo_root):
        raise CleanupError(f"The backups folder {target_dir} is inside the git repository {repo_root}.")
    target_dir.mkdir(parents=True, exist_ok=True)
    for d in (backups_dir, target_dir):
        try:
            os.chmod(d, 0o700)
        except OSError:
            pass
    # A backup is written under a hidden temporary name and linked to its real name only once it is whole and
    # synced: a clean killed half-way leaves no truncated ".bak" that passes for the original (issue 18); the
    # next clean removes such leftovers.
    for stale in target_dir.glob(".*.bak.partial"):
        stale.unlink(missing_ok=True)
    tag = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    tmp = target_dir / f".{now.strftime('%Y%m%dT%H%M%S')}-{tag}-{os.getpid()}-{path.name}.bak.partial"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        if tmp.read_bytes() != data:
            raise CleanupError(f"The backup {tmp} does not read back correctly.")
        n = 0
        while True:
            suffix = f"-{n}" if n else ""
            backup = target_dir / f"{now.strftime('%Y%m%dT%H%M%S')}-{tag}{suffix}-{path.name}.bak"
            try:
                os.link(tmp, backup)  # never replaces an earlier backup
                break
            except FileExistsError:
                n += 1
    finally:
        tmp.unlink(missing_ok=True)
    with open(target_dir / INDEX_NAME, "a", encoding="utf-8") as idx:
        idx.write(f"{now.isoformat()}\t{backup.name}\t{path}\n")
    return backup


def atomic_write(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".keyhygiene-tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if os.name != "nt":
            os.chmod(tmp, stat.S_IMODE(mode))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- the whole operation ----------------------------------------------------------------------------------

def clean_file(
    plan: CleanupPlan,
    backups_dir: Path,
    *,
    confirm: Callable[[CleanupPlan], bool],
    vault: object | None = None,
    now: datetime | None = None,
) -> CleanupResult:
    """Clean one planned file if ``confirm(plan)`` says yes. Raises CleanupError (file unchanged) otherwise."""
    # Both the file and its backup must stay inside the demo's folder: a backup deleted on quit is no backup.
    if not (may_write(plan.path, vault) and may_write(backups_dir, vault)):
        raise CleanupError(DEMO_REFUSAL)
    if not confirm(plan):
        raise CleanupError(f"{plan.path} was left as it was (not confirmed).")
    when = now or utcnow()
    path = plan.path
    _refuse_hard_links(path)
    try:
        original = path.read_bytes()
        mode = path.stat().st_mode
        text = original.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CleanupError(f"Cannot read {path} as UTF-8 text: {redact.scrub(exc)}") from None
    key_ids = sorted({f.in_vault for f in plan.found if f.in_vault})
    if plan.format == "freqtrade":
        new_text = rewrite_json(text, plan)
    else:
        new_text = rewrite_dotenv(text, plan, when.date().isoformat())
    backup = make_backup(path, original, backups_dir, when)
    written = False
    try:
        atomic_write(path, new_text.encode("utf-8"), mode)
        written = True
        _verify(plan, path.read_text(encoding="utf-8"))
    except BaseException as exc:
        if written:
            _restore(path, backup, mode)
        backup.unlink(missing_ok=True)  # the original is back (or was never touched): no extra copy to keep
        if isinstance(exc, CleanupError):
            raise CleanupError(f"{path} was restored from the backup: {exc}") from None
        if isinstance(exc, OSError):
            raise CleanupError(f"{path} was left as it was: {redact.scrub(exc)}") from None
        raise
    result = CleanupResult(path=str(path), backup=str(backup), cleared=list(plan.fields),
                           instructions=plan.instructions)
    if vault is not None:
        from keyhygiene.core.discovery.locations import end_location

        for kid in key_ids:
            if end_location(vault, kid, str(path), when.date()):
                result.ended_locations.append(kid)
    log.info("cleaned %s (backup %s)", path, backup)
    return result


def _restore(path: Path, backup: Path, mode: int) -> None:
    """Put the original back. If even that fails, keep the backup and say where it is."""
    try:
        atomic_write(path, backup.read_bytes(), mode)
    except OSError as exc:
        raise CleanupError(
            f"Rewriting {path} failed and restoring it failed too ({redact.scrub(exc)}); "
            f"the original is in {backup}."
        ) from None
