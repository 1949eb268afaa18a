"""The main window: summary strip, key list, detail pane, toolbar, status bar, banners and tray.

It paints from local metadata first (``services.load_rows``); the keychain probe, audits and everything that
needs ccxt run in the background and update the window as they report.
"""

from __future__ import annotations

import logging
import sys
from functools import cache
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QItemSelection, QObject, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QFont, QIcon, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from keyhygiene import APP_NAME
from keyhygiene.core import redact
from keyhygiene.core.exchange_facts import display_name
from keyhygiene.core.plural import plural, word_for
from keyhygiene.core.timeutil import utcnow
from keyhygiene.service.types import KeychainStatus
from keyhygiene.ui import core_bridge, icons, theme
from keyhygiene.ui.clipboard import SecureClipboard
from keyhygiene.ui.column_widths import LabelColumnFit, column_widths
from keyhygiene.ui.delegates import RENDER_BUDGET_S, CellDelegate
from keyhygiene.ui.key_row import STATUS_LABELS, format_relative
from keyhygiene.ui.key_table_model import KEY_ID_ROLE, ROW_ROLE, SCOPES, Col, KeyFilterProxyModel, KeyTableModel
from keyhygiene.ui.services import AuditOutcome, Services

log = logging.getLogger(__name__)

WINDOWS = ("rotation", "export", "scan")


def open_window(name: str, parent: QWidget, services: Services, **kwargs: Any) -> QWidget:
    """The rotation wizard, report export or scanner, shown without blocking. Imported on first use: none of them
    is needed for the window's first frame."""
    if name == "rotation":
        from keyhygiene.ui.rotation_wizard import open_rotation

        return open_rotation(parent, services, **kwargs)
    if name == "export":
        from keyhygiene.ui.export_dialog import open_export

        return open_export(parent, services, **kwargs)
    if name == "scan":
        from keyhygiene.ui.scan_dialog import open_scan

        return open_scan(parent, services, **kwargs)
    raise ValueError(f"no window named {name!r} (one of {', '.join(WINDOWS)})")

WELCOME_PAGE, KEYS_PAGE = 0, 1
FIRST_PAINT_FALLBACK_MS = 1000
SUMMARY_RING_PX = 88  # charts_widget.ScoreRing.sizeHint: the summary strip's height before its contents exist
DETAIL_MIN_WIDTH = 340  # detail_pane.DetailPane's minimum width
FRAME_MS = 16
HOUR_MS = 3600 * 1000


class StandardKey(str):
    """A platform's standard binding, by its ``QKeySequence.StandardKey`` name ("New", "Find"): the actions'
    shortcuts are named before the first frame and set right after it (``_set_shortcuts``), as PySide creates
    QKeySequence's Python type (its ~80 enum members, 5.5 M instructions) the first time it is named."""


class MainWindow(QMainWindow):
    auditCompleted = Signal(object)  # AuditOutcome, after the window has updated
    firstPainted = Signal()

    _shortcuts: list[tuple[QAction, list[str], str]]  # named before the first frame, set after it

    def __init__(self, services: Services, *, settings: QSettings, demo: bool = False, staged: bool = False,
                 parent: QWidget | None = None) -> None:
        """``staged``: build what the first frame shows (menus, toolbar, the key list, the status bar, the frames
        of the summary and the detail pane) and leave the rest (their contents, the banners, the welcome page,
        icons) to ``finish_building``, which runs right after the first frame: ~50 ms sooner on screen. The app
        opens its window that way when there are keys to list; everything else (tests, a second window, an empty
        vault, which shows the welcome page) gets it whole at once."""
        super().__init__(parent)
        self._built = False
        self._steps: list[Any] | None = None  # finish_building's pieces not done yet
        self.services = services
        self.settings = settings
        self.demo = demo
        self._dialogs: list[QWidget] = []
        self._painted = False
        self._first_paint_probe: _FirstPaint | None = None
        self._closed = False  # closed (the app is quitting): the start-up work still queued must not run
        self.setWindowTitle(f"{APP_NAME} \u2014 demo" if demo else APP_NAME)
        self.setAccessibleName(APP_NAME)
        self.setMinimumSize(960, 600)

        self.clipboard = SecureClipboard(services.prefs.clipboard_clear_seconds, self)
        self.clipboard.copied.connect(self._on_clipboard_copied)
        self.clipboard.cleared.connect(self._on_clipboard_cleared)

        self.model = KeyTableModel(self)
        self.model.service_name = services.service_name
        self.proxy = KeyFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._make_central()
        self._make_status_bar()
        self.regions: Any = None  # RegionCycler, from finish_building (no keyboard input before the first frame)
        self.toolbar_buttons: list[QToolButton] = []
        self.tray: Any = None
        self.reminders: Any = None  # ReminderCenter, from finish_building: nothing to remind of before the findings

        services.rowsReset.connect(self._on_services_rows_reset)
        services.rowChanged.connect(self._on_services_row_changed)
        services.rowsChanged.connect(self._on_services_rows_changed)
        services.keychainChecked.connect(self._on_services_keychain_checked)
        services.backendChecked.connect(self._on_services_backend_checked)
        services.auditStarted.connect(self._on_services_audit_started)
        services.auditProgress.connect(self._on_services_audit_progress)
        services.auditFinished.connect(self._on_services_audit_finished)
        services.prefsChanged.connect(self._on_services_prefs_changed)
        services.policyChanged.connect(self._on_services_policy_changed)

        self._tick = QTimer(self)
        self._tick.timeout.connect(self._on_tick_timeout)
        self._tick.start(60_000)
        # Ticks hourly and counts: a QTimer takes at most 2^31 ms (24.8 days), and re-audits may be 30 days apart.
        self._reaudit = QTimer(self)
        self._reaudit.setInterval(HOUR_MS)
        self._reaudit.timeout.connect(self._on_reaudit_timeout)
        self._hours_to_reaudit = 0

        self._apply_policy_to_model()
        self._reload_model()
        self._restore_geometry()
        self._apply_prefs()
        # The window opens on the key list, not on the first toolbar button (which now takes Tab focus).
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        if not staged or not self.model.rowCount():
            self.finish_building()

    def finish_building(self) -> None:
        """The parts the first frame can do without (see ``__init__``), all at once; idempotent."""
        steps = self._pending_steps()
        while steps:
            steps.pop(0)()

    def _pending_steps(self) -> list[Any]:
        """finish_building's pieces not done yet, in order (the same list until it is empty)."""
        if self._steps is None:
            self._steps = [] if self._built else [
                self._finish_helpers, self._load_icons, self._finish_pages,
                lambda: self._fill_summary(self.summary), self._make_detail, self._finish_done]
        return self._steps

    def _build_in_steps(self, then: Any) -> None:
        """``finish_building`` one piece per turn of the event loop (a few ms each: the window answers in between
        instead of being busy for the whole of it), then ``then``."""
        steps = self._pending_steps()
        if steps:
            steps.pop(0)()
        if steps:
            QTimer.singleShot(0, self, lambda: self._build_in_steps(then))  # not once the window is gone
        else:
            then()

    def _finish_helpers(self) -> None:
        self.cells.budget_s = RENDER_BUDGET_S
        from keyhygiene.ui import focus_ring
        from keyhygiene.ui.reminders import ReminderCenter

        # The focus ring filters every event of the application: not while the first frame is painted.
        app = QApplication.instance()
        if isinstance(app, QApplication):
            focus_ring.install(app)
        self.reminders = ReminderCenter(self._evaluate_reminders, self)
        self.reminders.changed.connect(self._on_reminders_changed)
        self.reminders.announce.connect(self._on_reminders_announce)
        self.reminders.set_interval_hours(self.services.prefs.reminder_hours)
        self.filter_edit.setClearButtonEnabled(True)
        self._set_shortcuts()
        self._make_keyboard_regions()
        # The audit's heavy first step waits until the list shows the keys queued (keyhygiene.ui.callbacks); no
        # audit starts before this. Not before the first frame: the viewport is of a class private to Qt, and
        # handing it to Python makes PySide create every Python type of QtWidgets while it looks for that class.
        self.services.after_list_painted.set_target(self.table.viewport())

    def _finish_pages(self) -> None:
        self._make_welcome()
        self._make_banners()

    def _finish_done(self) -> None:
        self._built = True
        if self.summary.property("styledFor") != self.palette().color(self.palette().ColorRole.Base).name():
            self._style_summary(self.summary)  # the theme changed while the window was being built: catch up
        self._update_summary()
        self._update_page()
        self._on_table_selection_changed(QItemSelection(), QItemSelection())

    # ---- actions ------------------------------------------------------------------------------------------
    def _action(self, name: str, text: str, icon: str | None, shortcuts: list[str], tip: str,
                slot: Any) -> QAction:
        a = QAction(text, self)
        a.setObjectName(name)
        if icon:
            a.setProperty("iconName", icon)  # drawn by _load_icons
            a.setIcon(_blank_icon())  # keeps the icon's room in the toolbar until then: no jump
        self._shortcuts.append((a, shortcuts, tip))  # set with the tooltip (which names them) by _set_shortcuts
        a.setToolTip(tip)
        a.setStatusTip(tip)
        a.triggered.connect(slot)
        self.addAction(a)  # shortcuts work even when the toolbar or menu is hidden
        return a

    def _set_shortcuts(self) -> None:
        """The actions' shortcuts, and their tooltips naming them; the filter box's Esc. Right after the first
        frame (nothing takes keyboard input before it, and the menus that show them are closed)."""
        from PySide6.QtGui import QKeySequence, QShortcut

        for a, shortcuts, tip in self._shortcuts:
            seqs: list[QKeySequence] = []
            for s in shortcuts:
                # A platform's standard binding first (it may be several, or none on this platform), then ours.
                found = (QKeySequence.keyBindings(getattr(QKeySequence.StandardKey, s)) if isinstance(s, StandardKey)
                         else [QKeySequence(s)])
                for seq in found:
                    if not seq.isEmpty() and seq not in seqs:
                        seqs.append(seq)
            if seqs:
                a.setShortcuts(seqs)
            keys = seqs[0].toString(QKeySequence.SequenceFormat.NativeText) if seqs else ""
            a.setToolTip(f"{tip} ({keys})" if keys else tip)
        self._shortcuts = []
        clear = QShortcut(QKeySequence("Esc"), self.filter_edit)
        clear.setContext(Qt.ShortcutContext.WidgetShortcut)
        clear.activated.connect(self.filter_edit.clear)

    def _make_actions(self) -> None:
        A = self._action  # noqa: N806 - short alias keeps the table below readable
        S = StandardKey  # noqa: N806
        self._shortcuts = []
        self.act_add = A("add", "&Add key\u2026", "add", [S("New"), "Ctrl+N"],
                         "Store a new exchange key in the keychain", self.open_add_dialog)
        # "A&udit": in the tray menu it sits next to "&Add key…", and one Alt+A cannot reach both.
        self.act_audit = A("audit", "A&udit all", "audit", ["F5", "Ctrl+Shift+A"],
                           "Ask every exchange what each key can do, and evaluate the findings", self.start_audit)
        self.act_cancel = A("cancel", "&Cancel audit", "stop", ["Shift+F5"], "Stop the running audit",
                            self.services.cancel_audit)
        self.act_cancel.setEnabled(False)
        self.act_export = A("export", "&Export report\u2026", "export", ["Ctrl+E"],
                            "Save a hygiene report as HTML, PDF, JSON or CSV", lambda: self.open_window("export"))
        self.act_scan = A("scan", "&Scan for plaintext keys\u2026", "scan", ["Ctrl+Shift+S"],
                          "Find exchange keys lying in bot configs and .env files", lambda: self.open_window("scan"))
        self.act_settings = A("settings", "&Settings\u2026", "settings", [S("Preferences"),
                                                                            "Ctrl+,"],
                              "Policy thresholds, reminders, clipboard and appearance", self.open_settings)
        self.act_rotate = A("rotate", "&Rotate key\u2026", "rotate", ["Ctrl+Shift+R"],
                            "Replace the selected key step by step", lambda: self.rotate_key(self.selected_id()))
        self.act_edit = A("edit", "&Edit key\u2026", "edit", ["F2"], "Change the selected key's label, purpose, "
                          "dates and sharing", lambda: self.open_edit_dialog(self.selected_id()))
        self.act_recheck = A("recheck", "Check &selected key", "audit", ["Ctrl+R"],
                             "Ask the exchange about the selected key again",
                             lambda: self.recheck(self.selected_id()))
        self.act_share = A("share", "Record a s&haring\u2026", "share", ["Ctrl+Shift+H"],
                           "Record that the selected key was given to a service",
                           lambda: self.open_share_dialog(self.selected_id()))
        self.act_copy_key = A("copy_key", "Copy API &key", "copy", ["Ctrl+Shift+C"],
                              "Copy the selected API key; the clipboard is cleared after a delay",
                              lambda: self.copy_api_key(self.selected_id()))
        self.act_copy_id = A("copy_id", "Copy key &id", "key", ["Ctrl+Alt+C"],
                             "Copy the selected key's id for the command line", lambda: self.copy_key_id(
                                 self.selected_id()))
        self.act_remove = A("remove", "Re&move key\u2026", "trash", [S("Delete")],
                            "Delete the selected key from the keychain and KeyHygiene",
                            lambda: self.confirm_remove(self.selected_id()))
        self.act_find = A("find", "&Filter keys", "search", [S("Find"), "Ctrl+F"],
                          "Type to filter the key list", self._focus_filter)
        self.act_details = A("details", "Show &details pane", None, ["Ctrl+D"], "Show or hide the detail pane",
                             self._toggle_details)
        self.act_details.setCheckable(True)
        self.act_details.setChecked(True)
        self.act_quit = A("quit", "&Quit", None, [S("Quit"), "Ctrl+Q"], "Quit KeyHygiene",
                          self.close)
        self.act_guide = A("guide", "&User guide", None, [S("HelpContents"), "F1"],
                           "What to do when a service leaks keys, what each permission allows, IP restriction on "
                           "each exchange, shortcuts (opens in the browser; works offline)", self.open_guide)
        self.act_about = A("about", "&About KeyHygiene", None, ["Ctrl+F1"],
                           "Version of KeyHygiene and of what it runs on", self.show_about)
        self.act_demo = A("demo", "Try the &demo", "demo", [], "Open a separate window on sample keys",
                          self.launch_demo)
        self.key_actions = [self.act_rotate, self.act_edit, self.act_recheck, self.act_share, self.act_copy_key,
                            self.act_copy_id, self.act_remove]
        self.act_rotate.setEnabled(False)

    def all_actions(self) -> list[QAction]:
        return [self.act_add, self.act_audit, self.act_cancel, self.act_export, self.act_scan, self.act_settings,
                *self.key_actions, self.act_find, self.act_details, self.act_quit, self.act_guide, self.act_about]

    def _make_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addActions([self.act_add, self.act_scan, self.act_export])
        m.addSeparator()
        if not self.demo:
            m.addAction(self.act_demo)
            m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Key")
        m.addActions([self.act_edit, self.act_rotate, self.act_recheck, self.act_share])
        m.addSeparator()
        m.addActions([self.act_copy_key, self.act_copy_id])
        m.addSeparator()
        m.addAction(self.act_remove)
        m = mb.addMenu("&View")
        m.addActions([self.act_find, self.act_details])
        m = mb.addMenu("&Tools")
        m.addActions([self.act_audit, self.act_cancel])
        m.addSeparator()
        m.addAction(self.act_settings)
        m = mb.addMenu("&Help")
        m.addAction(self.act_guide)
        m.addSeparator()
        m.addAction(self.act_about)

    def _make_toolbar(self) -> None:
        tb = QToolBar("Main toolbar", self)
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.setIconSize(tb.iconSize().expandedTo(tb.iconSize()))
        tb.addAction(self.act_add)
        tb.addAction(self.act_audit)
        tb.addAction(self.act_cancel)
        tb.addSeparator()
        tb.addAction(self.act_rotate)
        tb.addAction(self.act_export)
        tb.addAction(self.act_scan)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        tb.addWidget(spacer)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter keys\u2026")
        # Its clear button (~3 ms: the style loads its icon) comes with finish_building: it shows only once there
        # is text to clear, and the empty field looks the same with or without it (same pixels, same size hint).
        self.filter_edit.setAccessibleName("Filter keys")
        self.filter_edit.setToolTip("Filter by label, exchange, key, service or finding (Ctrl+F)")
        search = self.filter_edit.addAction(QIcon(), QLineEdit.ActionPosition.LeadingPosition)
        search.setText("Filter")
        search.setProperty("iconName", "search")
        self.filter_edit.setMinimumWidth(220)
        self.filter_edit.textChanged.connect(self.proxy.set_text)
        tb.addWidget(self.filter_edit)
        self.scope_combo = QComboBox()
        self.scope_combo.setAccessibleName("Show")
        self.scope_combo.setToolTip("Which keys to show")
        for value, text in SCOPES:
            self.scope_combo.addItem(text, value)
        self.scope_combo.currentIndexChanged.connect(
            lambda _i: self.proxy.set_scope(str(self.scope_combo.currentData())))
        tb.addWidget(self.scope_combo)
        tb.addSeparator()
        tb.addAction(self.act_settings)
        self.toolbar = tb
        self.addToolBar(tb)

    def _make_keyboard_regions(self) -> None:
        """Every toolbar action reachable by keyboard: its buttons take Tab focus (named for screen readers), F6
        jumps between regions. Nothing of it shows: it comes with finish_building."""
        from keyhygiene.ui.focus_regions import RegionCycler, toolbar_buttons

        self.toolbar_buttons = toolbar_buttons(self.toolbar)
        for b in self.toolbar_buttons:
            a = b.defaultAction()
            if a is not None:
                b.setAccessibleName(a.text().replace("&", "").rstrip("\u2026"))
        self.regions = RegionCycler(self, [
            lambda: self.toolbar, lambda: self.filter_edit, lambda: self.table,
            lambda: self.detail.widget() if getattr(self, "detail", None) is not None else None,
        ])

    def _make_central(self) -> None:
        self.stack = QStackedWidget(self)
        page = QWidget()
        self._keys_page = page
        v = QVBoxLayout(page)
        v.setContentsMargins(10, 8, 10, 4)
        v.setSpacing(8)
        self._page_layout = v
        v.addWidget(self._make_summary(page))

        self.table = QTableView(page)
        self.table.setObjectName("keyTable")
        self.table.setAccessibleName("Keys")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Tab leaves the list for the detail pane's buttons; arrow keys still move between rows (rows are selected
        # whole, so walking cells with Tab only trapped keyboard users in the table).
        self.table.setTabKeyNavigation(False)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        hh = self.table.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setStretchLastSection(False)
        hh.setSectionsMovable(True)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setMinimumSectionSize(48)
        self.cells = CellDelegate(self.table)
        # The first frame draws every cell it shows in full; the drawing budget applies from then on.
        self.cells.budget_s = float("inf")
        self.table.setItemDelegate(self.cells)
        self.table.setIconSize(QSize(22, 22))
        self._default_widths()
        hh.setSectionResizeMode(Col.LABEL, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(Col.EXCHANGE, QHeaderView.ResizeMode.Fixed)
        self._label_fit = LabelColumnFit(self.table)  # Stretch, but never squeezed to "C…"
        self.table.sortByColumn(Col.RISK, Qt.SortOrder.DescendingOrder)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        # A filter that hides every key says so in the list, instead of showing an empty table.
        self.empty_notice: Any = None  # made when first needed: the first frame does without it
        for sig in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                    self.proxy.layoutChanged, self.filter_edit.textChanged, self.scope_combo.currentIndexChanged):
            sig.connect(self._update_empty_notice)
        self.table.doubleClicked.connect(lambda _i: self.open_edit_dialog(self.selected_id()))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for a in self.key_actions:
            self.table.addAction(a)

        # The detail pane's place in the splitter; the pane itself comes with finish_building.
        self.detail_host = QWidget(page)
        self.detail_host.setMinimumWidth(DETAIL_MIN_WIDTH)
        host = QVBoxLayout(self.detail_host)
        host.setContentsMargins(0, 0, 0, 0)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, page)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail_host)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([980, 400])
        v.addWidget(self.splitter, 1)
        self.stack.addWidget(page)
        self.setCentralWidget(self.stack)

    def _default_widths(self) -> None:
        # Measured in the list's font now: called again when the font changes (1.5x left "IP restri…").
        # Wide enough for the longest status it can show ("Permission denied", "Could not check"), not "Key rejec…".
        statuses = [*STATUS_LABELS.values(), "Could not check", "Checking\u2026", "Queued\u2026", "just now"]
        for col, width in column_widths(self.table.font(), self.table.horizontalHeader(), statuses).items():
            self.table.setColumnWidth(col, width)
        self.table.setColumnWidth(Col.EXCHANGE, 40)
        self.table.verticalHeader().setDefaultSectionSize(max(40, self.table.fontMetrics().height() * 2 + 12))

    def _make_welcome(self) -> None:
        from keyhygiene.ui.welcome_page import WelcomePage

        self.welcome = WelcomePage(self, scan_available=True, demo_offered=not self.demo)
        self.welcome.addRequested.connect(self.open_add_dialog)
        self.welcome.scanRequested.connect(lambda: self.open_window("scan"))
        self.welcome.demoRequested.connect(self.launch_demo)
        self.welcome.recheckRequested.connect(self.services.check_keychain)
        self.stack.insertWidget(WELCOME_PAGE, self.welcome)  # the keys page stays the current one

    def _make_banners(self) -> None:
        from keyhygiene.ui.widgets import Banner

        page = self._keys_page
        self.keychain_banner = Banner(page)
        self.rotation_banner = Banner(page)
        self.reminder_banner = Banner(page)
        for i, banner in enumerate((self.keychain_banner, self.rotation_banner, self.reminder_banner)):
            self._page_layout.insertWidget(i, banner)  # hidden until they have something to say
        # Which rotations wait is read on a worker; the banner follows each reading.
        self.services.rotationsChanged.connect(self._refresh_rotation_banner)
        self.services.refresh_open_rotations()

    def _make_detail(self) -> None:
        from keyhygiene.ui.detail_pane import DetailPane

        self.detail = DetailPane(self.detail_host)
        self.detail.set_services(self.services)
        self.detail.rotateRequested.connect(self.rotate_key)
        self.detail.editRequested.connect(self.open_edit_dialog)
        self.detail.shareRequested.connect(self.open_share_dialog)
        self.detail.unshareRequested.connect(self.open_unshare_dialog)
        self.detail.recheckRequested.connect(self.recheck)
        self.detail.removeRequested.connect(self.confirm_remove)
        self.detail.copyKeyRequested.connect(self.copy_api_key)
        self.detail.copyIdRequested.connect(self.copy_key_id)
        self.detail.revealRequested.connect(self.reveal_api_key)
        self.detail.scanRequested.connect(lambda: self.open_window("scan"))
        layout = self.detail_host.layout()
        if layout is not None:
            layout.addWidget(self.detail)
        self.detail.show()  # added to a window already on screen: not shown by itself

    def _make_summary(self, parent: QWidget) -> QWidget:
        """The strip's frame, as tall as its contents will be (no jump when ``_fill_summary`` adds them)."""
        box = QFrame(parent)
        box.setObjectName("summaryStrip")
        box.setAccessibleName("Summary")
        h = QHBoxLayout(box)
        h.setContentsMargins(12, 8, 14, 8)
        h.setSpacing(18)
        box.setMinimumHeight(SUMMARY_RING_PX + 8 + 8 + 2)
        self._style_summary(box)
        self.summary = box
        return box

    def _fill_summary(self, box: QFrame) -> None:
        from keyhygiene.ui.charts_widget import AgeChart, RiskChart, ScoreRing
        from keyhygiene.ui.widgets import FlowLayout, muted

        h = box.layout()
        assert isinstance(h, QHBoxLayout)
        self.score_ring = ScoreRing(box)
        h.addWidget(self.score_ring)
        texts = QVBoxLayout()
        texts.setSpacing(3)
        self.headline = QLabel(box)
        f = QFont(self.headline.font())
        f.setBold(True)
        if f.pointSizeF() > 0:
            f.setPointSizeF(f.pointSizeF() * 1.3)
        self.headline.setFont(f)
        self.headline.setAccessibleName("Headline")
        self.subline = muted(QLabel(box))
        self.subline.setAccessibleName("Vault summary")
        self.severity_counts = QWidget(box)
        self._shown_counts: tuple[int, tuple[tuple[str, int], ...]] | None = None
        self._counts_layout = FlowLayout(self.severity_counts)
        # Both wrap rather than run under the charts at a large font or a narrow window (issue 20).
        for lab in (self.headline, self.subline):
            lab.setWordWrap(True)
            lab.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        texts.addStretch(1)
        texts.addWidget(self.headline)
        texts.addWidget(self.subline)
        texts.addWidget(self.severity_counts)
        texts.addStretch(1)
        h.addLayout(texts, 3)
        self.risk_chart = RiskChart(box)
        self.age_chart = AgeChart(box)
        h.addWidget(self.risk_chart, 2)
        h.addWidget(self.age_chart, 2)

    def _style_summary(self, box: QFrame) -> None:
        pal = self.palette()
        base = pal.color(pal.ColorRole.Base)
        border = pal.color(pal.ColorRole.Mid)
        box.setStyleSheet(f"#summaryStrip {{ background: {base.name()}; border: 1px solid {border.name()};"
                          " border-radius: 8px; }")
        box.setProperty("styledFor", base.name())

    def _make_status_bar(self) -> None:
        sb = self.statusBar()
        self.keychain_label = QLabel("Keychain: checking\u2026")
        self.keychain_label.setAccessibleName("Keychain status")
        self.keychain_label.setToolTip("Where secrets are stored")
        sb.addWidget(self.keychain_label)
        self.audit_label = QLabel("")
        self.audit_label.setAccessibleName("Audit status")
        sb.addPermanentWidget(self.audit_label)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Audit progress")
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v of %m keys")
        self.progress.hide()
        sb.addPermanentWidget(self.progress)
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(self.act_cancel)
        self.cancel_button.setAccessibleName("Cancel audit")
        self.cancel_button.hide()
        sb.addPermanentWidget(self.cancel_button)
        self.clip_label = QLabel("")
        self.clip_label.setAccessibleName("Clipboard")
        sb.addPermanentWidget(self.clip_label)
        self._clip_timer = QTimer(self)
        self._clip_timer.timeout.connect(self._on_clip_timer_timeout)

    # ---- model and summary ------------------------------------------------------------------------------------
    def selected_id(self) -> str | None:
        idx = self.table.selectionModel().selectedRows()
        return str(idx[0].data(KEY_ID_ROLE)) if idx else None

    def select_key(self, key_id: str) -> bool:
        row = self.model.row_of(key_id)
        if row is None:
            return False
        src = self.model.index(row, 0)
        idx = self.proxy.mapFromSource(src)
        if not idx.isValid():
            return False
        self.table.selectRow(idx.row())
        self.table.scrollTo(idx)
        return True

    def _reload_model(self) -> None:
        keep = self.selected_id()
        self.model.set_rows(self.services.rows(), utcnow())
        self._update_summary()
        self._update_page()
        if keep and self.select_key(keep):
            return
        if self._built:
            self.detail.clear()
        self._update_key_actions()

    def _on_services_rows_reset(self) -> None:
        self._reload_model()
        self._refresh_rotation_banner()

    def _on_services_row_changed(self, key_id: str) -> None:
        row = self.services.row(key_id)
        if row is None:
            return
        self.model.update_row(row)
        if self._built and self.detail.key_id == key_id:
            self.detail.show_row(row)
        self._summary_timer_kick()

    def _on_services_rows_changed(self, key_ids: list[str]) -> None:
        rows = [r for r in (self.services.row(k) for k in key_ids) if r is not None]
        if not rows:
            return
        self.model.update_rows(rows)
        if self._built and self.detail.key_id in key_ids:
            self.detail.show_row(self.services.row(self.detail.key_id))
        self._summary_timer_kick()

    def _summary_timer_kick(self) -> None:
        # During an audit hundreds of rows change; recompute the summary at most a few times a second.
        if not hasattr(self, "_summary_timer"):
            self._summary_timer = QTimer(self)
            self._summary_timer.setSingleShot(True)
            self._summary_timer.timeout.connect(self._update_summary)
        if not self._summary_timer.isActive():
            self._summary_timer.start(200)

    def _update_page(self) -> None:
        if not self._built:  # the welcome page is not there yet (and a staged window has keys to show)
            return
        self.stack.setCurrentIndex(KEYS_PAGE if self.model.rowCount() else WELCOME_PAGE)
        self.filter_edit.setEnabled(self.model.rowCount() > 0)
        self.scope_combo.setEnabled(self.model.rowCount() > 0)
        self.act_audit.setEnabled(self.model.rowCount() > 0 and not self.services.auditing)

    def _update_summary(self) -> None:
        if not self._built:
            return
        rows = self.services.rows()
        now = utcnow()
        # The core's summary, as `keyhygiene status` prints it: score, headline and counts come from one place.
        summary = self.services.summary() if rows else None
        self.score_ring.set_score(summary.score if summary is not None else None)
        if not rows:
            self.headline.setText("No keys yet")
        elif summary is None:
            self.headline.setText(plural(len(rows), "key"))
        else:
            self.headline.setText(summary.headline)
        exchanges = len({r.record.exchange for r in rows})
        shared = sum(1 for r in rows if r.record.shared_with)
        last = self.services.last_audit
        checked = [r.checked_at for r in rows if r.checked_at]
        when = max(checked) if checked else None
        parts = [f"{plural(len(rows), 'key')} on {plural(exchanges, 'exchange')}",
                 f"{shared} shared with a service"]
        if not self.services.is_judged:
            parts.append("evaluating findings\u2026")
        elif self.services.auditing:
            parts.append("audit running\u2026")
        elif when is not None:
            parts.append(f"last checked {format_relative(when, now)}")
        elif last is None:
            parts.append("not audited yet")
        self.subline.setText(" \u00b7 ".join(parts))
        found = summary.findings if summary is not None else {}
        total = sum(found.values())
        counts = tuple((sev, int(found.get(sev, 0))) for sev in theme.SEVERITY_NAMES)
        if (total, counts) != self._shown_counts:  # rebuilt only when they change, not on every audit result
            self._shown_counts = (total, counts)
            self._show_counts(total, counts)
        self.risk_chart.set_rows(rows)
        self.age_chart.set_rows(rows, now, self.model.max_age_days)

    def _show_counts(self, total: int, counts: tuple[tuple[str, int], ...]) -> None:
        from keyhygiene.ui.widgets import Chip, clear_layout, muted

        clear_layout(self._counts_layout)
        if total:
            self._counts_layout.addWidget(muted(QLabel(f"{plural(total, 'finding')}:")))
        for sev, n in counts:
            if n:
                self._counts_layout.addWidget(Chip(f"{n} {sev}", f"sev:{sev}",
                                                   f"{n} {sev} {word_for(n, 'finding')} across all keys"))

    def _apply_policy_to_model(self) -> None:
        pol = self.services.policy
        self.model.max_age_days = core_bridge.policy_value(pol, "max_age_days", 90)
        self.model.expiry_warning_days = core_bridge.policy_value(pol, "expiry_warning_days", 14)

    def _on_table_selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        idx = self.table.selectionModel().selectedRows()
        if self._built:
            self.detail.show_row(idx[0].data(ROW_ROLE) if idx else None)
        self._update_key_actions()

    def _update_key_actions(self) -> None:
        has = self.selected_id() is not None
        for a in self.key_actions:
            a.setEnabled(has)
        self.act_rotate.setEnabled(has)
        if self.services.offline is not None:  # a team vault's cache without its server: read-only
            from keyhygiene.ui.team_banner import writing_actions

            for a in writing_actions(self):
                a.setEnabled(False)

    def _on_services_backend_checked(self, reason: object) -> None:
        from keyhygiene.ui.team_banner import show_backend_state

        show_backend_state(self, reason)

    def _on_tick_timeout(self) -> None:
        self.model.tick(utcnow())
        self._update_summary()

    # ---- keychain ---------------------------------------------------------------------------------------------
    def _on_services_keychain_checked(self, status: KeychainStatus) -> None:
        self.welcome.set_keychain_status(status)
        color = theme.severity_color("ok" if status.usable else "critical")
        state = status.state.value
        if status.timed_out is not None:  # a stopped daemon or a hidden prompt: say that, not just "unavailable"
            state = f"did not answer in {status.timed_out:g} s"
        self.keychain_label.setText(f"\u25cf Keychain: {status.backend} \u2014 {state}")
        self.keychain_label.setStyleSheet(f"color: {color.name()};")
        self.keychain_label.setToolTip(status.message)
        self.act_add.setEnabled(status.usable and self.services.offline is None)
        if status.usable or self.services.offline is not None:  # the team vault's banner says it already
            self.keychain_banner.hide()
        else:
            self.keychain_banner.show_message(
                f"The keychain is {status.state.value} ({status.backend})", status.message, "critical",
                [("Check again", self.services.check_keychain)])

    # ---- audit ------------------------------------------------------------------------------------------------
    def start_audit(self) -> bool:
        return self.services.start_audit()

    def recheck(self, key_id: str | None) -> None:
        if not key_id:
            return
        if not self.services.start_audit([key_id]):
            self.statusBar().showMessage("An audit is already running.", 4000)

    def _on_services_audit_started(self, ids: list[str]) -> None:
        self.act_audit.setEnabled(False)
        self.act_cancel.setEnabled(True)
        self.progress.setRange(0, max(1, len(ids)))
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.audit_label.setText(f"Checking {len(ids)} key{'s' if len(ids) != 1 else ''}\u2026")
        # Rows keep their places while results stream in; the list is re-sorted once when the audit ends.
        self.model.set_sort_paused(True)
        self.model.update_rows([r for r in (self.services.row(k) for k in ids) if r is not None])
        self._update_summary()

    def _on_services_audit_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.audit_label.setText(f"Checking keys\u2026 {done}/{total}")

    def _on_services_audit_finished(self, outcome: AuditOutcome) -> None:
        self.act_cancel.setEnabled(False)
        self.progress.hide()
        self.cancel_button.hide()
        self._update_page()
        self.model.update_rows(self.services.rows())
        self.model.set_sort_paused(False)
        if outcome.error:
            self.audit_label.setText("Audit failed")
            self.audit_label.setToolTip(outcome.error)
            self.statusBar().showMessage(f"The audit failed: {outcome.error}", 10000)
        elif outcome.cancelled:
            self.audit_label.setText(f"Audit cancelled after {outcome.checked} of {outcome.total}")
        elif not outcome.total:
            self.audit_label.setText("")  # nothing stored yet (the audit on a first start): nothing was checked
        else:
            # A key can be in both (its secret could not be read, and its row says so): count it once.
            failed = len(set(outcome.failures) | {r.id for r in self.services.rows() if r.audit_state == "failed"})
            at = outcome.finished_at.strftime("%H:%M") if outcome.finished_at else ""
            self.audit_label.setText(f"Audited {outcome.total} key{'s' if outcome.total != 1 else ''} at {at}"
                                     + (f" \u00b7 {failed} could not be checked" if failed else ""))
        self._update_summary()
        if self.detail.key_id:
            self.detail.show_row(self.services.row(self.detail.key_id))
        self.reminders.refresh(announce=True)
        self.auditCompleted.emit(outcome)

    def _on_reaudit_timeout(self) -> None:
        self._hours_to_reaudit -= 1
        if self._hours_to_reaudit > 0:
            return
        self._hours_to_reaudit = self.services.prefs.reaudit_hours
        if not self.services.auditing and self.model.rowCount():
            self.start_audit()

    # ---- reminders --------------------------------------------------------------------------------------------
    def _evaluate_reminders(self) -> list[Any]:
        from keyhygiene.ui.reminders import collect

        return collect(self.services.rows())

    def _on_reminders_changed(self, reminders: list[Any]) -> None:
        if not reminders:
            self.reminder_banner.hide()
            return
        worst = reminders[0]
        more = len(reminders) - 1
        title = f"{len(reminders)} reminder{'s' if len(reminders) != 1 else ''}"
        text = worst.text + (f"  (+{more} more)" if more else "")
        self.reminder_banner.show_message(
            title, text, worst.severity,
            [("Show key", lambda: self.select_key(worst.key_id)), ("Dismiss", self.reminder_banner.hide)])
        self.reminder_banner.setToolTip("\n".join(r.text for r in reminders[:12]))

    def _on_reminders_announce(self, new: list[Any]) -> None:
        if self.tray is not None and self.services.prefs.notify_desktop:
            self.tray.notify(new)

    def _refresh_rotation_banner(self) -> None:
        if not self._built:  # rows read on a worker may land before the banners exist; they ask once built
            return
        waiting = self.services.open_rotations()
        if not waiting:
            self.rotation_banner.hide()
            return
        key_id, step = waiting[0]
        row = self.services.row(key_id)
        label = row.record.label if row else key_id
        more = f" (and {len(waiting) - 1} more)" if len(waiting) > 1 else ""
        self.rotation_banner.show_message(
            "A rotation is waiting", f"The rotation of \u201c{label}\u201d stopped at: {step}{more}.", "medium",
            [("Resume", lambda: self.rotate_key(key_id, resume=True))])

    # ---- dialogs ------------------------------------------------------------------------------------------------
    def _keep(self, w: QWidget) -> QWidget:
        self._dialogs.append(w)
        w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        w.destroyed.connect(lambda _o=None, ref=w: self._forget(ref))
        return w

    def _forget(self, w: QWidget) -> None:
        self._dialogs = [d for d in self._dialogs if d is not w]

    def open_dialogs(self) -> list[QWidget]:
        return list(self._dialogs)

    def _read_only_refused(self) -> bool:
        """A team vault whose server is away shows its cache read-only: every change is refused, with why (the
        detail pane's buttons and the shortcuts come here too, not only the disabled actions)."""
        if self.services.offline is None:
            return False
        from keyhygiene.ui.team_banner import READ_ONLY_TIP  # the same words as the disabled buttons' tooltips

        self.statusBar().showMessage(READ_ONLY_TIP, 10000)
        return True

    def open_add_dialog(self) -> Any:
        if self._read_only_refused():
            return None
        from keyhygiene.ui.add_key_dialog import AddKeyDialog

        dlg = AddKeyDialog(self.services, self)
        dlg.keySaved.connect(self._on_key_saved)
        self._keep(dlg)
        dlg.open()
        return dlg

    def open_edit_dialog(self, key_id: str | None) -> Any:
        if self._read_only_refused():
            return None
        if not key_id or self.services.row(key_id) is None:
            return None
        from keyhygiene.ui.add_key_dialog import AddKeyDialog

        dlg = AddKeyDialog(self.services, self, key_id=key_id)
        dlg.keySaved.connect(self._on_key_saved)
        self._keep(dlg)
        dlg.open()
        return dlg

    def _on_key_saved(self, key_id: str) -> None:
        self._update_page()
        self.select_key(key_id)
        row = self.services.row(key_id)
        if row is not None:
            self.statusBar().showMessage(f"Saved \u201c{row.record.label}\u201d.", 5000)

    def open_share_dialog(self, key_id: str | None) -> Any:
        if self._read_only_refused():
            return None
        if not key_id:
            return None
        from keyhygiene.ui.sharing_dialog import ShareDialog

        dlg = ShareDialog(self.services, key_id, self)
        self._keep(dlg)
        dlg.open()
        return dlg

    def open_unshare_dialog(self, key_id: str, service: str) -> Any:
        if self._read_only_refused():
            return None
        from keyhygiene.ui.sharing_dialog import UnshareDialog

        dlg = UnshareDialog(self.services, key_id, service, self)
        self._keep(dlg)
        dlg.open()
        return dlg

    def open_settings(self) -> Any:
        from keyhygiene.ui.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.services, self)
        self._keep(dlg)
        dlg.open()
        return dlg

    def confirm_remove(self, key_id: str | None) -> Any:
        if self._read_only_refused():
            return None
        row = self.services.row(key_id) if key_id else None
        if row is None or key_id is None:
            return None
        from PySide6.QtWidgets import QMessageBox  # on first use: its type costs ~2 ms at start-up

        box = QMessageBox(QMessageBox.Icon.Warning, "Remove key",
                          f"Remove \u201c{row.record.label}\u201d ({display_name(row.record.exchange)} "
                          f"{row.record.fingerprint}) from the keychain and KeyHygiene?", parent=self)
        box.setInformativeText("The key keeps working on the exchange until you delete it there; to replace it "
                               "safely, rotate it instead.")
        box.setStandardButtons(QMessageBox.StandardButton.Cancel)
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def finished(_r: int) -> None:
            if box.clickedButton() is remove:
                self.services.remove_key(key_id, on_done=lambda _rec: self.statusBar().showMessage(
                    f"Removed \u201c{row.record.label}\u201d.", 5000), on_error=self._show_error)

        box.finished.connect(finished)
        self._keep(box)
        box.open()
        return box

    def open_window(self, name: str, **kwargs: Any) -> Any:
        """Open one of the windows the toolbar offers (``WINDOWS``) without blocking; None if it failed."""
        try:
            w = open_window(name, self, self.services, **kwargs)
        except Exception as exc:
            log.exception("could not open %s", name)
            self._show_error(exc)
            return None
        if w is not None:
            self._dialogs.append(w)
            w.destroyed.connect(lambda _o=None, ref=w: self._forget(ref))
        return w

    def rotate_key(self, key_id: str | None, resume: bool = False) -> Any:
        if self._read_only_refused():
            return None
        if not key_id:
            return None
        return self.open_window("rotation", key_id=key_id, resume=resume)

    def _show_error(self, exc: BaseException) -> None:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Critical, APP_NAME, redact.scrub(exc) or type(exc).__name__,
                          parent=self)
        self._keep(box)
        box.open()

    def open_guide(self) -> None:
        from keyhygiene.ui import help_menu

        if not help_menu.open_guide(self):
            self.statusBar().showMessage("The browser could not be opened; the guide is shown in a window.", 8000)

    def show_about(self) -> None:
        from keyhygiene.ui import help_menu

        box = help_menu.about_box(self, icons.app_pixmap(64))
        self._keep(box)
        box.open()

    def launch_demo(self) -> None:
        from PySide6.QtCore import QProcess

        ok = QProcess.startDetached(sys.executable, ["-m", "keyhygiene", "--demo"])[0]
        self.statusBar().showMessage("Opening the demo in a new window\u2026" if ok
                                     else "The demo could not be started.", 6000)

    # ---- clipboard and reveal -------------------------------------------------------------------------------------
    def copy_api_key(self, key_id: str | None) -> None:
        row = self.services.row(key_id) if key_id else None
        if row is None or key_id is None:
            return
        self.services.fetch_api_key(
            key_id, lambda api_key: self.clipboard.copy(api_key, f"API key of \u201c{row.record.label}\u201d"),
            on_error=self._show_error, context=self)

    def copy_key_id(self, key_id: str | None) -> None:
        if key_id:
            self.clipboard.copy(key_id, f"key id {key_id}", secret=False)

    def reveal_api_key(self, key_id: str) -> None:
        self.services.fetch_api_key(
            key_id, lambda api_key: self.detail.show_revealed(key_id, api_key, self.services.prefs.reveal_seconds),
            on_error=self._show_error, context=self)

    def _on_clipboard_copied(self, what: str) -> None:
        secs = self.clipboard.clear_seconds
        self.statusBar().showMessage(f"Copied the {what}." + (f" The clipboard is cleared in {secs} s."
                                                               if secs else ""), 5000)
        self._on_clip_timer_timeout()
        self._clip_timer.start(1000)

    def _on_clipboard_cleared(self) -> None:
        self._clip_timer.stop()
        self.clip_label.setText("")
        self.statusBar().showMessage("Clipboard cleared.", 3000)

    def _on_clip_timer_timeout(self) -> None:
        ms = self.clipboard.remaining_ms()
        if ms <= 0:
            self._clip_timer.stop()
            self.clip_label.setText("")
            return
        self.clip_label.setText(f"Clipboard clears in {round(ms / 1000)} s")

    # ---- prefs, appearance -----------------------------------------------------------------------------------------
    def _apply_prefs(self) -> None:
        p = self.services.prefs
        self.clipboard.clear_seconds = p.clipboard_clear_seconds
        if self.reminders is not None:
            self.reminders.set_interval_hours(p.reminder_hours)
        if p.reaudit_hours > 0:
            self._hours_to_reaudit = p.reaudit_hours
            self._reaudit.start()
        else:
            self._reaudit.stop()
        apply_appearance(p.appearance)

    def _on_services_prefs_changed(self) -> None:
        self._apply_prefs()
        self.statusBar().showMessage("Settings saved.", 3000)

    def _on_services_policy_changed(self) -> None:
        self._apply_policy_to_model()
        self._reload_model()
        if self.reminders is not None:
            self.reminders.refresh(announce=False)

    def changeEvent(self, e: QEvent) -> None:
        if e.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._on_palette_changed()
        elif e.type() in (QEvent.Type.FontChange, QEvent.Type.ApplicationFontChange):
            self.cells.clear_cache()  # cell pictures are keyed by palette, size and state, not by font
            self._default_widths()
            if hasattr(self, "_label_fit"):  # a font change while the window is still being built
                self._label_fit.fit()
            self.table.viewport().update()
        super().changeEvent(e)

    def _on_palette_changed(self) -> None:
        # Dark mode switched: re-tint icons, re-colour chips, rebuild the pane.
        if not self._built:
            return
        icons.clear_caches()
        self._load_icons()
        self._style_summary(self.summary)
        self.model.tick()
        if self.detail.key_id:
            self.detail.show_row(self.services.row(self.detail.key_id))

    # ---- misc ----------------------------------------------------------------------------------------------------
    def _load_icons(self) -> None:
        """Render (or re-tint) the window's and actions' icons. Drawing them from SVG costs ~25 ms (QtSvg's import
        included): the app does it right after the first frame, tests and dialogs at once."""
        self.setWindowIcon(icons.app_icon())
        for a in self.findChildren(QAction):
            name = a.property("iconName")
            if name:
                a.setIcon(icons.action_icon(str(name)))

    def _update_empty_notice(self, *_args: object) -> None:
        text = self.proxy.empty_text()
        if self.empty_notice is None:
            if not text:
                return
            from keyhygiene.ui.widgets import ViewNotice

            self.empty_notice = ViewNotice(self.table)
        self.empty_notice.set_notice(text)

    def _focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    def _toggle_details(self) -> None:
        self.detail.setVisible(self.act_details.isChecked())

    def _restore_geometry(self) -> None:
        geo = self.settings.value("window/geometry")
        if isinstance(geo, QByteArray | bytes) and geo:
            self.restoreGeometry(QByteArray(geo))
        else:
            self.resize(1360, 840)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray | bytes) and state:
            self.restoreState(QByteArray(state))
        split = self.settings.value("window/splitter")
        if isinstance(split, QByteArray | bytes) and split:
            self.splitter.restoreState(QByteArray(split))
        header = self.settings.value("window/header")
        if isinstance(header, QByteArray | bytes) and header:
            self.table.horizontalHeader().restoreState(QByteArray(header))

    def save_geometry(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("window/header", self.table.horizontalHeader().saveState())
        self.settings.sync()

    def showEvent(self, e: QShowEvent) -> None:
        super().showEvent(e)
        if not self._painted:
            self._painted = True
            # After the first frame is on screen: the things that may be slow. A 0 ms timer started here runs
            # before that frame is painted (and the keychain probe and the judging, on workers, would compete with
            # it for the GIL), so wait for the window's first Paint event; the fallback covers a window that is
            # shown but never painted (minimised at start).
            self._first_paint_probe = _FirstPaint(self, self._after_first_paint)
            self.installEventFilter(self._first_paint_probe)
            QTimer.singleShot(FIRST_PAINT_FALLBACK_MS, self._first_paint_probe.fire)

    def _after_first_paint(self) -> None:
        if self._closed:
            return
        if self._first_paint_probe is not None:
            self.removeEventFilter(self._first_paint_probe)
            self._first_paint_probe = None
        self._build_in_steps(self._after_building)

    def _after_building(self) -> None:
        if self._closed:
            return  # the services may be stopped already: no keychain probe, tray or judging for a closed window
        self.services.check_keychain()
        QTimer.singleShot(0, self, self._make_tray_then_judge)

    def _make_tray_then_judge(self) -> None:
        if self._closed:
            return
        from keyhygiene.ui.tray import Tray, tray_available

        if tray_available():
            self.tray = Tray(self, [self.act_audit, self.act_add, self.act_quit])
            self.tray.show()
        self._refresh_rotation_banner()
        if self.services.is_judged:
            self._on_services_judged()
        else:
            self.services.judged.connect(self._on_services_judged)
            self.services.judge_in_background()
        self.firstPainted.emit()

    def _on_services_judged(self) -> None:
        if self.services.prefs.remind_on_start:
            self.reminders.refresh(announce=True)

    def closeEvent(self, e: QCloseEvent) -> None:
        # The start-up work queued behind the first frame (a timer, the 1 s fallback) would otherwise still run,
        # after the services stopped: closed within a second of opening, it raised "the task pool is shut down".
        self._closed = True
        self.save_geometry()
        self.clipboard.clear_now()
        self.services.cancel_audit()
        for d in list(self._dialogs):
            try:
                d.close()
            except RuntimeError:
                pass
        if self.tray is not None:
            self.tray.hide()
        super().closeEvent(e)


@cache
def _blank_icon() -> QIcon:
    pm = QPixmap(16, 16)
    pm.fill(Qt.GlobalColor.transparent)
    return QIcon(pm)


class _FirstPaint(QObject):
    """Calls ``then`` once, on the event-loop turn after the watched window's first Paint event (children paint in
    the same pass, so by then the whole first frame is done), or when ``fire`` is called first."""

    def __init__(self, window: QWidget, then: Any) -> None:
        super().__init__(window)
        self._then = then
        self._fired = False

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint and not self._fired:
            # One frame later, not on the very next turn: what is queued behind the first frame (its presentation,
            # the user's first input) goes before the start-up work, which keeps the GUI thread busy ~100 ms.
            QTimer.singleShot(FRAME_MS, self.fire)
        return False

    def fire(self) -> None:
        if not self._fired:
            self._fired = True
            self._then()


def apply_appearance(mode: str) -> None:
    """Follow the system, or force light/dark where Qt can (Qt ≥ 6.8 has QStyleHints.setColorScheme)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    hints = app.styleHints()
    setter = getattr(hints, "setColorScheme", None)
    scheme = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(mode, Qt.ColorScheme.Unknown)
    if setter is not None:
        setter(scheme)
    # Styles without a dark palette of their own (Fusion on a bare X server) need ours.
    if mode == "dark" and not theme.is_dark(app.palette()):
        app.setPalette(theme.dark_palette())
    elif mode != "dark" and app.property("keyhygieneDarkPalette"):
        app.setPalette(app.style().standardPalette())
    app.setProperty("keyhygieneDarkPalette", mode == "dark")


