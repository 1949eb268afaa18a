"""Simulated Coinbase Advanced Trade with CDP keys: ``Authorization: Bearer <JWT>``, one token per request.

The JWT is verified with the public key derived from the key's stored private key: ES256 for an EC P-256 PEM key,
EdDSA for a base64 Ed25519 key (64 bytes: seed + public key). Then its header and claims, as Coinbase documents them:
``kid`` = ``sub`` = the key name, ``iss`` "cdp" (current docs and CDP SDK) or "coinbase-cloud" (the official
coinbase-advanced-py SDK and ccxt's ES256 path), ``nbf``/``exp`` around the server clock with at most 2 minutes of
life, and ``uri`` (or ``uris``) = "METHOD host/path" naming this very request's host and path.

Every authentication failure is a bare ``401 Unauthorized`` in plain text, as Coinbase answers (ccxt#22182).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from keyhygiene.sim.base import Handler, Reject, SimExchange
from keyhygiene.sim.model import SimKey

ISSUERS = frozenset({"cdp", "coinbase-cloud"})
AUDIENCES = frozenset({"retail_rest_api_proxy", "cdp_service"})
MAX_LIFETIME_S = 120  # "Your JWT expires after 2 minutes"
LEEWAY_S = 30  # Coinbase's tolerance for a client clock that runs ahead is not documented; 30 s assumed

_AUTH_KINDS = ("invalid_key", "expired", "bad_signature", "bad_passphrase", "ip_not_allowed", "clock_skew")


def make_credentials() -> tuple[str, str, dict[str, str]]:
    """A CDP key name and a fresh EC P-256 private key in PEM (what the CDP portal hands out for ECDSA keys)."""
    name = f"organizations/{uuid.uuid4()}/apiKeys/{uuid.uuid4()}"
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return name, pem, {}


def make_ed25519_credentials() -> tuple[str, str, dict[str, str]]:
    """A CDP Ed25519 key: its id and the base64 of seed + public key (88 characters), as the portal shows it."""
    private = ed25519.Ed25519PrivateKey.generate()
    seed = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return str(uuid.uuid4()), base64.b64encode(seed + public).decode(), {}


def public_key_of(secret: str) -> tuple[str, Any]:
    """(JWT algorithm, public key) for a stored CDP secret; ValueError for anything else."""
    if secret.lstrip().startswith("-----BEGIN"):
        private = serialization.load_pem_private_key(secret.encode(), password=None)
        if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
            raise ValueError("not an EC P-256 key")
        return "ES256", private.public_key()
    try:
        raw = base64.b64decode(secret, validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64") from exc
    if len(raw) != 64:
        raise ValueError("an Ed25519 CDP secret is 64 bytes")
    return "EdDSA", ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32]).public_key()


class CoinbaseSim(SimExchange):
    id = "coinbase"

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self._public: dict[str, tuple[str, Any]] = {}

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/api/v3/brokerage/key_permissions", self.key_permissions),
            ("GET", "/api/v3/brokerage/time", self.time),
        ]

    def error(self, kind: str) -> web.Response:
        if kind in _AUTH_KINDS:
            return web.Response(status=401, text="Unauthorized", content_type="text/plain")
        if kind == "permission_denied":
            return self.json({"error": "PERMISSION_DENIED", "error_details": "Missing required scopes",
                              "message": "Missing required scopes"}, status=403)
        if kind == "rate_limited":
            # The documented 429 body of Coinbase's App API (docs.cdp.coinbase.com …/api-architecture/rate-limiting);
            # Advanced Trade's own 429 body is not documented.
            return self.json({"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]}, status=429)
        raise KeyError(kind)

    async def time(self, request: web.Request) -> web.Response:
        now = self.now_ms()
        iso = datetime.fromtimestamp(now / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return self.json({"iso": iso, "epochSeconds": str(now // 1000), "epochMillis": str(now)})

    def _public_key(self, key: SimKey) -> tuple[str, Any]:
        if key.secret not in self._public:
            self._public[key.secret] = public_key_of(key.secret)
        return self._public[key.secret]

    def authenticate(self, request: web.Request) -> SimKey:
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme != "Bearer" or not token:
            raise Reject("invalid_key")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Reject("bad_signature") from None
        key = self.find_key(header.get("kid"))
        if key is None:
            raise Reject("invalid_key")
        try:
            alg, public = self._public_key(key)
        except ValueError:
            raise Reject("bad_signature") from None
        if header.get("alg") != alg:
            raise Reject("bad_signature")
        try:
            # Signature only here; the claims are checked below against the simulator's (possibly skewed) clock.
            claims = jwt.decode(token, public, algorithms=[alg], options={
                "verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False,
                "verify_iss": False})
        except jwt.PyJWTError:
            raise Reject("bad_signature") from None
        self.check_claims(claims, key, request)
        return self.check_key(key)

    def check_claims(self, claims: dict[str, Any], key: SimKey, request: web.Request) -> None:
        if claims.get("sub") != key.api_key or claims.get("iss") not in ISSUERS:
            raise Reject("bad_signature")
        aud = claims.get("aud")
        if aud is not None and not (set(aud if isinstance(aud, list) else [aud]) & AUDIENCES):
            raise Reject("bad_signature")
        try:
            nbf, exp = float(claims["nbf"]), float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            raise Reject("bad_signature") from None
        now = self.now_ms() / 1000
        if exp - nbf > MAX_LIFETIME_S or not (nbf - LEEWAY_S <= now < exp):
            raise Reject("clock_skew")
        listed = claims.get("uris")  # EdDSA tokens (CDP SDK) carry a list; ES256 tokens a single "uri"
        uris: list[Any] = listed if isinstance(listed, list) else [claims.get("uri")]
        if f"{request.method} {request.host}{request.path}" not in uris:
            raise Reject("bad_signature")  # a token made for another host or path

    async def key_permissions(self, request: web.Request) -> web.Response:
        key = self.authenticate(request)
        return self.json(render(key))


def render(key: SimKey) -> dict[str, Any]:
    p = key.permissions
    body: dict[str, Any] = {
        "can_view": "read" in p,
        "can_trade": bool(p & {"spot_trade", "margin_trade", "futures_trade", "options_trade"}),
        "can_transfer": bool(p & {"withdraw", "transfer"}),
        "portfolio_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, key.api_key)),
        "portfolio_type": "DEFAULT",
    }
    body.update(key.raw)
    return body


SIM = CoinbaseSim
