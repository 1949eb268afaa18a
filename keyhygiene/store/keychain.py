"""The keychain seam: a key's secrets in the OS keychain through ``keyring``, never anywhere else.

Layout of entries (one keychain item per entry, so every backend's one-item-per-service quirks are moot):
``service = KeyHygiene/<vault id>/<key id>/<slot>`` holds a JSON document with the key's credentials, or, when the
document is larger than the backend accepts in one item, a header ``chunked:2:<gen>:<n>:<sha256>`` and ``n``
further items ``…/<slot>#<gen>.<i>``. Slots are ``current`` and ``pending`` (a rotation's new key, before it is
promoted). ``gen`` is fresh on every write: the new pieces are written beside the old ones and the header is
switched last, so a write that fails half-way leaves the previous value readable and no stray pieces behind.

Every call is synchronous and may block on an unlock prompt: the GUI calls it from a worker thread. Each backend
call also runs on a thread of its own with a deadline (``KEYCHAIN_TIMEOUT_S``): a Secret Service daemon that was
stopped answers nothing, ever, and the app must say so instead of hanging (issue 18). The stuck call's thread is a
daemon: it never holds up the process's exit.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import keyring.backend

    from keyhygiene.core.credentials import Credentials

from keyhygiene.core import redact
from keyhygiene.core.rotation.slots import CURRENT, PENDING  # the slots are a core fact (rotation)
from keyhygiene.core.validation import MAX_SECRET_BYTES  # DESIGN.md: any secret up to 8 KB, on every backend

log = logging.getLogger(__name__)
_T = TypeVar("_T")


def _keyring() -> ModuleType:
    """``keyring``, imported on first use: loading it and its backends costs ~50 ms, which the app's first paint
    (local metadata only) does not need; the first keychain call (on a worker thread) pays it instead."""
    import keyring
    import keyring.backend
    import keyring.errors

    return keyring


def __getattr__(name: str) -> Any:
    # ``keychain.keyring`` keeps working for callers and tests that patch the module's functions.
    if name == "keyring":
        return _keyring()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

SERVICE_PREFIX = "KeyHygiene"
META_FIELD = "_meta"  # Credentials.from_dict ignores it
SLOTS = (CURRENT, PENDING)
# A whole entry (API key, secret, passphrase, extras, JSON around them): generous, but bounded so a runaway
# value cannot fill the keychain with thousands of pieces.
MAX_ENTRY_BYTES = 16 * MAX_SECRET_BYTES
_CHUNK_HEADER = "chunked:2:"
# Windows Credential Manager caps a credential blob at 2,560 bytes, and keyring stores it as UTF-16.
_WINDOWS_BLOB_LIMIT = 2560


DEFAULT_KEYCHAIN_TIMEOUT_S = 30.0  # long enough to type a password into an unlock prompt
TIMEOUT_ENV = "KEYHYGIENE_KEYCHAIN_TIMEOUT"


def timeout_from_env() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_KEYCHAIN_TIMEOUT_S
    except ValueError:
        return DEFAULT_KEYCHAIN_TIMEOUT_S
    return value if 0 < value <= 3600 else DEFAULT_KEYCHAIN_TIMEOUT_S


KEYCHAIN_TIMEOUT_S = timeout_from_env()


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
    timed_out: float | None = None  # seconds waited, when the keychain did not answer at all

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


class KeychainTimeout(KeychainError):
    """A keychain call did not return within the deadline (a stopped daemon, a hidden unlock prompt)."""

    def __init__(self, backend: str, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(KeychainStatus(KeychainState.UNAVAILABLE, backend, timeout_message(seconds), seconds))


def timeout_message(seconds: float) -> str:
    return (
        f"The keychain did not answer in {seconds:g} s: its service may be stopped or waiting behind an unlock "
        "prompt you cannot see. Unlock or restart it (Linux: `gnome-keyring-daemon --replace`, or log out and "
        f"back in) and try again; {TIMEOUT_ENV} sets the wait in seconds."
    )


class _Timeout(Exception):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"no answer in {seconds:g} s")


def with_deadline(fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)`` on a daemon thread; ``_Timeout`` when it has not returned after ``KEYCHAIN_TIMEOUT_S``."""
    seconds = KEYCHAIN_TIMEOUT_S
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller's thread as is
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="keychain-call", daemon=True).start()
    if not done.wait(seconds):
        log.warning("keychain call %s did not return within %g s", getattr(fn, "__name__", fn), seconds)
        raise _Timeout(seconds)
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


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
            # Choosing a backend probes the Secret Service over D-Bus: it can hang like any other call.
            try:
                self._backend = with_deadline(_keyring().get_keyring)
            except _Timeout as exc:
                raise KeychainTimeout("none", exc.seconds) from None
        return self._backend

    # ---- status -------------------------------------------------------------------------------------------
    def status(self) -> KeychainStatus:
        """Probe the backend with a harmless read; this is what may trigger an unlock prompt."""
        try:
            backend = self.backend
        except KeychainTimeout as exc:
            return exc.status
        except Exception as exc:  # keyring can fail while loading its config
            return self._status(KeychainState.UNAVAILABLE, "none", str(exc))
        name = backend_name(backend)
        if is_fail_backend(backend):
            return self._status(KeychainState.UNAVAILABLE, name)
        try:
            with_deadline(backend.get_password, self._service("probe", CURRENT), "probe")
        except _Timeout as exc:
            return KeychainStatus(KeychainState.UNAVAILABLE, name, timeout_message(exc.seconds), exc.seconds)
        except Exception as exc:  # KeyringLocked, dbus errors, missing daemon, InitError, NoKeyringError…
            return self._status(_state_of(exc), name, redact.scrub(exc))
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
    def _service(self, key_id: str, slot: str, chunk: str | None = None) -> str:
        base = f"{SERVICE_PREFIX}/{self.vault_id}/{key_id}/{slot}"
        return base if chunk is None else f"{base}#{chunk}"

    def put(self, key_id: str, creds: Credentials, slot: str = CURRENT,
            meta: dict[str, str] | None = None) -> None:
        """Store ``creds`` in ``slot``, replacing what was there. On failure the previous value is untouched.

        ``meta`` (exchange, label: nothing secret) travels with the entry, so an entry whose database row was lost
        can be adopted again as the key it was (``doctor --repair``)."""
        _check_slot(slot)
        redact.remember(creds.secret_values())
        body: dict[str, Any] = dict(creds.to_dict())
        if meta:
            body[META_FIELD] = dict(meta)
        doc = json.dumps(body, separators=(",", ":"), sort_keys=True)
        if len(doc.encode("utf-8")) > MAX_ENTRY_BYTES:
            raise ValueError("These credentials are larger than a keychain entry may hold.")
        with self._lock:
            old = self._header(key_id, slot)
            limit = blob_limit_bytes(self.backend)
            head = self._service(key_id, slot)
            if limit is None or len(doc.encode("utf-16-le")) <= limit:
                self._call(self.backend.set_password, head, key_id, doc)
            else:
                import hashlib  # here, not at import: OpenSSL's set-up costs ~3 ms of the app's start-up
                import secrets

                gen = secrets.token_hex(4)
                pieces = _split_utf16(doc, limit)
                written: list[str] = []
                try:
                    for i, piece in enumerate(pieces, start=1):
                        name = self._service(key_id, slot, f"{gen}.{i}")
                        self._call(self.backend.set_password, name, key_id, piece)
                        written.append(name)
                    digest = hashlib.sha256(doc.encode()).hexdigest()
                    self._call(
                        self.backend.set_password, head, key_id, f"{_CHUNK_HEADER}{gen}:{len(pieces)}:{digest}"
                    )
                except BaseException:
                    for name in written:  # never leave pieces of a secret that nothing points to
                        self._delete_quiet(name, key_id, best_effort=True)
                    raise
            if old is not None:  # the header now points elsewhere: the old pieces are garbage
                for name in self._piece_names(key_id, slot, old):
                    self._delete_quiet(name, key_id, best_effort=True)

    def get(self, key_id: str, slot: str = CURRENT) -> Credentials | None:
        doc = self._document(key_id, slot)
        if doc is None:
            return None
        try:
            from keyhygiene.core.credentials import Credentials  # on use: the window's start reads no secret

            creds = Credentials.from_dict(doc)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise KeychainCorrupt(f"The keychain entry of key {key_id} ({slot}) is not readable.") from None
        redact.remember(creds.secret_values())
        return creds

    def meta(self, key_id: str, slot: str = CURRENT) -> dict[str, str]:
        """The non-secret description stored with the entry ({} for entries written before it was)."""
        doc = self._document(key_id, slot) or {}
        meta = doc.get(META_FIELD) if isinstance(doc, dict) else None
        return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {}

    def list_key_ids(self) -> set[str] | None:
        """Key ids that have an entry in this vault's namespace, or None when the backend cannot list its items
        (then only the ids the database knows can be checked)."""
        services = list_services(self.backend, f"{SERVICE_PREFIX}/{self.vault_id}/")
        if services is None:
            return None
        ids = set()
        for name in services:
            parts = name[len(SERVICE_PREFIX) + 1 :].split("/")
            if len(parts) == 3 and parts[1]:
                ids.add(parts[1])
        return ids

    def _document(self, key_id: str, slot: str) -> dict[str, Any] | None:
        _check_slot(slot)
        with self._lock:
            head = self._call(self.backend.get_password, self._service(key_id, slot), key_id)
            if head is None:
                return None
            if head.startswith("chunked:"):
                header = _parse_header(head)
                if header is None:
                    raise KeychainCorrupt(f"The keychain entry of key {key_id} ({slot}) has an unreadable header.")
                parts = []
                for i, name in enumerate(self._piece_names(key_id, slot, header), start=1):
                    p = self._call(self.backend.get_password, name, key_id)
                    if p is None:
                        raise KeychainCorrupt(
                            f"The keychain entry of key {key_id} ({slot}) is missing part {i} of {header[1]}."
                        )
                    parts.append(p)
                doc = "".join(parts)
                import hashlib

                if hashlib.sha256(doc.encode()).hexdigest() != header[2]:
                    raise KeychainCorrupt(
                        f"The keychain entry of key {key_id} ({slot}) does not match its checksum."
                    )
            else:
                doc = head
        try:
            parsed = json.loads(doc)
        except ValueError:
            raise KeychainCorrupt(f"The keychain entry of key {key_id} ({slot}) is not readable.") from None
        if not isinstance(parsed, dict):
            raise KeychainCorrupt(f"The keychain entry of key {key_id} ({slot}) is not readable.")
        return parsed

    def has(self, key_id: str, slot: str = CURRENT) -> bool:
        _check_slot(slot)
        return self._call(self.backend.get_password, self._service(key_id, slot), key_id) is not None

    def delete(self, key_id: str, slot: str = CURRENT) -> bool:
        """Remove a slot's entry and its pieces. Returns whether anything was there. Idempotent.

        Pieces go first: if this stops half-way, the header still points at what is left, so a later delete
        finds and removes it; pieces are never left without a header."""
        _check_slot(slot)
        with self._lock:
            header = self._header(key_id, slot)
            if header is not None:
                for name in self._piece_names(key_id, slot, header):
                    self._delete_quiet(name, key_id)
            return self._delete_quiet(self._service(key_id, slot), key_id)

    def move(self, key_id: str, src: str, dst: str) -> None:
        """Copy ``src`` over ``dst`` then delete ``src``: a crash in between leaves both, never neither."""
        creds = self.get(key_id, src)
        if creds is None:
            raise KeyError(f"no {src} credentials for key {key_id}")
        # The entry's description (exchange, label) stays with the key, so a lost database can still adopt it.
        self.put(key_id, creds, dst, meta=self.meta(key_id, src) or self.meta(key_id, dst) or None)
        self.delete(key_id, src)

    # ---- helpers ------------------------------------------------------------------------------------------
    def _header(self, key_id: str, slot: str) -> tuple[str, int, str] | None:
        head = self._call(self.backend.get_password, self._service(key_id, slot), key_id)
        return _parse_header(head) if head else None

    def _piece_names(self, key_id: str, slot: str, header: tuple[str, int, str]) -> list[str]:
        gen, n, _digest = header
        return [self._service(key_id, slot, f"{gen}.{i}") for i in range(1, n + 1)]

    def _call(self, fn: Callable[..., _T], *args: str) -> _T:
        """Run one backend call; any backend failure becomes a KeychainError that names the fix."""
        try:
            return with_deadline(fn, *args)
        except _Timeout as exc:
            raise KeychainTimeout(backend_name(self.backend), exc.seconds) from None
        except Exception as exc:  # keyring errors, and dbus/Secret Service errors keyring lets through
            raise self._error(exc) from None

    def _delete_quiet(self, service: str, user: str, best_effort: bool = False) -> bool:
        try:
            with_deadline(self.backend.delete_password, service, user)
            return True
        except _keyring().errors.PasswordDeleteError:
            return False
        except _Timeout as exc:
            if best_effort:
                log.warning("could not remove keychain item %s: no answer in %g s", service, exc.seconds)
                return False
            raise KeychainTimeout(backend_name(self.backend), exc.seconds) from None
        except Exception as exc:
            if best_effort:
                log.warning("could not remove keychain item %s: %s", service, redact.scrub(exc))
                return False
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> KeychainError:
        st = self._status(_state_of(exc), backend_name(self.backend))
        return KeychainError(st, redact.scrub(exc))


def list_services(backend: keyring.backend.KeyringBackend, prefix: str) -> set[str] | None:
    """Service names starting with ``prefix`` that ``backend`` holds, or None if it cannot enumerate items.

    keyring has no listing call; the backends that can list do it their own way: the Secret Service by searching
    the items keyring created (its ``application`` attribute), test and demo backends through ``entries()``."""
    inner = getattr(backend, "backends", None)
    if inner:
        found: set[str] = set()
        listed = False
        for b in inner:
            names = list_services(b, prefix)
            if names is not None:
                listed = True
                found |= names
        return found if listed else None
    entries = getattr(backend, "entries", None)
    if callable(entries):
        return {svc for svc, _user in with_deadline(entries) if svc.startswith(prefix)}
    if type(backend).__module__.endswith("SecretService") and hasattr(backend, "get_preferred_collection"):
        def read() -> set[str]:
            from contextlib import closing

            coll = backend.get_preferred_collection()
            with closing(coll.connection):
                items = coll.search_items({"application": getattr(backend, "appid", "Python keyring library")})
                names = (item.get_attributes().get("service", "") for item in items)
                return {n for n in names if n.startswith(prefix)}

        try:
            return with_deadline(read)
        except _Timeout as exc:
            raise KeychainTimeout(backend_name(backend), exc.seconds) from None
    return None


def _check_slot(slot: str) -> None:
    if slot not in SLOTS:
        raise ValueError(f"unknown slot {slot!r}")


def _parse_header(head: str) -> tuple[str, int, str] | None:
    """``chunked:2:<gen>:<n>:<sha256>`` -> (gen, n, sha256); None for a plain value or a damaged header."""
    if not head.startswith(_CHUNK_HEADER):
        return None
    fields = head[len(_CHUNK_HEADER) :].split(":")
    if len(fields) != 3 or not fields[0].isalnum() or not fields[1].isdigit() or len(fields[2]) != 64:
        return None
    n = int(fields[1])
    return (fields[0], n, fields[2]) if 0 < n <= 1000 else None


def _state_of(exc: BaseException) -> KeychainState:
    """Which state a backend failure means. A refused unlock prompt reads "dismissed" (Secret Service),
    "canceled" or, on a KeyringLocked, "denied" (macOS); a keyring left locked says "locked"/"unlock".
    Anything else ("Connection refused", D-Bus AccessDenied, no daemon) means no usable keychain."""
    text = str(exc).lower()
    locked_error = isinstance(exc, _keyring().errors.KeyringLocked)
    if "dismiss" in text or "cancel" in text or (locked_error and "denied" in text):
        return KeychainState.REFUSED
    if locked_error or "locked" in text or "unlock" in text:
        return KeychainState.LOCKED
    return KeychainState.UNAVAILABLE


class KeychainCorrupt(Exception):
    """A keychain entry lost a part, does not match its checksum, or is not readable. Never holds a secret."""
