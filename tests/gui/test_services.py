"""The UI's facade: deferred judging for a fast first paint, preferences, key operations off the GUI thread."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from keyhygiene.store.vault import ValidationError
from keyhygiene.ui.services import UiPrefs
from tests.helpers.gui import WAIT_MS, make_services, stop_services, store
from tests.helpers.simkeys import make_key


@pytest.fixture
def deferred(vault, qapp):  # type: ignore[no-untyped-def]
    s = make_services(vault, defer_judging=True)
    yield s
    stop_services(s)


def test_rows_first_findings_later(vault, deferred, qtbot, simulator) -> None:  # type: ignore[no-untyped-def]
    key = make_key("binance")
    sim = simulator([key])
    deferred.endpoints = dict(sim.endpoints)
    kid = store(vault, key, "Shared", shared=[("3commas", date(2022, 3, 1))])
    rows = deferred.load_rows()
    assert [r.id for r in rows] == [kid]
    assert rows[0].findings == [] and rows[0].score is None and not deferred.is_judged
    # An audit asked for before the rules are ready waits for them instead of judging without the registry.
    finished: list = []
    deferred.auditFinished.connect(finished.append)
    assert deferred.start_audit()
    with qtbot.waitSignal(deferred.judged, timeout=WAIT_MS):
        pass
    assert deferred.is_judged and deferred.registry is not None
    assert any(f.rule == "shared_with_leaked_service" for f in deferred.row(kid).findings)
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT_MS)
    assert finished[0].ok and deferred.row(kid).profile is not None



def test_unjudged_rows_decode_their_profiles_when_read_and_the_judging_worker_decodes_the_rest(  # type: ignore[no-untyped-def]  # noqa: E501
        vault, deferred, qtbot, monkeypatch) -> None:
    """Issue 21: the first frame lists every key and shows a few, so ``load_rows`` leaves each stored inspection
    undecoded; a row's profile is decoded when it is read, and judging decodes the others on its worker."""
    from keyhygiene.core.models import KeyProfile

    ids = [store(vault, make_key("binance"), f"Key {i}") for i in range(4)]
    for i, kid in enumerate(ids):
        vault.repo.record_inspection(kid, KeyProfile(exchange="binance", key=f"key {i}", permissions=["read"]))
    gui = threading.get_ident()
    decoded: list[tuple[str, bool]] = []
    real = KeyProfile.from_json.__func__
    monkeypatch.setattr(KeyProfile, "from_json", classmethod(
        lambda cls, d: decoded.append((d["key"], threading.get_ident() == gui)) or real(cls, d)))
    rows = {r.id: r for r in deferred.load_rows()}
    assert decoded == []
    first = rows[ids[0]].profile
    assert first is not None and first.key == "key 0" and decoded == [("key 0", True)]
    assert rows[ids[0]].profile is first  # decoded once
    with qtbot.waitSignal(deferred.judged, timeout=WAIT_MS):
        deferred.judge_in_background()
    assert sorted(k for k, on_gui in decoded if not on_gui) == ["key 1", "key 2", "key 3"]
    assert [k for k, on_gui in decoded if on_gui] == ["key 0"]
    assert [deferred.row(kid).profile.key for kid in ids] == [f"key {i}" for i in range(4)]  # type: ignore[union-attr]
    assert len(decoded) == 4


def test_a_damaged_stored_inspection_shows_its_key_as_not_checked(vault, deferred) -> None:  # type: ignore[no-untyped-def]
    """Before: the window's first read raised on one damaged inspection row (no window), then, with lazy decoding,
    the row's paint raised. Now the key is listed as not checked."""
    from keyhygiene.core.models import KeyProfile

    kid = store(vault, make_key("binance"), "Damaged")
    vault.repo.record_inspection(kid, KeyProfile(exchange="binance", key="k", permissions=["read"]))
    with vault.repo.db.transaction() as c:
        c.execute("UPDATE inspections SET profile = '{\"exchange\": 5' WHERE key_id = ?", (kid,))
    rows = deferred.load_rows()
    assert [r.id for r in rows] == [kid] and rows[0].profile is None


def test_prefs_survive_a_bad_stored_value() -> None:
    p = UiPrefs.from_dict({"clipboard_clear_seconds": "twenty", "reveal_seconds": 9, "unknown": 1})
    assert p.clipboard_clear_seconds == 20 and p.reveal_seconds == 9


def test_key_operations_run_off_the_gui_thread(vault, gui_services, qtbot, secret,
                                               monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from keyhygiene.core.models import Credentials

    gui = threading.get_ident()
    seen: list[int] = []
    real = vault.add_key

    def spy(*a, **kw):  # type: ignore[no-untyped-def]
        seen.append(threading.get_ident())
        return real(*a, **kw)

    monkeypatch.setattr(vault, "add_key", spy)
    done: list = []
    errors: list = []
    creds = Credentials(api_key=secret("AK", 24), secret=secret("SK", 32))
    gui_services.add_key(exchange="binance", label="x", creds=creds, purpose="bot", on_done=done.append,
                         on_error=errors.append)
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS)
    assert seen and seen[0] != gui
    assert gui_services.row(done[0].id) is not None
    # The same key again: the vault's ValidationError reaches the caller with its field.
    gui_services.add_key(exchange="binance", label="y", creds=creds, purpose="bot", on_done=done.append,
                         on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert isinstance(errors[0], ValidationError) and errors[0].field == "api_key"
    # Share and unshare keep the row in step.
    kid = done[0].id
    gui_services.share(kid, "3 Commas", date(2022, 1, 5), on_done=done.append)
    qtbot.waitUntil(lambda: gui_services.row(kid).record.shared_with == ["3commas"], timeout=WAIT_MS)
    gui_services.unshare(kid, "3commas", on_done=done.append)
    qtbot.waitUntil(lambda: gui_services.row(kid).record.shared_with == [], timeout=WAIT_MS)
    got: list[str] = []
    gui_services.fetch_api_key(kid, got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=WAIT_MS)
    assert got == [creds.api_key]


def test_sharing_with_a_name_that_contains_an_at_sign(vault, gui_services, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A free-text service such as an e-mail address: the window gives name and day separately, so the "@" is
    part of the name (it used to be read as "name@day" and refused as a bad date)."""
    from datetime import date, timedelta

    from keyhygiene.store.vault import ValidationError
    from tests.helpers.gui import store
    from tests.helpers.simkeys import make_key

    kid = store(vault, make_key("binance"), "Shared by mail")
    gui_services.load_rows()
    done: list[object] = []
    errors: list[BaseException] = []
    gui_services.share(kid, "alice@example.com", None, on_done=done.append, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(done or errors), timeout=WAIT_MS)
    assert not errors and "alice@example.com" in gui_services.row(kid).record.shared_with
    gui_services.share(kid, "bob", date.today() + timedelta(days=3), on_done=done.append, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert isinstance(errors[0], ValidationError) and "future" in str(errors[0])


def test_a_reload_keeps_each_rows_audit_state(vault, gui_services, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A scan import, a policy change or a rotation step re-reads every key on a worker; a row being audited
    stays queued/checking instead of falling back to idle."""
    from keyhygiene.ui.key_row import CHECKING, IDLE
    from tests.helpers.gui import store
    from tests.helpers.simkeys import make_key

    a = store(vault, make_key("binance"), "Being checked")
    b = store(vault, make_key("okx"), "Idle")
    gui_services.load_rows()
    gui_services.row(a).audit_state = CHECKING
    added = store(vault, make_key("kraken"), "Added meanwhile")
    with qtbot.waitSignal(gui_services.rowsReset, timeout=WAIT_MS):
        gui_services.reload_in_background()
    assert gui_services.row(a).audit_state == CHECKING
    assert gui_services.row(b).audit_state == IDLE
    assert gui_services.row(added) is not None  # and new keys come in


def _profile(exchange: str, status: str = "ok", perms: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    from keyhygiene.core.models import KeyProfile, Status

    st = Status(status)
    return KeyProfile(exchange=exchange, key="abcd…wxyz", status=st, permissions=list(perms),
                      ip_restricted=False if st is Status.OK else None,
                      message=None if st is Status.OK else "Exchange did not answer.")


def test_record_profile_writes_on_a_worker_then_shows_the_row(vault, gui_services, qtbot,
                                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The 'Check now' result of a key just added: written off the GUI thread, timestamped when it was kept,
    and the row shows it once it is stored."""
    from datetime import UTC, datetime

    import keyhygiene.ui.services as services_mod

    kid = store(vault, make_key("bybit"), "Checked first")
    gui_services.load_rows()
    gui = threading.get_ident()
    writers: list[int] = []
    real = vault.repo.record_inspection

    def spy(*a, **kw):  # type: ignore[no-untyped-def]
        writers.append(threading.get_ident())
        return real(*a, **kw)

    monkeypatch.setattr(vault.repo, "record_inspection", spy)
    kept_at = datetime(2026, 5, 30, 8, 0, tzinfo=UTC)
    monkeypatch.setattr(services_mod, "utcnow", lambda: kept_at)
    profile = _profile("bybit", perms=("read", "withdraw"))
    with qtbot.waitSignal(gui_services.rowChanged, timeout=WAIT_MS,
                          check_params_cb=lambda key_id: key_id == kid):
        gui_services.record_profile(kid, profile)
    assert writers and writers[0] != gui
    row = gui_services.row(kid)
    assert row.profile == profile and row.checked_at == kept_at
    assert any(f.rule == "withdraw_enabled" for f in row.findings)
    assert vault.repo.latest_inspection(kid) == (kept_at, profile)


def test_a_failing_key_is_judged_on_its_last_good_answer_as_in_the_report(vault, gui_services,
                                                                          qtbot) -> None:  # type: ignore[no-untyped-def]
    """Window and report build the rules' context the same way (``rules.context_for``)."""
    from datetime import UTC, datetime

    from keyhygiene.core.report.engine import AuditEngine

    kid = store(vault, make_key("binance"), "Flaky")
    vault.repo.record_inspection(kid, _profile("binance", perms=("read", "withdraw")),
                                 datetime(2026, 5, 1, tzinfo=UTC))
    latest = (datetime(2026, 5, 2, tzinfo=UTC), _profile("binance", status="unreachable"))
    vault.repo.record_inspection(kid, latest[1], latest[0])
    now = datetime(2026, 5, 3, tzinfo=UTC)
    gui_services.now = lambda: now
    (row,) = gui_services.load_rows()
    rules = {f.rule for f in row.findings}
    assert {"withdraw_enabled", "inspection_failed"} <= rules
    verdict = AuditEngine(vault.repo).judge_all(vault.list_keys(), {kid: latest}, now)[kid]
    assert [f.to_json() for f in verdict.findings] == [f.to_json() for f in row.findings]
    assert (verdict.score, verdict.blast_radius) == (row.score, row.blast_radius)


def test_update_and_remove_refresh_the_row_before_the_callback(vault, gui_services,
                                                               qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("okx"), "Old name")
    gui_services.load_rows()
    seen: list[tuple[str, object]] = []

    def note(rec):  # type: ignore[no-untyped-def]
        row = gui_services.row(rec.id)
        seen.append((rec.id, row.record.label if row is not None else None))

    gui_services.update_key(kid, label="New name", on_done=note)
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=WAIT_MS)
    gui_services.remove_key(kid, on_done=note)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=WAIT_MS)
    assert seen == [(kid, "New name"), (kid, None)]


def test_a_reload_read_before_a_change_does_not_undo_it(vault, gui_services, qtbot,
                                                        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A reload (scan import, policy change, rotation step) reads every key on a worker; rows changed on the GUI
    thread after that read - a check kept, a key added or removed, an audit verdict - keep the newer state when
    the reload lands."""
    checked = store(vault, make_key("bybit"), "Checked meanwhile")
    removed = store(vault, make_key("okx"), "Removed meanwhile")
    gui_services.load_rows()
    read_done, release = threading.Event(), threading.Event()
    real = gui_services._read_and_judge

    def slow_read(*a, **kw):  # type: ignore[no-untyped-def]
        out = real(*a, **kw)  # the database as it was when the reload started
        read_done.set()
        release.wait(WAIT_MS / 1000)
        return out

    monkeypatch.setattr(gui_services, "_read_and_judge", slow_read)
    gui_services.reload_in_background()
    assert read_done.wait(WAIT_MS / 1000)
    profile = _profile("bybit", perms=("read", "withdraw"))
    vault.repo.record_inspection(checked, profile)
    gui_services.refresh_row(checked)
    added = store(vault, make_key("kraken"), "Added meanwhile")
    gui_services.refresh_row(added)
    vault.remove_key(removed)
    gui_services.refresh_row(removed)
    # Each row is read again on a worker (never on the GUI thread) and shown before the reload lands.
    qtbot.waitUntil(lambda: gui_services.row(removed) is None and gui_services.row(added) is not None
                    and gui_services.row(checked).profile == profile, timeout=WAIT_MS)
    with qtbot.waitSignal(gui_services.rowsReset, timeout=WAIT_MS):
        release.set()
    assert gui_services.row(checked).profile == profile
    assert gui_services.row(added) is not None
    assert gui_services.row(removed) is None


def test_a_write_landing_after_a_newer_change_of_its_row_reads_the_row_again(
        vault, gui_services, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A key's write and its row read run together on a worker; when the row changed on the GUI thread after the
    write was asked for (an audit's verdict, another read), what the write read may be older: the row is read
    again, and the caller hears of the write only once that newer row is shown."""
    kid = store(vault, make_key("bybit"), "Old name")
    gui_services.load_rows()
    started, release = threading.Event(), threading.Event()
    real = gui_services.app.update_key

    def slow_update(*a, **kw):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(WAIT_MS / 1000)
        return real(*a, **kw)

    monkeypatch.setattr(gui_services.app, "update_key", slow_update)
    reads: list[str] = []
    real_read = gui_services._read_row

    def counted_read(key_id, *a):  # type: ignore[no-untyped-def]
        reads.append(key_id)
        return real_read(key_id, *a)

    monkeypatch.setattr(gui_services, "_read_row", counted_read)
    seen: list[tuple[str, object]] = []

    def note(rec):  # type: ignore[no-untyped-def]
        row = gui_services.row(rec.id)
        seen.append((row.record.label, row.profile))

    gui_services.update_key(kid, label="New name", on_done=note)
    assert started.wait(WAIT_MS / 1000)
    profile = _profile("bybit", perms=("read", "spot_trade"))
    vault.repo.record_inspection(kid, profile)  # as the audit records a verdict, meanwhile
    with qtbot.waitSignal(gui_services.rowChanged, timeout=WAIT_MS):
        gui_services.refresh_row(kid)  # shown before the write lands: a newer change of the row
    assert gui_services.row(kid).record.label == "Old name"
    release.set()
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
    assert seen == [("New name", profile)]
    assert reads == [kid, kid, kid]  # the refresh, the write's own read, and the read again after it
    assert gui_services.row(kid).record.label == "New name" and gui_services.row(kid).profile == profile
