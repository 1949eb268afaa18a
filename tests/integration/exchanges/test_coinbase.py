"""Coinbase (CDP keys, ES256 and Ed25519) through real ccxt against the simulator: the JWT is verified with the
public key of the stored private key, and its kid, sub, iss, nbf/exp and uri claims are checked."""

from __future__ import annotations

import dataclasses
import re
import secrets
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from keyhygiene.core.models import Status
from keyhygiene.exchanges.coinbase import CoinbaseAdapter
from keyhygiene.sim.exchanges.coinbase import make_ed25519_credentials
from tests.helpers.sim_force import raw_request, sync_client
from tests.helpers.simkeys import creds_of, make_key
from tests.integration.exchanges.conftest import inspect_forced, inspect_sync

EX = "coinbase"
PATH = "/api/v3/brokerage/key_permissions"


def ed25519_key(**kw):  # type: ignore[no-untyped-def]
    name, secret, extra = make_ed25519_credentials()
    return make_key(EX, api_key=name, secret=secret, extra=extra, **kw)


def cdp_token(key, uri: str, *, iss: str = "cdp", lifetime: int = 120, now: float | None = None) -> str:  # type: ignore[no-untyped-def]
    """A token built the way Coinbase's docs show it (PyJWT), independent of ccxt."""
    private = serialization.load_pem_private_key(key.secret.encode(), password=None)
    t = int(time.time() if now is None else now)
    claims = {"sub": key.api_key, "iss": iss, "nbf": t, "exp": t + lifetime, "uri": uri}
    return jwt.encode(claims, private, algorithm="ES256", headers={"kid": key.api_key, "nonce": secrets.token_hex()})


def host(sim) -> str:  # type: ignore[no-untyped-def]
    return sim.endpoints[EX].split("://", 1)[1]


@pytest.mark.parametrize("make", [lambda **kw: make_key(EX, **kw), ed25519_key], ids=["es256", "ed25519"])
def test_scopes_map_and_nothing_else_is_claimed(sim, make) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make(permissions={"read", "spot_trade", "withdraw"}, ip_whitelist=None))
    p = inspect_sync(sim, key)
    assert p.status is Status.OK, p.message
    assert p.permissions == ["futures_trade", "read", "spot_trade", "transfer", "withdraw"]
    # Coinbase reports none of these (its IP allowlist exists but is not in this endpoint's answer).
    assert p.ip_restricted is None and p.ip_whitelist is None
    assert p.created_at is None and p.expires_at is None and p.is_master is None and p.third_party_link is None
    assert any("portfolio" in n for n in p.notes)


def test_view_only_key(sim) -> None:  # type: ignore[no-untyped-def]
    p = inspect_sync(sim, sim.add_key(make_key(EX, permissions={"read"})))
    assert p.status is Status.OK and p.permissions == ["read"]


def test_unknown_scope_reaches_other(sim) -> None:  # type: ignore[no-untyped-def]
    p = inspect_sync(sim, sim.add_key(make_key(EX, permissions={"read"}, raw={"can_stake": True})))
    assert p.permissions == ["read"] and p.other == ["can_stake"]


@pytest.mark.parametrize("make", [lambda: make_key(EX), ed25519_key], ids=["es256", "ed25519"])
def test_token_signed_with_another_private_key_is_rejected(sim, make) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make())
    p = inspect_sync(sim, key, creds=dataclasses.replace(creds_of(key), secret=make().secret))
    assert p.status is Status.REJECTED
    assert p.message and "401" in p.message and key.secret not in p.message


def test_a_docs_style_token_is_accepted_and_every_claim_is_checked(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    url = sim.endpoints[EX] + PATH
    uri = f"GET {host(sim)}{PATH}"

    def call(token: str) -> int:
        return raw_request(url, headers={"Authorization": f"Bearer {token}"})[0]

    assert call(cdp_token(key, uri)) == 200
    assert call(cdp_token(key, uri, iss="coinbase-cloud")) == 200  # the older SDK's issuer (and ccxt's)
    assert call(cdp_token(key, uri, iss="someone-else")) == 401
    assert call(cdp_token(key, f"GET api.coinbase.com{PATH}")) == 401  # made for another host
    assert call(cdp_token(key, f"GET {host(sim)}/api/v3/brokerage/accounts")) == 401  # another path
    assert call(cdp_token(key, f"POST {host(sim)}{PATH}")) == 401  # another method
    assert call(cdp_token(key, uri, now=time.time() - 300)) == 401  # expired
    assert call(cdp_token(key, uri, now=time.time() + 300)) == 401  # not valid yet
    assert call(cdp_token(key, uri, lifetime=3600)) == 401  # longer than the documented 2 minutes
    other = make_key(EX)
    forged = jwt.encode({"sub": key.api_key, "iss": "cdp", "nbf": int(time.time()), "exp": int(time.time()) + 60,
                         "uri": uri}, serialization.load_pem_private_key(other.secret.encode(), password=None),
                        algorithm="ES256", headers={"kid": key.api_key})
    assert call(forged) == 401  # the right name, the wrong private key
    assert call("not-a-jwt") == 401
    status, text = raw_request(url)
    assert (status, text) == (401, "Unauthorized")  # a bare 401 in plain text, as Coinbase answers


def test_ccxt_token_needs_the_adapter_hook_for_an_http_endpoint(sim) -> None:  # type: ignore[no-untyped-def]
    """ccxt strips only https:// from the uri claim; without CoinbaseAdapter.configure the claim would name
    "http://127.0.0.1:…" and the exchange (here: the sim) rejects it."""
    key = sim.add_key(make_key(EX))
    url = sim.endpoints[EX] + PATH
    plain = sync_client(EX, creds_of(key), sim.endpoints[EX]).sign("brokerage/key_permissions", ["v3", "private"],
                                                                     "GET", {})
    assert raw_request(url, headers=plain["headers"])[0] == 401
    hooked = sync_client(EX, creds_of(key), sim.endpoints[EX], configure=CoinbaseAdapter().configure)
    signed = hooked.sign("brokerage/key_permissions", ["v3", "private"], "GET", {})
    claims = jwt.decode(signed["headers"]["Authorization"].split()[1], options={"verify_signature": False})
    assert claims["uri"] == f"GET {host(sim)}{PATH}"
    assert raw_request(url, headers=signed["headers"])[0] == 200


def test_clock_skew_is_named_instead_of_a_bare_rejection(sim) -> None:  # type: ignore[no-untyped-def]
    key = sim.add_key(make_key(EX))
    sim.inject_fault(EX, "clock_skew")
    p = inspect_sync(sim, key)
    assert p.status is Status.CLOCK_SKEW
    found = re.search(r"differ by (\d+) s", p.message or "")
    assert found and int(found.group(1)) > 30  # the sim's clock runs 120 s ahead


@pytest.mark.parametrize(
    ("kind", "status"),
    [("invalid_key", Status.REJECTED), ("expired", Status.REJECTED), ("bad_signature", Status.REJECTED),
     ("ip_not_allowed", Status.REJECTED), ("clock_skew", Status.REJECTED),
     ("permission_denied", Status.PERMISSION_DENIED)],
)
def test_each_error_gives_its_status(sim, monkeypatch, kind, status) -> None:  # type: ignore[no-untyped-def]
    _key, p = inspect_forced(sim, monkeypatch, EX, kind)
    assert p.status is status, p.message  # a forced clock_skew 401 with a correct clock stays "rejected"
