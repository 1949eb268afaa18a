"""An in-memory keyring backend for the demo and the tests. Never selected automatically."""

from __future__ import annotations

import threading

import keyring.backend
import keyring.errors
from keyring.compat import properties  # keyring>=25; older releases had keyring.util.properties


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Holds secrets in a dict for the life of the process; nothing touches the disk."""

    name = "In-memory (demo, nothing saved)"

    @properties.classproperty
    def priority(cls) -> float:  # noqa: N805 - keyring's classproperty protocol
        # Not viable for automatic selection: only ever used when set explicitly.
        raise RuntimeError("MemoryKeyring is only used when chosen explicitly")

    def __str__(self) -> str:  # keyring's default __str__ reads ``priority``, which raises for this class
        return str(self.name)

    def __init__(self) -> None:
        super().__init__()
        self._data: dict[tuple[str, str], str] = {}
        self._mutex = threading.Lock()

    def get_password(self, service: str, username: str) -> str | None:
        with self._mutex:
            return self._data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._mutex:
            self._data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._mutex:
            try:
                del self._data[(service, username)]
            except KeyError:
                raise keyring.errors.PasswordDeleteError("no such entry") from None

    def entries(self) -> dict[tuple[str, str], str]:
        """A snapshot, for tests that check what was stored."""
        with self._mutex:
            return dict(self._data)
