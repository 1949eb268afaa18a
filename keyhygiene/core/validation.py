"""Bad input from the user, as every layer reports it. Core owns the type so the rotation machine (core) can refuse a
pasted key with the same error the vault (store) uses for ``keys add``."""

from __future__ import annotations


class ValidationError(ValueError):
    """Bad input from the user. ``field`` names the input so the UI can put the message next to it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)
