"""Keep PySide6's import hook away from the big libraries the exchange layer loads.

Once PySide6 is imported, every ``import`` statement goes through its ``__feature__`` hook, which, the first time
it sees a module, reads that module's whole source (``inspect.getsource``, so into ``linecache``) to find out
whether it mentions PySide6. For ccxt (700 files, 74 MB of source) and its HTTP stack that turns a 0.6 s import
into 0.8 s and ~90 MB more memory, all of it holding the GIL while the GUI thread waits. The hook skips modules
already listed in its ``pyside_feature_dict``; -1 there means "ignore this module". Listing the libraries'
modules by walking their folders needs no import of them (Qt code never imports ccxt).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from types import ModuleType

IGNORE = -1  # the hook's own marker for "not a PySide module"

# What an audit imports for the first time (measured: ccxt.async_support pulls in ~840 modules from these).
EXCHANGE_STACK: tuple[str, ...] = (
    "ccxt", "aiohttp", "aiohappyeyeballs", "aiosignal", "attr", "certifi", "charset_normalizer", "cryptography",
    "frozenlist", "idna", "multidict", "orjson", "propcache", "requests", "urllib3", "yarl", "zlib_ng",
    # the standard library's packages among them; its loaded plain modules are listed by ``_stdlib_loaded``
    "asyncio", "collections", "concurrent", "email", "encodings", "http", "importlib", "json", "re", "urllib",
    # our own layers below the UI, which never import Qt (DESIGN.md)
    "keyhygiene.core", "keyhygiene.exchanges", "keyhygiene.store",
)

_lock = threading.Lock()
_done: set[str] = set()


def _feature_dict() -> MutableMapping[str, int] | None:
    mod = sys.modules.get("shibokensupport.feature") or sys.modules.get("PySide6.support.feature")
    d = getattr(mod, "pyside_feature_dict", None)
    return d if isinstance(d, dict) else None


def _modules_of(package: str) -> Iterator[str]:
    """Dotted names of a package's Python modules, from its folders (``find_spec`` of a top-level name does not
    import it)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return
    if spec is None:
        return
    yield package
    for root in spec.submodule_search_locations or ():
        stack = [(root, package)]
        while stack:
            folder, prefix = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for e in entries:
                name = e.name
                if e.is_dir(follow_symlinks=False):
                    if name != "__pycache__" and name.isidentifier():
                        stack.append((e.path, f"{prefix}.{name}"))
                elif name.endswith(".py") and name != "__init__.py":
                    yield f"{prefix}.{name[:-3]}"
                elif name.endswith(".so") and "." in name:
                    yield f"{prefix}.{name.split('.', 1)[0]}"
            if folder != root:
                yield prefix


def _stdlib_loaded() -> Iterator[str]:
    """Standard-library modules loaded already: ccxt's ``import os`` would otherwise make the hook read os.py."""
    import sysconfig

    raw = sysconfig.get_paths()["stdlib"]
    roots = tuple({os.path.join(raw, ""), os.path.join(os.path.realpath(raw), "")})
    for name, mod in list(sys.modules.items()):
        path = getattr(mod, "__file__", None)
        if isinstance(path, str) and path.startswith(roots) and "site-packages" not in path:
            yield name


def exempt(packages: Iterable[str] = EXCHANGE_STACK) -> int:
    """List the packages' modules as "not PySide" for the hook (once per package; any thread). Returns how many
    names were added; 0 when PySide6 is not loaded or its hook has no such table (a later PySide may differ)."""
    d = _feature_dict()
    if d is None:
        return 0
    added = 0
    with _lock:
        for package in packages:
            if package in _done:
                continue
            _done.add(package)
            for name in _modules_of(package):
                if name not in d:
                    d[name] = IGNORE
                    added += 1
        for name in _stdlib_loaded():
            if name not in d:
                d[name] = IGNORE
                added += 1
    return added


def _uses_pyside(module: ModuleType) -> bool:
    """Whether the module took anything from PySide6/shiboken6, judged from its namespace (the hook's own test
    reads the module's source file for that)."""
    for value in list(vars(module).values()):
        owner = getattr(value, "__module__", None) if not isinstance(value, ModuleType) else value.__name__
        if isinstance(owner, str) and owner.startswith(("PySide6", "shiboken6")):
            return True
    return False


def use_fast_check() -> bool:
    """Make the hook tell PySide modules from others by their namespace instead of reading every imported
    module's source: after PySide6 is loaded, each import (the app's own modules, the standard library's, the
    exchange stack's) paid a source read, 1-10 ms apiece. A module that imports nothing from PySide6 cannot use
    its ``__feature__`` switches, so the answer is the same. False if this PySide has no such hook."""
    mod = sys.modules.get("shibokensupport.feature") or sys.modules.get("PySide6.support.feature")
    if mod is None or not callable(getattr(mod, "_mod_uses_pyside", None)):
        return False
    mod._mod_uses_pyside = _uses_pyside  # type: ignore[attr-defined]
    return True
