"""Key use cases: add, edit, remove, share and unshare a key, read its public API key, and the keychain's state.
Each is one call on the vault (blocking: keychain calls may wait on an unlock prompt)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from keyhygiene.core import redact
from keyhygiene.core.models import KeyRecord
from keyhygiene.core.validation import ServiceRef
from keyhygiene.store.keychain import KeychainStatus
from keyhygiene.store.vault import Vault

if TYPE_CHECKING:  # annotations only (core/credentials.py)
    from keyhygiene.core.credentials import Credentials


class KeyUseCases:
    vault: Vault

    # ---- keys -------------------------------------------------------------------------------------------------
    def validate_metadata(self, exchange: str, label: str, purpose: str) -> tuple[str, str]:
        from keyhygiene.core.validation import validate_metadata

        return validate_metadata(exchange, label, purpose, self.vault.catalog)

    def validate_credentials(self, exchange: str, creds: Credentials) -> None:
        from keyhygiene.core.validation import validate_credentials

        validate_credentials(exchange, creds, self.vault.catalog)

    def validated_exchange(self, exchange: str) -> str:
        from keyhygiene.core.validation import validated_exchange

        return validated_exchange(exchange, self.vault.catalog)

    def list_keys(self) -> list[KeyRecord]:
        return self.vault.list_keys()

    def get_key(self, key_id: str) -> KeyRecord:
        """NotFound if there is no such key."""
        return self.vault.get_key(key_id)

    def find_key(self, key_id: str) -> KeyRecord | None:
        return self.vault.find_key(key_id)

    def add_key(self, exchange: str, label: str, creds: Credentials, *, purpose: str = "other",
                shared_with: Sequence[ServiceRef] = (), created_at: datetime | None = None,
                declared_permissions: list[str] | None = None, note: str | None = None) -> KeyRecord:
        redact.remember(creds.secret_values())
        return self.vault.add_key(exchange, label, creds, purpose=purpose, shared_with=shared_with,
                                  created_at=created_at, declared_permissions=declared_permissions, note=note)

    def update_key(self, key_id: str, **changes: Any) -> KeyRecord:
        return self.vault.update_key(key_id, **changes)

    def remove_key(self, key_id: str) -> KeyRecord:
        return self.vault.remove_key(key_id)

    def share(self, key_id: str, ref: ServiceRef, note: str | None = None) -> KeyRecord:
        return self.vault.share(key_id, ref.validated(), note=note)

    def unshare(self, key_id: str, ref: ServiceRef) -> KeyRecord:
        return self.vault.unshare(key_id, ref)

    def resolve_service(self, name: str) -> str:
        """A service as the user typed it ("3 Commas") -> the registry's id ("3commas")."""
        return self.vault.resolve_service(name)

    def set_service_resolver(self, resolve: Callable[[str], str]) -> None:
        self.vault.resolve_service = resolve

    def api_key(self, key_id: str) -> str:
        """The public API key (not the secret), for Copy and Reveal. Blocking: reads the keychain."""
        creds = self.vault.credentials(key_id)
        if creds is None:
            raise LookupError("This key's secret is missing from the keychain.")
        return creds.api_key

    def keychain_backend_name(self) -> str:
        from keyhygiene.store.keychain import backend_name

        return backend_name(self.vault.secrets.backend)

    # ---- keychain ---------------------------------------------------------------------------------------------
    def keychain_status(self) -> KeychainStatus:
        """Probe the keychain (blocking: may wait on an unlock prompt)."""
        return self.vault.secrets.status()

    def require_keychain(self) -> KeychainStatus:
        """KeychainError (exit 3 on the command line) unless the keychain can be used."""
        return self.vault.secrets.require()
