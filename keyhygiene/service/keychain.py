"""Keychain checks that need no vault: the command line's preflight (exit 3 before anything is created) and
``doctor``'s probe. Both use a namespace of their own, so they never touch a vault's entries."""

from __future__ import annotations

from keyhygiene.store.keychain import KeychainStatus, SecretStore


def probe(namespace: str = "doctor") -> KeychainStatus:
    """The keychain's state (may wait on an unlock prompt)."""
    return SecretStore(namespace).status()


def require(namespace: str = "preflight") -> KeychainStatus:
    """KeychainError unless a keychain can be used."""
    return SecretStore(namespace).require()
