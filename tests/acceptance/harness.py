"""What an outside script has: the installed ``keyhygiene`` command, a simulator process and environment variables.

Nothing here calls into the app's code paths under test; the app is only ever run as a subprocess. Test
credentials are generated with the simulator's own generator (an outside emulator would hand out its own) and
registered with the session-end leak check.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyhygiene.sim.credentials import new_credentials
from tests.helpers.secrets_watch import TEST_SECRETS, register_secret

TWELVE = ("binance", "kucoin", "okx", "bybit", "coinbase", "kraken", "bitget", "gate", "htx", "bitfinex", "bingx",
          "mexc")
PERMISSIONS = ("read", "spot_trade", "margin_trade", "futures_trade", "options_trade", "withdraw", "transfer")
STATUSES = frozenset({"ok", "invalid_key", "invalid_signature", "invalid_passphrase", "ip_not_allowed",
                      "permission_denied", "rejected", "rate_limited", "clock_skew", "unreachable", "unsupported",
                      "error"})
SEVERITIES = ("critical", "high", "medium", "low", "info")
PROFILE_FIELDS = ("exchange", "key", "status", "permissions", "other", "ip_restricted", "ip_whitelist",
                  "created_at", "expires_at", "trade_expires_at", "is_master", "third_party_link", "last_used_at")
KEY_LIST_FIELDS = ("id", "exchange", "label", "key", "purpose", "shared_with", "created_at")
FINDING_FIELDS = ("rule", "severity", "title", "detail", "fix")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
ELLIPSIS = "\u2026"
SIM_CLIENT_IP = "203.0.113.10"  # the address the simulator says requests come from
HERE = Path(__file__).resolve().parent


# ---- credentials ---------------------------------------------------------------------------------------------
@dataclass
class Creds:
    exchange: str
    api_key: str
    secret: str
    passphrase: str | None = None

    def env(self) -> dict[str, str]:
        e = {"KEYHYGIENE_API_KEY": self.api_key, "KEYHYGIENE_API_SECRET": self.secret}
        if self.passphrase:
            e["KEYHYGIENE_API_PASSPHRASE"] = self.passphrase
        return e

    def stdin(self) -> str:
        """One value per line, as a script piping secrets would send them (a PEM secret spans several lines)."""
        lines = [self.api_key, self.secret] + ([self.passphrase] if self.passphrase else [])
        return "".join(v if v.endswith("\n") else v + "\n" for v in lines)

    def values(self) -> list[str]:
        return [v for v in (self.api_key, self.secret, self.passphrase) if v]

    def masked(self) -> str:
        """The contract's first4…last4 of the key (Coinbase CDP key names: of the key id after the path)."""
        k = self.api_key.strip()
        if k.startswith("organizations/") and "/apiKeys/" in k:
            k = k.rsplit("/", 1)[-1]
        return f"{k[:4]}{ELLIPSIS}{k[-4:]}"


def fresh_creds(exchange: str) -> Creds:
    api_key, secret, passphrase, _extra = new_credentials(exchange)
    c = Creds(exchange, api_key, secret, passphrase)
    register_secret(*c.values())
    # The secret's PEM body lines are secrets too: look for each one, not only the whole block.
    for line in secret.splitlines():
        if len(line) >= 16 and not line.startswith("-----"):
            register_secret(line)
    return c


@dataclass
class SimKeySpec:
    creds: Creds
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        c = self.creds
        return {"exchange": c.exchange, "api_key": c.api_key, "secret": c.secret, "passphrase": c.passphrase,
                **self.settings}


# ---- the simulator, as its own process ---------------------------------------------------------------------
class SimProcess:
    """``python -m keyhygiene.sim --keys FILE`` (or the fault launcher), endpoints parsed from its output."""

    def __init__(self, keys: Iterable[SimKeySpec], workdir: Path, *, fault: str | None = None,
                 latency: float | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.keys_file = workdir / f"sim-keys-{id(self)}.json"
        # The keys file holds secrets by design (it is the exchange's side); it lives outside any watched dir.
        self.keys_file.write_text(json.dumps([k.to_json() for k in keys]), encoding="utf-8")
        if fault:
            cmd = [sys.executable, str(HERE / "fault_sim.py"), "--keys", str(self.keys_file), "--fault", fault]
        else:
            cmd = [sys.executable, "-m", "keyhygiene.sim", "--keys", str(self.keys_file), "--no-rate-limits"]
            if latency is not None:
                cmd += ["--latency", str(latency)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     text=True, env=clean_env())
        self.endpoints_env = ""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("KEYHYGIENE_ENDPOINTS="):
                self.endpoints_env = line.strip().split("=", 1)[1]
                break
        if not self.endpoints_env:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.stop()
            raise RuntimeError(f"the simulator did not print KEYHYGIENE_ENDPOINTS=: {err[-2000:]}")
        self.endpoints: dict[str, str] = dict(item.split("=", 1) for item in self.endpoints_env.split(","))

    def endpoint_args(self, *exchanges: str) -> list[str]:
        chosen = exchanges or tuple(self.endpoints)
        return [a for ex in chosen for a in ("--endpoint", f"{ex}={self.endpoints[ex]}")]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # the simulator's own clean shutdown
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        self.keys_file.unlink(missing_ok=True)


# ---- the CLI, as a script runs it ---------------------------------------------------------------------------
def keyhygiene_command() -> list[str]:
    """The installed console script next to this interpreter; ``python -m keyhygiene`` where there is none."""
    script = Path(sys.executable).with_name("keyhygiene")
    if script.exists():
        return [str(script)]
    found = shutil.which("keyhygiene")
    return [found] if found else [sys.executable, "-m", "keyhygiene"]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment minus anything that would steer the app, plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KEYHYGIENE_") or k == "KEYHYGIENE_CI_KEYCHAIN"}
    env.pop("PYTHON_KEYRING_BACKEND", None)
    env.update(extra or {})
    return env


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """Exactly one JSON document on stdout, nothing else."""
        try:
            return json.loads(self.stdout)
        except ValueError as exc:
            raise AssertionError(f"stdout is not one JSON document ({exc}):\n{self.stdout[:2000]}\n"
                                 f"stderr:\n{self.stderr[-2000:]}") from None

    def __str__(self) -> str:
        return (f"keyhygiene {' '.join(self.args)} -> {self.returncode}\nstdout:\n{self.stdout[-3000:]}\n"
                f"stderr:\n{self.stderr[-3000:]}")


class Cli:
    """Runs ``keyhygiene`` with a data dir in the environment; every run is checked for leaked secrets."""

    def __init__(self, data_dir: Path, base_env: Mapping[str, str] | None = None,
                 command: Sequence[str] | None = None) -> None:
        self.data_dir = data_dir
        self.base_env = dict(base_env or {})
        self.command = list(command or keyhygiene_command())
        self.history: list[Result] = []

    def run(self, *args: str, env: Mapping[str, str] | None = None, stdin: str = "",
            data_dir_env: bool = True, timeout: float = 180) -> Result:
        full = clean_env({**self.base_env, **(env or {})})
        if data_dir_env:
            full.setdefault("KEYHYGIENE_DATA_DIR", str(self.data_dir))
        p = subprocess.run([*self.command, *args], env=full, input=stdin, capture_output=True, text=True,
                           timeout=timeout)
        r = Result(list(args), p.returncode, p.stdout, p.stderr)
        self.history.append(r)
        assert_no_secret(p.stdout + p.stderr, where=f"output of keyhygiene {' '.join(args)}")
        assert "Traceback (most recent call last)" not in p.stderr, str(r)
        return r


# ---- contract checks ----------------------------------------------------------------------------------------
def assert_no_secret(text: str, where: str) -> None:
    for s in TEST_SECRETS:
        assert s not in text, f"a test secret ({s[:4]}…) appears in {where}"


def assert_dir_has_no_secret(root: Path) -> None:
    if not root.exists():
        return
    needles = [s.encode() for s in TEST_SECRETS]
    for p in root.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for n in needles:
                assert n not in data, f"a test secret ({n[:4].decode(errors='replace')}…) is in {p}"


def check_timestamp(value: Any, name: str) -> None:
    assert value is None or (isinstance(value, str) and TIMESTAMP.fullmatch(value)), f"{name}={value!r}"


def check_profile(d: Mapping[str, Any], exchange: str) -> None:
    """Every field of DESIGN.md's ``inspect --json`` example, with the documented types and vocabularies."""
    missing = [f for f in PROFILE_FIELDS if f not in d]
    assert not missing, f"fields missing: {missing} in {d}"
    assert d["exchange"] == exchange
    assert isinstance(d["key"], str) and d["key"].count(ELLIPSIS) == 1, d["key"]
    assert d["status"] in STATUSES, d["status"]
    perms = d["permissions"]
    assert isinstance(perms, list) and perms == sorted(set(perms)), perms
    assert set(perms) <= set(PERMISSIONS), f"permissions outside the vocabulary: {set(perms) - set(PERMISSIONS)}"
    assert isinstance(d["other"], list) and all(isinstance(o, str) for o in d["other"])
    assert not set(d["other"]) & set(PERMISSIONS), f"vocabulary names in other: {d['other']}"
    assert d["ip_restricted"] in (True, False, None)
    wl = d["ip_whitelist"]
    assert wl is None or (isinstance(wl, list) and all(isinstance(i, str) for i in wl)), wl
    if wl:
        assert d["ip_restricted"] is True, "a whitelist but not ip_restricted"
    if wl == []:  # one meaning of "unrestricted": an empty whitelist is said only of an unrestricted key
        assert d["ip_restricted"] is False, "an empty whitelist on a key not said to be unrestricted"
    for f in ("created_at", "expires_at", "trade_expires_at", "last_used_at"):
        check_timestamp(d[f], f)
    assert d["is_master"] in (True, False, None)
    assert d["third_party_link"] is None or isinstance(d["third_party_link"], str)
    if d["status"] == "ok":
        assert "message" not in d, f"message on an ok status: {d.get('message')!r}"
    else:
        assert isinstance(d.get("message"), str) and d["message"].strip(), f"no message for status {d['status']}"


def check_finding(f: Mapping[str, Any]) -> None:
    missing = [k for k in FINDING_FIELDS if k not in f]
    assert not missing, f"finding fields missing: {missing} in {f}"
    assert f["severity"] in SEVERITIES, f["severity"]
    for k in FINDING_FIELDS:
        assert isinstance(f[k], str) and f[k].strip(), f"finding {k} empty: {f}"


def check_key_list_item(d: Mapping[str, Any]) -> None:
    missing = [f for f in KEY_LIST_FIELDS if f not in d]
    assert not missing, f"fields missing: {missing} in {d}"
    assert isinstance(d["id"], str) and d["id"]
    assert isinstance(d["shared_with"], list) and all(s == s.lower() for s in d["shared_with"])
    assert d["shared_with"] == sorted(d["shared_with"])
    check_timestamp(d["created_at"], "created_at")
    assert d["purpose"] in ("read-only", "trading", "bot", "tax", "other")
