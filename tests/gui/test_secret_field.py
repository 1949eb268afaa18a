"""The credential field: a secret goes in (typing, paste) but never out by the clipboard or a drag, shown or not.

Assertions compare with ``in``/``==`` into a bool first, so a failure never prints the secret.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QClipboard, QContextMenuEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMenu

from keyhygiene.ui.widgets import SecretField

SENTINEL = "what the user copied before"


@pytest.fixture
def field(qtbot) -> SecretField:  # type: ignore[no-untyped-def]
    f = SecretField("API secret", reveal_seconds=60)
    qtbot.addWidget(f)
    f.show()
    qtbot.waitExposed(f)
    return f


@pytest.fixture
def clipboard(qapp) -> Iterator[QClipboard]:  # type: ignore[no-untyped-def]
    cb = QGuiApplication.clipboard()
    cb.setText(SENTINEL)
    yield cb
    cb.clear()


def _clipboard_holds(cb: QClipboard, value: str, mode: QClipboard.Mode = QClipboard.Mode.Clipboard) -> bool:
    return value in cb.text(mode)


@pytest.mark.parametrize("shown", [False, True], ids=["hidden", "shown"])
def test_copy_and_cut_shortcuts_leave_the_clipboard_alone(field: SecretField, clipboard: QClipboard, qtbot,  # type: ignore[no-untyped-def]
                                                          secret, shown: bool) -> None:
    value = secret("SK", 32)
    field.setText(value)
    field.toggle.setChecked(shown)
    assert field.shown is shown
    field.edit.selectAll()
    for key, mods in ((Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier),
                      (Qt.Key.Key_Insert, Qt.KeyboardModifier.ControlModifier),  # the other Copy binding
                      (Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)):
        qtbot.keyClick(field.edit, key, mods)
        leaked = _clipboard_holds(clipboard, value)
        assert not leaked, f"{key.name} put the secret on the clipboard"
    assert clipboard.text() == SENTINEL
    kept = field.text() == value
    assert kept, "Ctrl+X removed the secret from the field"


# A popup menu grabs the keyboard, which the offscreen platform cannot do.
@pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard", extend=True)
def test_context_menu_has_paste_but_no_copy_or_cut(field: SecretField, clipboard: QClipboard, qtbot,  # type: ignore[no-untyped-def]
                                                   secret) -> None:
    value = secret("SK", 32)
    field.setText(value)
    field.toggle.setChecked(True)
    field.edit.selectAll()
    pos = QPoint(5, 5)
    QApplication.sendEvent(field.edit, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                         field.edit.mapToGlobal(pos)))
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    try:
        names = {a.objectName(): a for a in menu.actions()}
        for name in ("edit-copy", "edit-cut"):  # if offered, use it as a user would
            if name in names and names[name].isEnabled():
                names[name].trigger()
        assert "edit-copy" not in names and "edit-cut" not in names
        assert names["edit-paste"].isEnabled()
    finally:
        menu.close()
    leaked = _clipboard_holds(clipboard, value)
    assert not leaked, "the context menu put the secret on the clipboard"


@pytest.mark.parametrize("shown", [False, True], ids=["hidden", "shown"])
def test_paste_into_the_field_still_works(field: SecretField, clipboard: QClipboard, qtbot,  # type: ignore[no-untyped-def]
                                          secret, shown: bool) -> None:
    value = secret("SK", 32)
    field.toggle.setChecked(shown)
    clipboard.setText(value)
    field.edit.setFocus()
    qtbot.keyClick(field.edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    pasted = field.text() == value
    assert pasted


def test_no_drag_out_and_input_methods_stay_told_it_is_sensitive(field: SecretField) -> None:
    assert not field.edit.dragEnabled()
    field.toggle.setChecked(True)
    # QLineEdit.setEchoMode(Normal) drops these hints; shown, the secret must still stay out of IME dictionaries.
    hints = field.edit.inputMethodHints()
    assert hints & Qt.InputMethodHint.ImhSensitiveData and hints & Qt.InputMethodHint.ImhNoPredictiveText
    field.toggle.setChecked(False)
    assert field.edit.inputMethodHints() & Qt.InputMethodHint.ImhHiddenText


def test_selecting_a_shown_secret_does_not_publish_the_primary_selection(field: SecretField, qtbot,  # type: ignore[no-untyped-def]
                                                                         secret) -> None:
    cb = QGuiApplication.clipboard()
    if not cb.supportsSelection():
        pytest.skip("no primary selection on this platform (run under X11, e.g. xvfb-run with QT_QPA_PLATFORM=xcb)")
    value = secret("SK", 32)
    field.setText(value)
    field.toggle.setChecked(True)
    field.edit.setFocus()
    field.edit.end(False)
    qtbot.keyClick(field.edit, Qt.Key.Key_Home, Qt.KeyboardModifier.ShiftModifier)  # select by keyboard
    assert field.edit.hasSelectedText()
    qtbot.mouseDClick(field.edit, Qt.MouseButton.LeftButton)  # and by mouse
    qtbot.mouseRelease(field.edit, Qt.MouseButton.LeftButton)
    leaked = _clipboard_holds(cb, value, QClipboard.Mode.Selection)
    assert not leaked, "the shown secret became the primary selection"


def test_focusing_the_field_focuses_its_edit(field: SecretField) -> None:
    assert field.focusProxy() is field.edit
