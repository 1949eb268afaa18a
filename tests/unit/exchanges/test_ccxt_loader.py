"""exchanges/ccxt_loader.py: ccxt's packages as shells that import an exchange only when it is asked for.

Each check runs in a fresh interpreter: the shells are only installed where ccxt was not imported yet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from keyhygiene.core.exchange_facts import SUPPORTED
from keyhygiene.exchanges import ccxt_loader

ROOT = Path(__file__).resolve().parents[3]


def run(code: str, *, path: list[str] | None = None) -> dict:  # type: ignore[type-arg]
    """Run ``code`` in a fresh interpreter (this tree first on the path); it prints one JSON object last."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*(path or []), str(ROOT)])}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_shells_give_what_the_real_packages_give_without_loading_every_exchange() -> None:
    real = run("""
        import json, ccxt, ccxt.async_support as a
        print(json.dumps({"exchanges": ccxt.exchanges, "async": a.exchanges, "version": ccxt.__version__,
                          "errors": sorted(n for n in dir(ccxt) if n[0].isupper())}))
    """)
    lean = run(f"""
        import json, sys
        from keyhygiene.exchanges import ccxt_loader
        assert ccxt_loader.install() and ccxt_loader.installed()
        import ccxt, ccxt.async_support as a
        from ccxt.base import errors
        from ccxt.async_support.base.exchange import Exchange  # (``a.base`` is a list, as in ccxt itself)
        twelve = {sorted(SUPPORTED)!r}
        for ex in twelve:
            cls = getattr(a, ex)
            assert cls is sys.modules["ccxt.async_support." + ex].__dict__[ex], ex
            assert issubclass(cls, Exchange) and issubclass(getattr(ccxt, ex), ccxt.Exchange), ex
        # binanceusdm imports binance itself: the import system then sets the package's attribute to the module
        import ccxt.async_support.binanceusdm
        from ccxt.async_support import binanceusdm
        assert isinstance(a.binanceusdm, type) and isinstance(a.binance, type) and binanceusdm is a.binanceusdm
        same = [n for n in dir(errors) if n[0].isupper()
                and getattr(ccxt, n) is getattr(errors, n) is getattr(a, n)]
        assert not hasattr(a, "nosuchexchange") and not hasattr(ccxt, "nosuchexchange")
        # the exchanges of both packages (ccxt.binance, ccxt.async_support.binance) that got imported
        loaded = sorted({{m.rsplit(".", 1)[1] for m in sys.modules
                         if m.startswith("ccxt.") and m.rsplit(".", 1)[1] in ccxt.exchanges}})
        print(json.dumps({{"exchanges": ccxt.exchanges, "async": a.exchanges, "version": ccxt.__version__,
                          "errors": sorted(n for n in dir(ccxt) if n[0].isupper()), "same": same,
                          "loaded": loaded}}))
    """)
    assert lean["exchanges"] == real["exchanges"] and lean["async"] == real["async"]
    assert lean["version"] == real["version"]
    assert lean["errors"] == real["errors"]  # Exchange, Precise, every error class, ...
    assert {"BaseError", "NetworkError", "AuthenticationError", "RequestTimeout", "RateLimitExceeded",
            "DDoSProtection", "InvalidNonce", "PermissionDenied"} <= set(lean["same"])
    assert "hyperliquid" not in lean["loaded"] and "hyperliquid" in real["exchanges"]
    assert set(SUPPORTED) <= set(lean["loaded"]) and len(lean["loaded"]) < len(real["async"]) // 3


def test_another_exchange_loads_when_asked_for_and_only_then() -> None:
    got = run("""
        import json, sys
        from keyhygiene.exchanges import ccxt_loader
        ccxt_loader.install()
        import ccxt.async_support as a
        before = "ccxt.async_support.hyperliquid" in sys.modules
        cls = a.hyperliquid
        print(json.dumps({"before": before, "after": "ccxt.async_support.hyperliquid" in sys.modules,
                          "name": cls.__module__ + "." + cls.__name__,
                          "kraken": "ccxt.async_support.kraken" in sys.modules}))
    """)
    assert got == {"before": False, "after": True, "name": "ccxt.async_support.hyperliquid.hyperliquid",
                   "kraken": False}


def test_a_package_layout_it_does_not_know_falls_back_to_the_normal_import(tmp_path: Path) -> None:
    fake = tmp_path / "ccxt"
    (fake / "async_support").mkdir(parents=True)
    (fake / "__init__.py").write_text("__version__ = '9'\nexchanges = ['x']\nif True:\n    LOADED = 'normally'\n")
    (fake / "async_support" / "__init__.py").write_text("exchanges = ['x']\n")
    got = run("""
        import json, logging
        records = []
        logging.basicConfig(level=logging.INFO)
        logging.getLogger().addHandler(type("H", (logging.Handler,), {"emit": lambda s, r: records.append(r)})())
        from keyhygiene.exchanges import ccxt_loader
        ok = ccxt_loader.install()
        import ccxt
        print(json.dumps({"ok": ok, "installed": ccxt_loader.installed(), "loaded": ccxt.LOADED,
                          "log": [r.getMessage() for r in records if r.name.endswith("ccxt_loader")]}))
    """, path=[str(tmp_path)])
    assert got["ok"] is False and got["installed"] is False and got["loaded"] == "normally"
    assert len(got["log"]) == 1 and "Loading all of ccxt" in got["log"][0] and "line 3" in got["log"][0]


@pytest.mark.parametrize("source, why", [
    ("from ccxt.base.errors import *\n", "star import"),
    ("exchanges = sorted(['b', 'a'])\n", "more than a literal"),
    ("import ccxt.base\n", "Import"),
    ("from .binance import binance\n", "ImportFrom"),
])
def test_an_init_it_cannot_mirror_is_refused(tmp_path: Path, source: str, why: str) -> None:
    init = tmp_path / "__init__.py"
    init.write_text(source)
    with pytest.raises(ccxt_loader.LayoutChanged, match=why):
        ccxt_loader._read_init(init)


def test_an_exchange_listed_but_not_imported_by_init_is_refused() -> None:
    got = run("""
        import json
        from pathlib import Path
        from keyhygiene.exchanges import ccxt_loader
        real = ccxt_loader._read_init
        def without_binance(path: Path):
            lazy, plain = real(path)
            lazy.pop("binance")
            return lazy, plain
        ccxt_loader._read_init = without_binance
        print(json.dumps({"ok": ccxt_loader.install(), "ccxt": "ccxt" in __import__("sys").modules}))
    """)
    assert got == {"ok": False, "ccxt": False}


def test_no_shell_where_ccxt_is_already_imported() -> None:
    got = run("""
        import json, sys
        import ccxt
        real = sys.modules["ccxt"]
        from keyhygiene.exchanges import ccxt_loader
        print(json.dumps({"ok": ccxt_loader.install(), "same": sys.modules["ccxt"] is real,
                          "hyperliquid": "ccxt.hyperliquid" in sys.modules}))
    """)
    assert got == {"ok": False, "same": True, "hyperliquid": True}
