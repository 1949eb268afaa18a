"""The fixed data set behind the report's golden files: fixed ids, fixed clock, fixed findings.

Rows go in through the Repository (and, for rotations, straight into the table the rotation engine writes), so the
report is built from a real SQLite vault exactly as in the app. The rule engine is a ``StaticEngine``: golden files
test rendering, not rule wording, so a reworded rule does not churn them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from keyhygiene.core.models import Exposure, Finding, KeyProfile, KeyRecord, Status
from keyhygiene.core.report.engine import IncidentInfo, PolicyView, ServiceInfo, StaticEngine
from keyhygiene.store.vault import Vault

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
CHECKED = datetime(2024, 5, 30, 9, 30, tzinfo=UTC)
XSS_LABEL = "Withdrawals <script>alert(1)</script>"
FORMULA_LABEL = '=HYPERLINK("http://evil.example/x","click")'
UNICODE_LABEL = "Ünïcødé ключ & «quotes»"

POLICY = PolicyView(
    values={"max_age_days": 90, "expiry_warning_days": 14, "require_ip_restriction_for_trade": True,
            "allow_withdraw": False},
    max_age_days=90,
)

SERVICES = {
    "3commas": ServiceInfo(
        id="3commas",
        name="3Commas",
        category="trading bot",
        incidents=(
            IncidentInfo(date(2022, 12, 28), "About 100,000 users' API keys published",
                         "3Commas confirmed the leaked keys were genuine and asked exchanges to revoke them.",
                         ("https://www.coindesk.com/business/2022/12/28/3commas-ceo-confirms-api-key-leak/",)),
            IncidentInfo(date(2023, 10, 8), "Unauthorized access to customer account data", None,
                         ("https://cryptopotato.com/3commas-security-incident/", "javascript:alert(2)")),
        ),
    ),
    "koinly": ServiceInfo(id="koinly", name="Koinly", category="tax tool"),
}


def _profile(exchange: str, key: str, **kw: object) -> KeyProfile:
    return KeyProfile(exchange=exchange, key=key, **kw)  # type: ignore[arg-type]


def _rec(i: int, exchange: str, label: str, purpose: str, created: datetime | None,
         exposures: list[Exposure] | None = None, note: str | None = None) -> KeyRecord:
    fp = f"AB{i:02d}\u2026Z{i:03d}"
    return KeyRecord(
        id=f"k000000{i}", exchange=exchange, label=label, purpose=purpose, fingerprint=fp,
        key_sha256=f"{i:064x}", created_at=created, added_at=datetime(2024, 1, 2, tzinfo=UTC),
        updated_at=datetime(2024, 1, 2, tzinfo=UTC), exposures=exposures or [], note=note,
    )


def populate(vault: Vault) -> None:
    """Six keys covering every state the report renders, two inspections each at most, three rotations."""
    repo = vault.repo
    recs = [
        _rec(1, "binance", "Main trading (3Commas)", "bot", datetime(2022, 3, 1, tzinfo=UTC),
             [Exposure("3commas", shared_at=date(2022, 5, 1))]),
        _rec(2, "kraken", XSS_LABEL, "trading", datetime(2024, 4, 20, tzinfo=UTC),
             note="<b>note</b> from the user"),
        _rec(3, "kucoin", "Koinly tax read-only", "tax", None, [Exposure("koinly", shared_at=date(2024, 1, 10))]),
        _rec(4, "okx", FORMULA_LABEL, "other", datetime(2022, 5, 20, tzinfo=UTC)),
        _rec(5, "bybit", UNICODE_LABEL, "bot", datetime(2023, 1, 5, tzinfo=UTC),
             [Exposure("3commas", shared_at=date(2023, 2, 1), revoked_at=date(2023, 6, 1)),
              Exposure("my-own-bot", shared_at=None)]),
        _rec(6, "coinbase", "Rotated spot key", "trading", datetime(2024, 5, 10, tzinfo=UTC)),
    ]
    with vault.db.transaction() as c:
        for r in recs:
            repo.insert_key(c, r)
    repo.record_inspection("k0000001", _profile(
        "binance", "AB01\u2026Z001", permissions=["read", "spot_trade", "futures_trade"], ip_restricted=False,
        created_at=datetime(2022, 3, 1, 8, 0, tzinfo=UTC), is_master=True), at=datetime(2024, 5, 1, tzinfo=UTC))
    repo.record_inspection("k0000001", _profile(
        "binance", "AB01\u2026Z001", permissions=["read", "spot_trade", "futures_trade"], ip_restricted=False,
        created_at=datetime(2022, 3, 1, 8, 0, tzinfo=UTC), is_master=True), at=CHECKED)
    repo.record_inspection("k0000002", _profile(
        "kraken", "AB02\u2026Z002", permissions=["read", "spot_trade", "withdraw"], ip_restricted=None,
        expires_at=datetime(2024, 6, 10, tzinfo=UTC)), at=CHECKED)
    repo.record_inspection("k0000003", _profile(
        "kucoin", "AB03\u2026Z003", permissions=["read"], ip_restricted=True,
        ip_whitelist=["203.0.113.7", "203.0.113.8"], is_master=False), at=CHECKED)
    repo.record_inspection("k0000005", _profile(
        "bybit", "AB05\u2026Z005", status=Status.INVALID_KEY, message="API key is invalid."),
        at=datetime(2024, 5, 2, tzinfo=UTC))
    repo.record_inspection("k0000006", _profile(
        "coinbase", "AB06\u2026Z006", permissions=["read", "spot_trade"], ip_restricted=True,
        ip_whitelist=["198.51.100.4"], other=["wallet:accounts:read"]), at=CHECKED)
    rotations = [
        (1, "k0000006", "done", "2024-05-09T10:00:00Z", "2024-05-10T11:00:00Z", "2024-05-10T11:00:00Z",
         "OLD6\u2026Q006", "AB06\u2026Z006", "2024-05-10T10:55:00Z"),
        (2, "k0000004", "cancelled", "2024-03-01T09:00:00Z", "2024-03-01T09:20:00Z", "2024-03-01T09:20:00Z",
         "AB04\u2026Z004", None, None),
        (3, "k0000001", "revoke_old", "2024-05-31T18:00:00Z", "2024-05-31T18:30:00Z", None,
         "AB01\u2026Z001", "NEW1\u2026N001", None),
    ]
    with vault.db.transaction() as c:
        for r in rotations:
            c.execute(
                "INSERT INTO rotations(id, key_id, state, started_at, updated_at, finished_at, old_fingerprint,"
                " new_fingerprint, old_dead_at, data) VALUES (?,?,?,?,?,?,?,?,?,?)", (*r, json.dumps({})),
            )


def _f(rule: str, severity: str, title: str, detail: str, fix: str) -> Finding:
    return Finding(rule=rule, severity=severity, title=title, detail=detail, fix=fix)


FINDINGS: dict[str, list[Finding]] = {
    "k0000001": [
        _f("max_age", "medium", "Older than 90 days", "Created 2022-03-01, 823 days ago.",
           "Rotate the key: make a new one and delete this one."),
        _f("incident_exposure", "critical", "Given to 3Commas before its 2022-12-28 key leak",
           "3Commas confirmed that about 100,000 API keys were published.",
           "Delete this key on Binance now and make a new one."),
        _f("trade_without_ip", "high", "Trading allowed from any IP address",
           "Anyone holding the key can trade from anywhere.", "Restrict the key to the bot's IP addresses."),
    ],
    "k0000002": [
        _f("withdraw_enabled", "critical", "Withdrawals enabled <b>now</b>",
           "Whoever holds this key can move funds off the exchange.", "Turn off withdrawals: <i>API settings</i>."),
        _f("expiring", "medium", "Expires in 8 days", "Kraken says the key expires on 2024-06-10.",
           "Plan a rotation before 2024-06-10."),
    ],
    "k0000003": [
        _f("shared_third_party", "low", "Given to Koinly", "Koinly has read access to this account.",
           "Keep it read-only and IP-restricted."),
    ],
    "k0000004": [
        _f("max_age", "medium", "Older than 90 days", "Created 2022-05-20.", "=cmd|' /C calc'!A0"),
        _f("never_inspected", "info", "Never inspected", "No audit has looked at this key.", "Run an audit."),
    ],
    "k0000005": [
        _f("rejected", "high", "The exchange rejects this key", "Bybit answered invalid_key.",
           "Delete it from the vault if it was revoked on purpose."),
    ],
}

BLAST = {
    "k0000001": "Could buy and sell spot and futures on Binance from anywhere; cannot withdraw.",
    "k0000002": "Could withdraw every coin from the Kraken account.",
    "k0000003": "Could read balances and trade history on KuCoin; cannot trade or withdraw.",
}


def engine() -> StaticEngine:
    return StaticEngine(policy=POLICY, findings=FINDINGS, services=SERVICES, blast=BLAST)
