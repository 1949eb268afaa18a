"""Load JSON the way the bots do: freqtrade accepts comments and trailing commas (rapidjson's parse mode),
Gunbot's config.js is a JavaScript object literal. Strict ``json`` first (the common case), then JSON with
comments and trailing commas removed, then JSON5 for unquoted keys and single quotes."""

from __future__ import annotations

import json
import re
from typing import Any

import json5

# JSON5 is a pure-Python parser (about 100 KB/s): fine for one config file, not for megabytes of anything.
MAX_JSON5_CHARS = 256_000

# `module.exports = {`, `export default {`, `const config = {`, `var config={`
_JS_PREAMBLE = re.compile(
    r"^\s*(?:module\.exports\s*=|exports\.\w+\s*=|export\s+default|(?:const|let|var)\s+[\w$]+\s*=)\s*",
)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def strip_js_wrapper(text: str) -> str:
    body = text.lstrip("\ufeff")
    m = _JS_PREAMBLE.match(body)
    if m:
        body = body[m.end():]
    body = body.rstrip()
    if body.endswith(";"):
        body = body[:-1]
    return body


def strip_comments(text: str) -> str:
    """Remove // and /* */ comments outside double-quoted strings, then trailing commas."""
    out: list[str] = []
    i, n = 0, len(text)
    start = 0
    while i < n:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif ch == "/" and i + 1 < n and text[i + 1] in "/*":
            out.append(text[start:i])
            if text[i + 1] == "/":
                end = text.find("\n", i)
                i = n if end < 0 else end
            else:
                end = text.find("*/", i + 2)
                i = n if end < 0 else end + 2
            start = i
        else:
            i += 1
    out.append(text[start:])
    return _TRAILING_COMMA.sub(r"\1", "".join(out))


def loads_tolerant(text: str) -> Any:
    """Parsed value, or None when the text is neither JSON, commented JSON nor JSON5 (never raises)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    body = strip_js_wrapper(text)
    try:
        return json.loads(strip_comments(body))
    except (ValueError, RecursionError):
        pass
    if len(body) > MAX_JSON5_CHARS:
        return None
    try:
        return json5.loads(body)
    except Exception:  # json5 raises ValueError mostly, but malformed input can surface other errors
        return None
