"""Keeping PySide6's import hook cheap (keyhygiene.ui.pyside_import_hook)."""

from __future__ import annotations

import json
import sys
import types

import pytest

pytestmark = pytest.mark.gui


def _feature_module() -> types.ModuleType | None:
    return sys.modules.get("shibokensupport.feature") or sys.modules.get("PySide6.support.feature")


def test_the_namespace_check_tells_pyside_modules_from_others(qapp: object) -> None:
    from keyhygiene.ui import delegates, pyside_import_hook

    assert pyside_import_hook._uses_pyside(delegates)  # imports QtCore/QtGui/QtWidgets classes
    assert not pyside_import_hook._uses_pyside(json)
    plain = types.ModuleType("plain")
    plain.value = 3  # type: ignore[attr-defined]
    assert not pyside_import_hook._uses_pyside(plain)
    with_module = types.ModuleType("with_module")
    import PySide6.QtCore

    with_module.QtCore = PySide6.QtCore  # type: ignore[attr-defined]
    assert pyside_import_hook._uses_pyside(with_module)


def test_use_fast_check_replaces_the_source_reading_test(qapp: object) -> None:
    from keyhygiene.ui import pyside_import_hook

    feature = _feature_module()
    if feature is None:
        pytest.skip("this PySide6 has no __feature__ hook")
    assert pyside_import_hook.use_fast_check()
    assert feature._mod_uses_pyside is pyside_import_hook._uses_pyside
    # An import after PySide6 still gets its entry, from the namespace.
    name = "keyhygiene_hook_probe"
    probe = types.ModuleType(name)
    feature.feature_imported(probe)
    assert feature.pyside_feature_dict[name] == -1


def test_use_fast_check_forgets_the_sources_the_hook_read(qapp: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Modules imported after PySide6 and before the swap had their whole source read into ``linecache`` by the
    hook (3 MB in the benchmark's window, tests/benchmarks: memory): the swap drops what is on disk."""
    import linecache

    from keyhygiene.ui import pyside_import_hook

    feature = _feature_module()
    if feature is None:
        pytest.skip("this PySide6 has no __feature__ hook")
    monkeypatch.setattr(feature, "_mod_uses_pyside", lambda module: False)  # as before any swap
    linecache.getlines(json.__file__)  # what the hook's inspect.getsource leaves behind
    generated = "<generated keyhygiene probe>"
    linecache.cache[generated] = (1, None, ["x = 1\n"], generated)  # e.g. attrs' generated methods: no file
    try:
        assert json.__file__ in linecache.cache
        assert pyside_import_hook.use_fast_check()
        assert json.__file__ not in linecache.cache
        assert linecache.cache[generated][2] == ["x = 1\n"]  # not re-readable, so kept
        assert linecache.getline(json.__file__, 1)  # a later traceback still reads it, from the file
    finally:
        linecache.cache.pop(generated, None)
