"""A key that discovery found in a plaintext file is flagged critical by the audit (scan → rules wiring)."""

from __future__ import annotations

from keyhygiene.core.discovery.model import file_service
from keyhygiene.service.audit import run_audit
from keyhygiene.store.vault import ServiceRef
from tests.helpers.simkeys import creds_of, make_key


def test_plaintext_copy_on_disk_is_critical(vault, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from keyhygiene.sim import run_simulator_in_thread

    sk = make_key("binance", permissions={"read"}, ip_whitelist=["203.0.113.10"])
    other = make_key("bybit", permissions={"read"}, ip_whitelist=["203.0.113.10"])
    with run_simulator_in_thread(keys=[sk, other], exchanges=("binance", "bybit")) as sim:
        found = vault.add_key("binance", "bot key", creds_of(sk), purpose="read-only")
        clean = vault.add_key("bybit", "clean key", creds_of(other), purpose="read-only")
        config = tmp_path / "freqtrade" / "config.json"
        vault.share(found.id, ServiceRef(file_service(config)))
        result = run_audit(vault, endpoints=sim.endpoints)
    by_id = {a.key.id: a for a in result.keys}
    rules = {f.rule: f for f in by_id[found.id].findings}
    assert "plaintext_copy" in rules and rules["plaintext_copy"].severity == "critical"
    assert str(config) in rules["plaintext_copy"].detail
    assert "plaintext_copy" not in {f.rule for f in by_id[clean.id].findings}
