"""Issue 20: counted nouns in words ("1 key", "4 keys"), and no "(s)" left in what the app shows or writes."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from keyhygiene.core.plural import plural, word_for

ROOT = Path(__file__).resolve().parents[3]


def test_plural() -> None:
    assert plural(1, "key") == "1 key" and plural(4, "key") == "4 keys" and plural(0, "key") == "0 keys"
    assert plural(1200, "file") == "1,200 files" and plural(2, "address") == "2 addresses"
    assert plural(3, "entry") == "3 entries" and plural(2, "inspected key") == "2 inspected keys"
    assert word_for(1, "has") == "has" and word_for(2, "has") == "have" and word_for(2, "is") == "are"


def _texts(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module (f-string fields taken out), or every line of a template."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":  # a template: its text, without the {{ … }} and {% … %} code
        return [(n, re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", line)) for n, line in enumerate(text.splitlines(), 1)]
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.STRING and not tok.string.lstrip("rbfRBF").startswith(('"""', "'''")):
            out.append((tok.start[0], re.sub(r"\{[^{}]*\}", "", tok.string)))
    return out


def test_no_bracketed_plurals_in_texts() -> None:
    """"4 key(s)" reads like a form; user-facing strings and report templates say it in words."""
    pattern = re.compile(r"[a-z]\((s|es)\)")
    offenders = []
    for base in ("keyhygiene", "resources/templates"):
        for path in sorted((ROOT / base).rglob("*")):
            if path.suffix not in (".py", ".j2", ".html") or "sim" in path.parts:
                continue
            for n, text in _texts(path):
                if pattern.search(text):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {text.strip()[:90]}")
    assert offenders == []
