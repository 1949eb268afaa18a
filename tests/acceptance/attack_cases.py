"""Issue 18's attack pass, re-run against the CLI as a user runs it: ``python -m tests.acceptance.attack_cases``.

Every case runs ``keyhygiene`` in a subprocess (a loopback simulator and a file-backed test keychain; a stuck
keychain; hostile exchange answers) and is scored on the issue's columns: tried, clear error (the documented exit
code and a message that names the problem), traceback, hang, lost (a stored key neither listed nor reported by
``doctor``), leaked (a test secret in output or in the data dir). ``test_attack_cases.py`` runs it and asserts
the last four columns are empty.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANG_S = 60.0


@dataclass
class Outcome:
    case: str
    item: int
    tried: int = 0
    clear: int = 0
    traceback: int = 0
    hang: int = 0
    lost: int = 0
    leaked: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Run:
    code: int | None
    out: str
    err: str
    seconds: float
    max_rss_mib: float


class Lab:
    """One scratch folder: data dir, test keychain file, secrets handed out (to look for leaks)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.secrets: list[str] = []
        self.n = 0

    def fresh(self) -> tuple[Path, Path]:
        self.n += 1
        d = self.root / f"case{self.n}"
        d.mkdir()
        return d / "data", d / "keyring.json"

    def creds(self, exchange: str = "binance") -> dict[str, str]:
        from keyhygiene.sim.credentials import new_credentials

        key, secret, passphrase, _extra = new_credentials(exchange)
        self.secrets += [key, secret] + ([passphrase] if passphrase else [])
        env = {"KEYHYGIENE_API_KEY": key, "KEYHYGIENE_API_SECRET": secret}
        if passphrase:
            env["KEYHYGIENE_API_PASSPHRASE"] = passphrase
        return env

    def env(self, data: Path | None, keyring_file: Path | None, backend: str = "FileKeyring",
            **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHYGIENE_")}
        env.pop("PYTHON_KEYRING_BACKEND", None)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
        if backend == "fail":
            env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        else:
            env["PYTHON_KEYRING_BACKEND"] = f"tests.helpers.process_keyrings.{backend}"
        if keyring_file is not None:
            env["KEYHYGIENE_TEST_KEYRING"] = str(keyring_file)
        if data is not None:
            env["KEYHYGIENE_DATA_DIR"] = str(data)
        env.update(extra)
        return env

    def run(self, args: list[str], env: dict[str, str], stdin: bytes = b"") -> Run:
        started = time.monotonic()
        p = subprocess.Popen([sys.executable, "-m", "keyhygiene", *args], env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(stdin, timeout=HANG_S)
            code: int | None = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            code = None
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        return Run(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                   time.monotonic() - started, rss)

    def leaked(self, run: Run, data: Path | None) -> bool:
        text = run.out + run.err
        if any(s in text for s in self.secrets):
            return True
        if data is not None and data.exists():
            needles = [s.encode() for s in self.secrets]
            for p in data.rglob("*"):
                # scan --clean's backup is by design a copy of the user's own file (0600, in a 0700 folder)
                if p.is_file() and "cleanup" not in p.relative_to(data).parts:
                    blob = p.read_bytes()
                    if any(n in blob for n in needles):
                        return True
        return False


def score(o: Outcome, lab: Lab, run: Run, data: Path | None, *, code: int, words: str) -> None:
    o.tried += 1
    if run.code is None:
        o.hang += 1
        o.notes.append("hang")
        return
    if "Traceback (most recent call last)" in run.err:
        o.traceback += 1
    if lab.leaked(run, data):
        o.leaked += 1
    if run.code == code and re.search(words, run.out + run.err, re.I):
        o.clear += 1
    else:
        o.notes.append(f"exit {run.code}: {(run.err or run.out).strip()[:160]}")


def _add(lab: Lab, data: Path, kr: Path, label: str = "main") -> str:
    r = lab.run(["keys", "add", "--exchange", "binance", "--label", label, "--json"],
                lab.env(data, kr) | lab.creds())
    assert r.code == 0, r.err
    return str(json.loads(r.out)["id"])


def _doctor_reports(lab: Lab, data: Path, kr: Path) -> set[str]:
    r = lab.run(["doctor", "--json"], lab.env(data, kr))
    return {f["key_id"] for f in json.loads(r.out)["consistency"]["findings"]}


# ---- the cases ------------------------------------------------------------------------------------------------
def vault_cases(lab: Lab) -> Iterator[Outcome]:
    for name, content in (("zero-byte database", b""), ("header-less database", b"\0" * 4096),
                          ("garbage database", b"not sqlite\n" * 100)):
        o = Outcome(name, 1)
        data, kr = lab.fresh()
        key_id = _add(lab, data, kr)
        (data / "keyhygiene.sqlite3").write_bytes(content)
        for cmd in (["keys", "list"], ["audit"], ["report", "--format", "json", "-o", "-"]):
            score(o, lab, lab.run(cmd, lab.env(data, kr)), data, code=6, words="damaged")
        r = lab.run(["doctor", "--json"], lab.env(data, kr))
        score(o, lab, r, data, code=6, words="orphaned_secret")
        if key_id not in _doctor_reports(lab, data, kr):
            o.lost += 1
        yield o

    o = Outcome("keys add killed (SIGKILL) at random points", 2)
    data, kr = lab.fresh()
    _add(lab, data, kr, "first")
    import random
    import signal

    rng = random.Random(18)
    for i in range(20):
        p = subprocess.Popen([sys.executable, "-m", "keyhygiene", "keys", "add", "--exchange", "binance",
                              "--label", f"k{i}"], env=lab.env(data, kr) | lab.creds(),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 1.6))
        p.send_signal(signal.SIGKILL)
        p.wait()
        o.tried += 1
    listed = {k["id"] for k in json.loads(lab.run(["keys", "list", "--json"], lab.env(data, kr)).out)}
    reported = _doctor_reports(lab, data, kr)
    in_keychain = {k.split("\n")[0].split("/")[2] for k in json.loads(kr.read_text())}
    o.lost += len(in_keychain - listed - reported)
    o.clear = o.tried if not in_keychain - listed - reported else 0
    o.notes.append(f"{len(listed)} listed, {len(reported)} reported by doctor")
    yield o

    o = Outcome("keychain daemon stopped (every call blocks)", 3)
    data, _kr = lab.fresh()
    env = lab.env(data, None, backend="StuckKeyring", KEYHYGIENE_KEYCHAIN_TIMEOUT="3")
    for cmd in (["keys", "add", "--exchange", "binance", "--label", "x"], ["doctor", "--require-keychain"],
                ["audit"], ["rotate", "k00000000"], ["scan", "--import", str(lab.root)]):
        score(o, lab, lab.run(cmd, env | lab.creds()), data, code=3, words="did not answer in 3 s")
    yield o


@contextmanager
def simulator(lab: Lab) -> Iterator[tuple[object, dict[str, dict[str, str]]]]:
    from keyhygiene.sim import SimKey, Simulator, SimulatorThread
    from keyhygiene.sim.credentials import new_credentials

    runner = SimulatorThread(Simulator(enforce_rate_limits=False))
    sim = runner.start()
    creds: dict[str, dict[str, str]] = {}
    try:
        for ex in ("binance", "okx", "kraken"):
            key, secret, passphrase, extra = new_credentials(ex)
            sim.add_key(SimKey(exchange=ex, api_key=key, secret=secret, passphrase=passphrase, extra=extra))
            lab.secrets += [key, secret] + ([passphrase] if passphrase else [])
            creds[ex] = {"KEYHYGIENE_API_KEY": key, "KEYHYGIENE_API_SECRET": secret} | (
                {"KEYHYGIENE_API_PASSPHRASE": passphrase} if passphrase else {})
        yield sim, creds
    finally:
        runner.stop()


def exchange_cases(lab: Lab) -> Iterator[Outcome]:
    from keyhygiene.sim.server import REDIRECT_PATH

    with simulator(lab) as (sim, creds):
        eps = sim.endpoints  # type: ignore[attr-defined]
        for fault, words, item in (("redirect", "redirect to http://localhost", 5),
                                   ("endless_body", "larger than 1024 KiB", 4),
                                   ("gzip_bomb", "larger than 1024 KiB", 4),
                                   ("huge_json", "larger than 1024 KiB", 4)):
            o = Outcome(f"exchange answers with {fault.replace('_', ' ')}", item)
            worst = 0.0
            for ex in ("binance", "okx", "kraken"):
                sim.inject_fault(ex, fault, count=None)  # type: ignore[attr-defined]
                before = sim.request_count(ex, REDIRECT_PATH)  # type: ignore[attr-defined]
                args = ["--endpoint", f"{ex}={eps[ex]}", "inspect", "--exchange", ex, "--json"]
                p = subprocess.Popen([sys.executable, "-m", "keyhygiene", *args],
                                     env=lab.env(None, None, backend="fail") | creds[ex],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                started = time.monotonic()
                try:
                    out, err = p.communicate(timeout=HANG_S)
                    code: int | None = p.returncode
                except subprocess.TimeoutExpired:
                    p.kill()
                    out, err = p.communicate()
                    code = None
                _pid, _status, usage = os.wait4(p.pid, os.WNOHANG) if code is None else (0, 0, None)
                rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                worst = max(worst, rss)
                run = Run(code, out.decode(errors="replace"), err.decode(errors="replace"),
                          time.monotonic() - started, rss)
                score(o, lab, run, None, code=4, words=words)
                if sim.request_count(ex, REDIRECT_PATH) != before:  # type: ignore[attr-defined]
                    o.leaked += 1
                    o.notes.append(f"{ex}: a request reached the redirect target")
                sim.clear_faults(ex)  # type: ignore[attr-defined]
            o.notes.append(f"peak RSS of any child so far {worst:.0f} MiB")
            yield o


def usage_cases(lab: Lab) -> Iterator[Outcome]:
    invalid = os.fsdecode(b"bad\xff\xfe")
    data, kr = lab.fresh()
    cases: list[tuple[str, int, list[str], dict[str, str], bytes, str]] = [
        ("--endpoint for a misspelled exchange", 6, ["--endpoint", "binanse=http://127.0.0.1:9", "inspect",
                                                     "--exchange", "binance"], {}, b"", "binanse.*binance"),
        ("--endpoint http://[::1", 6, ["--endpoint", "binance=http://[::1", "inspect", "--exchange", "binance"],
         {}, b"", "not a valid URL"),
        ("--endpoint with spaces", 6, ["--endpoint", "binance=http://127.0.0.1 :9", "inspect", "--exchange",
                                       "binance"], {}, b"", "spaces"),
        ("--endpoint port 99999", 6, ["--endpoint", "binance=http://127.0.0.1:99999", "inspect", "--exchange",
                                      "binance"], {}, b"", "not a valid URL"),
        ("label not UTF-8", 9, ["keys", "add", "--exchange", "binance", "--label", invalid], {}, b"", "label"),
        ("service name not UTF-8", 9, ["keys", "add", "--exchange", "binance", "--label", "x", "--shared-with",
                                       invalid], {}, b"", "service name"),
        ("service name with ESC", 9, ["keys", "add", "--exchange", "binance", "--label", "x", "--shared-with",
                                      "bot\x1b[2J"], {}, b"", "service name"),
        ("service name of 1 MB", 9, ["keys", "add", "--exchange", "binance", "--label", "x", "--shared-with",
                                     "s" * 100_000], {}, b"", "service name"),
        ("API key with ESC", 9, ["inspect", "--exchange", "binance"],
         {"KEYHYGIENE_API_KEY": "abc\x1bdefghijklmnop", "KEYHYGIENE_API_SECRET": "s" * 32}, b"", "API key"),
        ("API key with CR/LF", 10, ["inspect", "--exchange", "binance"],
         {"KEYHYGIENE_API_KEY": "abc\r\ndefghijklmnop", "KEYHYGIENE_API_SECRET": "s" * 32}, b"", "API key"),
        ("API key with NUL (stdin)", 9, ["inspect", "--exchange", "binance"], {},
         b"abc\x00defghijklmnop\n" + b"s" * 32 + b"\n", "API key"),
        ("invalid UTF-8 on stdin", 9, ["inspect", "--exchange", "binance"], {}, b"k\xff\xfe\n" + b"s" * 32 + b"\n",
         "UTF-8"),
        ("--max-size beyond range", 9, ["scan", str(lab.root), "--max-size", "9" * 30], {}, b"", "max-size"),
        ("report -o /dev/null", 8, ["report", "--format", "json", "-o", "/dev/null"], {}, b"", "not a regular"),
        ("report -o in a missing folder", 8, ["report", "-o", str(lab.root / "no" / "such" / "r.json")], {}, b"",
         "does not exist"),
    ]
    fifo = lab.root / "fifo.json"
    link = lab.root / "link.json"
    if hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
        cases.append(("report -o FIFO", 8, ["report", "-o", str(fifo)], {}, b"", "not a regular"))
    (lab.root / "victim").write_text("x")
    link.symlink_to(lab.root / "victim")
    cases.append(("report -o symlink", 8, ["report", "-o", str(link)], {}, b"", "symbolic link"))
    by_name: dict[str, Outcome] = {}
    for name, item, args, env, stdin, words in cases:
        o = by_name.setdefault(name, Outcome(name, item))
        run = lab.run(args, lab.env(data, kr) | env, stdin)
        score(o, lab, run, data, code=2, words=words)
    assert (lab.root / "victim").read_text() == "x"
    assert not (lab.root / "no").exists()
    yield from by_name.values()


def file_cases(lab: Lab) -> Iterator[Outcome]:
    # scan --clean through a symlink and on a hard-linked file
    data, kr = lab.fresh()
    tree = lab.root / "bots"
    tree.mkdir()
    creds = lab.creds()
    cfg = tree / ".env"
    cfg.write_text(f"BINANCE_API_KEY={creds['KEYHYGIENE_API_KEY']}\nBINANCE_API_SECRET="
                   f"{creds['KEYHYGIENE_API_SECRET']}\n")
    r = lab.run(["scan", str(tree), "--import", "--json"], lab.env(data, kr))
    o = Outcome("scan --clean on a symlink", 8)
    link = lab.root / "env-link"
    link.symlink_to(cfg)
    run = lab.run(["scan", "--clean", str(link), "--yes", "--json"], lab.env(data, kr))
    o.tried += 1
    still = creds["KEYHYGIENE_API_SECRET"] in cfg.read_text()
    if run.code == 0 and not still and link.is_symlink():
        o.clear += 1
    else:
        o.notes.append(f"exit {run.code}, key still in real file: {still}; import exit {r.code}: {r.err[:120]}")
    if "Traceback" in run.err:
        o.traceback += 1
    if lab.leaked(run, data):
        o.leaked += 1
    yield o

    o = Outcome("scan --clean on a hard-linked file", 8)
    cfg2 = tree / "b.env"
    creds2 = lab.creds()
    cfg2.write_text(f"BINANCE_API_KEY={creds2['KEYHYGIENE_API_KEY']}\nBINANCE_API_SECRET="
                    f"{creds2['KEYHYGIENE_API_SECRET']}\n")
    lab.run(["scan", str(cfg2), "--import"], lab.env(data, kr))
    other = lab.root / "same-inode.env"
    os.link(cfg2, other)
    run = lab.run(["scan", "--clean", str(cfg2), "--yes"], lab.env(data, kr))
    score(o, lab, run, data, code=2, words="hard link")
    if "Cleaned" in run.out and creds2["KEYHYGIENE_API_SECRET"] in other.read_text():
        o.lost += 1
        o.notes.append("reported cleaned while the key is in the other link")
    yield o

    o = Outcome("existing --data-dir readable by others", 8)
    shared = lab.root / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    run = lab.run(["keys", "list"], lab.env(shared, kr))
    o.tried += 1
    if run.code == 0 and "other users" in run.err and (shared.stat().st_mode & 0o777) == 0o755:
        o.clear += 1
    yield o

    o = Outcome("files the app writes are private", 8)
    o.tried += 1
    loose = [p for p in data.rglob("*") if p.is_file() and p.stat().st_mode & 0o077]
    if not loose:
        o.clear += 1
    else:
        o.notes.append(f"readable by others: {[p.name for p in loose]}")
    yield o

    o = Outcome("core dumps off while a secret is held", 7)
    p = subprocess.Popen([sys.executable, "-m", "keyhygiene", "inspect", "--exchange", "binance"],
                         env=lab.env(None, None, backend="fail"), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)  # waiting at the API key prompt by now
    o.tried += 1
    try:
        limits = Path(f"/proc/{p.pid}/limits").read_text()
        core = next(line for line in limits.splitlines() if line.startswith("Max core file size")).split()
        if core[4] == "0" and core[5] == "0":
            o.clear += 1
        else:
            o.notes.append(" ".join(core))
    except OSError as exc:
        o.notes.append(f"cannot read limits: {exc}")
    finally:
        p.kill()
        p.communicate()
    yield o

    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount"):
        o = Outcome("disk full at open", 10)
        mnt = lab.root / "small"
        mnt.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)]).returncode == 0:
            try:
                d = mnt / "data"
                lab.run(["keys", "list"], lab.env(d, kr))
                for extra in ("-wal", "-shm"):
                    (d / f"keyhygiene.sqlite3{extra}").unlink(missing_ok=True)
                fd = os.open(mnt / "fill", os.O_WRONLY | os.O_CREAT, 0o600)
                try:
                    while True:
                        os.write(fd, b"\0" * 4096)
                except OSError:
                    pass
                finally:
                    os.close(fd)
                run = lab.run(["keys", "list"], lab.env(d, kr))
                score(o, lab, run, d, code=6, words="disk .* is full")
                if list(d.glob("*.damaged-*")):
                    o.notes.append("left a .damaged copy")
                    o.lost += 1
            finally:
                subprocess.run(["umount", str(mnt)])
            yield o


SUITES: list[Callable[[Lab], Iterator[Outcome]]] = [vault_cases, exchange_cases, usage_cases, file_cases]


def run_all() -> list[Outcome]:
    with tempfile.TemporaryDirectory(prefix="kh-attack-") as tmp:
        lab = Lab(Path(tmp))
        return [o for suite in SUITES for o in suite(lab)]


def table(outcomes: list[Outcome]) -> str:
    head = f"{'item':>4}  {'case':<46} {'tried':>5} {'clear':>5} {'trace':>5} {'hang':>4} {'lost':>4} {'leak':>4}"
    lines = [head, "-" * len(head)]
    for o in outcomes:
        lines.append(f"{o.item:>4}  {o.case[:46]:<46} {o.tried:>5} {o.clear:>5} {o.traceback:>5} {o.hang:>4} "
                     f"{o.lost:>4} {o.leaked:>4}" + (f"   {'; '.join(o.notes)}" if o.notes else ""))
    tot = [sum(getattr(o, f) for o in outcomes) for f in ("tried", "clear", "traceback", "hang", "lost", "leaked")]
    lines.append(f"{'':>4}  {'total':<46} {tot[0]:>5} {tot[1]:>5} {tot[2]:>5} {tot[3]:>4} {tot[4]:>4} {tot[5]:>4}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run_all()))
