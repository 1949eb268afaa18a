"""A finding's long fix and explanation in the detail pane: wrapped to the card (a long path or URL included, at
1.5x the font), never cut, and selectable so a user can copy a command, a path or an address out of it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from keyhygiene.core.rules.base import finding
from keyhygiene.core.severity import Severity
from keyhygiene.ui.detail_pane import FindingCard
from keyhygiene.ui.widgets import select_all
from tests.helpers.gui import save_shot

LONG_PATH = "/home/trader/bots/freqtrade-strategies/user_data/config_binance_futures_production.json"
FIX = ("Delete this key now on Binance's API-key page (https://www.binance.com/en/my/settings/api-management); "
       f"then remove the copy in {LONG_PATH} and rotate every other key that file held, since backups, synced "
       "folders and the git history of that folder still hold the old secret in plain text.")
DETAIL = f"The key and its secret were found unencrypted in {LONG_PATH} and in {LONG_PATH}.bak."


def _labels(card: FindingCard) -> list[QLabel]:
    return [lab for lab in card.findChildren(QLabel) if lab.isVisibleTo(card) and lab.text()]


def test_a_long_fix_wraps_within_its_card_and_can_be_copied(qtbot: Any) -> None:
    f = finding("plaintext_copy", Severity.CRITICAL, "Plaintext copy on disk", DETAIL, FIX, paths=[LONG_PATH])
    host = QWidget()
    qtbot.addWidget(host)
    font = QFont(host.font())
    font.setPointSizeF(font.pointSizeF() * 1.5)
    host.setFont(font)
    lay = QVBoxLayout(host)
    card = FindingCard(f, [], host)
    lay.addWidget(card)
    lay.addStretch(1)
    card.more.setChecked(True)  # the explanation too
    width = 360  # the detail pane's narrowest
    # Nothing in the card asks for more than the pane's width: no label would be cut on the right.
    assert card.minimumSizeHint().width() <= width, card.minimumSizeHint().width()
    host.resize(width + lay.contentsMargins().left() + lay.contentsMargins().right(), 900)
    host.show()
    qtbot.waitExposed(host)
    QApplication.processEvents()
    labels = _labels(card)
    fix = next(lab for lab in labels if lab.text().startswith("<b>Fix:</b>"))
    for lab in labels:
        right = lab.mapTo(card, lab.rect().topRight()).x()
        assert right <= card.width(), (lab.text()[:40], right, card.width())
        if lab.wordWrap():
            assert lab.height() >= lab.heightForWidth(lab.width()), lab.text()[:40]  # every line shown
    for lab in (fix, card.detail):
        assert lab.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
        # The whole text is there to copy (a path is not shortened to "…").
        assert LONG_PATH.split("/")[-1] in lab.text().replace("\u200b", "")
    # Copied with Ctrl+C, the path is the path: without the zero-width breaks that let it wrap.
    select_all(fix)
    assert fix.hasSelectedText()
    fix.setFocus()
    qtbot.keyClick(fix, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QApplication.clipboard().text()
    assert LONG_PATH in copied and "\u200b" not in copied and copied.startswith("Fix: Delete this key")
    save_shot(host, "p6-after-finding-long-fix")
