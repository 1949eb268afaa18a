"""The key list's rows as the window shows them: every key's record, latest inspection, the rules' judgement and
audit state, and which rotations wait - read from the vault once before the first frame (``load_rows``), and after
that only on the service layer's pool, each read landing on the GUI thread (issue 21: no SQLite on the GUI thread).

A mixin of ``ui.services.Services`` (its row model; the use cases stay there): it uses the Services' app, pool,
policy, clock and row signals. Ordering: every change of a row on the GUI thread gets a number (``_mark_changed``);
a read that lands after a newer change of its row is read again, and a reload keeps the rows changed since it read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from keyhygiene.core import redact
from keyhygiene.core.models import KeyProfile, KeyRecord, StoredProfile
from keyhygiene.ui import core_bridge
from keyhygiene.ui.callbacks import deliver
from keyhygiene.ui.key_row import IDLE, KeyRow

if TYPE_CHECKING:
    from PySide6.QtCore import QObject, SignalInstance

    from keyhygiene.service.app import App
    from keyhygiene.ui.callbacks import AfterPaint
    from keyhygiene.ui.task_pool import TaskPool

log = logging.getLogger(__name__)

# One key as the list shows it: record, latest inspection (with its time) and the rules' judgement. Unjudged, the
# inspection may still be as stored (decoded when the row is first shown: ``KeyRow.profile``).
_Judged = tuple[KeyRecord, KeyProfile | StoredProfile | None, datetime | None, "core_bridge.Judgement"]
# One key read again on a worker: as above, or None once the key is gone; and the rotations waiting.
RowRead = tuple[_Judged | None, list[tuple[str, str]]]
_NOT_CHECKED: tuple[None, None] = (None, None)


class KeyRows:
    # From ``Services``.
    app: App
    pool: TaskPool
    policy: Any
    now: Callable[[], datetime]
    after_list_painted: AfterPaint
    _deferred_audit: tuple[bool, list[str] | None] | None
    rowsReset: SignalInstance
    rowChanged: SignalInstance
    rotationsChanged: SignalInstance
    judged: SignalInstance
    start_audit: Callable[..., bool]

    def _init_rows(self, defer_judging: bool) -> None:
        # The registry (a validated JSON document) and the rules are what make startup slow; the app defers
        # them until after the first paint (``judge_in_background``), tests and tools load them right away.
        self.registry: Any = None
        self.is_judged = False
        self._judging = False
        if not defer_judging:
            self._set_registry(core_bridge.load_registry())
            self.is_judged = True
        self._rows: dict[str, KeyRow] = {}
        # Each change of one row on the GUI thread (a write's row landing, an audit verdict) gets a number, so a
        # read of the database made before it cannot undo it when it lands (``_land_row``, ``_show_rows``).
        self._change_seq = 0
        self._changed_at: dict[str, int] = {}
        self._open_rotations: list[tuple[str, str]] = []

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

        def work() -> tuple[list[_Judged], list[tuple[str, str]]]:
            return self._read_and_judge(policy, registry), self._read_open_rotations()

        def shown(result: tuple[list[_Judged], list[tuple[str, str]]]) -> None:
            if policy is not self.policy or registry is not self.registry:
                self.reload_in_background(on_done)  # judged under what no longer holds: read again
                return
            judged, waiting = result
            self._show_rows(judged, newer_than=read_after)
            self._set_open_rotations(waiting)
            if on_done is not None:
                on_done()

        self.pool.submit(work, on_done=shown,
                         on_error=lambda exc: log.error("could not reload the keys: %s", redact.scrub(exc)))

    def write_then_reload(self, work: Callable[[], Any], *, on_done: Callable[[Any], None] | None = None,
                          on_error: Callable[[BaseException], None] | None = None,
                          context: QObject | None = None) -> None:
        """A write that touches many keys (a scan's import, a file's clean-up) and, in the same job, every key read
        and judged again: the rows shown next are the ones it left. ``on_done(result)`` then, on the GUI thread,
        skipped (like ``on_error``) once ``context`` is deleted - the rows are shown whatever became of it."""
        policy, registry = self.policy, self.registry
        read_after = self._change_seq

        def job() -> tuple[Any, list[_Judged], list[tuple[str, str]]]:
            result = work()
            return result, self._read_and_judge(policy, registry), self._read_open_rotations()

        def landed(out: tuple[Any, list[_Judged], list[tuple[str, str]]]) -> None:
            result, judged, waiting = out
            if policy is self.policy and registry is self.registry:
                self._show_rows(judged, newer_than=read_after)
                self._set_open_rotations(waiting)
                if on_done is not None:
                    deliver(context, on_done, result)
            else:  # judged under what is no longer the policy (or before the registry): read again
                self.reload_in_background(None if on_done is None else lambda: deliver(context, on_done, result))

        def failed(exc: BaseException) -> None:
            if on_error is not None:
                deliver(context, on_error, exc)
            else:
                log.error("could not save: %s", redact.scrub(exc))

        self.pool.submit(job, on_done=landed, on_error=failed, keep=True)

    def _read_and_judge(self, policy: Any, registry: Any) -> list[_Judged]:
        """Every key with its latest inspection and judgement; without a registry (not loaded yet), unjudged, and
        each inspection left as stored until its row is shown or judged."""
        out: list[_Judged] = []
        if registry is None:
            # Without ``_judge``'s call per key: this loop runs over every key before the first frame (issue 21).
            stored = self.app.latest_stored_inspections()
            unjudged = core_bridge.unjudged
            for rec in self.app.list_keys():
                at, held = stored.get(rec.id, _NOT_CHECKED)
                out.append((rec, held, at, unjudged()))
            return out
        now = self.now()
        latest = self.app.latest_inspections()
        for rec in self.app.list_keys():
            at, profile = latest.get(rec.id, (None, None))
            out.append((rec, profile, at, self._judge(rec, profile, at, policy, registry, now)))
        return out

    def _judge(self, rec: KeyRecord, profile: KeyProfile | None, at: datetime | None, policy: Any, registry: Any,
               now: datetime) -> core_bridge.Judgement:
        if registry is None:  # not judged yet (or no registry): metadata only, no history queries
            return core_bridge.unjudged()
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

    def _mark_changed(self, key_id: str) -> int:
        self._change_seq += 1
        self._changed_at[key_id] = self._change_seq
        return self._change_seq

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
        # Profiles still as stored are decoded here, on the worker (the rules read them), not on the GUI thread.
        snapshot = [(r.record, r.stored_profile, r.checked_at) for r in self._rows.values()]
        policy = self.policy

        def work() -> tuple[Any, dict[str, core_bridge.Judgement]]:
            registry = core_bridge.load_registry()
            now = self.now()
            out = {}
            for rec, held, at in snapshot:
                prof = held.get() if isinstance(held, StoredProfile) else held
                out[rec.id] = core_bridge.assess(rec, prof, at, policy=policy, registry=registry, now=now,
                                                 ctx=self._context_for(rec.id, prof))
            return registry, out

        self.pool.submit(work, on_done=self._on_judged, on_error=self._on_judge_failed)

    def _on_judged(self, result: tuple[Any, dict[str, core_bridge.Judgement]]) -> None:
        registry, judgements = result
        self._set_registry(registry)
        for kid, row in list(self._rows.items()):
            j = judgements.get(kid)
            if j is None:  # added meanwhile: read and judged again on a worker (its rules read the history)
                self.refresh_row(kid)
            else:
                new = self._row_from(row.record, row.stored_profile, row.checked_at, j)  # decoded by the worker
                self._rows[kid] = self._keep_state(row, new)
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

    def refresh_row(self, key_id: str, then: Callable[[], None] | None = None) -> None:
        """Read one key and its latest inspection again on a worker, judge it there, and show it (gone: removed
        from the list); ``then`` runs on the GUI thread once the row is shown."""
        since = self._mark_changed(key_id)
        policy, registry = self.policy, self.registry
        self.pool.submit(self._read_row, key_id, policy, registry,
                         on_done=lambda read: self._land_row(key_id, since, policy, registry, read, then),
                         on_error=lambda exc: log.error("could not read the key %s: %s", key_id, redact.scrub(exc)))

    def _read_row(self, key_id: str, policy: Any, registry: Any) -> RowRead:
        """On a worker: one key as the list shows it (None once removed), and the rotations waiting (a removal
        ends its key's rotation, a rotation step changes its row)."""
        rec = self.app.find_key(key_id)
        if rec is None:
            return None, self._read_open_rotations()
        latest = self.app.latest_inspection(key_id)
        at, profile = latest if latest else (None, None)
        return (rec, profile, at, self._judge(rec, profile, at, policy, registry, self.now())), \
            self._read_open_rotations()

    def _land_row(self, key_id: str, since: int, policy: Any, registry: Any, read: RowRead,
                  then: Callable[[], None] | None) -> None:
        """Show a row read on a worker, unless it may be older than what the list shows: the row changed after
        the read was asked for (an audit's verdict, another write), or it was judged under another policy or
        before the registry loaded. Then it is read again, and ``then`` waits for that read."""
        if self._changed_at.get(key_id, 0) > since or policy is not self.policy or registry is not self.registry:
            self.refresh_row(key_id, then)
            return
        self._mark_changed(key_id)  # a reload that read the database before this must not undo it
        judged, waiting = read
        self._set_open_rotations(waiting)
        old = self._rows.get(key_id)
        if judged is None:
            if self._rows.pop(key_id, None) is not None:
                self.rowsReset.emit()
        else:
            row = self._row_from(*judged)
            if old is not None:
                row = self._keep_state(old, row)
            self._rows[key_id] = row
            if old is None:
                self.rowsReset.emit()
            else:
                self.rowChanged.emit(key_id)
        if then is not None:
            then()

    def _row_from(self, rec: KeyRecord, profile: KeyProfile | StoredProfile | None, at: datetime | None,
                  j: core_bridge.Judgement) -> KeyRow:
        # By position, in KeyRow's field order (a third cheaper than by name, for every key before the first frame;
        # test_key_rows_fields checks the order): record, profile, checked_at, findings, score, blast_radius,
        # audit_state, audit_message, assessment.
        return KeyRow(rec, profile, at, j.findings, j.score, j.blast_radius, IDLE, "", j.assessment)

    def _context_for(self, key_id: str, profile: KeyProfile | None) -> Any:
        """When the latest check failed, the rules judge permissions on the last successful one."""
        # And the day of its last completed rotation (the service's): sharings before it were of the old key.
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

    def open_rotations(self) -> list[tuple[str, str]]:
        """Rotations saved half-way: (key id, title of the step waiting), for the "Resume" banner. As last read
        on a worker (``refresh_open_rotations``, every reload and row read): ``rotationsChanged`` says when."""
        return list(self._open_rotations)

    def refresh_open_rotations(self) -> None:
        self.pool.submit(self._read_open_rotations, on_done=self._set_open_rotations,
                         on_error=lambda exc: log.error("open rotations unavailable: %s", redact.scrub(exc)))

    def _read_open_rotations(self) -> list[tuple[str, str]]:
        try:
            return self.app.open_rotations()
        except Exception:
            log.exception("open rotations unavailable")
            return []

    def _set_open_rotations(self, waiting: list[tuple[str, str]]) -> None:
        if waiting != self._open_rotations:
            self._open_rotations = list(waiting)
            self.rotationsChanged.emit()
