"""What the exchange process (service/exchange_worker.py) keeps out of its memory, and that ccxt still works there.

Each case runs in a fresh interpreter: what a process has imported cannot be undone in this one.
"""

from __future__ import annotations

import json
import subprocess
import sys

# The worker's own set-up, then ccxt's base the way the worker's first check loads it; reports what got imported.
_CHILD = """
import json, sys, warnings
warnings.simplefilter("default")  # shown on stderr unless the worker silences it
from keyhygiene.service import exchange_worker
exchange_worker.skip_unused_imports()
from keyhygiene.exchanges import ccxt_loader
ccxt_loader.install()
import ccxt.async_support as ccxt_async
client = ccxt_async.binance({"session": None})
import requests
print(json.dumps({
    "loaded": sorted(m for m, mod in sys.modules.items() if mod is not None),
    "detector": getattr(requests.compat, "chardet", "missing"),
    "client": type(client).__name__,
}))
"""


def _run(code: str) -> tuple[dict[str, object], str]:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_the_exchange_process_never_loads_a_character_detector() -> None:
    # requests (imported by ccxt's synchronous base, which the async classes extend) loads charset_normalizer,
    # which imports every codec of the standard library (~100 modules, ~3.5 MB); the worker's replies are decoded
    # by aiohttp, never by requests.
    out, err = _run(_CHILD)
    loaded = set(out["loaded"])  # type: ignore[arg-type]
    assert not {m for m in loaded if m.split(".")[0] in ("charset_normalizer", "chardet")}
    assert not {m for m in loaded if m.startswith("encodings.") and "cp9" in m}  # no CJK codecs either
    assert out["detector"] is None  # requests' supported "no detector" state, not a stand-in
    assert out["client"] == "binance" and "requests" in loaded
    assert "character detection" not in err, err  # requests' notice of this choice is silenced


def test_skipping_is_only_for_modules_not_imported_yet() -> None:
    code = """
import json, sys
import charset_normalizer
from keyhygiene.service import exchange_worker
exchange_worker.skip_unused_imports()
import charset_normalizer as again
print(json.dumps({"same": again is sys.modules["charset_normalizer"] and again is not None}))
"""
    out, _ = _run(code)
    assert out["same"] is True
