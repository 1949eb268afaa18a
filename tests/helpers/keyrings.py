"""Test keyring backends: size caps, locked and refused keychains, failing writes.

The proxies wrap another backend (``inner``) or, without one, keep a dict of their own: the same chunking and
failure tests then run over the in-memory backend and over the real Secret Service.
"""

from __future__ import annotations

import keyring.backend
import keyring.errors

from keyhygiene.store.memory_keyring import MemoryKeyring


class ProxyKeyring(MemoryKeyring):
    """Delegates every call to ``inner`` when given, to its own in-memory dict otherwise."""

    name = "Proxy test keyring"

    def __init__(self, inner: keyring.backend.KeyringBackend | None = None) -> None:
        super().__init__()
        self.inner = inner

    def get_password(self, service: str, username: str) -> str | None:
        if self.inner is not None:
            return self.inner.get_password(service, username)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.inner is not None:
            self.inner.set_password(service, username, password)
        else:
            super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        if self.inner is not None:
            self.inner.delete_password(service, username)
        else:
            super().delete_password(service, username)

    def entries(self) -> dict[tuple[str, str], str]:
        inner_entries = getattr(self.inner, "entries", None)
        if self.inner is not None:
            if inner_entries is None:
                raise TypeError("the inner backend cannot list its entries")
            return dict(inner_entries())
        return super().entries()


class CappedKeyring(ProxyKeyring):
    """Refuses any value over 2,560 bytes as UTF-16, as Windows Credential Manager does."""

    name = "Capped test keyring (2560 bytes UTF-16)"
    max_secret_bytes = 2560

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password.encode("utf-16-le")) > self.max_secret_bytes:
            raise keyring.errors.PasswordSetError("credential blob too large")
        super().set_password(service, username, password)


class FailingWritesKeyring(ProxyKeyring):
    """Accepts ``allow`` more writes, then fails every write: a keychain that dies half-way through a put."""

    name = "Failing-writes test keyring"

    def __init__(self, inner: keyring.backend.KeyringBackend | None = None, allow: int = 0) -> None:
        super().__init__(inner)
        self.allow = allow

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.allow <= 0:
            raise keyring.errors.PasswordSetError("backend write failed")
        self.allow -= 1
        super().set_password(service, username, password)


class LockedKeyring(MemoryKeyring):
    name = "Locked test keyring"

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class RefusingKeyring(LockedKeyring):
    name = "Refusing test keyring"

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Unlock prompt dismissed by the user")


class BrokenBusKeyring(MemoryKeyring):
    """Raises what a vanished D-Bus daemon raises: not a keyring error at all."""

    name = "Broken-bus test keyring"

    def get_password(self, service: str, username: str) -> str | None:
        raise ConnectionRefusedError("[Errno 111] Connection refused: /run/user/0/bus")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise ConnectionRefusedError("[Errno 111] Connection refused: /run/user/0/bus")

    def delete_password(self, service: str, username: str) -> None:
        raise ConnectionRefusedError("[Errno 111] Connection refused: /run/user/0/bus")


class FlakyWriteKeyring(MemoryKeyring):
    """Accepts reads, fails writes: for the all-or-nothing tests."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("backend write failed")


class StuckKeyring(MemoryKeyring):
    """A Secret Service whose daemon was stopped (SIGSTOP): every call blocks until ``release`` is set."""

    name = "Stuck test keyring"

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.release = threading.Event()
        self.calls = 0

    def _wait(self) -> None:
        self.calls += 1
        self.release.wait(60)

    def get_password(self, service: str, username: str) -> str | None:
        self._wait()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._wait()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._wait()
        super().delete_password(service, username)
