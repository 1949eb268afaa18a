"""The key list: a table model over ``KeyRow`` snapshots and a sort/filter proxy.

Display values are computed once per row, when a cell is first painted, and cached, so painting thousands of rows
costs a dict lookup per cell. The model keeps its rows in the sorted order itself (``sort``): one Python sort over
cheap per-row keys instead of the proxy calling a Python comparison n·log n times (~100 ms for 500 keys at startup).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from keyhygiene.core.exchange_facts import display_name
from keyhygiene.core.models import AUTH_REJECTIONS
from keyhygiene.core.permissions import PERMISSION_LABELS
from keyhygiene.core.severity import Severity
from keyhygiene.core.timeutil import utcnow
from keyhygiene.ui import theme
from keyhygiene.ui.icons import exchange_icon
from keyhygiene.ui.key_row import (
    CHECKING,
    FAILED,
    QUEUED,
    STATUS_LABELS,
    KeyRow,
    format_age,
    format_relative,
    permission_tone,
)

Index = QModelIndex | QPersistentModelIndex


class Col(IntEnum):
    EXCHANGE = 0
    LABEL = 1
    PERMISSIONS = 2
    IP = 3
    AGE = 4
    EXPIRES = 5
    SHARED = 6
    RISK = 7
    CHECKED = 8


HEADERS = {
    Col.EXCHANGE: "",
    Col.LABEL: "Key",
    Col.PERMISSIONS: "Permissions",
    Col.IP: "IP restriction",
    Col.AGE: "Age",
    Col.EXPIRES: "Expires",
    Col.SHARED: "Shared with",
    Col.RISK: "Risk",
    Col.CHECKED: "Last checked",
}
HEADER_TIPS = {
    Col.EXCHANGE: "Exchange",
    Col.LABEL: "Label, exchange and masked API key",
    Col.PERMISSIONS: "What the exchange says this key may do (\u201cdeclared\u201d when you entered it yourself)",
    Col.IP: "Whether the exchange only accepts this key from listed IP addresses",
    Col.AGE: "Time since the key was created on the exchange",
    Col.EXPIRES: "When the key, or its trading permission, expires",
    Col.SHARED: "Services this key is currently given to",
    Col.RISK: "Worst finding and the key's hygiene score (100 = nothing to fix)",
}

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
CHIPS_ROLE = Qt.ItemDataRole.UserRole + 3  # list[tuple[text, tone]] painted by ChipDelegate
KEY_ID_ROLE = Qt.ItemDataRole.UserRole + 4
SUBTITLE_ROLE = Qt.ItemDataRole.UserRole + 5  # second line of the label cell: "Binance · 70ce…40de"
# Everything a cell shows, as one hashable tuple (see ``cell_content``): the view's delegate paints from it with a
# single call into the model per cell, and caches the picture under it (keyhygiene/ui/delegates.py).
CELL_ROLE = Qt.ItemDataRole.UserRole + 6


class _Display:
    """One row's formatted cells. A plain class (no dataclass: Python 3.11 compiles each generated method, ~0.4 ms
    of the start-up for a private record that is never compared or printed; issue 21)."""

    __slots__ = ("text", "tips", "chips", "fg", "subtitle", "exchange", "cells")

    def __init__(self, text: dict[int, str], tips: dict[int, str], chips: dict[int, list[tuple[str, str]]],
                 fg: dict[int, str], subtitle: str = "", exchange: str = "") -> None:
        self.text = text
        self.tips = tips
        self.chips = chips
        self.fg = fg  # column -> semantic colour name (theme.severity_color)
        self.subtitle = subtitle
        self.exchange = exchange
        self.cells: dict[int, tuple[Any, ...]] | None = None

    def cell(self, column: int) -> tuple[Any, ...]:
        if self.cells is None:
            self.cells = {c: cell_content(self, c) for c in Col}
        return self.cells[column]


def cell_content(d: _Display, column: int) -> tuple[Any, ...]:
    """What the delegate paints: ``("icon", exchange)``, ``("label", title, subtitle)``, ``("chips", chips)`` or
    ``("text", text, colour name or "")``. Equal content paints equally, so equal tuples share one cached picture."""
    if column == Col.EXCHANGE:
        return ("icon", d.exchange)
    if column == Col.LABEL:
        return ("label", d.text.get(column, ""), d.subtitle)
    if column in d.chips:
        return ("chips", tuple(d.chips[column]))
    return ("text", d.text.get(column, ""), d.fg.get(column, ""))


class KeyTableModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[KeyRow] = []  # in display order (sorted by ``_sort_column``)
        self._index: dict[str, int] = {}
        self._seq: dict[str, int] = {}  # key id -> order of arrival: ties keep it, as a stable sort would
        self._cache: dict[str, _Display] = {}  # key id -> formatted cells
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._sort_paused = False
        self._sort_dirty = False
        self._now = utcnow()
        self.max_age_days = 90
        self.expiry_warning_days = 14
        self.service_name = lambda s: s  # replaced by the window with the registry's display names

    # ---- content --------------------------------------------------------------------------------------------
    def set_rows(self, rows: list[KeyRow], now: datetime | None = None) -> None:
        self.beginResetModel()
        self._now = now or utcnow()
        self._seq = {r.id: i for i, r in enumerate(rows)}
        self._rows = self._sorted(rows)
        self._index = {r.id: i for i, r in enumerate(self._rows)}
        self._cache.clear()
        self._sort_dirty = False
        self.endResetModel()

    def update_row(self, row: KeyRow) -> None:
        self.update_rows([row])

    def update_rows(self, rows: list[KeyRow]) -> None:
        """Replace (or add) rows, then re-sort once if an order changed. ``dataChanged`` goes out per run of
        adjacent rows, not as one span from the first to the last: the view repaints only the changed rows that are
        on screen (a span covering the list would repaint all of it for every burst of audit results)."""
        changed: list[int] = []
        added = False
        moved = False
        col = self._sort_column
        for row in rows:
            i = self._index.get(row.id)
            if i is None:
                self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
                self._rows.append(row)
                self._index[row.id] = len(self._rows) - 1
                self._seq.setdefault(row.id, len(self._seq))
                self.endInsertRows()
                added = True
                continue
            old = self._rows[i]
            if col >= 0 and not moved and self._sort_key(old, col) != self._sort_key(row, col):
                moved = True
            self._rows[i] = row
            self._cache.pop(row.id, None)
            changed.append(i)
        changed.sort()
        start = 0
        for n in range(1, len(changed) + 1):
            if n == len(changed) or changed[n] != changed[n - 1] + 1:
                self.dataChanged.emit(self.index(changed[start], 0), self.index(changed[n - 1], len(Col) - 1))
                start = n
        if (added or moved) and col >= 0:
            self._resort()

    def tick(self, now: datetime | None = None) -> None:
        """Relative times ('5 min ago') move on; refresh them without resetting selection."""
        self._now = now or utcnow()
        self._cache.clear()
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(Col) - 1))

    def sort_key(self, i: int, column: int) -> Any:
        return self._sort_key(self._rows[i], column)

    # ---- order --------------------------------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column, self._sort_order = column, order
        self._resort()

    def set_sort_paused(self, paused: bool) -> None:
        """While an audit streams results, rows keep their places (no row jumps under the pointer, no re-sort per
        result); the order is brought up to date once when it ends."""
        self._sort_paused = paused
        if not paused and self._sort_dirty:
            self._resort()

    def _sorted(self, rows: list[KeyRow]) -> list[KeyRow]:
        seq = self._seq
        base = sorted(rows, key=lambda r: seq.get(r.id, 0))
        col = self._sort_column
        if col < 0:
            return base
        key: Callable[[KeyRow], Any] = lambda r: self._sort_key(r, col)  # noqa: E731
        try:
            keys = [key(r) for r in base]
            order = sorted(range(len(base)), key=keys.__getitem__,
                           reverse=self._sort_order == Qt.SortOrder.DescendingOrder)
        except TypeError:  # mixed types in one column: compare their text, as the old comparison did
            order = sorted(range(len(base)), key=lambda i: str(key(base[i])),
                           reverse=self._sort_order == Qt.SortOrder.DescendingOrder)
        return [base[i] for i in order]

    def _resort(self) -> None:
        if self._sort_paused:
            self._sort_dirty = True
            return
        self._sort_dirty = False
        new_rows = self._sorted(self._rows)
        if [r.id for r in new_rows] == [r.id for r in self._rows]:
            return
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        old_ids = [self._rows[p.row()].id for p in old_persistent]
        self._rows = new_rows
        self._index = {r.id: i for i, r in enumerate(new_rows)}
        self.changePersistentIndexList(
            old_persistent, [self.index(self._index[kid], p.column()) for kid, p in zip(old_ids, old_persistent,
                                                                                         strict=True)])
        self.layoutChanged.emit()

    def _sort_key(self, row: KeyRow, column: int) -> Any:
        """What a column sorts by; cheap on purpose (no formatting), it runs for every row on every sort."""
        rec = row.record
        if column == Col.EXCHANGE:
            return display_name(rec.exchange).lower(), rec.label.lower()
        if column == Col.LABEL:
            return rec.label.lower()
        if column == Col.PERMISSIONS:
            perms = row.permissions
            if perms is None:
                return -1
            return (3 if "withdraw" in perms else 0) + (2 if "transfer" in perms else 0) + len(perms)
        if column == Col.IP:
            return {"None": 0, "—": 1, "Unknown": 1}.get(row.ip_text, 2)
        if column == Col.AGE:
            days = row.age_days(self._now)
            return -1 if days is None else days
        if column == Col.EXPIRES:
            exp = row.expiry
            return float("inf") if exp is None else exp.timestamp()
        if column == Col.SHARED:
            return len(row.incident_services), len(rec.shared_with)
        if column == Col.RISK:
            return row.severity_rank, -(row.score if row.score is not None else 101)
        if column == Col.CHECKED:
            return row.checked_at.timestamp() if row.checked_at else 0.0
        return None

    def row_at(self, i: int) -> KeyRow:
        return self._rows[i]

    def row_of(self, key_id: str) -> int | None:
        return self._index.get(key_id)

    def rows(self) -> list[KeyRow]:
        return list(self._rows)

    # ---- Qt model API ---------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Col)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Col):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Col(section)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(Col(section))
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        r, c = index.row(), index.column()
        if role == ROW_ROLE:
            return self._rows[r]
        if role == KEY_ID_ROLE:
            return self._rows[r].id
        d = self._display(r)
        if role == Qt.ItemDataRole.DisplayRole:
            if c in d.chips or c == Col.EXCHANGE:
                return None  # painted by a delegate or shown as an icon; the accessible text has the words
            return d.text.get(c, "")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if c == Col.LABEL:
                return f"{d.text.get(c, '')}, {d.subtitle}"
            return d.text.get(c, "")
        if role == CELL_ROLE:
            return d.cell(c)
        if role == SUBTITLE_ROLE and c == Col.LABEL:
            return d.subtitle
        if role == SORT_ROLE:
            return self._sort_key(self._rows[r], c)
        if role == Qt.ItemDataRole.ToolTipRole:
            return d.tips.get(c)
        if role == CHIPS_ROLE:
            return d.chips.get(c)
        if role == Qt.ItemDataRole.DecorationRole and c == Col.EXCHANGE:
            return exchange_icon(self._rows[r].record.exchange)
        if role == Qt.ItemDataRole.ForegroundRole and c in d.fg:
            return theme.severity_color(d.fg[c])
        if role == Qt.ItemDataRole.TextAlignmentRole and c == Col.EXCHANGE:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    # ---- formatting -------------------------------------------------------------------------------------------
    def _display(self, i: int) -> _Display:
        row = self._rows[i]
        d = self._cache.get(row.id)
        if d is None:
            d = self._cache[row.id] = self._format(row)
        return d

    def _format(self, row: KeyRow) -> _Display:
        rec, now = row.record, self._now
        text: dict[int, str] = {}
        tips: dict[int, str] = {}
        chips: dict[int, list[tuple[str, str]]] = {}
        fg: dict[int, str] = {}

        name = display_name(rec.exchange)
        text[Col.EXCHANGE] = name
        tips[Col.EXCHANGE] = name
        text[Col.LABEL] = rec.label
        subtitle = f"{name} \u00b7 {rec.fingerprint}"
        tips[Col.LABEL] = (f"{rec.label}\n{name} \u00b7 purpose: {rec.purpose} \u00b7 id {rec.id}\nAPI key "
                           f"{rec.fingerprint} (masked; the key and secret stay in the OS keychain)")

        perms = row.permissions
        if perms is None:
            chips[Col.PERMISSIONS] = [("not checked", "muted")]
            text[Col.PERMISSIONS] = "not checked"
        else:
            chip_list = [(PERMISSION_LABELS.get(p, p), permission_tone(p)) for p in perms]
            if row.permissions_not_said:
                chip_list.append(("rest not said", "muted"))  # the exchange does not say; never shown as "none"
            chip_list = chip_list or [("none", "muted")]
            if row.profile is not None and row.profile.other:
                chip_list.append((f"+{len(row.profile.other)}", "muted"))
            if row.permissions_declared:
                chip_list.append(("declared", "muted"))
            chips[Col.PERMISSIONS] = chip_list
            text[Col.PERMISSIONS] = ", ".join(t for t, _ in chip_list)
            tips[Col.PERMISSIONS] = "Permissions: " + (", ".join(perms) or "none")
            if row.profile is not None and row.profile.other:
                tips[Col.PERMISSIONS] += "\nExchange-specific: " + ", ".join(row.profile.other)

        text[Col.IP] = row.ip_text
        if row.ip_unrestricted:
            # Coloured as severe as the rule's finding says (none for a read-only key: nothing to colour).
            ip_sev = row.severity_of("no_ip_restriction")
            if ip_sev is not None:
                fg[Col.IP] = ip_sev
            tips[Col.IP] = "The exchange accepts this key from any IP address."
        elif row.profile is not None and row.profile.ip_whitelist:
            tips[Col.IP] = "Allowed from: " + ", ".join(row.profile.ip_whitelist)
        elif row.ip_text == "Unknown":
            tips[Col.IP] = "The exchange does not report whether this key is restricted to IP addresses."

        days = row.age_days(now)
        text[Col.AGE] = format_age(days) if days is not None else "—"
        if days is not None:
            created = row.created_at
            tips[Col.AGE] = f"Created {created:%Y-%m-%d}" if created else ""
            age_sev = row.severity_of("too_old")
            if age_sev is not None and Severity(age_sev).at_least(Severity.MEDIUM):
                fg[Col.AGE] = age_sev
                tips[Col.AGE] += f" \u2014 older than the {self.max_age_days}-day policy"
        else:
            tips[Col.AGE] = "Creation date unknown: the exchange does not report it and none was entered."

        exp = row.expiry
        if exp is None:
            text[Col.EXPIRES] = "—"
        else:
            left_days = (exp - now).total_seconds() / 86400
            text[Col.EXPIRES] = ("expired" if left_days <= 0 else "today" if left_days < 1
                                 else format_relative(exp, now))
            exp_sev = row.severity_of("expired", "expiring")
            if exp_sev is not None:
                fg[Col.EXPIRES] = exp_sev
            which = "trading permission" if row.profile and exp == row.profile.trade_expires_at else "key"
            tips[Col.EXPIRES] = f"The {which} expires {exp:%Y-%m-%d %H:%M} UTC"

        shared = rec.shared_with
        if shared:
            chips[Col.SHARED] = [
                (self.service_name(s), "incident" if s in row.incident_services else "service") for s in shared
            ]
            text[Col.SHARED] = ", ".join(t for t, _ in chips[Col.SHARED])
            tips[Col.SHARED] = "Given to: " + text[Col.SHARED]
            if row.incident_services:
                tips[Col.SHARED] += "\nRed: the service had a security incident while it may have held this key."
        else:
            chips[Col.SHARED] = [("not shared", "muted")]
            text[Col.SHARED] = "not shared"

        worst = row.worst_severity
        if row.findings:
            label = worst.capitalize() if worst else ""
            score = f" \u00b7 {row.score}" if row.score is not None else ""
            chips[Col.RISK] = [(f"{label}{score}", f"sev:{worst}")]
            text[Col.RISK] = f"{label} risk{score}, {len(row.findings)} finding" + (
                "s" if len(row.findings) != 1 else "")
            tips[Col.RISK] = "\n".join(f"\u2022 [{f.severity}] {f.title}" for f in row.findings[:8])
        elif row.score is not None:
            chips[Col.RISK] = [(f"Clean \u00b7 {row.score}", "sev:ok")]
            text[Col.RISK] = f"No findings, score {row.score}"
        else:
            chips[Col.RISK] = [("—", "muted")]
            text[Col.RISK] = "not evaluated"

        if row.audit_state == QUEUED:
            text[Col.CHECKED] = "Queued\u2026"
        elif row.audit_state == CHECKING:
            text[Col.CHECKED] = "Checking\u2026"
        elif row.audit_state == FAILED and not row.profile:
            text[Col.CHECKED] = "Could not check"
            fg[Col.CHECKED] = "high"
        elif row.profile is not None and not row.status_ok:
            # What went wrong matters more than when: the time is in the tooltip.
            text[Col.CHECKED] = STATUS_LABELS.get(str(row.profile.status), str(row.profile.status))
            # Every way the exchange refuses the key looks the same; trouble reaching it (rate limit, network,
            # clock) is another colour.
            fg[Col.CHECKED] = "critical" if str(row.profile.status) in _REJECTIONS else "high"
        else:
            text[Col.CHECKED] = format_relative(row.checked_at, now)
        tip = f"Checked {row.checked_at:%Y-%m-%d %H:%M} UTC" if row.checked_at else "Never checked with the exchange"
        if row.profile is not None and row.profile.message:
            tip += f"\n{row.profile.message}"
        if row.audit_message:
            tip += f"\n{row.audit_message}"
        tips[Col.CHECKED] = tip
        # A cell too narrow for its text is elided ("WunderT…", "203.0.113…"): its tooltip starts with the whole.
        for col, value in text.items():
            if value and value not in tips.get(col, ""):
                tips[col] = f"{value}\n{tips[col]}" if tips.get(col) else value
        return _Display(text=text, tips=tips, chips=chips, fg=fg, subtitle=subtitle, exchange=rec.exchange)


# Filter scopes offered next to the search box.
SCOPES: tuple[tuple[str, str], ...] = (
    ("all", "All keys"),
    ("attention", "Needs attention"),
    ("critical", "Critical only"),
    ("shared", "Shared with a service"),
    ("withdraw", "Withdraw enabled"),
    ("unrestricted", "No IP restriction"),
    ("failing", "Rejected or unchecked"),
)


def scope_accepts(scope: str, row: KeyRow) -> bool:
    if scope == "attention":  # the keys the header counts (core.assessment.needs_attention)
        return row.assessment is not None and row.assessment.needs_attention
    if scope == "critical":
        return row.severity_rank >= 4
    if scope == "shared":
        return bool(row.record.shared_with)
    if scope == "withdraw":
        return "withdraw" in (row.permissions or [])
    if scope == "unrestricted":
        return row.ip_unrestricted
    if scope == "failing":
        return row.profile is None or not row.status_ok
    return True


_REJECTIONS = frozenset(str(s.value) for s in AUTH_REJECTIONS)


class KeyFilterProxyModel(QSortFilterProxyModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._scope = "all"
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_text", text.strip().lower()))

    def set_scope(self, scope: str) -> None:
        self._refilter(lambda: setattr(self, "_scope", scope))

    def _refilter(self, change: Any) -> None:
        # Qt 6.9 replaced invalidateRowsFilter() with a begin/end pair around the change.
        begin = getattr(self, "beginFilterChange", None)
        if begin is None:
            change()
            self.invalidateRowsFilter()
            return
        begin()
        change()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    @property
    def scope(self) -> str:
        return self._scope

    def empty_text(self) -> str | None:
        """What the list says when the filter hides every key (None while something shows, or nothing is
        stored: the welcome page covers that)."""
        model = self.sourceModel()
        total = model.rowCount() if model is not None else 0
        if total == 0 or self.rowCount() > 0:
            return None
        scope = dict(SCOPES).get(self._scope, self._scope)
        keys = f"{total} key" if total == 1 else f"{total} keys"
        if self._text and self._scope != "all":
            what = f"No key in \u201c{scope}\u201d matches \u201c{self._text}\u201d."
        elif self._text:
            what = f"No key matches \u201c{self._text}\u201d."
        else:
            what = f"No key in \u201c{scope}\u201d."
        return f"{what} Clear the filter (Esc in the filter box) to see all {keys}."

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, KeyTableModel):
            return True
        row = model.row_at(source_row)
        if self._scope != "all" and not scope_accepts(self._scope, row):
            return False
        if self._text:
            hay = row.search_text
            return all(word in hay for word in self._text.split())
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        model = self.sourceModel()
        if isinstance(model, KeyTableModel):
            # The source keeps its rows sorted (one keyed Python sort); the proxy only filters, in that order.
            super().sort(-1)
            model.sort(column, order)
            return
        super().sort(column, order)

    def lessThan(self, left: Index, right: Index) -> bool:
        model = self.sourceModel()
        if isinstance(model, KeyTableModel):
            a, b = model.sort_key(left.row(), left.column()), model.sort_key(right.row(), right.column())
        else:
            a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)
