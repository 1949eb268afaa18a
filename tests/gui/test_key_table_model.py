"""The key list model on its own: formatting, many rows, filtering and sorting without the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt

from keyhygiene.core.models import Exposure, Finding, KeyProfile, KeyRecord, Status
from keyhygiene.ui.key_row import KeyRow, format_age, format_relative
from keyhygiene.ui.key_table_model import CHIPS_ROLE, ROW_ROLE, Col, KeyFilterProxyModel, KeyTableModel

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _row(i: int, severity: str | None = None, perms: tuple[str, ...] = ("read",)) -> KeyRow:
    rec = KeyRecord(id=f"k{i:05d}", exchange=("binance", "okx", "kraken")[i % 3], label=f"key {i:05d}",
                    purpose="bot", fingerprint=f"ab{i:02d}\u2026cd", key_sha256=str(i),
                    created_at=NOW - timedelta(days=i % 400), added_at=NOW, updated_at=NOW,
                    exposures=[Exposure("3commas")] if i % 7 == 0 else [])
    prof = KeyProfile(exchange=rec.exchange, key=rec.fingerprint, status=Status.OK, permissions=list(perms),
                      ip_restricted=i % 2 == 0)
    findings = [Finding("x", severity, "t", "d", "f")] if severity else []
    return KeyRow(record=rec, profile=prof, checked_at=NOW, findings=findings, score=100 if not severity else 50)


def test_formatting() -> None:
    assert format_age(None) == "unknown" and format_age(0) == "today" and format_age(45) == "45 d"
    assert format_age(200) == "6 mo" and format_age(800) == "2.2 y"
    assert format_relative(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert format_relative(NOW + timedelta(days=9), NOW) == "in 9 d"
    assert format_relative(NOW + timedelta(seconds=20), NOW) == "just now"
    assert format_relative(None, NOW) == "never"


def test_thousands_of_rows_filter_and_sort(qapp) -> None:  # type: ignore[no-untyped-def]
    rows = [_row(i, "critical" if i % 50 == 0 else None, ("read", "withdraw") if i % 10 == 0 else ("read",))
            for i in range(5000)]
    model = KeyTableModel()
    model.set_rows(rows, NOW)
    proxy = KeyFilterProxyModel()
    proxy.setSourceModel(model)
    assert proxy.rowCount() == 5000
    proxy.set_scope("critical")
    assert proxy.rowCount() == 100
    proxy.set_scope("withdraw")
    assert proxy.rowCount() == 500
    proxy.set_scope("all")
    proxy.set_text("key 0004")  # every word must match somewhere: 00004 and 00040 … 00049
    assert proxy.rowCount() == 11
    proxy.set_text("OKX 0004")  # i % 3 == 1 is OKX: 00004, 00040, 00043, 00046, 00049
    assert proxy.rowCount() == 5
    proxy.set_text("")
    proxy.sort(Col.RISK, Qt.SortOrder.DescendingOrder)
    top = proxy.index(0, 0).data(ROW_ROLE)
    assert top.worst_severity == "critical"
    proxy.sort(Col.AGE, Qt.SortOrder.AscendingOrder)
    ages = [proxy.index(r, 0).data(ROW_ROLE).age_days(NOW) for r in range(0, 5000, 500)]
    assert ages == sorted(ages)
    # An update touches one row only and keeps the others' cached display.
    changed = _row(123, "high")
    model.update_row(changed)
    at = model.row_of(changed.id)
    assert at is not None
    assert model.index(at, Col.RISK).data(CHIPS_ROLE)[0][0].startswith("High")


def test_risk_and_expiry_cells(qapp) -> None:  # type: ignore[no-untyped-def]
    r = _row(1, "high", ("read", "spot_trade"))
    r.profile.expires_at = NOW + timedelta(days=2)  # type: ignore[union-attr]
    model = KeyTableModel()
    model.set_rows([r], NOW)
    assert model.index(0, Col.EXPIRES).data(Qt.ItemDataRole.DisplayRole) == "in 2 d"
    # The cell is coloured by the finding about it, not by a threshold of its own: no finding, no colour.
    assert model.index(0, Col.EXPIRES).data(Qt.ItemDataRole.ForegroundRole) is None
    r.findings.append(Finding("expiring", "low", "Key expires in 2 days", "d", "f"))
    model.set_rows([r], NOW)
    assert model.index(0, Col.EXPIRES).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(0, Col.PERMISSIONS).data(CHIPS_ROLE) == [("Read", "neutral"), ("Spot", "warn")]
    assert model.index(0, Col.PERMISSIONS).data(Qt.ItemDataRole.DisplayRole) is None  # painted as chips
    assert model.headerData(Col.RISK, Qt.Orientation.Horizontal) == "Risk"
    assert model.headerData(-1, Qt.Orientation.Horizontal) is None


def test_the_risk_chart_counts_an_info_only_key_as_info_not_low() -> None:
    """The row says "Info · 100" and the report's risk chart has an "info" bar: the header chart agrees."""
    from keyhygiene.ui.charts_widget import risk_buckets

    buckets = {b.color_key: (b.label, b.count) for b in risk_buckets(
        [_row(1, "info"), _row(2, "low"), _row(3, None), _row(4, "critical")])}
    assert buckets["info"] == ("Info", 1)
    assert buckets["low"] == ("Low", 1)
    assert buckets["ok"] == ("Clean", 1) and buckets["critical"] == ("Critical", 1)
