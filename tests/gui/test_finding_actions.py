"""Acting on findings from the detail pane: end a sharing, rotate, edit, remove."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QMessageBox

from keyhygiene.ui import main_window
from keyhygiene.ui.sharing_dialog import ShareDialog, UnshareDialog
from tests.helpers.gui import WAIT_MS, store
from tests.helpers.simkeys import make_key


def _card(w, rule: str):  # type: ignore[no-untyped-def]
    cards = [c for c in w.detail.cards if c.finding.rule == rule]
    assert cards, [c.finding.rule for c in w.detail.cards]
    return cards[0]


def test_end_sharing_from_a_finding(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("binance"), "Bot", purpose="bot", shared=[("3commas", date(2022, 3, 1))])
    w = make_window()
    w.select_key(kid)
    card = _card(w, "shared_with_leaked_service")
    labels = [b.text() for b in card.buttons]
    assert "Rotate this key\u2026" in labels
    end = next(b for b in card.buttons if "3Commas" in b.text())
    end.click()
    dlg = next(d for d in w.open_dialogs() if isinstance(d, UnshareDialog))
    assert dlg.service == "3commas" and dlg.end_day() == date.today()
    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS):
        dlg.ok_button.click()
    rec = vault.get_key(kid)
    assert rec.shared_with == [] and rec.exposures[0].revoked_at == date.today()
    # The row and the pane follow: the key is no longer "shared" (the leak itself stays on record).
    qtbot.waitUntil(lambda: w.detail.unshare_buttons == [], timeout=WAIT_MS)
    assert w.services.row(kid).record.shared_with == []


def test_a_finding_card_keeps_qwidget_actions(vault, make_window) -> None:  # type: ignore[no-untyped-def]
    # Its buttons' actions once sat in an attribute named ``actions``, hiding QWidget.actions() on the card.
    kid = store(vault, make_key("binance"), "Bot", purpose="bot", shared=[("3commas", date(2022, 3, 1))])
    w = make_window()
    w.select_key(kid)
    card = _card(w, "shared_with_leaked_service")
    assert card.actions() == []  # a method still, and no QAction was added to the card
    assert len(card.button_actions) == len(card.buttons) > 0


def test_unshare_rejects_an_end_before_the_start(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QDate

    kid = store(vault, make_key("binance"), "Bot", shared=[("koinly", date(2024, 6, 1))])
    w = make_window()
    dlg = w.open_unshare_dialog(kid, "koinly")
    dlg.day.setDate(QDate(2024, 1, 1))
    dlg.ok_button.click()
    qtbot.waitUntil(lambda: "before the sharing began" in dlg.error_text(), timeout=WAIT_MS)
    assert vault.get_key(kid).shared_with == ["koinly"]


def test_record_a_sharing(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("kraken"), "Tax")
    w = make_window()
    w.select_key(kid)
    w.detail.share_button.click()
    dlg = next(d for d in w.open_dialogs() if isinstance(d, ShareDialog))
    dlg.service.setEditText("Koinly")  # typed, resolved to the registry id by the vault
    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS):
        dlg.ok_button.click()
    assert vault.get_key(kid).shared_with == ["koinly"]
    qtbot.waitUntil(lambda: any(c.finding.rule == "shared_with_third_party" for c in w.detail.cards),
                    timeout=WAIT_MS)


def test_rotate_button_opens_the_rotation_window(vault, make_window, monkeypatch,
                                                 qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QDialog

    kid = store(vault, make_key("binance"), "Bot", shared=[("3commas", date(2022, 3, 1))])
    opened: list[tuple[str, dict]] = []

    def fake_open(name, parent, services, **kw):  # type: ignore[no-untyped-def]
        opened.append((name, kw))
        d = QDialog(parent)
        d.show()
        return d

    monkeypatch.setattr(main_window, "open_window", fake_open)
    w = make_window()
    w.select_key(kid)
    next(b for b in _card(w, "shared_with_leaked_service").buttons if b.text().startswith("Rotate")).click()
    assert opened == [("rotation", {"key_id": kid, "resume": False})]
    w.act_rotate.trigger()
    assert opened[-1] == ("rotation", {"key_id": kid, "resume": False})


def test_a_window_that_fails_to_open_says_so(make_window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(name, parent, services, **kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("the export window could not be built")

    monkeypatch.setattr(main_window, "open_window", broken)
    w = make_window()
    assert w.open_window("export") is None
    assert any("could not be built" in getattr(d, "text", lambda: "")() for d in w.open_dialogs())


def test_edit_and_remove_from_the_pane(vault, make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    kid = store(vault, make_key("okx"), "To remove")
    w = make_window()
    w.select_key(kid)
    w.detail.edit_button.click()
    assert any(getattr(d, "key_id", None) == kid for d in w.open_dialogs())
    for d in w.open_dialogs():
        d.close()
    w.detail.remove_button.click()
    box = next(d for d in w.open_dialogs() if isinstance(d, QMessageBox))
    remove = next(b for b in box.buttons() if b.text() == "Remove")
    remove.click()
    qtbot.waitUntil(lambda: w.model.row_of(kid) is None, timeout=WAIT_MS)
    assert vault.list_keys() == []
    assert w.stack.currentIndex() == 0  # back to the welcome page


def test_a_waiting_rotation_offers_resume(vault, make_window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from keyhygiene.core.rotation.states import Step
    from keyhygiene.store.rotation_journal import SqliteJournal as Journal

    kid = store(vault, make_key("bybit"), "Half rotated")
    Journal(vault.db, hook=None).start(kid, vault.get_key(kid).fingerprint, Step.NEW_KEY, {})
    opened: list[tuple[str, dict]] = []
    monkeypatch.setattr(main_window, "open_window", lambda name, parent, services, **kw: opened.append((name, kw)))
    w = make_window()
    assert w.rotation_banner.isVisibleTo(w)
    assert "Half rotated" in w.rotation_banner.text()
    resume = next(b for b in w.rotation_banner.buttons() if b.text() == "Resume")
    resume.click()
    assert opened == [("rotation", {"key_id": kid, "resume": True})]


def test_a_finding_shows_the_button_to_press_and_explains_behind_more(vault, make_window,  # type: ignore[no-untyped-def]
                                                                       qtbot) -> None:
    """Issue 20: the window's fix names the button (the CLI keeps its command); the explanation sits behind a
    More toggle that the keyboard reaches."""
    from PySide6.QtCore import Qt

    kid = store(vault, make_key("binance"), "Bot", purpose="bot", shared=[("3commas", date(2022, 3, 1))])
    w = make_window()
    w.show()
    w.select_key(kid)
    card = _card(w, "shared_with_leaked_service")
    fix = card.finding.fix_for("gui")
    assert "keyhygiene rotate" in card.finding.fix  # the public field: the command line's wording
    assert "keyhygiene" not in fix and "Rotate this key\u2026" in fix
    assert [b.text() for b in card.buttons].count("Rotate this key\u2026") == 1  # the button the text names
    assert card.more.text() == "More" and not card.detail.isVisible()
    assert card.more.focusPolicy() & Qt.FocusPolicy.TabFocus
    card.more.setFocus()
    qtbot.keyClick(card.more, Qt.Key.Key_Space)
    assert card.more.isChecked() and card.detail.isVisible() and card.more.text() == "Less"
    assert card.detail.text() and card.finding.detail[:20] in card.detail.accessibleName()
    qtbot.keyClick(card.more, Qt.Key.Key_Space)
    assert not card.detail.isVisible()
