"""Alt+letter access for buttons whose labels come from the core (the rotation wizard's choices).

The core's wizard is UI-agnostic: its labels are plain text ("Store new key", "Back"). Qt marks a mnemonic with
``&`` in a widget's text; this picks one per label, so the keyboard reaches every button the way it reaches the
rest of the app, without the core knowing about Qt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

_MARKED = re.compile(r"&([^&\s])")


def taken_on(widget: QWidget) -> set[str]:
    """The letters already used as mnemonics by the buttons and labels inside ``widget``."""
    out: set[str] = set()
    for child in (*widget.findChildren(QAbstractButton), *widget.findChildren(QLabel)):
        if child.isVisibleTo(widget):
            out.update(m.lower() for m in _MARKED.findall(child.text().replace("&&", "")))
    return out


def with_mnemonics(labels: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
    """Each label with ``&`` before a letter that neither ``taken`` nor an earlier label uses: a word's first
    letter if one is free, else any letter; a label with no free letter is left without one. Literal ``&`` are
    doubled, as Qt shows them."""
    used = {c.lower() for c in taken}
    out = []
    for label in labels:
        text = label.replace("&", "&&")
        pos = _pick(text, used)
        if pos is None:
            out.append(text)
        else:
            used.add(text[pos].lower())
            out.append(f"{text[:pos]}&{text[pos:]}")
    return out


def plain(text: str) -> str:
    """A widget's text as the user reads it (mnemonic marks removed)."""
    return re.sub(r"&(.)", r"\1", text)


def _pick(text: str, used: set[str]) -> int | None:
    starts = [m.start() for m in re.finditer(r"(?<![\w&])[^\W\d_]", text)]
    letters = [i for i, c in enumerate(text) if c.isalpha() and (i == 0 or text[i - 1] != "&")]
    for i in (*starts, *letters):
        if text[i].lower() not in used:
            return i
    return None
