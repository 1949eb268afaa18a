"""The window's adapter over the service layer (``service.App``): its use cases as Qt signals and GUI-thread
callbacks. The rows the key list shows are its row model, ``ui/key_rows.py``.

Widgets hold key ids and ``KeyRow`` snapshots, never secrets. Every use case is the service's; this module only
decides where it runs: blocking calls (keychain, slow SQLite work) on the task pool, exchange calls on the asyncio
runner, both reporting back on the GUI thread. Local metadata is read on the calling thread once, at startup
(``load_rows``, with the policy and preferences): it is what lets the window paint before anything else has loaded.
After that no SQLite read or write runs on the GUI thread (issue 21): a row is read again on a worker, together with
the write that changed it, and shown when it lands; history, open rotations and settings writes go the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from keyhygiene.core import redact
from keyhygiene.core.models import KeyProfile, KeyRecord, Status
from keyhygiene.core.timeutil import utcnow
from keyhygiene.service.app import App
from keyhygiene.service.types import KeychainError, KeychainStatus, ServiceRef
from keyhygiene.ui import core_bridge, pyside_import_hook
from keyhygiene.ui.async_runner import AsyncRunner
from keyhygiene.ui.callbacks import AfterPaint, deliver
from keyhygiene.ui.key_row import CHECKING, DONE, FAILED, IDLE, QUEUED
from keyhygiene.ui.key_rows import KeyRows, RowRead
from keyhygiene.ui.task_pool import TaskPool

if TYPE_CHECKING:
    import asyncio

    from keyhygiene.core.audit import KeyAudit
    from keyhygiene.core.credentials import Credentials

log = logging.getLogger(__name__)

# A key's history from the vault: its checks (newest first) and its rotations (``core.rotation.RotationRecord``).
History = tuple[list[tuple[datetime, KeyProfile]], list[Any]]

PREFS_SETTING = "ui.prefs"
FLUSH_MS = 16  # one frame: how long an audit's results may wait to be shown together
# The team vault is read again when the app comes back to the front after this long (a teammate's keys appear
# without Retry or a restart); sooner than that, the last refresh stands.
REFRESH_ON_FOCUS_S = 300.0


@dataclass
class UiPrefs:
    """App preferences that are not policy. Stored in the vault's settings table (never secrets)."""

    clipboard_clear_seconds: int = 20
    reveal_seconds: int = 30
    audit_on_start: bool = True
    reaudit_hours: int = 24  # 0 = only when asked
    remind_on_start: bool = True
    reminder_hours: int = 8  # how often reminders are re-evaluated while the app runs; 0 = never
    notify_desktop: bool = True
    appearance: str = "system"  # system | light | dark

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> UiPrefs:
        known = {f.name for f in fields(cls)}
        base = cls()
        for k, v in (d or {}).items():
            if k in known and isinstance(v, type(getattr(base, k))):
                setattr(base, k, v)
        return base


class AuditOutcome:
    """How one audit went, filled in as it runs. A plain class, not a dataclass: it is defined with the window,
    and a dataclass costs ~3 M instructions of the start-up for a record never compared (issue 21)."""

    def __init__(self, total: int = 0) -> None:
        self.checked = 0
        self.total = total
        self.cancelled = False
        self.error: str | None = None
        self.failures: dict[str, str] = {}  # key id -> why it could not be checked
        self.finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled


class Services(KeyRows, QObject):
    rowsReset = Signal()
    rowChanged = Signal(str)
    rowsChanged = Signal(list)  # key ids: an audit's results, delivered at most once per ~frame
    keychainChecked = Signal(object)  # KeychainStatus
    auditStarted = Signal(list)  # key ids
    auditProgress = Signal(int, int)  # done, total
    auditFinished = Signal(object)  # AuditOutcome
    prefsChanged = Signal()
    policyChanged = Signal()
    rotationsChanged = Signal()  # the rotations saved half-way (``open_rotations``) were read again
    judged = Signal()  # the registry is loaded and every row carries its findings
    # The team vault after a refresh from its server: None when it worked, else the reason (TeamUnavailable) the
    # cached keys are shown read-only. A local window emits it only after switching back from a team vault (None).
    backendChecked = Signal(object)

    def __init__(self, app: App, *, runner: AsyncRunner | None = None, pool: TaskPool | None = None,
                 defer_judging: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Before anything here imports ccxt (~800 modules): PySide's import hook must not read their sources.
        pyside_import_hook.use_fast_check()
        self.app = app
        # Qt adapters over the app's one loop and one pool.
        self.runner = runner if runner is not None else AsyncRunner(self, runtime=app.runtime)
        self.pool = pool if pool is not None else TaskPool(parent=self, runtime=app.runtime)
        # Where "Open <exchange>'s API page" goes; None: the exchange's own page. The demo sets the simulator's.
        self.key_page: Callable[[str], str | None] | None = None
        self._deferred_audit: tuple[bool, list[str] | None] | None = None
        self._init_rows(defer_judging)
        self.policy = app.load_policy()
        self.prefs = UiPrefs.from_dict(app.get_setting(PREFS_SETTING))
        self.keychain_status: KeychainStatus | None = None
        self.cache_refreshed_at: datetime | None = None  # the team vault's, as of its last refresh_backend
        self._refresh_waiters: list[Callable[[Exception | None], None]] | None = None  # None: no refresh running
        self._refreshed_at_mono = time.monotonic()  # the window opens on a refresh of its own (app.build_session)
        self._audit_refreshing = False  # "Audit all" on the team vault waits for the server's keys first
        self._backend_generation = 0  # counts switch_backend: an "Audit all" asked of the vault before is dropped
        app_instance = QCoreApplication.instance()
        if isinstance(app_instance, QGuiApplication):
            app_instance.applicationStateChanged.connect(self._on_application_state_changed)
        # Settings writes run on the pool like every write; each carries a number so that of two saves of one
        # setting racing on two workers, the one asked for last is what stays written.
        self._settings_lock = threading.Lock()
        self._settings_seq = 0
        self._settings_written: dict[str, int] = {}
        self._audit_cancel: asyncio.Event | None = None
        self._audit: AuditOutcome | None = None
        self._audit_done = 0
        self._audit_started = utcnow()
        self.last_audit: AuditOutcome | None = None
        self.now: Callable[[], datetime] = utcnow
        # An audit's results arrive in bursts (a hundred keys of one exchange answer within a few ms): the rows
        # they change and the progress are handed on once per GUI turn, not once per key.
        self._changed: dict[str, None] = {}
        self._progress_dirty = False
        self._flush_timer = QTimer(self)
        self.after_list_painted = AfterPaint(self)  # the window points it at the key list
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self.flush_changes)

    @property
    def endpoints(self) -> dict[str, str]:
        return self.app.endpoints

    @endpoints.setter
    def endpoints(self, endpoints: Mapping[str, str]) -> None:
        self.app.endpoints = dict(endpoints)

    @property
    def vault(self) -> Any:
        """The app's vault, for the scan window's demo confinement (its paths); never for a query on the GUI
        thread (issue 21: every read goes through a use case on the pool)."""
        return self.app.vault

    @property
    def offline(self) -> Exception | None:
        """Why the team vault's server cannot be used now (changes are off); None when it can, or for local."""
        return self.app.offline

    def refresh_backend(self, on_done: Callable[[Exception | None], None] | None = None) -> bool:
        """The team vault: read the server's changes into the cache on a worker, show the rows again, then emit
        ``backendChecked``. False (nothing done) for the local vault, which has no server. Asked again while one
        runs (the start's refresh, then "Audit all" 150 ms later), it waits for that one instead of a second."""
        if not self.app.is_team:
            return False
        if self._refresh_waiters is not None:  # one in flight: its answer is this one's too
            if on_done is not None:
                self._refresh_waiters.append(on_done)
            return True
        mine: list[Callable[[Exception | None], None]] = [on_done] if on_done is not None else []
        self._refresh_waiters = mine

        def refresh() -> tuple[Exception | None, datetime | None]:
            reason = self.app.refresh_vault()
            return reason, self.app.cache_refreshed_at()

        def refreshed(got: tuple[Exception | None, datetime | None]) -> None:
            self.cache_refreshed_at = got[1]
            done(got[0])

        def done(reason: Exception | None) -> None:
            def told() -> None:
                if self._refresh_waiters is mine:  # not a vault switched away from meanwhile
                    self._refresh_waiters = None
                self._refreshed_at_mono = time.monotonic()
                self.backendChecked.emit(reason)
                for waiter in mine:
                    waiter(reason)

            if reason is None:
                self.reload_in_background(told)  # a teammate's keys and changes appear
            else:
                told()

        def failed(exc: BaseException) -> None:  # not the server's status: a bug or a broken cache; say so
            log.error("could not refresh the team vault: %s", redact.scrub(exc))
            done(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))

        self.pool.submit(refresh, on_done=refreshed, on_error=failed)
        return True

    def _on_application_state_changed(self, state: Qt.ApplicationState) -> None:
        """Back to the app after a while: a teammate may have added or changed keys meanwhile. One list call on a
        worker, so it is cheap; not more often than every ``REFRESH_ON_FOCUS_S``."""
        if state != Qt.ApplicationState.ApplicationActive or not self.app.is_team:
            return
        if time.monotonic() - self._refreshed_at_mono >= REFRESH_ON_FOCUS_S:
            self.refresh_backend()

    def switch_backend(self, on_done: Callable[[], None] | None = None,
                       on_error: Callable[[BaseException], None] | None = None) -> None:
        """After a team connect or disconnect: open the backend the data dir names now (on a worker, from its
        cache), make it the app's, and show its keys, policy and preferences; the team vault then refreshes from
        its server (``refresh_backend``). The vault it replaces is closed on a worker."""
        self.cancel_audit()

        def open_it() -> tuple[Any, Any, Any]:  # on a worker: the vault's files and its settings are SQLite reads
            new = self.app.open_current_backend()
            return new, core_bridge.load_policy(new), new.get_setting(PREFS_SETTING)

        def swap(opened: tuple[Any, Any, Any]) -> None:
            new, policy, prefs = opened
            old = self.app.use_vault(new)
            if self.registry is not None:
                self._set_registry(self.registry)  # the new vault resolves service aliases as the old one did
            self.policy = policy
            self.prefs = UiPrefs.from_dict(prefs)
            self._rows, self._changed_at = {}, {}
            self._refresh_waiters = None  # a refresh of the old vault still running answers only its own callers
            self._backend_generation += 1
            self._audit_refreshing = False
            self.rowsReset.emit()
            self.prefsChanged.emit()
            self.pool.submit(old.close, on_error=lambda exc: log.warning("closing the previous vault: %s",
                                                                          redact.scrub(exc)))

            def shown() -> None:
                self.policyChanged.emit()
                self.check_keychain()  # the window's keychain line and banner: now this backend's
                if not self.refresh_backend():
                    self.backendChecked.emit(None)
                if on_done is not None:
                    on_done()

            self.reload_in_background(shown)

        self.pool.submit(open_it, on_done=swap,
                         on_error=on_error or (lambda exc: log.error("could not open the vault: %s",
                                                                     redact.scrub(exc))))

    # ---- history and rotations (the rows: ui/key_rows.py) ----------------------------------------------------
    def load_history(self, key_id: str, on_done: Callable[[History], None], *, limit: int = 20,
                     context: QObject | None = None) -> None:
        """A key's checks (newest first, at most ``limit``) and rotations, read on a worker; ``on_done`` on the
        GUI thread, skipped once ``context`` is deleted."""

        def work() -> History:
            return self.app.inspection_history(key_id, limit), self._read_rotation_history(key_id)

        self.pool.submit(work, on_done=on_done, context=context,
                         on_error=lambda exc: log.error("history unavailable for %s: %s", key_id, redact.scrub(exc)))

    def _read_rotation_history(self, key_id: str) -> list[Any]:
        try:
            return self.app.rotation_history(key_id)
        except Exception:
            log.exception("rotation history unavailable for %s", key_id)
            return []

    def open_rotation_flow(self, key_id: str, *, ops: Any = None, on_attempt: Callable[[Any], None] | None = None,
                           on_done: Callable[[Any], None], on_error: Callable[[BaseException], None],
                           context: QObject | None = None) -> None:
        """The rotation of a key (``core.rotation.flow.RotationFlow`` over its machine), opened on a worker: the
        journal, the key, the policy and the registry are read there, not in the wizard's constructor."""
        vault, endpoints, key_page = self.app.vault, self.endpoints, self.key_page
        # The key test and the revoke run where the audit does: in the exchange process (the runtime's executor).
        executor = self.app.runtime.exchanges

        def work() -> Any:
            from keyhygiene.core.rotation.flow import RotationFlow
            from keyhygiene.service.rotation_session import open_machine

            machine = open_machine(vault, key_id, endpoints=endpoints, ops=ops, key_page=key_page,
                                   executor=executor)
            return RotationFlow(machine, on_attempt=on_attempt)

        self.pool.submit(work, on_done=on_done, on_error=on_error, context=context)

    # ---- keychain -------------------------------------------------------------------------------------------
    def check_keychain(self) -> None:
        self.pool.submit(self.app.keychain_status, on_done=self._on_keychain_status,
                         on_error=lambda exc: log.error("keychain probe failed: %s", redact.scrub(exc)))

    def _on_keychain_status(self, status: KeychainStatus) -> None:
        self.keychain_status = status
        self.keychainChecked.emit(status)

    # ---- key operations (task pool: they touch the keychain) ----------------------------------------------------
    def add_key(self, *, exchange: str, label: str, creds: Credentials, purpose: str,
                shared_with: Sequence[ServiceRef] = (), created_at: datetime | None = None,
                declared_permissions: list[str] | None = None, note: str | None = None,
                on_done: Callable[[KeyRecord], None] | None = None,
                on_error: Callable[[BaseException], None] | None = None, context: QObject | None = None) -> None:
        redact.remember(creds.secret_values())

        def work() -> KeyRecord:
            return self.app.add_key(exchange, label, creds, purpose=purpose, shared_with=shared_with,
                                    created_at=created_at, declared_permissions=declared_permissions, note=note)

        self._key_job(None, work, on_done, on_error, context)

    def record_profile(self, key_id: str, profile: KeyProfile, on_done: Callable[[KeyRecord], None] | None = None
                       ) -> None:
        """Keep a 'Check now' result made before saving: written on the pool like every other write, and the
        key's row read back in the same job, so it shows the profile as soon as it is stored."""
        at = utcnow()  # when the check was kept, not when a busy worker got round to writing it

        def work() -> KeyRecord:
            self.app.record_profile(key_id, profile, at)
            return self.app.get_key(key_id)

        self._key_job(key_id, work, on_done,
                      lambda exc: log.error("could not keep the check of %s: %s", key_id, redact.scrub(exc)), None)

    def update_key(self, key_id: str, *, on_done: Callable[[KeyRecord], None] | None = None,
                   on_error: Callable[[BaseException], None] | None = None, context: QObject | None = None,
                   **changes: Any) -> None:
        self._key_job(key_id, lambda: self.app.update_key(key_id, **changes), on_done, on_error, context)

    def share(self, key_id: str, service: str, day: date | None, *, note: str | None = None,
              on_done: Callable[[KeyRecord], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None, context: QObject | None = None) -> None:
        ref = ServiceRef(service=service, day=day)
        self._key_job(key_id, lambda: self.app.share(key_id, ref, note=note), on_done, on_error, context)

    def unshare(self, key_id: str, service: str, day: date | None = None, *,
                on_done: Callable[[KeyRecord], None] | None = None,
                on_error: Callable[[BaseException], None] | None = None, context: QObject | None = None) -> None:
        ref = ServiceRef(service=service, day=day)
        self._key_job(key_id, lambda: self.app.unshare(key_id, ref), on_done, on_error, context)

    def remove_key(self, key_id: str, *, on_done: Callable[[KeyRecord], None] | None = None,
                   on_error: Callable[[BaseException], None] | None = None, context: QObject | None = None) -> None:
        self._key_job(key_id, lambda: self.app.remove_key(key_id), on_done, on_error, context)

    def _key_job(self, key_id: str | None, work: Callable[[], KeyRecord],
                 on_done: Callable[[KeyRecord], None] | None, on_error: Callable[[BaseException], None] | None,
                 context: QObject | None) -> None:
        """A vault key operation on the pool (they touch the keychain, or resolve aliases) and, in the same job,
        the key's row read back: the row the window shows next is the one the write left (gone, after a removal).
        Then the caller's ``on_done(record)``, whose handler may read that row; skipped, like ``on_error``, once
        ``context`` is deleted - but the row is shown whatever became of the dialog that asked."""
        since = self._mark_changed(key_id) if key_id is not None else self._change_seq
        policy, registry = self.policy, self.registry

        def job() -> tuple[KeyRecord, RowRead]:
            rec = work()
            return rec, self._read_row(rec.id, policy, registry)

        def landed(result: tuple[KeyRecord, RowRead]) -> None:
            rec, read = result
            then = None if on_done is None else (lambda: deliver(context, on_done, rec))
            self._land_row(rec.id, since, policy, registry, read, then)

        def failed(exc: BaseException) -> None:
            if on_error is not None:
                deliver(context, on_error, exc)
            else:
                log.error("key operation failed: %s", redact.scrub(exc))

        self.pool.submit(job, on_done=landed, on_error=failed, keep=True)

    def fetch_api_key(self, key_id: str, on_done: Callable[[str], None],
                      on_error: Callable[[BaseException], None] | None = None, context: QObject | None = None) -> None:
        """The public API key (not the secret), for Copy and Reveal. Read from the keychain on a worker."""
        self.pool.submit(self.app.api_key, key_id, on_done=on_done, on_error=on_error, context=context)

    # ---- inspection -------------------------------------------------------------------------------------------
    def check_credentials(self, exchange: str, creds: Credentials, *, declared_permissions: list[str] | None = None,
                          on_done: Callable[[KeyProfile], None], on_error: Callable[[BaseException], None],
                          context: QObject | None = None) -> None:
        """Inspect a key that is not stored yet ('Check now' in the add dialog)."""
        redact.remember(creds.secret_values())
        self.runner.submit(self.app.inspect_async(exchange, creds, declared_permissions=declared_permissions),
                           on_done=on_done, on_error=on_error, context=context)

    def findings_preview(self, record: KeyRecord, profile: KeyProfile | None) -> list[Any]:
        return core_bridge.evaluate(record, profile, policy=self.policy, registry=self.registry, now=self.now())

    # ---- audit ------------------------------------------------------------------------------------------------
    @property
    def auditing(self) -> bool:
        return self._audit is not None or self._audit_refreshing

    def start_audit(self, key_ids: Sequence[str] | None = None, *, refreshed: bool = False) -> bool:
        """Check every stored key, or re-check the given ones: the service's one audit either way
        (``App.audit_async``). False if one is running. On the team vault, "every key" is the server's: its
        changes are read into the cache on a worker first (``refresh_backend``), so a teammate's new key is
        audited too; a server that cannot be reached leaves the cached keys to audit (the banner says why)."""
        if self._audit is not None or self._audit_refreshing:
            return False
        if not self.is_judged:
            # The audit judges with the registry: start it as soon as that is loaded.
            self._deferred_audit = (key_ids is None, list(key_ids) if key_ids is not None else None)
            self.judge_in_background()
            return True
        if key_ids is None and not refreshed and self.app.is_team:
            self._audit_refreshing = True
            generation = self._backend_generation

            def then(_reason: Exception | None) -> None:
                if generation != self._backend_generation:
                    return  # asked of a vault the window has switched away from
                self._audit_refreshing = False
                self.start_audit(None, refreshed=True)

            if self.refresh_backend(then):
                return True
            self._audit_refreshing = False
        ids = list(self._rows) if key_ids is None else [k for k in key_ids if k in self._rows]
        self._audit = AuditOutcome(total=len(ids))
        self._audit_started = utcnow()
        self._audit_done = 0
        for k in ids:
            row = self._rows[k]
            row.audit_state, row.audit_message = QUEUED, ""
        self.auditStarted.emit(ids)
        self.auditProgress.emit(0, len(ids))
        if not ids:
            self._finish_audit()
            return True
        subset = None if key_ids is None else ids
        if key_ids is None:
            # Once the window has repainted the keys as queued: the audit's first step (loading the exchange
            # stack) keeps the GIL busy, and a repaint under it takes ten times longer.
            self.after_list_painted.call(lambda: self._submit_audit(subset))
        else:
            self._submit_audit(subset)
        return True

    def _submit_audit(self, key_ids: list[str] | None) -> None:
        if self._audit is None:
            return
        try:
            self.runner.submit(self._audit_coro(key_ids), on_done=lambda _r: self._finish_audit(),
                               on_error=self._on_audit_error)
        except RuntimeError as exc:  # the window is closing: the loop has stopped
            self._on_audit_error(exc)

    def cancel_audit(self) -> None:
        if self._audit is None:
            return
        self._audit.cancelled = True
        if self._audit_cancel is not None:
            self.runner.call_soon(self._audit_cancel.set)

    async def _audit_coro(self, key_ids: list[str] | None) -> None:
        """``App.audit_async`` on the runner's loop: it reads the keychain on a worker thread, inspects the keys
        concurrently, records each inspection and judges it; we show each verdict as it comes."""
        # The exchange process starts now and loads ccxt while this loop reads the keychain (App.load_exchange_stack).
        self.app.load_exchange_stack()
        import asyncio

        cancel = asyncio.Event()
        self._audit_cancel = cancel
        if self._audit is not None and self._audit.cancelled:
            cancel.set()
        self.runner.call_in_gui(self._mark_all_checking)
        try:
            result = await self.app.audit_async(key_ids, policy=self.policy, registry=self.registry, cancel=cancel,
                                                on_result=lambda a: self.runner.call_in_gui(self._on_key_audit, a))
        finally:
            self._audit_cancel = None
        if result.errors:
            self.runner.call_in_gui(self._note_errors, list(result.errors))

    def _mark_all_checking(self) -> None:
        for row in self._rows.values():
            if row.audit_state == QUEUED:
                row.audit_state = CHECKING
                self._changed_later(row.id)

    def _changed_later(self, key_id: str) -> None:
        self._changed[key_id] = None
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush_changes(self) -> None:
        """Hand on the rows changed (and the progress made) since the last flush: one signal each."""
        self._flush_timer.stop()
        if self._changed:
            ids = list(self._changed)
            self._changed.clear()
            self.rowsChanged.emit(ids)
        if self._progress_dirty:
            self._progress_dirty = False
            if self._audit is not None:
                self.auditProgress.emit(self._audit_done, self._audit.total)

    def _note_errors(self, errors: list[str]) -> None:
        if self._audit is not None:
            self._audit.error = "; ".join(redact.scrub(e) for e in errors[:3])

    def _on_key_audit(self, a: KeyAudit) -> None:
        """One key's verdict (``core.audit.KeyAudit``), on the GUI thread."""
        if self._audit is None or a.key.id not in self._rows:
            return
        old = self._rows[a.key.id]
        fresh = a.checked_at is not None and a.checked_at >= self._audit_started
        missing = a.checked_at is None and not self._audit.cancelled  # the secret could not be read
        profile = a.profile if a.checked_at is not None else old.profile
        row = self._row_from(old.record, profile, a.checked_at if a.checked_at else old.checked_at,
                             core_bridge.Judgement(list(a.findings), int(a.score), str(a.blast_radius),
                                                   a.assessment))
        if fresh:
            ok = a.profile.status == Status.OK
            row.audit_state = DONE if ok else FAILED
            row.audit_message = "" if ok else redact.scrub(a.profile.message or a.profile.status)
            self._audit.checked += 1
        elif missing:
            row.audit_state, row.audit_message = FAILED, redact.scrub(a.profile.message or "")
            self._audit.failures[a.key.id] = row.audit_message
        else:
            row.audit_state = IDLE
            row.audit_message = "Not checked: the audit was cancelled." if self._audit.cancelled else ""
        self._rows[a.key.id] = row
        self._mark_changed(a.key.id)
        self._changed_later(a.key.id)
        self._count_one()

    def _count_one(self) -> None:
        if self._audit is None:
            return
        self._audit_done += 1
        self._progress_dirty = True
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _on_audit_error(self, exc: BaseException) -> None:
        log.error("audit failed: %s", redact.scrub(exc))
        if self._audit is not None:
            if isinstance(exc, KeychainError):
                self._audit.error = f"the keychain is {exc.status.state.value}: {exc.status.message}"
            else:
                self._audit.error = redact.scrub(exc) or type(exc).__name__
        self._finish_audit()

    def _finish_audit(self) -> None:
        outcome = self._audit
        if outcome is None:
            return
        for row in self._rows.values():
            if row.audit_state in (QUEUED, CHECKING):
                row.audit_state = IDLE
                row.audit_message = "Not checked: the audit was cancelled." if outcome.cancelled else ""
                self._changed[row.id] = None
        self.flush_changes()  # every row and the last progress are out before "finished"
        outcome.finished_at = self.now()
        self._audit = None
        self.last_audit = outcome
        self.auditFinished.emit(outcome)

    # ---- settings ---------------------------------------------------------------------------------------------
    def save_prefs(self, prefs: UiPrefs, on_saved: Callable[[], None] | None = None) -> None:
        """Apply now, write on the pool; ``on_saved`` once written."""
        self.prefs = prefs
        self._write_setting(PREFS_SETTING, lambda: self.app.set_setting(PREFS_SETTING, asdict(prefs)), on_saved)
        self.prefsChanged.emit()

    def save_policy(self, policy: Any, on_saved: Callable[[], None] | None = None) -> None:
        """Judge with it from now on; write it on the pool, then read and judge every key again (thresholds change
        findings) and emit ``policyChanged``."""
        self.policy = policy

        def saved() -> None:
            if on_saved is not None:
                on_saved()
            if policy is self.policy:  # not overtaken by a later save, which reloads itself
                self.reload_in_background(self.policyChanged.emit)

        self._write_setting("policy", lambda: self.app.save_policy(policy), saved)

    def _write_setting(self, name: str, write: Callable[[], None], on_saved: Callable[[], None] | None) -> None:
        self._settings_seq += 1
        n = self._settings_seq

        def work() -> None:
            with self._settings_lock:
                if self._settings_written.get(name, 0) > n:
                    return  # a later save of the same setting is already written
                write()
                self._settings_written[name] = n

        def done(_none: None) -> None:
            if on_saved is not None:
                on_saved()

        self.pool.submit(work, on_done=done, keep=True,
                         on_error=lambda exc: log.error("could not save %s: %s", name, redact.scrub(exc)))


