"""The demo's 3Commas key rotated to the end in the wizard, as a 3Commas-leak victim would: 3Commas does not get
the new key, the old key dies on the (simulated) exchange, and nothing in the window names the leak for the new key
any more while the history still shows it. Also saves a screenshot of each page
(``$KEYHYGIENE_SHOTS/i17-<page>.png``, when that is set)."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

from keyhygiene.core.rotation.states import Step
from keyhygiene.demo import DemoEnvironment, start_demo
from keyhygiene.store.keychain import CURRENT, PENDING
from keyhygiene.store.vault import Vault
from keyhygiene.ui.mnemonics import plain
from keyhygiene.ui.rotation_wizard import RotationWizard
from keyhygiene.ui.services import Services
from tests.helpers.gui import make_services, save_shot, stop_services
from tests.helpers.secrets_watch import register_secret
from tests.helpers.simkeys import creds_of

WAIT_MS = 20000


@pytest.fixture
def demo(qapp: Any) -> Iterator[tuple[DemoEnvironment, Services]]:
    env = start_demo(latency=0.0)
    vault = Vault(env.paths, backend=env.keyring)
    services = make_services(vault)
    services.endpoints = env.endpoints
    services.key_page = env.key_page
    try:
        yield env, services
    finally:
        stop_services(services)
        vault.close()
        env.close()


def shot(w: RotationWizard, page: str) -> None:
    from PySide6.QtWidgets import QApplication

    for _ in range(3):  # let the page lay out what it just received
        QApplication.processEvents()
    save_shot(w, f"i17-{page}")


def test_the_demos_3commas_key_rotates_to_the_end(qtbot: Any, demo: tuple[DemoEnvironment, Services]) -> None:
    env, services = demo
    sim = env._sim_thread.sim  # type: ignore[attr-defined]
    (rec,) = [k for k in services.vault.list_keys() if k.label == "3Commas DCA bot"]
    old = services.vault.secrets.get(rec.id, CURRENT)
    assert old is not None
    services.load_rows()
    assert any("3Commas" in f.title for f in services.row(rec.id).findings)  # type: ignore[union-attr]
    assert services.incidents(rec.id)  # the banner and the reminders name the leak before the rotation

    w = RotationWizard(services, rec.id)
    qtbot.addWidget(w)
    w.resize(720, 640)
    w.show()
    qtbot.waitUntil(lambda: w.flow is not None and w.flow.plan is not None and not w._busy, timeout=WAIT_MS)
    # 3Commas leaked keys after it got this one: "stop" is the default.
    row = w.plan_page.decisions["3commas"]
    assert row.stop.isChecked() and not row.keep.isChecked()
    shot(w, "plan")
    w.next_button.click()  # Start rotation
    qtbot.waitUntil(lambda: w.step is Step.NEW_KEY and not w._busy, timeout=WAIT_MS)
    # "Open Binance's API page" opens the simulator's own page, never binance.com.
    url = w.new_key_page._page_url
    assert urlparse(url).hostname in ("127.0.0.1", "localhost"), url
    assert w.new_key_page.open_button.isVisible()
    with urllib.request.urlopen(url, timeout=10) as page:  # the simulator serves that page itself
        assert page.status == 200 and "text/html" in page.headers.get("Content-Type", "")

    # The user creates the new key on the simulator's page (what its "create" form does) and pastes it.
    new = sim.create_key("binance", permissions=["read", "spot_trade"], ip_whitelist=[sim.client_ip])
    register_secret(new.api_key, new.secret)
    w.new_key_page.api_key.setText(new.api_key)
    w.new_key_page.secret.setText(new.secret)
    shot(w, "new-key")
    w.next_button.click()  # Store new key (tested at once)
    qtbot.waitUntil(lambda: w.step is Step.CONSUMERS and not w._busy, timeout=WAIT_MS)
    box = w.consumers_page.boxes["3commas"]
    assert box.text() == "3Commas: access removed at the service"
    assert not w.next_button.isEnabled()  # tick it off first
    box.setChecked(True)
    assert w.next_button.isEnabled() and plain(w.next_button.text()) == "All done"
    shot(w, "consumers")
    w.next_button.click()
    qtbot.waitUntil(lambda: w.step is Step.REVOKE_OLD and not w._busy, timeout=WAIT_MS)
    assert plain(w.next_button.text()) == "I deleted it \u2014 check"  # Binance: deleted on its page
    shot(w, "revoke")

    # Checked before the user deleted it: "still alive", and "Check again" stays usable while the wizard waits.
    w.next_button.click()
    qtbot.waitUntil(lambda: "Check 1:" in w.verify_page.log.toPlainText(), timeout=WAIT_MS)
    assert w.step is Step.VERIFY_OLD and w._busy
    log_text = w.verify_page.log.toPlainText()
    assert "still alive" in log_text and ": ok" not in log_text
    assert plain(w.next_button.text()) == "Check again" and w.next_button.isEnabled()
    assert w.status.text().count("Waiting for Binance") == 1
    shot(w, "verify")
    assert sim.delete_key("binance", old.api_key)  # the user deletes the old key on the simulator's page
    with qtbot.waitSignal(w.keyRotated, timeout=WAIT_MS):
        w.next_button.click()  # Check again: at once, not after the back-off
    qtbot.waitUntil(lambda: w.step is Step.DONE and not w._busy, timeout=WAIT_MS)
    summary = w.done_page.summary.text()
    assert "The new key is shared with nobody." in summary and "Not given the new key: 3Commas." in summary
    shot(w, "done")

    # The new key ends unshared; the old one is dead and gone from the keychain.
    after = services.vault.get_key(rec.id)
    assert after.shared_with == []
    assert services.vault.secrets.get(rec.id, CURRENT) == creds_of(new)
    assert services.vault.secrets.get(rec.id, PENDING) is None
    # Findings, banner and reminders (both from services.incidents) no longer name the leak for the new key...
    services.load_rows()
    row_after = services.row(rec.id)
    assert row_after is not None
    assert not any("3Commas" in f.title + f.detail for f in row_after.findings), row_after.findings
    assert services.incidents(rec.id) == []
    # ...while the history still shows the rotation and the ended sharing with 3Commas.
    (done,) = services.app.rotation_history(rec.id)
    assert done.state == "done" and done.old_dead_at is not None
    ended = [e for e in after.exposures if e.service == "3commas"]
    assert ended and ended[0].revoked_at == done.finished_at.date()  # type: ignore[union-attr]
    w.close()


def test_every_demo_key_page_is_the_simulators(demo: tuple[DemoEnvironment, Services]) -> None:
    env, _services = demo
    assert env.key_pages, "the demo offers an API page for every simulated exchange"
    for exchange in ("binance", "bybit", "okx", "kraken", "coinbase", "mexc"):
        url = env.key_page(exchange)
        assert url is None or urlparse(url).hostname in ("127.0.0.1", "localhost"), (exchange, url)


def test_generate_a_key_pair_in_the_wizard(qtbot: Any, demo: tuple[DemoEnvironment, Services]) -> None:
    """The demo's Binance key with a key pair made here: Ed25519 (Binance's recommendation) by default, the private
    key straight into the keychain, the public key registered on the simulator's page, then its API key."""
    from PySide6.QtGui import QGuiApplication

    from keyhygiene.core.keypair import kind_of
    from tests.helpers.secrets_watch import find_pem_leaks

    env, services = demo
    sim = env._sim_thread.sim  # type: ignore[attr-defined]
    (rec,) = [k for k in services.vault.list_keys() if k.label == "Futures hedge (sub-account)"]
    w = RotationWizard(services, rec.id)
    qtbot.addWidget(w)
    w.resize(720, 640)
    w.show()
    qtbot.waitUntil(lambda: w.flow is not None and w.flow.plan is not None and not w._busy, timeout=WAIT_MS)
    w.next_button.click()
    qtbot.waitUntil(lambda: w.step is Step.NEW_KEY and not w._busy, timeout=WAIT_MS)
    assert w.alt_button.isVisible() and plain(w.alt_button.text()) == "Generate a key pair here"
    assert w.new_key_page.kind.currentData() == "ed25519"  # Binance's recommended type comes first
    w.alt_button.click()
    qtbot.waitUntil(lambda: bool(w.new_key_page.public_key.toPlainText()) and not w._busy, timeout=WAIT_MS)
    public = w.new_key_page.public_key.toPlainText()
    assert public.startswith("-----BEGIN PUBLIC KEY-----") and "PRIVATE" not in public
    assert not w.new_key_page.secret.isVisibleTo(w)  # no secret is asked for: it never existed outside
    assert plain(w.next_button.text()) == "Store API key" and plain(w.alt_button.text()) == "Paste a key instead"
    pending = services.vault.secrets.get(rec.id, PENDING)
    assert pending is not None and pending.api_key == "" and kind_of(pending.secret) == "ed25519"
    w.new_key_page.copy_public.click()
    assert QGuiApplication.clipboard().text() == public  # the public key may be copied; nothing else is
    QGuiApplication.clipboard().clear()
    new = sim.register_public_key("binance", public, permissions=["read", "futures_trade"],
                                  ip_whitelist=[sim.client_ip])
    w.new_key_page.api_key.setText(new.api_key)
    shot(w, "keypair")
    w.next_button.click()
    qtbot.waitUntil(lambda: w.step is Step.CONSUMERS and not w._busy, timeout=WAIT_MS)  # tested: ok
    report = w.m.test_report()
    assert report is not None and report.status == "ok"
    w.next_button.click()  # nobody had this key: nothing to tick
    qtbot.waitUntil(lambda: w.step is Step.REVOKE_OLD and not w._busy, timeout=WAIT_MS)
    old = services.vault.secrets.get(rec.id, CURRENT)
    assert old is not None and sim.delete_key("binance", old.api_key)
    with qtbot.waitSignal(w.keyRotated, timeout=WAIT_MS):
        w.next_button.click()  # I deleted it — check
    current = services.vault.secrets.get(rec.id, CURRENT)
    assert current is not None and current.api_key == new.api_key and kind_of(current.secret) == "ed25519"
    assert find_pem_leaks([env.paths.data_dir], [current.secret]) == []
    w.close()
