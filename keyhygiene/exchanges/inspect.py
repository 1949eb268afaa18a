"""``inspect_key``: ask the exchange what one key can do. Never raises for exchange trouble: the returned
profile's ``status`` says what happened, with a plain message free of key material."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from keyhygiene.core import redact
from keyhygiene.core.masking import mask_key
from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.exchanges import client as client_mod
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import Adapter, ParseError
from keyhygiene.exchanges.adapters import get_adapter
from keyhygiene.exchanges.client import capture_of, create_client
from keyhygiene.exchanges.generic import GenericLiveness
from keyhygiene.exchanges.readonly import Allowlist

log = logging.getLogger(__name__)

MAX_RATE_LIMIT_RETRIES = 2
MAX_RETRY_AFTER_S = 20.0


retry_after_seconds = errors.retry_after_seconds


async def inspect_key(
    exchange: str,
    creds: Credentials,
    *,
    endpoints: Mapping[str, str] | None = None,
    declared_permissions: list[str] | None = None,
    session: Any = None,
    pacer: Any = None,
    deadline_s: float | None = None,
) -> KeyProfile:
    exchange = exchange.lower()
    deadline_s = client_mod.KEY_DEADLINE_S if deadline_s is None else deadline_s
    redact.remember(creds.secret_values())
    profile = KeyProfile(exchange=exchange, key=mask_key(creds.api_key))
    try:
        adapter: Adapter | None = get_adapter(exchange)
    except Exception:  # noqa: BLE001 - a broken adapter module must not take the audit down
        log.exception("adapter for %s failed to load", exchange)
        adapter = None
    if adapter is None:
        return await GenericLiveness(exchange).inspect(
            creds, profile, endpoint=(endpoints or {}).get(exchange), declared=declared_permissions,
            session=session, pacer=pacer, deadline_s=deadline_s,
        )
    client = create_client(
        exchange, creds, endpoint=(endpoints or {}).get(exchange),
        allowlist=Allowlist(adapter.allowed()), options=adapter.ccxt_options, session=session,
        pacer=pacer, configure=adapter.configure,
    )
    try:
        async with asyncio.timeout(deadline_s):
            data = await _call_with_retries(adapter, client, creds, deadline_s)
        adapter.parse(data, profile)
        adapter.apply_declared(profile, declared_permissions)
        profile.status = Status.OK
    except TimeoutError as exc:
        profile.status, profile.message = errors.generic(exc, None, None)
        profile.message = errors.message(Status.UNREACHABLE, f"No answer within {deadline_s:.0f} s.")
    except ParseError as exc:
        profile.status = Status.ERROR
        body = capture_of(client).body
        if body is not None and body.strip() and errors.decode_body(body) is None:
            profile.message = errors.message(Status.ERROR, "Its answer was not valid JSON.")
        else:
            profile.message = errors.message(Status.ERROR, f"Its answer did not have the documented shape ({exc}).")
    except Exception as exc:  # noqa: BLE001 - every failure becomes a status
        cap = capture_of(client)
        profile.status, profile.message = errors.classify(adapter, exc, cap.status, cap.body)
        profile.message = redact.scrub(errors.with_retry_after(profile.status, profile.message, cap.headers))
        log.info("inspect %s %s: %s (%s)", exchange, profile.key, profile.status.value, type(exc).__name__)
    finally:
        await client.close()
    if profile.status != Status.OK:
        profile.permissions, profile.other = [], []
    return profile


async def _call_with_retries(adapter: Adapter, client: Any, creds: Credentials, deadline_s: float) -> Any:
    """One key-info call, retried for a rate limit (honouring Retry-After) and once for clock skew."""
    import ccxt

    started = time.monotonic()
    rate_retries = 0
    resynced = False
    while True:
        try:
            return await adapter.fetch(client, creds)
        except Exception as exc:
            cap = capture_of(client)
            status = errors.classify(adapter, exc, cap.status, cap.body)[0]
            remaining = deadline_s - (time.monotonic() - started)
            if status is Status.RATE_LIMITED and rate_retries < MAX_RATE_LIMIT_RETRIES and cap.status != 418:
                wait = retry_after_seconds(cap.headers)
                wait = 1.0 if wait is None else wait
                if wait <= min(MAX_RETRY_AFTER_S, remaining - 1.0):
                    rate_retries += 1
                    await asyncio.sleep(wait)
                    continue
            if status is Status.CLOCK_SKEW and adapter.supports_time_resync and not resynced:
                resynced = True
                try:
                    await client.load_time_difference()
                except ccxt.BaseError:
                    raise exc from None
                continue
            raise
