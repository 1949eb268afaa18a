"""Painting the key list without keeping the GUI thread busy: cached cell pictures, a drawing budget, chips that
paint themselves, and work started only after the window has repainted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, Qt
from PySide6.QtGui import QHoverEvent
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QTableView, QWidget

from keyhygiene.core.models import KeyProfile, KeyRecord, Status
from keyhygiene.ui.callbacks import AfterPaint
from keyhygiene.ui.delegates import CellDelegate
from keyhygiene.ui.key_row import KeyRow
from keyhygiene.ui.key_table_model import CELL_ROLE, Col, KeyFilterProxyModel, KeyTableModel
from keyhygiene.ui.widgets import Chip

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _rows(n: int) -> list[KeyRow]:
    out = []
    for i in range(n):
        rec = KeyRecord(id=f"k{i:04d}", exchange="binance", label=f"key {i:04d}", purpose="bot",
                        fingerprint=f"ab{i:02d}\u2026cd", key_sha256=str(i), created_at=NOW - timedelta(days=30),
                        added_at=NOW, updated_at=NOW)
        prof = KeyProfile(exchange="binance", key=rec.fingerprint, status=Status.OK, permissions=["read"],
                          ip_restricted=True)
        out.append(KeyRow(record=rec, profile=prof, checked_at=NOW, findings=[], score=100))
    return out


def _view(qtbot, rows: list[KeyRow], budget_s: float | None = None) -> tuple[QTableView, CellDelegate, KeyTableModel]:  # type: ignore[no-untyped-def]  # noqa: E501
    model = KeyTableModel()
    model.set_rows(rows, NOW)
    proxy = KeyFilterProxyModel()
    proxy.setSourceModel(model)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.verticalHeader().setDefaultSectionSize(40)
    delegate = CellDelegate(view)
    if budget_s is not None:
        delegate.budget_s = budget_s
    view.setItemDelegate(delegate)
    view.resize(1100, 600)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: delegate.renders + delegate.deferred > 0, timeout=3000)
    view._keep = (model, proxy)  # type: ignore[attr-defined]
    return view, delegate, model


def test_cell_role_describes_what_is_painted(qapp) -> None:  # type: ignore[no-untyped-def]
    model = KeyTableModel()
    model.set_rows(_rows(1), NOW)
    assert model.index(0, Col.EXCHANGE).data(CELL_ROLE) == ("icon", "binance")
    assert model.index(0, Col.LABEL).data(CELL_ROLE) == ("label", "key 0000", "Binance \u00b7 ab00\u2026cd")
    assert model.index(0, Col.PERMISSIONS).data(CELL_ROLE) == ("chips", (("Read", "neutral"),))
    assert model.index(0, Col.AGE).data(CELL_ROLE) == ("text", "30 d", "")


def test_equal_cells_share_one_picture_and_repaints_draw_nothing_new(qtbot) -> None:  # type: ignore[no-untyped-def]
    view, delegate, _model = _view(qtbot, _rows(12), budget_s=10.0)  # no deferral on a slow machine
    qtbot.wait(50)
    first = delegate.renders
    # 12 rows x 9 columns on screen, but only the label column differs between rows.
    assert 0 < first < 12 + 9
    view.viewport().repaint()
    assert delegate.renders == first


class _PanelRecorder(QProxyStyle):
    """The application's style, noting each item-view panel it is asked for (hovered or not, and where)."""

    def __init__(self) -> None:
        super().__init__()
        self.panels: list[tuple[bool, QRect]] = []

    def drawPrimitive(self, element, option, painter, widget=None) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        if element == QStyle.PrimitiveElement.PE_PanelItemViewItem:
            self.panels.append((bool(option.state & QStyle.StateFlag.State_MouseOver), QRect(option.rect)))
        super().drawPrimitive(element, option, painter, widget)


def test_a_hovered_cell_gets_the_styles_panel_but_no_new_picture(qtbot) -> None:  # type: ignore[no-untyped-def]
    view, delegate, _model = _view(qtbot, _rows(3), budget_s=10.0)
    style = _PanelRecorder()
    view.setStyle(style)
    try:
        view.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover)  # as styles with hover highlights set it
        view.viewport().repaint()  # pictures for the new style's metrics, if any
        before = delegate.renders
        style.panels.clear()
        cell = view.visualRect(view.model().index(1, Col.AGE))
        at = QPointF(cell.center())
        QApplication.sendEvent(view.viewport(), QHoverEvent(QEvent.Type.HoverMove, at, at, QPointF(-1, -1)))
        view.viewport().repaint()
        hovered = [rect for over, rect in style.panels if over]
        assert hovered and all(rect.intersects(cell) for rect in hovered)
        assert delegate.renders == before  # hover is not part of the picture cache key
    finally:
        view.setStyle(None)  # the recorder goes away with this test; the view must not keep pointing at it


def test_a_spent_budget_shows_text_now_and_pictures_on_the_next_turn(qtbot) -> None:  # type: ignore[no-untyped-def]
    view, delegate, _model = _view(qtbot, _rows(10), budget_s=-1.0)  # every new picture is over budget
    assert delegate.deferred > 0 and delegate.renders == 0
    delegate.budget_s = 1.0
    qtbot.waitUntil(lambda: delegate.renders >= 10, timeout=3000)  # the deferred cells asked to be repainted


def test_the_cache_is_bounded(qtbot) -> None:  # type: ignore[no-untyped-def]
    view, delegate, _model = _view(qtbot, _rows(60))
    delegate._capacity = 20
    delegate.clear_cache()
    for r in range(0, 60, 10):
        view.scrollTo(view.model().index(r, 0))
        view.viewport().repaint()
    assert len(delegate._cache) <= 20


def test_chips_paint_themselves_without_a_style_sheet(qtbot) -> None:  # type: ignore[no-untyped-def]
    chip = Chip("2 critical", "sev:critical")
    qtbot.addWidget(chip)
    assert chip.styleSheet() == ""
    assert chip.sizeHint().width() > chip.fontMetrics().horizontalAdvance("2 critical") + 2 * Chip.PAD_X - 1
    bg, fg = chip.colors()
    assert bg != fg
    pm = chip.grab()
    assert pm.toImage().pixelColor(pm.width() // 2, 1).alpha() > 0  # the pill is filled


def test_summary_counts_are_rebuilt_only_when_they_change(vault, make_window) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers.gui import store
    from tests.helpers.simkeys import make_key

    store(vault, make_key("binance"), "Bot key", purpose="bot")
    w = make_window()
    before = w.severity_counts.findChildren(Chip)
    w._update_summary()
    QApplication.processEvents()
    assert w.severity_counts.findChildren(Chip) == before


def test_after_paint_runs_once_the_requested_repaint_is_done(qtbot) -> None:  # type: ignore[no-untyped-def]
    order: list[str] = []
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)

    class Watch(QObject):
        def eventFilter(self, _obj: object, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                order.append("paint")
            return False

    watch = Watch(widget)
    widget.installEventFilter(watch)
    after = AfterPaint(widget, fallback_ms=5000)
    after.call(lambda: order.append("no target"))
    assert order == ["no target"]  # nothing to wait for: at once
    after.set_target(widget)
    widget.update()
    after.call(lambda: order.append("after"))
    assert order == ["no target"]
    qtbot.waitUntil(lambda: "after" in order, timeout=3000)
    assert order.index("paint") < order.index("after")
    widget.hide()
    after.call(lambda: order.append("hidden"))
    assert order[-1] == "hidden"  # a hidden target never paints: no waiting


def test_after_paint_falls_back_when_no_paint_comes(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    done: list[int] = []
    after = AfterPaint(widget, fallback_ms=50)
    after.set_target(widget)
    after.call(lambda: done.append(1))  # no update() asked: no paint is coming
    qtbot.waitUntil(lambda: done == [1], timeout=3000)


def test_a_font_change_redraws_the_cell_pictures(vault, make_window) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QFont

    from tests.helpers.gui import store
    from tests.helpers.simkeys import make_key

    store(vault, make_key("binance"), "Bot key", purpose="bot")
    w = make_window()
    w.cells.budget_s = 10.0  # no deferral on a busy machine: every new picture is drawn in the repaint
    w.table.viewport().repaint()
    assert w.cells._cache
    before = w.cells.renders
    w.table.viewport().repaint()
    assert w.cells.renders == before  # nothing changed: all from the cache
    f = QFont(w.font())
    f.setPointSizeF(f.pointSizeF() + 2)
    w.setFont(f)
    QApplication.processEvents()
    w.table.viewport().repaint()
    assert w.cells.renders > before  # drawn again in the new font, not blitted from the old pictures
