"""ui/mnemonics.py: Alt+letter marks for labels that come from the core."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton, QVBoxLayout, QWidget

from keyhygiene.ui.mnemonics import plain, taken_on, with_mnemonics


def letters(texts: list[str]) -> list[str | None]:
    out = []
    for t in texts:
        t = t.replace("&&", "")
        i = t.find("&")
        out.append(t[i + 1].lower() if i >= 0 else None)
    return out


def test_a_words_first_letter_when_free_else_another_letter() -> None:
    assert with_mnemonics(["Store new key", "Back", "Close", "Cancel rotation\u2026"]) == [
        "&Store new key", "&Back", "&Close", "Cancel &rotation\u2026"]
    assert with_mnemonics(["Check again", "Cancel"]) == ["&Check again", "C&ancel"]


def test_letters_taken_elsewhere_are_avoided() -> None:
    assert with_mnemonics(["Back", "Next"], taken={"b"}) == ["B&ack", "&Next"]


def test_a_literal_ampersand_stays_visible_and_is_never_a_mark() -> None:
    out = with_mnemonics(["Q&A", "A"])
    assert plain(out[0]) == "Q&A" and plain(out[1]) == "A"
    assert letters(out) == ["q", "a"]


def test_no_free_letter_leaves_the_label_unmarked() -> None:
    assert with_mnemonics(["ab", "ba", "ab"]) == ["&ab", "&ba", "ab"]


@given(st.lists(st.text(alphabet="abcdefgh &.\u2026\u00e9", min_size=1, max_size=12), max_size=6))
def test_marks_are_distinct_and_the_text_reads_the_same(labels: list[str]) -> None:
    out = with_mnemonics(labels)
    assert [plain(o) for o in out] == labels
    found = [x for x in letters(out) if x is not None]
    assert len(found) == len(set(found))


def test_taken_on_reads_visible_buttons_and_labels(qtbot) -> None:  # type: ignore[no-untyped-def]
    page = QWidget()
    qtbot.addWidget(page)
    lay = QVBoxLayout(page)
    for w in (QLabel("&API key:"), QCheckBox("I &tested it"), QPushButton("Tom && Jerry"), QLabel("no mark")):
        lay.addWidget(w)
    hidden = QPushButton("&Hidden")
    lay.addWidget(hidden)
    hidden.hide()
    page.show()
    assert taken_on(page) == {"a", "t"}
