"""The window's adapter over the service layer (``service.App``): its use cases as Qt signals and GUI-thread
callbacks, and the rows the key list shows.

Widgets hold key ids and ``KeyRow`` snapshots, never secrets. Every use case is the service's; this module only
decides where it runs: blocking calls (keychain, slow SQLite work) on the task pool, exchange calls on the asyncio
runner, both reporting back on the GUI thread. Local metadata is read on the calling thread at startup: it is what
lets the window paint before anything else has loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from keyhygiene.core import redact
from keyhygiene.core.models import Credentials, KeyProfile, KeyRecord, Status
from keyhygiene.core.timeutil import utcnow
from keyhygiene.service.app import App
from keyhygiene.service.types import KeychainError, KeychainStatus, ServiceRef
from keyhygiene.ui import core_bridge, pyside_import_hook, workarounds
from keyhygiene.ui.async_runner import AsyncRunner
from keyhygiene.ui.callbacks import AfterPaint
from keyhygiene.ui.key_row import CHECKING, DONE, FAILED, IDLE, QUEUED, KeyRow
from keyhygiene.ui.task_pool import TaskPool

if TYPE_CHECKING:
    import asyncio

    from keyhygiene.core.audit import KeyAudit

log = logging.getLogger(__name__)

# One key as the list shows it: record, latest inspection (with its time) and the rules' judgement.
_Judged = tuple[KeyRecord, KeyProfile | None, datetime | None, "core_bridge.Judgement"]

PREFS_SETTING = "ui.prefs"
FLUSH_MS = 16  # one frame: how long an audit's results may wait to be shown together


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


@dataclass
class AuditOutcome:
    checked: int = 0
    total: int = 0
    cancelled: bool = False
    error: str | None = None
    failures: dict[str, str] = field(default_factory=dict)  # key id -> why it could not be checked
    finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled


class Services(QObject):
    rowsReset = Signal()
    rowChanged = Signal(str)
    rowsChanged = Signal(list)  # key ids: an audit's results, delivered at most once per ~frame
    keychainChecked = Signal(object)  # KeychainStatus
    auditStarted = Signal(list)  # key ids
    auditProgress = Signal(int, int)  # done, total
    auditFinished = Signal(object)  # AuditOutcome
    prefsChanged = Signal()
    policyChanged = Signal()
    judged = Signal()  # the registry is loaded and every row carries its findings
    # The team vault after a refresh from its server: None when it worked, else the reason (TeamUnavailable) the
    # cached keys are shown read-only. A local window emits it only after switching back from a team vault (None).
    backendChecked = Signal(object)

    def __init__(self, app: App, *, runner: AsyncRunner | None = None, pool: TaskPool | None = None,
                 defer_judging: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Before anything here imports ccxt (~800 modules): PySide's import hook must not read their sources.
        if workarounds.enabled("import_hook"):
            pyside_import_hook.use_fast_check()
        self.app = app
        # Qt adapters over the app's one loop and one pool.
        self.runner = runner if runner is not None else AsyncRunner(self, runtime=app.runtime)
        self.pool = pool if pool is not None else TaskPool(parent=self, runtime=app.runtime)
        # Where "Open <exchange>'s API page" goes; None: the exchange's own page. The demo sets the simulator's.
        self.key_page: Callable[[str], str | None] | None = None
        # The registry (a validated JSON document) and the rules are what make startup slow; the app defers
        # them until after the first paint (``judge_in_background``), tests and tools load them right away.
        self.registry: Any = None
        self.is_judged = False
        self._judging = False
        self._deferred_audit: tuple[bool, list[str] | None] | None = None
        if not defer_judging:
            self._set_registry(core_bridge.load_registry())
            self.is_judged = True
        self.policy = app.load_policy()
        self.prefs = UiPrefs.from_dict(app.get_setting(PREFS_SETTING))
        self.keychain_status: KeychainStatus | None = None
        self.cache_refreshed_at: datetime | None = None  # the team vault's, as of its last refresh_backend
        self._rows: dict[str, KeyRow] = {}
        # Each change of one row on the GUI thread (a refresh after a write, an audit verdict) gets a number, so a
        # reload that read the database before it cannot undo it when it lands (reload_in_background).
        self._change_seq = 0
        self._changed_at: dict[str, int] = {}
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
        """The app's vault, for the rotation wizard until its session is a service use case (issue 16, i17)."""
        return self.app.vault

    @property
    def offline(self) -> Exception | None:
        """Why the team vault's server cannot be used now (changes are off); None when it can, or for local."""
        return self.app.offline

    def refresh_backend(self, on_done: Callable[[Exception | None], None] | None = None) -> bool:
        """The team vault: read the server's changes into the cache on a worker, show the rows again, then emit
        ``backendChecked``. False (nothing done) for the local vault, which has no server."""
        if not self.app.is_team:
            return False

        def refresh() -> tuple[Exception | None, datetime | None]:
            reason = self.app.refresh_vault()
            return reason, self.app.cache_refreshed_at()

        def refreshed(got: tuple[Exception | None, datetime | None]) -> None:
            self.cache_refreshed_at = got[1]
            done(got[0])

        def done(reason: Exception | None) -> None:
            def told() -> None:
                self.backendChecked.emit(reason)
                if on_done is not None:
                    on_done(reason)

            if reason is None:
                self.reload_in_background(told)  # a teammate's keys and changes appear
            else:
                told()

        def failed(exc: BaseException) -> None:  # not the server's status: a bug or a broken cache; say so
            log.error("could not refresh the team vault: %s", redact.scrub(exc))
            done(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))

        self.pool.submit(refresh, on_done=refreshed, on_error=failed)
        return True

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

    # ---- rows -----------------------------------------------------------------------------------------------
    def load_rows(self) -> list[KeyRow]:
        """Read every key and its latest inspection from SQLite (local: no network, no keychain), and judge each
        one if the registry is loaded; with ``defer_judging`` the findings follow from ``judge_in_background``.
        On the calling thread: for the window's first frame. Later changes use ``reload_in_background``."""
        self._show_rows(self._read_and_judge(self.policy, self.registry))
        return list(self._rows.values())

    def reload_in_background(self, on_done: Callable[[], None] | None = None) -> None:
        """Read and judge every key again on a worker (after a scan import or clean-up, a policy change, a rotation
        step: with findings and history queries that is too slow for the GUI thread), then show the rows; each
        keeps the audit state it had. ``on_done`` runs on the GUI thread once the rows are in."""
        policy, registry = self.policy, self.registry
        read_after = self._change_seq  # the worker reads the database after every change numbered up to here

        def shown(judged: list[_Judged]) -> None:
            self._show_rows(judged, newer_than=read_after)
            if on_done is not None:
                on_done()

        self.pool.submit(lambda: self._read_and_judge(policy, registry), on_done=shown,
                         on_error=lambda exc: log.error("could not reload the keys: %s", redact.scrub(exc)))

    def _read_and_judge(self, policy: Any, registry: Any) -> list[_Judged]:
        """Every key with its latest inspection and judgement; without a registry (not loaded yet), unjudged."""
        latest = self.app.latest_inspections()
        now = self.now()
        out: list[_Judged] = []
        for rec in self.app.list_keys():
            at, profile = latest.get(rec.id, (None, None))
            out.append((rec, profile, at, self._judge(rec, profile, at, policy, registry, now)))
        return out

    def _judge(self, rec: KeyRecord, profile: KeyProfile | None, at: datetime | None, policy: Any, registry: Any,
               now: datetime) -> core_bridge.Judgement:
        if registry is None:  # not judged yet (or no registry): metadata only, no history queries
            return core_bridge.Judgement([], None, "")
        return core_bridge.assess(rec, profile, at, policy=policy, registry=registry, now=now,
                                  ctx=self._context_for(rec.id, profile))

    def _show_rows(self, judged: list[_Judged], newer_than: int | None = None) -> None:
        """Every row from ``judged``, each keeping its audit state; with ``newer_than``, a row changed after that
        change number keeps what it shows now (a key removed since stays removed, one added since stays)."""
        newer = {kid for kid, n in self._changed_at.items() if newer_than is not None and n > newer_than}
        rows: dict[str, KeyRow] = {}
        for rec, profile, at, j in judged:
            old = self._rows.get(rec.id)
            if rec.id in newer:
                if old is not None:
                    rows[rec.id] = old
                continue
            row = self._row_from(rec, profile, at, j)
            rows[rec.id] = self._keep_state(old, row) if old is not None else row
        for kid in newer - rows.keys():
            if kid in self._rows:
                rows[kid] = self._rows[kid]
        self._rows = rows
        self.rowsReset.emit()

    def _mark_changed(self, key_id: str) -> None:
        self._change_seq += 1
        self._changed_at[key_id] = self._change_seq

    def rows(self) -> list[KeyRow]:
        return list(self._rows.values())

    def _set_registry(self, registry: Any) -> None:
        self.registry = registry
        resolve = core_bridge.resolver(registry)
        if resolve is not None:
            self.app.set_service_resolver(resolve)

    def judge_in_background(self) -> None:
        """Load the registry and judge every row on a worker, then show the findings (once)."""
        if self.is_judged or self._judging:
            return
        self._judging = True
        snapshot = [(r.record, r.profile, r.checked_at) for r in self._rows.values()]
        policy = self.policy

        def work() -> tuple[Any, dict[str, core_bridge.Judgement]]:
            registry = core_bridge.load_registry()
            now = self.now()
            out = {rec.id: core_bridge.assess(rec, prof, at, policy=policy, registry=registry, now=now,
                                              ctx=self._context_for(rec.id, prof)) for rec, prof, at in snapshot}
            return registry, out

        self.pool.submit(work, on_done=self._on_judged, on_error=self._on_judge_failed)

    def _on_judged(self, result: tuple[Any, dict[str, core_bridge.Judgement]]) -> None:
        registry, judgements = result
        self._set_registry(registry)
        for kid, row in list(self._rows.items()):
            j = judgements.get(kid)
            if j is None:  # added meanwhile: judge it here, it is one key
                self._rows[kid] = self._keep_state(row, self._build_row(row.record, row.profile, row.checked_at,
                                                                          self.now()))
            else:
                self._rows[kid] = self._keep_state(row, self._row_from(row.record, row.profile, row.checked_at, j))
        self._judging = False
        self.is_judged = True
        self.rowsReset.emit()
        self.judged.emit()
        if self._deferred_audit is not None:
            everything, ids = self._deferred_audit
            self._deferred_audit = None
            # Show the findings first, then start: one turn of the event loop each, not both in one.
            self.after_list_painted.call(lambda: self.start_audit(None if everything else ids))

    def _on_judge_failed(self, exc: BaseException) -> None:
        log.error("could not evaluate the keys: %s", redact.scrub(exc))
        self._judging = False
        self.is_judged = True  # without findings, but the app must not wait forever
        self.judged.emit()

    @staticmethod
    def _keep_state(old: KeyRow, new: KeyRow) -> KeyRow:
        new.audit_state, new.audit_message = old.audit_state, old.audit_message
        return new

    def row(self, key_id: str) -> KeyRow | None:
        return self._rows.get(key_id)

    def refresh_row(self, key_id: str) -> None:
        self._mark_changed(key_id)
        rec = self.app.find_key(key_id)
        if rec is None:
            if self._rows.pop(key_id, None) is not None:
                self.rowsReset.emit()
            return
        latest = self.app.latest_inspection(key_id)
        at, profile = latest if latest else (None, None)
        old = self._rows.get(key_id)
        row = self._build_row(rec, profile, at, self.now())
        if old is not None:
            row = self._keep_state(old, row)
        self._rows[key_id] = row
        if old is None:
            self.rowsReset.emit()
        else:
            self.rowChanged.emit(key_id)

    def _build_row(self, rec: KeyRecord, profile: KeyProfile | None, at: datetime | None, now: datetime) -> KeyRow:
        return self._row_from(rec, profile, at, self._judge(rec, profile, at, self.policy, self.registry, now))

    def _row_from(self, rec: KeyRecord, profile: KeyProfile | None, at: datetime | None,
                  j: core_bridge.Judgement) -> KeyRow:
        return KeyRow(record=rec, profile=profile, checked_at=at, findings=j.findings, score=j.score,
                      blast_radius=j.blast_radius, assessment=j.assessment)

    def _context_for(self, key_id: str, profile: KeyProfile | None) -> Any:
        """When the latest check failed, the rules judge permissions on the last successful one."""
        # The rotation journal's database: the rules read a key's last completed rotation from it.
        return core_bridge.context_for(key_id, profile, self.app.inspection_history, self.app.last_rotation_day)

    def overall_score(self) -> int | None:
        """None until there is something to score: no keys, or findings not evaluated yet."""
        summary = self.summary() if self._rows else None
        return None if summary is None else summary.score

    def summary(self) -> Any | None:
        """The header's, banner's and tray's ``core.assessment.Summary`` (what ``keyhygiene status`` prints);
        None until the rows are judged."""
        if not self.is_judged or self.registry is None:  # without the registry nothing was judged
            return None
        return core_bridge.summarize(r.assessment for r in self._rows.values() if r.assessment is not None)

    def service_name(self, service: str) -> str:
        return core_bridge.service_name(self.registry, service)

    def services_catalog(self) -> list[core_bridge.ServiceInfo]:
        return core_bridge.registry_services(self.registry)

    def incidents(self, key_id: str) -> list[Any]:
        """Incidents that touched the key, as its findings say (``core.assessment.IncidentExposure``)."""
        row = self._rows.get(key_id)
        return [] if row is None or row.assessment is None else row.assessment.incidents

    def inspection_history(self, key_id: str, limit: int = 20) -> list[tuple[datetime, KeyProfile]]:
        return self.app.inspection_history(key_id, limit)

    def rotation_history(self, key_id: str) -> list[Any]:
        """Rotations of a key, newest first (``core.rotation.RotationRecord``)."""
        try:
            return self.app.rotation_history(key_id)
        except Exception:
            log.exception("rotation history unavailable for %s", key_id)
            return []

    def open_rotations(self) -> list[tuple[str, str]]:
        """Rotations saved half-way: (key id, title of the step waiting), for the "Resume" banner."""
        try:
            return self.app.open_rotations()
        except Exception:
            log.exception("open rotations unavailable")
            return []

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

        self.pool.submit(work, on_done=self._refresh_then(on_done), on_error=on_error, context=context)

    def record_profile(self, key_id: str, profile: KeyProfile) -> None:
        """Keep a 'Check now' result made before saving: written on the pool like every other write, then the
        key's row is read back, so it shows the profile as soon as it is stored."""
        at = utcnow()  # when the check was kept, not when a busy worker got round to writing it

        def shown(_none: None) -> None:
            self.refresh_row(key_id)

        self.pool.submit(self.app.record_profile, key_id, profile, at, on_done=shown,
                         on_error=lambda exc: log.error("could not keep the check of %s: %s", key_id,
                                                        redact.scrub(exc)))

    def update_key(self, key_id: str, *, on_done: Callable[[KeyRecord], None] | None = None,
                   on_error: Callable[[BaseException], None] | None = None, context: QObject | None = None,
                   **changes: Any) -> None:
        self.pool.submit(lambda: self.app.update_key(key_id, **changes), on_done=self._refresh_then(on_done),
                         on_error=on_error, context=context)

    def share(self, key_id: str, service: str, day: date | None, *, note: str | None = None,
              on_done: Callable[[KeyRecord], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None, context: QObject | None = None) -> None:
        ref = ServiceRef(service=service, day=day)
        self._metadata_job(lambda: self.app.share(key_id, ref, note=note), on_done, on_error, context)

    def unshare(self, key_id: str, service: str, day: date | None = None, *,
                on_done: Callable[[KeyRecord], None] | None = None,
                on_error: Callable[[BaseException], None] | None = None, context: QObject | None = None) -> None:
        ref = ServiceRef(service=service, day=day)
        self._metadata_job(lambda: self.app.unshare(key_id, ref), on_done, on_error, context)

    def remove_key(self, key_id: str, *, on_done: Callable[[KeyRecord], None] | None = None,
                   on_error: Callable[[BaseException], None] | None = None, context: QObject | None = None) -> None:
        self._metadata_job(lambda: self.app.remove_key(key_id), on_done, on_error, context)

    def _metadata_job(self, work: Callable[[], KeyRecord], on_done: Callable[[KeyRecord], None] | None,
                      on_error: Callable[[BaseException], None] | None, context: QObject | None) -> None:
        # Metadata writes are quick, but share/unshare resolve aliases and remove touches the keychain:
        # one path for all of them keeps the GUI thread free of surprises.
        self.pool.submit(work, on_done=self._refresh_then(on_done), on_error=on_error, context=context)

    def _refresh_then(self, on_done: Callable[[KeyRecord], None] | None) -> Callable[[KeyRecord], None]:
        """A key job's GUI-side result handler: show the key's row as stored now (gone, after a removal), then
        tell the caller, whose handler may read that row. Every vault key operation returns the key's record."""

        def done(rec: KeyRecord) -> None:
            self.refresh_row(rec.id)
            if on_done is not None:
                on_done(rec)

        return done

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
        return self._audit is not None

    def start_audit(self, key_ids: Sequence[str] | None = None) -> bool:
        """Check every stored key, or re-check the given ones: the service's one audit either way
        (``App.audit_async``). False if one is running."""
        if self._audit is not None:
            return False
        if not self.is_judged:
            # The audit judges with the registry: start it as soon as that is loaded.
            self._deferred_audit = (key_ids is None, list(key_ids) if key_ids is not None else None)
            self.judge_in_background()
            return True
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
        # Now, while the window shows the queued keys and waits: not later, under the repaints of the first results.
        if workarounds.enabled("warmup"):
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
    def save_prefs(self, prefs: UiPrefs) -> None:
        self.app.set_setting(PREFS_SETTING, asdict(prefs))
        self.prefs = prefs
        self.prefsChanged.emit()

    def save_policy(self, policy: Any) -> None:
        self.app.save_policy(policy)
        self.policy = policy
        self.reload_in_background(self.policyChanged.emit)  # thresholds change findings


