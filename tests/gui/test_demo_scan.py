"""Issue 20: in --demo, the scanner works on the demo's own sample bot configs and only reads the user's folders:
import and clean-up of a user's file are refused (by the core, whatever the window lets through) with a sentence
saying why, and the file is left byte for byte as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from PySide6.QtWidgets import QMessageBox

from keyhygiene.core.discovery.confine import DEMO_REFUSAL
from keyhygiene.core.discovery.importer import label_for
from keyhygiene.demo import DemoEnvironment, start_demo
from keyhygiene.exchanges import catalog
from keyhygiene.store.vault import Vault
from keyhygiene.ui.scan_dialog import ScanDialog
from keyhygiene.ui.services import Services
from tests.fixtures.discovery.trees import FixtureTree, build_fixture_tree
from tests.helpers.gui import make_services, stop_services

WAIT_MS = 20_000


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoEnvironment]:
    env = start_demo(latency=0)
    try:
        yield env
    finally:
        env.close()


@pytest.fixture
def demo_services(demo: DemoEnvironment, qapp: Any) -> Iterator[Services]:
    vault = Vault(demo.paths, backend=demo.keyring, catalog=catalog)
    svc = make_services(vault)
    svc.endpoints = demo.endpoints
    try:
        yield svc
    finally:
        stop_services(svc)
        vault.close()


@pytest.fixture
def users_tree(tmp_path: Path, secret) -> FixtureTree:  # type: ignore[no-untyped-def]
    return build_fixture_tree(tmp_path / "home", secret)


def _scan(qtbot, dlg: ScanDialog) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dlg.scanFinished, timeout=WAIT_MS):
        dlg.scan_button.click()


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_demo_scans_its_own_samples(qtbot, demo: DemoEnvironment, demo_services: Services) -> None:  # type: ignore[no-untyped-def]
    samples = demo.paths.demo_samples
    assert samples is not None and samples.is_relative_to(demo.paths.sandbox)  # type: ignore[arg-type]
    dlg = ScanDialog(demo_services)
    qtbot.addWidget(dlg)
    assert dlg.roots() == [str(samples)] and dlg.defaults_button.text() == "&Demo samples"
    assert dlg.demo_note is not None and "only reads" in dlg.demo_note.text()
    _scan(qtbot, dlg)
    assert {f.tool for f in dlg.found} == {"freqtrade", ".env"} and dlg.import_button.isEnabled()


def test_demo_refuses_to_write_outside_its_folder(qtbot, demo_services: Services,  # type: ignore[no-untyped-def]
                                                  users_tree: FixtureTree) -> None:
    before = _snapshot(users_tree.root)
    keys_before = len(demo_services.vault.list_keys())
    dlg = ScanDialog(demo_services, [str(users_tree.root)])
    qtbot.addWidget(dlg)
    _scan(qtbot, dlg)
    assert dlg.found  # reading is allowed: the user sees what lies in their files
    # The window does not offer what the core would refuse, and says why.
    assert not dlg.import_button.isEnabled() and DEMO_REFUSAL in dlg.import_button.toolTip()
    dlg.select_row(0)
    assert not dlg.clean_button.isEnabled() and DEMO_REFUSAL in dlg.clean_button.toolTip()
    assert DEMO_REFUSAL in dlg.action_hint.text() and dlg.action_hint.isVisibleTo(dlg)

    # Below the window: an import pushed through anyway is refused by the core, file by file.
    with qtbot.waitSignal(dlg.keysImported, timeout=WAIT_MS):
        dlg._on_import_confirmed(QMessageBox.StandardButton.Yes, [f for f in dlg.found if f.importable])
    assert DEMO_REFUSAL.rstrip(".") in dlg.message.text() and "0 keys stored" in dlg.message.text()
    assert len(demo_services.vault.list_keys()) == keys_before

    # A clean-up pushed through anyway: the plan is refused, the file untouched, no backup taken.
    env_row = next(i for i, f in enumerate(dlg.found) if f.path.endswith("mybot/.env"))
    dlg.select_row(env_row)
    dlg._on_clean_clicked()
    qtbot.waitUntil(lambda: "The demo only reads your files" in dlg.message.text(), timeout=WAIT_MS)
    assert dlg.confirm_box is None
    assert _snapshot(users_tree.root) == before
    assert not demo_services.vault.paths.backups_dir.exists() or not any(
        demo_services.vault.paths.backups_dir.rglob("*.bak"))


def test_demo_imports_and_cleans_its_samples_inside_its_folder(qtbot, demo: DemoEnvironment,  # type: ignore[no-untyped-def]
                                                               demo_services: Services) -> None:
    dlg = ScanDialog(demo_services)
    qtbot.addWidget(dlg)
    _scan(qtbot, dlg)
    dlg.import_button.click()
    qtbot.waitUntil(lambda: dlg.confirm_box is not None and dlg.confirm_box.isVisible(), timeout=WAIT_MS)
    assert "gone when the demo closes" in dlg.confirm_box.text()  # type: ignore[union-attr]
    with qtbot.waitSignal(dlg.keysImported, timeout=WAIT_MS) as sig:
        dlg.confirm_box.button(QMessageBox.StandardButton.Yes).click()  # type: ignore[union-attr]
    labels = {demo_services.vault.get_key(k).label for k in sig.args[0]}
    assert labels == {label_for(f) for f in dlg.found} and all("/" not in x for x in labels)
    row = next(i for i, f in enumerate(dlg.found) if f.tool == ".env")
    dlg.select_row(row)
    assert dlg.clean_button.isEnabled()
    dlg.clean_button.click()
    qtbot.waitUntil(lambda: dlg.confirm_box is not None and dlg.confirm_box.isVisible(), timeout=WAIT_MS)
    with qtbot.waitSignal(dlg.fileCleaned, timeout=WAIT_MS) as cleaned:
        dlg.confirm_box.button(QMessageBox.StandardButton.Yes).click()  # type: ignore[union-attr]
    assert Path(cleaned.args[0]).is_relative_to(demo.paths.sandbox)  # type: ignore[arg-type]
    backups = list(demo_services.vault.paths.backups_dir.rglob("*.bak"))
    assert backups and all(b.is_relative_to(demo.paths.sandbox) for b in backups)  # type: ignore[arg-type]
