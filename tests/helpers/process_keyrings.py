"""Keyring backends that a ``keyhygiene`` subprocess loads through ``PYTHON_KEYRING_BACKEND``.

- ``FileKeyring``: test secrets in one JSON file (``KEYHYGIENE_TEST_KEYRING``, outside any data dir), written
  atomically under a lock, so several processes and a ``kill -9`` at any point see whole states only: the kill
  loop of issue 18 needs a keychain that outlives the process, like the real one.
- ``StuckKeyring``: a Secret Service whose daemon was stopped: every call blocks.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import keyring.backend
import keyring.errors
from keyring.compat import properties

FILE_ENV = "KEYHYGIENE_TEST_KEYRING"


class _ChosenOnly(keyring.backend.KeyringBackend):
    """Never viable for keyring's automatic choice. With a priority above 0 these classes, once imported (pytest's
    collection imports every test module), joined keyring's ChainerBackend in front of the real Secret Service, and
    the Stuck one made every later real-keychain test see an unavailable keychain."""

    @properties.classproperty
    def priority(cls) -> float:  # noqa: N805 - keyring's classproperty protocol
        # keyring reads the priority of a backend named in PYTHON_KEYRING_BACKEND too (to check it is viable).
        if os.environ.get("PYTHON_KEYRING_BACKEND", "").rsplit(".", 1)[-1] != cls.__name__:
            raise RuntimeError("test keyring: only used when named in PYTHON_KEYRING_BACKEND")
        return 0.1

    def __str__(self) -> str:  # keyring's default __str__ reads ``priority``
        return str(self.name)


class FileKeyring(_ChosenOnly):
    name = "File test keyring"

    @property
    def path(self) -> str:
        return os.environ[FILE_ENV]

    @contextmanager
    def _locked(self) -> Iterator[dict[str, str]]:
        with open(self.path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with open(self.path, encoding="utf-8") as fh:
                    data = json.load(fh)
            except FileNotFoundError:
                data = {}
            before = dict(data)
            yield data
            if data != before:
                tmp = f"{self.path}.{os.getpid()}.tmp"
                with open(tmp, "w", encoding="utf-8") as fh:
                    json.dump(data, fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)

    @staticmethod
    def _k(service: str, username: str) -> str:
        return f"{service}\n{username}"

    def get_password(self, service: str, username: str) -> str | None:
        with self._locked() as d:
            return d.get(self._k(service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._locked() as d:
            d[self._k(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._locked() as d:
            if self._k(service, username) not in d:
                raise keyring.errors.PasswordDeleteError("not found")
            del d[self._k(service, username)]

    def entries(self) -> dict[tuple[str, str], str]:
        with self._locked() as d:
            return {tuple(k.split("\n", 1)): v for k, v in d.items()}  # type: ignore[misc]


class StuckKeyring(_ChosenOnly):
    name = "Stuck test keyring"

    def _hang(self) -> None:
        while True:
            time.sleep(3600)

    def get_password(self, service: str, username: str) -> str | None:
        self._hang()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._hang()

    def delete_password(self, service: str, username: str) -> None:
        self._hang()
