"""The plain data types and errors that the window and the command line handle, from one place above the store.

Validation types are core's (``core/validation.py``); the keychain's state and the storage error are the store's,
re-exported here so that ``ui/`` and ``commands/`` never import ``keyhygiene.store``. Cheap to import: the window's
first frame needs it.
"""

from __future__ import annotations

from keyhygiene.core.validation import NotFound, ServiceRef, ValidationError, validated_label
from keyhygiene.store.database import DatabaseError
from keyhygiene.store.keychain import KeychainError, KeychainState, KeychainStatus

__all__ = [
    "DatabaseError",
    "KeychainError",
    "KeychainState",
    "KeychainStatus",
    "NotFound",
    "ServiceRef",
    "ValidationError",
    "validated_label",
]
