"""The action a fix names, worded per surface: the command line types a command, the window presses a button.

A rule writes its fix once, with the action as a placeholder (``rotate(f)``); ``render`` words it for one surface.
The CLI form is the finding's ``fix`` (JSON, CSV, reports, ``audit``: the public contract); the window shows the
GUI form (issue 20: "the GUI's fixes describe the button to press, not a CLI command"). The GUI wording names the
buttons of the detail pane and the main window (``ui.detail_pane.ACTION_LABELS``, ``ui.main_window``).
"""

from __future__ import annotations

import re
from typing import Literal

Surface = Literal["cli", "gui"]
CLI: Surface = "cli"
GUI: Surface = "gui"

# Unit and record separators: never in a rule's own words, so a placeholder cannot be confused with text.
_MARK, _SEP = "\x1f", "\x1e"
_PLACEHOLDER = re.compile(f"{_MARK}([a-z_]+)((?:{_SEP}[^{_MARK}{_SEP}]*)*){_MARK}")

# action -> (command line form, window form). Arguments fill ``{0}``, ``{1}``... in both.
_FORMS: dict[str, tuple[str, str]] = {
    "rotate": ("keyhygiene rotate {0}", "press \u201cRotate this key\u2026\u201d"),
    "remove": ("keyhygiene keys remove {0}", "press \u201cRemove\u2026\u201d"),
    "add": ("keyhygiene keys add", "press \u201cAdd key\u2026\u201d"),
    "unshare": ("keyhygiene keys unshare {0} {1}", "press \u201cEnd sharing with {2}\u2026\u201d"),
    "share": ("keyhygiene keys share {0} SERVICE@YYYY-MM-DD", "press \u201cEdit\u2026\u201d and add it under sharing"),
    "audit": ("keyhygiene audit", "press \u201cAudit all\u201d"),
    "import": ("keyhygiene scan --import", "press \u201cScan for plaintext keys\u2026\u201d and import the copy"),
}


def action(name: str, *args: str) -> str:
    """A placeholder for ``name`` with its arguments, to be worded by ``render``."""
    if name not in _FORMS:
        raise KeyError(name)
    return _MARK + name + "".join(_SEP + a for a in args) + _MARK


def render(text: str, surface: Surface) -> str:
    """``text`` with every action worded for ``surface``."""
    def word(m: re.Match[str]) -> str:
        args = m.group(2).split(_SEP)[1:]
        return _FORMS[m.group(1)][0 if surface == CLI else 1].format(*args)

    return _PLACEHOLDER.sub(word, text)


def rotate(key_id: str) -> str:
    return action("rotate", key_id)


def remove(key_id: str) -> str:
    return action("remove", key_id)


def unshare(key_id: str, service_id: str, service_name: str) -> str:
    return action("unshare", key_id, service_id, service_name)
