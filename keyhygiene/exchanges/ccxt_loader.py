"""ccxt without its 110 exchanges: load an exchange's class when something first asks for it.

``import ccxt`` (and ``ccxt.async_support``) runs the package's ``__init__``, which imports every exchange ccxt
has: ~100 MB and ~1 s, where KeyHygiene uses the supported twelve plus whichever other exchange a key names. In
the exchange process (service/exchange_worker.py) that was most of the app's memory (tests/benchmarks: memory).

``install()`` puts a package shell in ``sys.modules`` for each of the two packages, built from the package's own
``__init__`` read as source, never executed: each ``from M import name`` becomes a name resolved on first access
(PEP 562 ``__getattr__``), each literal assignment (``__version__``, ``exchanges``) a plain attribute. The shell
has the real ``__path__`` and ``__spec__``, so ``import ccxt.async_support.binance`` and ccxt's own imports work
as before, and ``ccxt.NetworkError`` is ``ccxt.base.errors.NetworkError`` itself. Anything in ``__init__`` this
does not understand (a ccxt upgrade that changed it) means no shell: the normal import runs, and it is logged.

Only for a process that has not imported ccxt yet (the exchange process installs it before anything else runs).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import sys
import types
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PACKAGES = ("ccxt", "ccxt.async_support")

# What KeyHygiene reads from the packages; a shell without one of them is not trusted.
_REQUIRED = ("__version__", "exchanges", "Exchange", "BaseError", "NetworkError", "AuthenticationError")


class LayoutChanged(Exception):
    """The package's ``__init__`` is not the list of imports and literals this loader knows how to mirror."""


class _PackageShell(types.ModuleType):
    """A package whose names are imported when first read, each from the module the real ``__init__`` names."""

    _lazy: dict[str, tuple[str, str]]

    def __getattr__(self, name: str) -> Any:  # only called when the name is not set yet
        lazy = self.__dict__.get("_lazy", {})
        if name not in lazy:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        source, attr = lazy[name]
        value = _import_from(source, attr)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing a submodule (``ccxt.async_support.binance``, also done by ccxt itself: binanceusdm imports
        # binance) makes the import system set the package's attribute to the MODULE; the real ``__init__`` then
        # rebinds it to the class (``from ccxt.binance import binance``). Do that rebinding here.
        # A literal of ``__init__`` (``base = [...]``, assigned after ``ccxt.base`` was imported) stays, as it does.
        lazy = self.__dict__.get("_lazy", {})
        if isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}":
            if name in self.__dict__.get("_literals", ()):
                return
            if name in lazy:
                source, attr = lazy[name]
                if value.__name__ == source and hasattr(value, attr):
                    value = getattr(value, attr)
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.__dict__.get("_lazy", {})))


def _import_from(source: str, attr: str) -> Any:
    """What ``from source import attr`` binds: the module's attribute, else its submodule."""
    module = importlib.import_module(source)
    try:
        return getattr(module, attr)
    except AttributeError:
        return importlib.import_module(f"{source}.{attr}")


def _read_init(path: Path, source: str | None = None) -> tuple[dict[str, tuple[str, str]], dict[str, Any]]:
    """The names ``__init__`` imports (name -> (module, attribute)) and the literals it assigns."""
    lazy: dict[str, tuple[str, str]] = {}
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"), str(path))
    plain: dict[str, Any] = {"__doc__": ast.get_docstring(tree, clean=False)}
    for stmt in tree.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # the docstring
        if isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
            for alias in stmt.names:
                if alias.name == "*":
                    raise LayoutChanged(f"star import from {stmt.module}")
                lazy[alias.asname or alias.name] = (stmt.module, alias.name)
            continue
        if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
            names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
            if names == ["__all__"]:
                continue  # only ``from ccxt import *`` reads it: it would get every name, as it does now
            try:
                value = ast.literal_eval(stmt.value)
            except ValueError as exc:
                raise LayoutChanged(f"line {stmt.lineno} assigns more than a literal") from exc
            for name in names:
                plain[name] = value
            continue
        raise LayoutChanged(f"line {stmt.lineno}: {type(stmt).__name__}")
    return lazy, plain


def _shell(name: str) -> _PackageShell:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or not spec.submodule_search_locations:
        raise LayoutChanged(f"{name} is not a package on disk")
    # The loader's view of the source (a frozen bundle that keeps only byte code has none: then the normal import)
    get_source = getattr(spec.loader, "get_source", None)
    source = get_source(name) if get_source is not None else None
    if source is None:
        raise LayoutChanged(f"no source for {name}")
    lazy, plain = _read_init(Path(spec.origin), source)
    missing = [n for n in _REQUIRED if n not in lazy and n not in plain]
    exchanges = plain.get("exchanges")
    if not isinstance(exchanges, list) or not exchanges:
        missing.append("exchanges (a list)")
    else:
        missing += [f"exchange {ex}" for ex in exchanges if lazy.get(ex) != (f"{name}.{ex}", ex)]
    if missing:
        raise LayoutChanged(f"{name} lacks {', '.join(missing[:5])}")
    module = _PackageShell(name)
    module.__dict__.update(plain)
    module.__dict__["_lazy"] = lazy
    module.__dict__["_literals"] = frozenset(plain)
    module.__file__ = spec.origin
    module.__path__ = list(spec.submodule_search_locations)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    module.__package__ = name
    return module


def install() -> bool:
    """Put the shells in place; True when they are what ``import ccxt`` now gives. False (and nothing changed)
    when ccxt is already imported here, or when the shells cannot be built: then the normal import runs."""
    if any(m == "ccxt" or m.startswith("ccxt.") for m in sys.modules):
        return isinstance(sys.modules.get("ccxt"), _PackageShell)
    try:
        # In place before ``ccxt.async_support`` is looked up: finding a submodule imports its parent package.
        sys.modules["ccxt"] = top = _shell("ccxt")
        sys.modules["ccxt.async_support"] = sub = _shell("ccxt.async_support")
        top.async_support = sub
    except Exception as exc:  # noqa: BLE001 - any surprise means: import ccxt the normal way
        for name in [m for m in sys.modules if m == "ccxt" or m.startswith("ccxt.")]:
            del sys.modules[name]
        log.warning("Loading all of ccxt (its package layout is not the expected one: %s).", exc)
        return False
    return True


def installed() -> bool:
    return isinstance(sys.modules.get("ccxt"), _PackageShell)
