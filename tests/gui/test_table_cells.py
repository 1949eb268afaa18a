"""Issue 20 items 2 and 6 in the key list: an elided cell shows its whole value in a tooltip, the status column is
wide enough for every status, a rejection looks the same whoever says it, and "Expires" keeps one value for one key
between audits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from PySide6.QtCore import Qt

from keyhygiene.core.models import KeyProfile, KeyRecord, Status
from keyhygiene.ui.key_row import STATUS_LABELS, KeyRow
from keyhygiene.ui.key_table_model import Col, KeyTableModel
from tests.helpers.gui import store
from tests.helpers.simkeys import make_key

NOW = datetime(2025, 6, 1, 15, 30, tzinfo=UTC)


def _row(status: Status = Status.OK, expires: datetime | None = None) -> KeyRow:
    rec = KeyRecord(id="k1", exchange="htx", label="Old link", purpose="bot", fingerprint="ab\u2026cd",
                    key_sha256="1", created_at=NOW - timedelta(days=600), added_at=NOW, updated_at=NOW)
    prof = KeyProfile(exchange="htx", key="ab\u2026cd", status=status, permissions=["read"], ip_restricted=False,
                      expires_at=expires)
    return KeyRow(record=rec, profile=prof, checked_at=NOW)


def _cell(model: KeyTableModel, col: Col, role: Qt.ItemDataRole = Qt.ItemDataRole.AccessibleTextRole) -> str:
    return str(model.index(0, col).data(role))


def test_expires_keeps_one_value_through_the_day(qapp) -> None:  # type: ignore[no-untyped-def]
    """HTX says "0 days left": the adapter dates that at the start of the day, so every later moment of that
    day, before and after each audit, the column says "expired" (it used to flip with "today")."""
    start_of_day = NOW.replace(hour=0, minute=0)
    model = KeyTableModel()
    seen = set()
    for later in (timedelta(minutes=1), timedelta(hours=3), timedelta(hours=8, minutes=29)):
        model.set_rows([_row(expires=start_of_day)], start_of_day + later)  # an audit's results at that time
        seen.add(_cell(model, Col.EXPIRES))
        model.tick(NOW + later)
        seen.add(_cell(model, Col.EXPIRES))
    assert seen == {"expired"}


@pytest.mark.parametrize("status", [Status.INVALID_KEY, Status.REJECTED, Status.INVALID_PASSPHRASE,
                                    Status.IP_NOT_ALLOWED])
def test_one_style_for_a_rejected_key(qapp, status: Status) -> None:  # type: ignore[no-untyped-def]
    model = KeyTableModel()
    model.set_rows([_row(status)], NOW)
    critical = model.index(0, Col.CHECKED).data(Qt.ItemDataRole.ForegroundRole)
    ref = KeyTableModel()
    ref.set_rows([_row(Status.INVALID_KEY)], NOW)
    assert critical == ref.index(0, Col.CHECKED).data(Qt.ItemDataRole.ForegroundRole)
    if status in (Status.INVALID_KEY, Status.REJECTED):
        assert _cell(model, Col.CHECKED) == "Key rejected"
    slow = KeyTableModel()
    slow.set_rows([_row(Status.RATE_LIMITED)], NOW)
    assert slow.index(0, Col.CHECKED).data(Qt.ItemDataRole.ForegroundRole) != critical  # not a rejection


def test_elided_cells_show_the_whole_value_and_statuses_fit(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    long_label = "freqtrade config (/home/trader/bots/freqtrade-strategies/user_data/config.json)"
    a = store(vault, make_key("binance"), long_label, purpose="bot",
              shared=[("wundertrading", date(2024, 3, 1)), ("3commas", date(2022, 3, 1))])
    vault.repo.record_inspection(a, KeyProfile(
        exchange="binance", key="x", status=Status.OK, permissions=["read", "spot_trade"], ip_restricted=True,
        ip_whitelist=["203.0.113.8", "198.51.100.23", "192.0.2.44"]))
    b = store(vault, make_key("bybit"), "Retired grid bot", purpose="bot")
    vault.repo.record_inspection(b, KeyProfile(exchange="bybit", key="x", status=Status.PERMISSION_DENIED,
                                               message="no"))
    w = make_window()
    w.resize(960, 600)
    qtbot.wait(50)
    fm = w.table.fontMetrics()
    checked = 0
    for r in range(w.proxy.rowCount()):
        for col in (Col.LABEL, Col.IP, Col.SHARED, Col.CHECKED, Col.AGE, Col.EXPIRES):
            idx = w.proxy.index(r, col)
            # The words the cell shows (chips have none as display text: their accessible text is the words).
            text = str(idx.data(Qt.ItemDataRole.DisplayRole) or idx.data(Qt.ItemDataRole.AccessibleTextRole) or "")
            if not text:
                continue
            room = w.table.columnWidth(col) - 16
            if fm.horizontalAdvance(text) > room or col in (Col.LABEL, Col.SHARED):
                checked += 1
                tip = str(idx.data(Qt.ItemDataRole.ToolTipRole) or "")
                assert tip.startswith(text) or text in tip, (col, text, tip)
    assert checked >= 2
    # The status column takes the longest status whole.
    longest = max((*STATUS_LABELS.values(), "Could not check"), key=fm.horizontalAdvance)
    assert w.table.columnWidth(Col.CHECKED) >= fm.horizontalAdvance(longest) + 16
