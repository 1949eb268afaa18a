"""Test keyring backends: one that enforces Windows Credential Manager's size cap, one that is locked."""

from __future__ import annotations

import keyring.errors

from keyhygiene.store.memory_keyring import MemoryKeyring


class CappedKeyring(MemoryKeyring):
    """Refuses any value over 2,560 bytes as UTF-16, as Windows Credential Manager does."""

    name = "Capped test keyring (2560 bytes UTF-16)"
    max_secret_bytes = 2560

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password.encode("utf-16-le")) > self.max_secret_bytes:
            raise keyring.errors.PasswordSetError("credential blob too large")
        super().set_password(service, username, password)


class LockedKeyring(MemoryKeyring):
    name = "Locked test keyring"

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class RefusingKeyring(LockedKeyring):
    name = "Refusing test keyring"

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Unlock prompt dismissed by the user")


class FlakyWriteKeyring(MemoryKeyring):
    """Accepts reads, fails writes: for the all-or-nothing tests."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("backend write failed")
