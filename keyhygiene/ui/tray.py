"""The tray icon: reminders as desktop notifications, and a menu to bring the window back or audit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from keyhygiene import APP_NAME
from keyhygiene.ui.icons import app_icon

if TYPE_CHECKING:
    from keyhygiene.core.assessment import Reminder


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


class Tray(QSystemTrayIcon):
    def __init__(self, window: QWidget, actions: list[QAction]) -> None:
        super().__init__(app_icon(), window)
        self.setToolTip(APP_NAME)
        menu = QMenu(window)
        # What a click on the icon does, so the menu's default (bold), with its own Alt+letter like the others.
        show = menu.addAction(f"&Show {APP_NAME}")
        show.triggered.connect(self._on_show_triggered)
        menu.setDefaultAction(show)
        menu.addSeparator()
        for a in actions:
            menu.addAction(a)
        self._menu = menu
        self.setContextMenu(menu)
        self._window = window
        self.activated.connect(self._on_activated)

    def _on_show_triggered(self) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._on_show_triggered()

    def notify(self, reminders: list[Reminder]) -> None:
        if not reminders or not self.supportsMessages():
            return
        worst = reminders[0]  # worst first (core.assessment.sort_reminders)
        keys = len({r.key_id for r in reminders})
        title = (f"{APP_NAME}: {len(reminders)} reminder{'s' if len(reminders) != 1 else ''} about {keys} "
                 f"key{'s' if keys != 1 else ''}")
        body = worst.text if len(reminders) == 1 else worst.text + f"\n\u2026and {len(reminders) - 1} more."
        icon = (QSystemTrayIcon.MessageIcon.Critical if worst.severity == "critical"
                else QSystemTrayIcon.MessageIcon.Warning if worst.severity in ("high", "medium")
                else QSystemTrayIcon.MessageIcon.Information)
        self.showMessage(title, body, icon, 10000)
