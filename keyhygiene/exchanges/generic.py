"""Any other ccxt exchange: a liveness check with one read-only call; permissions come from the user."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from keyhygiene.core import redact
from keyhygiene.core.models import Credentials, KeyProfile, Status
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.client import capture_of, create_client
from keyhygiene.exchanges.readonly import Allowlist

log = logging.getLogger(__name__)


class GenericLiveness:
    def __init__(self, exchange: str) -> None:
        self.exchange = exchange

    async def inspect(
        self,
        creds: Credentials,
        profile: KeyProfile,
        *,
        endpoint: str | None,
        declared: list[str] | None,
        session: Any = None,
        pacer: Any = None,
        deadline_s: float,
    ) -> KeyProfile:
        import ccxt.async_support as ccxt_async

        if not hasattr(ccxt_async, self.exchange):
            profile.status = Status.UNSUPPORTED
            profile.message = errors.message(Status.UNSUPPORTED, f"ccxt has no exchange called {self.exchange!r}.")
            return profile
        client = create_client(self.exchange, creds, endpoint=endpoint, allowlist=Allowlist(generic=True),
                               session=session, pacer=pacer)
        try:
            if not client.has.get("fetchBalance"):
                profile.status = Status.UNSUPPORTED
                profile.message = errors.message(Status.UNSUPPORTED, "ccxt cannot read a balance here either.")
                return profile
            async with asyncio.timeout(deadline_s):
                # fetch_balance is the read every ccxt exchange with private API support implements.
                await client.fetch_balance()
            profile.status = Status.OK
            profile.permissions = sorted(set(declared or []))
            profile.permissions_source = "declared" if declared is not None else "unknown"
            profile.notes.append(
                "This exchange cannot describe a key; the key works, and the permissions shown are "
                + ("the ones you declared." if declared is not None else "unknown.")
            )
        except TimeoutError:
            profile.status = Status.UNREACHABLE
            profile.message = errors.message(Status.UNREACHABLE, f"No answer within {deadline_s:.0f} s.")
        except Exception as exc:  # noqa: BLE001
            cap = capture_of(client)
            profile.status, profile.message = errors.generic(exc, cap.status, cap.body)
            profile.message = redact.scrub(errors.with_retry_after(profile.status, profile.message, cap.headers))
        finally:
            await client.close()
        return profile
