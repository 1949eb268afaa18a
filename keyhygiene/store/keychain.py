"""The keychain seam: a key's secrets in the OS keychain through ``keyring``, never anywhere else.

Layout of entries (one keychain item per entry, so every backend's one-item-per-service quirks are moot):
``service = KeyHygiene/<vault id>/<key id>/<slot>`` holds a JSON document with the key's credentials, or, when the
document is larger than the backend accepts in one item, a header ``chunked:1:<n>:<sha256>`` and ``n`` further
items ``…/<slot>#<i>``. Slots are ``current`` and ``pending`` (a rotation's new key, before it is promoted).

Every call is synchronous and may block on an unlock prompt: the GUI calls it from a worker thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
from dataclasses import dataclass
from enum import StrEnum

import keyring
import keyring.backend
import keyring.errors

from keyhygiene.core import redact
from keyhygiene.core.models import Credentials

log = logging.getLogger(__name__)

SERVICE_PREFIX = "KeyHygiene"
CURRENT = "current"
PENDING = "pending"
SLOTS = (CURRENT, PENDING)
MAX_SECRET_BYTES = 8 * 1024  # DESIGN.md: any secret up to 8 KB must store on every backend
_CHUNK_HEADER = "chunked:1:"
# Windows Credential Manager caps a credential blob at 2,560 bytes, and keyring stores it as UTF-16.
_WINDOWS_BLOB_LIMIT = 2560


class KeychainState(StrEnum):
    AVAILABLE = "available"
    LOCKED = "locked"
    REFUSED = "refused"  # the user dismissed or denied the unlock prompt
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class KeychainStatus:
    state: KeychainState
    backend: str
    message: str

    @property
    def usable(self) -> bool:
        return self.state is KeychainState.AVAILABLE

    def to_json(self) -> dict[str, str]:
        return {"state": self.state.value, "backend": self.backend, "message": self.message}


class KeychainError(Exception):
    """The keychain could not be used. ``status`` says why and how to fix it; the text never holds a secret."""

    def __init__(self, status: KeychainStatus, detail: str = "") -> None:
        self.status = status
        super().__init__(f"{status.message}{(' (' + detail + ')') if detail else ''}")


def backend_name(backend: keyring.backend.KeyringBackend) -> str:
    inner = getattr(backend, "backends", None)
    if inner:
        return " + ".join(backend_name(b) for b in inner)
    return getattr(backend, "name", None) or f"{type(backend).__module__}.{type(backend).__name__}"


def how_to_fix(state: KeychainState, platform: str | None = None) -> str:
    platform = platform or sys.platform
    if state is KeychainState.AVAILABLE:
        return "The keychain is ready."
    if state in (KeychainState.LOCKED, KeychainState.REFUSED):
        verb = "was locked and the unlock was refused" if state is KeychainState.REFUSED else "is locked"
        if platform == "darwin":
            return f"The macOS login keychain {verb}: unlock it in Keychain Access and try again."
        if platform.startswith("win"):
            return f"Windows Credential Manager {verb}: sign in to your Windows account and try again."
        return (
            f"The Secret Service keyring {verb}: unlock it (for example by logging in to your desktop session, "
            "or with `gnome-keyring-daemon --unlock` / KWallet Manager) and try again."
        )
    if platform == "darwin":
        return "No usable macOS keychain was found: check that the login keychain exists in Keychain Access."
    if platform.startswith("win"):
        return "Windows Credential Manager is not reachable: KeyHygiene needs it to store keys."
    return (
        "No keychain is available. KeyHygiene stores secrets only in the OS keychain and never in plain files. "
        "Install and start a Secret Service provider (Debian/Ubuntu: `sudo apt install gnome-keyring`, "
        "or KWallet on KDE) inside a desktop session. On a headless machine run the app under "
        "`dbus-run-session` with `gnome-keyring-daemon --unlock --components=secrets`."
    )


def is_fail_backend(backend: keyring.backend.KeyringBackend) -> bool:
    from keyring.backends import chainer, fail

    if isinstance(backend, fail.Keyring):
        return True
    try:
        from keyring.backends import null

        if isinstance(backend, null.Keyring):
            return True
    except ImportError:  # pragma: no cover - null backend exists in every supported keyring
        pass
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return True
    return False


def blob_limit_bytes(backend: keyring.backend.KeyringBackend) -> int | None:
    """Bytes one item may hold (as the backend encodes it), or None for no practical limit."""
    explicit = getattr(backend, "max_secret_bytes", None)
    if explicit:
        return int(explicit)
    for b in getattr(backend, "backends", None) or []:
        lim = blob_limit_bytes(b)
        if lim:
            return lim
    if type(backend).__name__ == "WinVaultKeyring":
        return _WINDOWS_BLOB_LIMIT
    return None


def _split_utf16(text: str, limit_bytes: int) -> list[str]:
    """Split so every piece encodes to at most ``limit_bytes`` in UTF-16 (the strictest encoding a backend uses)."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        n = len(ch.encode("utf-16-le"))
        if size + n > limit_bytes and current:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    if current:
        pieces.append("".join(current))
    return pieces


class SecretStore:
    """Put, get and delete a key's credentials by key id, inside one vault's namespace."""

    def __init__(self, vault_id: str, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self.vault_id = vault_id
        self._backend = backend
        self._lock = threading.RLock()

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        if self._backend is None:
            self._backend = keyring.get_keyring()
        return self._backend

    # ---- status -------------------------------------------------------------------------------------------
    def status(self) -> KeychainStatus:
        """Probe the backend with a harmless read; this is what may trigger an unlock prompt."""
        try:
            backend = self.backend
        except Exception as exc:  # keyring can fail while loading its config
            return self._status(KeychainState.UNAVAILABLE, "none", str(exc))
        name = backend_name(backend)
        if is_fail_backend(backend):
            return self._status(KeychainState.UNAVAILABLE, name)
        try:
            backend.get_password(self._service("probe", CURRENT), "probe")
        except keyring.errors.KeyringLocked as exc:
            refused = "dismiss" in str(exc).lower() or "refus" in str(exc).lower()
            return self._status(KeychainState.REFUSED if refused else KeychainState.LOCKED, name)
        except Exception as exc:  # dbus errors, missing daemon, InitError, NoKeyringError…
            text = str(exc).lower()
            state = KeychainState.REFUSED if ("denied" in text or "dismiss" in text) else KeychainState.UNAVAILABLE
            return self._status(state, name, redact.scrub(exc))
        return self._status(KeychainState.AVAILABLE, name)

    @staticmethod
    def _status(state: KeychainState, backend: str, detail: str = "") -> KeychainStatus:
        msg = how_to_fix(state)
        if detail and state is not KeychainState.AVAILABLE:
            log.info("keychain %s (%s): %s", state.value, backend, detail)
        return KeychainStatus(state=state, backend=backend, message=msg)

    def require(self) -> KeychainStatus:
        st = self.status()
        if not st.usable:
            raise KeychainError(st)
        return st

    # ---- entries ------------------------------------------------------------------------------------------
    def _service(self, key_id: str, slot: str, chunk: int | None = None) -> str:
        base = f"{SERVICE_PREFIX}/{self.vault_id}/{key_id}/{slot}"
        return base if chunk is None else f"{base}#{chunk}"

    def put(self, key_id: str, creds: Credentials, slot: str = CURRENT) -> None:
        if slot not in SLOTS:
            raise ValueError(f"unknown slot {slot!r}")
        redact.remember(creds.secret_values())
        doc = json.dumps(creds.to_dict(), separators=(",", ":"), sort_keys=True)
        if len(doc.encode("utf-8")) > MAX_SECRET_BYTES + 1024:  # room for field names around an 8 KB secret
            raise ValueError("These credentials are larger than the 8 KB a keychain entry may hold.")
        with self._lock:
            old_chunks = self._chunk_count(key_id, slot)
            limit = blob_limit_bytes(self.backend)
            try:
                if limit is None or len(doc.encode("utf-16-le")) <= limit:
                    self._set(self._service(key_id, slot), key_id, doc)
                    new_chunks = 0
                else:
                    # Header must fit too; keep a margin for it.
                    pieces = _split_utf16(doc, limit)
                    for i, piece in enumerate(pieces, start=1):
                        self._set(self._service(key_id, slot, i), key_id, piece)
                    digest = hashlib.sha256(doc.encode()).hexdigest()
                    self._set(self._service(key_id, slot), key_id, f"{_CHUNK_HEADER}{len(pieces)}:{digest}")
                    new_chunks = len(pieces)
            except keyring.errors.KeyringError as exc:
                raise self._error(exc) from None
            # Leftover chunks from a longer previous value are garbage now that the header points elsewhere.
            for i in range(new_chunks + 1, old_chunks + 1):
                self._delete_quiet(self._service(key_id, slot, i), key_id)

    def get(self, key_id: str, slot: str = CURRENT) -> Credentials | None:
        with self._lock:
            try:
                head = self.backend.get_password(self._service(key_id, slot), key_id)
                if head is None:
                    return None
                if head.startswith(_CHUNK_HEADER):
                    n, digest = head[len(_CHUNK_HEADER) :].split(":", 1)
                    parts = []
                    for i in range(1, int(n) + 1):
                        p = self.backend.get_password(self._service(key_id, slot, i), key_id)
                        if p is None:
                            raise KeychainCorrupt(f"keychain entry for key {key_id} is missing part {i} of {n}")
                        parts.append(p)
                    doc = "".join(parts)
                    if hashlib.sha256(doc.encode()).hexdigest() != digest:
                        raise KeychainCorrupt(f"keychain entry for key {key_id} does not match its checksum")
                else:
                    doc = head
            except keyring.errors.KeyringError as exc:
                raise self._error(exc) from None
        creds = Credentials.from_dict(json.loads(doc))
        redact.remember(creds.secret_values())
        return creds

    def has(self, key_id: str, slot: str = CURRENT) -> bool:
        try:
            return self.backend.get_password(self._service(key_id, slot), key_id) is not None
        except keyring.errors.KeyringError as exc:
            raise self._error(exc) from None

    def delete(self, key_id: str, slot: str = CURRENT) -> bool:
        """Remove a slot's entry and its chunks. Returns whether anything was there. Idempotent."""
        with self._lock:
            n = self._chunk_count(key_id, slot)
            existed = self._delete_quiet(self._service(key_id, slot), key_id)
            for i in range(1, n + 1):
                self._delete_quiet(self._service(key_id, slot, i), key_id)
            return existed

    def move(self, key_id: str, src: str, dst: str) -> None:
        """Copy ``src`` over ``dst`` then delete ``src``: a crash in between leaves both, never neither."""
        creds = self.get(key_id, src)
        if creds is None:
            raise KeyError(f"no {src} credentials for key {key_id}")
        self.put(key_id, creds, dst)
        self.delete(key_id, src)

    # ---- helpers ------------------------------------------------------------------------------------------
    def _set(self, service: str, user: str, value: str) -> None:
        self.backend.set_password(service, user, value)

    def _chunk_count(self, key_id: str, slot: str) -> int:
        try:
            head = self.backend.get_password(self._service(key_id, slot), key_id)
        except keyring.errors.KeyringError as exc:
            raise self._error(exc) from None
        if head and head.startswith(_CHUNK_HEADER):
            try:
                return int(head[len(_CHUNK_HEADER) :].split(":", 1)[0])
            except ValueError:
                return 0
        return 0

    def _delete_quiet(self, service: str, user: str) -> bool:
        try:
            self.backend.delete_password(service, user)
            return True
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.KeyringError as exc:
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> KeychainError:
        if isinstance(exc, keyring.errors.KeyringLocked):
            st = self._status(KeychainState.LOCKED, backend_name(self.backend))
        else:
            st = self._status(KeychainState.UNAVAILABLE, backend_name(self.backend))
        return KeychainError(st, redact.scrub(exc))


class KeychainCorrupt(Exception):
    """A chunked entry lost a part or does not match its checksum."""
