"""The simulator's API management page (the demo's "exchange API page"): create an HMAC key, register a generated
public key, delete the old key, each then checked through real ccxt; and the page's guards."""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from keyhygiene.core.keypair import generate_keypair
from keyhygiene.core.models import Credentials, Status
from keyhygiene.exchanges.inspect import inspect_key
from keyhygiene.sim import Simulator, SimulatorThread, console_url
from keyhygiene.sim.console import Console
from tests.helpers.secrets_watch import register_secret
from tests.helpers.simkeys import make_key


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    runner = SimulatorThread(Simulator(enforce_rate_limits=False, exchanges=("binance", "bybit", "okx")))
    yield runner.start()
    runner.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(url: str, form: dict[str, str | list[str]] | None = None, headers: dict[str, str] | None = None
         ) -> tuple[int, dict[str, str], str]:
    data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if form is not None else "GET")
    try:
        with _opener.open(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), err.read().decode()


def post(sim: Simulator, exchange: str, action: str, **form: str | list[str]) -> str:
    """POST a console form the way the browser does; follow the 303 once and return the page it shows."""
    base = console_url(sim.endpoints[exchange], exchange)
    status, headers, _ = http(f"{base}/{action}", {"token": sim.console_token, **form})
    assert status == 303, status
    location = urllib.parse.urljoin(base, headers["Location"])
    status, _, page = http(location)
    assert status == 200
    again = http(location)[2]
    assert "shown only this once" not in again and "registered" not in again.split("<main>")[1][:200]
    return page


def shown(page: str, name: str) -> str:
    m = re.search(rf"<label>{name}</label><textarea[^>]*>([^<]*)</textarea>", page)
    assert m, f"{name} not shown"
    return m.group(1).replace("&#x27;", "'").replace("&amp;", "&")


def inspect(sim: Simulator, exchange: str, creds: Credentials):  # type: ignore[no-untyped-def]
    return asyncio.run(inspect_key(exchange, creds, endpoints=sim.endpoints))


def test_console_url_is_loopback_only() -> None:
    assert console_url("http://127.0.0.1:9000/", " Binance ") == "http://127.0.0.1:9000/console/binance"
    assert console_url("http://localhost:9000", "bybit") == "http://localhost:9000/console/bybit"
    assert console_url("http://[::1]:9000", "okx") == "http://[::1]:9000/console/okx"
    for bad in ("https://api.binance.com", "http://api.binance.com", "http://10.0.0.1:9000",
                "http://127.0.0.1.evil.example:9000", "https://127.0.0.1:9000", "file:///etc/passwd"):
        with pytest.raises(ValueError):
            console_url(bad, "binance")
    with pytest.raises(ValueError):
        console_url("http://127.0.0.1:9000", "../admin")


def test_page_lists_the_exchanges_keys_masked_and_never_a_secret(sim: Simulator) -> None:
    old = sim.add_key(make_key("binance", permissions={"read", "spot_trade"}, ip_whitelist=["203.0.113.10"]))
    status, headers, page = http(console_url(sim.endpoints["binance"], "binance"))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert headers["Cache-Control"] == "no-store" and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "Binance · API management" in page and "Nothing here reaches the real Binance" in page
    assert old.api_key[:4] + "\u2026" + old.api_key[-4:] in page  # masked as the app masks it
    assert old.secret not in page
    assert "Register your own public key" in page and "Ed25519 or RSA 2048/4096-bit" in page
    assert "RSA 2048/4096-bit" in http(console_url(sim.endpoints["bybit"], "bybit"))[2]
    okx = http(console_url(sim.endpoints["okx"], "okx"))[2]
    assert "Create a system-generated key" in okx and "Register your own public key" not in okx


def test_create_shows_the_secret_once_and_the_key_works(sim: Simulator) -> None:
    page = post(sim, "okx", "create", label="bot v2", permissions=["read", "spot_trade"], ip_whitelist="203.0.113.10")
    api_key, secret, passphrase = shown(page, "API key"), shown(page, "Secret key"), shown(page, "Passphrase")
    register_secret(api_key, secret, passphrase)
    key = sim.find_key("okx", api_key)
    assert key is not None and key.label == "bot v2" and key.ip_whitelist == ["203.0.113.10"]
    p = inspect(sim, "okx", Credentials(api_key=api_key, secret=secret, passphrase=passphrase))
    assert p.status is Status.OK, p.message
    assert "spot_trade" in p.permissions and "withdraw" not in p.permissions and p.ip_restricted is True


@pytest.mark.parametrize(("exchange", "kind"), [("binance", "ed25519"), ("binance", "rsa"), ("bybit", "rsa")])
def test_register_a_generated_public_key_then_delete_the_old_key(sim: Simulator, exchange: str, kind: str) -> None:
    old = sim.add_key(make_key(exchange, permissions={"read", "spot_trade"}))
    pair = generate_keypair(kind)
    register_secret(pair.private_pem, *pair.private_pem.splitlines()[1:-1])
    page = post(sim, exchange, "register", label="rotated", public_key=pair.public_pem, permissions=["read"],
                ip_whitelist="")
    assert "Public key registered" in page and "Secret key" not in page
    api_key = shown(page, "API key")
    register_secret(api_key)
    new = inspect(sim, exchange, Credentials(api_key=api_key, secret=pair.private_pem))
    assert new.status is Status.OK, new.message
    assert new.permissions == ["read"] and new.ip_restricted is False

    page = post(sim, exchange, "delete", api_key=old.api_key)
    assert "deleted: the exchange now rejects it" in page and old.api_key not in page
    gone = inspect(sim, exchange, Credentials(api_key=old.api_key, secret=old.secret))
    assert gone.status in (Status.INVALID_KEY, Status.REJECTED), gone.status
    assert inspect(sim, exchange, Credentials(api_key=api_key, secret=pair.private_pem)).status is Status.OK


def test_refusals_are_shown_and_a_pasted_private_key_is_never_echoed(sim: Simulator) -> None:
    pair = generate_keypair("ed25519")
    register_secret(pair.private_pem, *pair.private_pem.splitlines()[1:-1])
    before = len(sim.keys)
    page = post(sim, "binance", "register", public_key=pair.private_pem)
    assert "That is a private key" in page and pair.private_pem.splitlines()[1] not in page
    page = post(sim, "bybit", "register", public_key=pair.public_pem)
    assert "RSA public keys only" in page
    page = post(sim, "binance", "delete", api_key="no-such-key")
    assert "No such key" in page
    assert len(sim.keys) == before


def test_a_post_without_the_page_token_or_from_a_foreign_host_name_changes_nothing(sim: Simulator) -> None:
    base = console_url(sim.endpoints["binance"], "binance")
    before = len(sim.keys)
    assert http(f"{base}/create", {"label": "x"})[0] == 403
    assert http(f"{base}/create", {"label": "x", "token": "guess"})[0] == 403
    # DNS rebinding: a page on another name that resolves to 127.0.0.1 still sends its own Host.
    assert http(base, headers={"Host": "evil.example"})[0] == 403
    assert http(f"{base}/create", {"token": sim.console_token}, headers={"Host": "evil.example"})[0] == 403
    assert len(sim.keys) == before


def test_a_peer_that_is_not_loopback_is_refused(sim: Simulator) -> None:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        ("192.0.2.5", 51000) if name == "peername" else default)
    request = make_mocked_request("GET", "/console/binance", headers={"Host": "127.0.0.1"}, transport=transport)
    with pytest.raises(web.HTTPForbidden):
        asyncio.run(Console(sim, "binance").page(request))


def test_the_page_is_not_the_api_no_faults_no_request_log(sim: Simulator) -> None:
    count = sim.request_count("binance")
    sim.inject_fault("binance", "http_500", count=None)
    try:
        assert http(console_url(sim.endpoints["binance"], "binance"))[0] == 200
    finally:
        sim.clear_faults("binance")
    assert sim.request_count("binance") == count
