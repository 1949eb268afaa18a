"""Property: over generated vaults, every surface gives each key the same findings, severities and score.

The surfaces: the window's table row, detail pane, header and reminder banner; ``status --json``; ``audit --json``
(the real audit path, with a fake exchange layer answering what was generated); and the JSON report. Every
reminder names a current finding that ``audit --json`` reports for its key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from PySide6.QtCore import QSettings, Qt

from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.core.policy import Policy
from keyhygiene.core.registry import load_registry
from keyhygiene.core.report.engine import AuditEngine
from keyhygiene.core.report.json_report import report_document
from keyhygiene.core.report.model import build_report
from keyhygiene.core.timeutil import iso
from keyhygiene.paths import app_paths
from keyhygiene.service.app import App
from keyhygiene.service.audit import run_audit
from keyhygiene.service.summary import stored_summary
from keyhygiene.store.keychain import CURRENT
from keyhygiene.store.memory_keyring import MemoryKeyring
from keyhygiene.store.vault import ServiceRef, Vault
from keyhygiene.ui.async_runner import AsyncRunner
from keyhygiene.ui.key_table_model import Col
from keyhygiene.ui.main_window import MainWindow
from keyhygiene.ui.services import Services
from keyhygiene.ui.task_pool import TaskPool
from tests.helpers.gui import WAIT_MS
from tests.helpers.secrets_watch import register_secret

# Close to the present, so the age and expiry rules see realistic ages; never asserted as a time.
NOW = datetime.now(UTC).replace(microsecond=0)
LEAK = date(2022, 12, 28)  # 3Commas' key leak: generated dates fall on both sides of it
EXCHANGES = ("binance", "bybit", "kraken", "htx", "mexc", "bingx", "bitfinex", "okx", "bitstamp")
PERMS = ("read", "spot_trade", "margin_trade", "futures_trade", "withdraw", "transfer")
SERVICES = ("3commas", "koinly", "cointracker", "coinrule", "my own bot", "file:/home/u/bot/config.json")
STATUSES = (Status.OK, Status.OK, Status.OK, Status.INVALID_KEY, Status.REJECTED, Status.IP_NOT_ALLOWED,
            Status.UNREACHABLE, Status.RATE_LIMITED)

days_ago = st.integers(min_value=0, max_value=6 * 365).map(lambda n: (NOW - timedelta(days=n)).date())
around_leak = st.integers(min_value=-400, max_value=400).map(lambda n: LEAK + timedelta(days=n))
a_day = st.one_of(days_ago, around_leak)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass
class Sharing:
    service: str
    shared_at: date | None
    ended_at: date | None


@dataclass
class KeySpec:
    exchange: str
    purpose: str
    declared_created: date | None
    declared_perms: list[str] | None
    sharings: list[Sharing]
    answer: KeyProfile | None  # None: the exchange layer never answers for this key
    previous_ok: KeyProfile | None  # an older successful check
    secret_missing: bool
    rotation: str | None  # None | "done" | "pending"


@st.composite
def sharings(draw: Any) -> list[Sharing]:
    out = []
    for service in draw(st.lists(st.sampled_from(SERVICES), max_size=3, unique=True)):
        shared = draw(st.none() | a_day)
        ended = None
        if draw(st.booleans()):
            start = shared or date(2020, 1, 1)
            ended = start + timedelta(days=draw(st.integers(min_value=0, max_value=900)))
            ended = min(ended, NOW.date())
            if shared is not None and ended < shared:
                ended = shared
        out.append(Sharing(service, shared, ended))
    return out


@st.composite
def profiles(draw: Any, exchange: str, status: Status | None = None) -> KeyProfile:
    status = status or draw(st.sampled_from(STATUSES))
    ok = status is Status.OK
    ip = draw(st.sampled_from((True, False, None)))
    created = draw(st.none() | a_day)
    expires = draw(st.none() | st.integers(min_value=-30, max_value=60))
    trade_expires = draw(st.none() | st.integers(min_value=-30, max_value=60))
    return KeyProfile(
        exchange=exchange, key="ab12\u2026yz89", status=status,
        message=None if ok else "The exchange said no.",
        permissions=sorted(draw(st.sets(st.sampled_from(PERMS), max_size=4)) | {"read"}) if ok else [],
        permissions_source="declared" if exchange == "bitstamp" else "exchange",
        ip_restricted=ip if ok else None,
        ip_whitelist=["203.0.113.9"] if ok and ip else None,
        created_at=_at(created) if ok and created else None,
        expires_at=NOW + timedelta(days=expires) if ok and expires is not None else None,
        trade_expires_at=NOW + timedelta(days=trade_expires) if ok and trade_expires is not None else None,
    )


@st.composite
def key_specs(draw: Any) -> KeySpec:
    exchange = draw(st.sampled_from(EXCHANGES))
    answer = draw(st.none() | profiles(exchange))
    previous = draw(st.none() | profiles(exchange, Status.OK))
    return KeySpec(
        exchange=exchange,
        purpose=draw(st.sampled_from(("read-only", "trading", "bot", "tax", "other"))),
        declared_created=draw(st.none() | a_day),
        declared_perms=sorted(draw(st.sets(st.sampled_from(PERMS), min_size=1, max_size=3)))
        if exchange == "bitstamp" else None,
        sharings=draw(sharings()),
        answer=answer,
        previous_ok=previous,
        secret_missing=draw(st.integers(min_value=0, max_value=9)) == 0,
        rotation=draw(st.sampled_from((None, None, "done", "pending"))),
    )


def _creds(exchange: str) -> Credentials:
    c = Credentials(api_key="AK" + secrets.token_hex(12), secret="SK" + secrets.token_hex(16),
                    passphrase="PP" + secrets.token_hex(6) if exchange == "okx" else None)
    register_secret(*c.secret_values())
    return c


def _stock(vault: Vault, specs: list[KeySpec]) -> dict[str, KeyProfile]:
    """Store the generated keys as the app would have; return what the fake exchange layer answers."""
    answers: dict[str, KeyProfile] = {}
    for i, s in enumerate(specs):
        creds = _creds(s.exchange)
        rec = vault.add_key(s.exchange, f"Key {i}", creds, purpose=s.purpose,
                            created_at=_at(s.declared_created) if s.declared_created else None,
                            declared_permissions=s.declared_perms,
                            shared_with=[ServiceRef(x.service, x.shared_at) for x in s.sharings])
        for x in s.sharings:
            if x.ended_at is not None:
                vault.unshare(rec.id, ServiceRef(x.service, x.ended_at))
        if s.previous_ok is not None:
            vault.repo.record_inspection(rec.id, s.previous_ok, NOW - timedelta(days=3))
        if s.rotation is not None:
            _rotation(vault, rec.id, rec.fingerprint, s.rotation)
        if s.secret_missing:
            vault.secrets.delete(rec.id, CURRENT)
        if s.answer is not None:
            answers[rec.id] = s.answer
    return answers


def _rotation(vault: Vault, key_id: str, old: str, state: str) -> None:
    """A rotation as the journal leaves it: a finished one also ended the old key's sharings (machine.py)."""
    started = iso(NOW - timedelta(days=2))
    with vault.db.transaction() as c:
        if state == "done":
            finished = NOW - timedelta(days=1)
            c.execute("INSERT INTO rotations(key_id, state, started_at, updated_at, finished_at, old_fingerprint, "
                      "new_fingerprint) VALUES (?,?,?,?,?,?,?)",
                      (key_id, "done", started, iso(finished), iso(finished), old, "ne12\u2026w345"))
            vault.repo.update_key(c, key_id, created_at=finished)
            vault.repo.end_all_exposures(c, key_id, finished.date())
        else:
            c.execute("INSERT INTO rotations(key_id, state, started_at, updated_at, old_fingerprint) "
                      "VALUES (?,?,?,?,?)", (key_id, "test_new", started, started, old))


def _trio(findings: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(f["rule"], f["severity"], f["title"]) for f in findings]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(key_specs(), min_size=1, max_size=4))
def test_every_surface_says_the_same_about_every_key(specs: list[KeySpec], qapp: Any, qtbot: Any,
                                                     tmp_path: Path) -> None:
    data = tmp_path / f"v{secrets.token_hex(4)}"
    vault = Vault(app_paths(data), backend=MemoryKeyring(), service_resolver=load_registry().canonical)
    app = App(vault)
    runner, pool = AsyncRunner(runtime=app.runtime), TaskPool(runtime=app.runtime)
    window: MainWindow | None = None
    try:
        answers = _stock(vault, specs)

        async def inspector(items, *, endpoints=None, declared=None, on_result=None, cancel=None):  # type: ignore[no-untyped-def]
            for key_id, _exchange, _creds in items:
                if key_id in answers:
                    on_result(key_id, answers[key_id])
            return {k: answers[k] for k, _e, _c in items if k in answers}

        audit = run_audit(vault, inspector=inspector, now=NOW, policy=Policy.load(vault.repo)).to_json()
        status = stored_summary(vault, now=NOW).to_json()
        report = report_document(build_report(vault, engine=AuditEngine(vault.repo), now=NOW))

        services = Services(app, runner=runner, pool=pool)
        services.prefs.audit_on_start = False
        services.now = lambda: NOW
        services.load_rows()
        window = MainWindow(services, settings=QSettings(str(data / "ui.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.firstPainted, timeout=WAIT_MS):
            window.show()
        qtbot.waitUntil(lambda: pool.active() == 0, timeout=WAIT_MS)
        window._update_summary()
        window.reminders.refresh(announce=False)

        # Per key: audit --json, the JSON report, the table row and the detail pane.
        by_report = {k["id"]: k for k in report["keys"]}
        assert [k["id"] for k in report["keys"]] == [k["id"] for k in audit["keys"]]
        for a in audit["keys"]:
            kid, findings = a["id"], _trio(a["findings"])
            r = by_report[kid]
            assert _trio(r["findings"]) == findings and r["score"] == a["score"], kid
            row = services.row(kid)
            assert row is not None
            assert [(f.rule, f.severity, f.title) for f in row.findings] == findings, kid
            assert row.score == a["score"], kid
            at = window.model.row_of(kid)
            risk = window.model.index(at, Col.RISK).data(Qt.ItemDataRole.AccessibleTextRole)
            if findings:
                assert risk.startswith(f"{findings[0][1].capitalize()} risk") and f" {a['score']}" in risk, risk
            else:
                assert risk == f"No findings, score {a['score']}"
            assert window.select_key(kid)
            assert [(c.finding.rule, c.finding.severity, c.finding.title) for c in window.detail.cards] == findings
            # An incident marks a sharing exactly when a finding names it, in the report as in the window.
            touched = {e["service"] for e in r["exposures"] if any(i["affects_key"] for i in e["incidents"])}
            named = {f.evidence.get("service") for f in row.findings
                     if f.rule in ("shared_with_leaked_service", "shared_with_breached_service")}
            assert set(row.incident_services) == named == touched, (kid, touched, named)

        # The vault: status --json, audit --json, the report's summary, the window's header and banner.
        assert status["keys"] == len(audit["keys"])
        assert status["score"] == audit["score"] == report["summary"]["overall_score"] == window.score_ring.score
        assert status["findings"] == audit["counts"] == report["summary"]["findings_by_severity"]
        summary = services.summary()
        assert summary is not None and window.headline.text() == summary.headline
        assert summary.to_json() == status
        assert report["summary"]["reminders"] == status["reminders"]
        assert (report["summary"]["headline"], report["summary"]["needs_attention"]) == \
            (summary.headline, status["needs_attention"])
        shown = [r.to_json() for r in window.reminders.current]
        assert shown == status["reminders"]
        if shown:
            assert window.reminder_banner.severity == shown[0]["severity"]
            assert shown[0]["text"] in window.reminder_banner.text()
        else:
            assert not window.reminder_banner.isVisibleTo(window)
        by_audit = {k["id"]: k for k in audit["keys"]}
        for rem in status["reminders"]:  # every reminder names a finding audit --json reports for that key
            assert any(f["rule"] == rem["rule"] and f["severity"] == rem["severity"] and f["title"] in rem["text"]
                       for f in by_audit[rem["key_id"]]["findings"]), rem
    finally:
        if window is not None:
            window.close()
        runner.stop()
        pool.shutdown()
        app.close()
