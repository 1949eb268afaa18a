"""The one write KeyHygiene makes: deleting an old key through the exchange API during a rotation.

Kept apart from the audit path on purpose: its own allowlist holds exactly the delete endpoint, and only the
rotation flow imports this module. Exchanges without a self-delete endpoint are guided through their web page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from keyhygiene.core import redact
from keyhygiene.core.models import Credentials, Status
from keyhygiene.exchanges import errors
from keyhygiene.exchanges.adapter import Endpoint
from keyhygiene.exchanges.adapters import get_adapter
from keyhygiene.exchanges.client import KEY_DEADLINE_S, capture_of, create_client
from keyhygiene.exchanges.key_pages import key_page
from keyhygiene.exchanges.readonly import Allowlist


@dataclass(frozen=True)
class RevokeResult:
    supported: bool
    ok: bool
    message: str
    status: Status | None = None


# Bybit "Delete Master API Key" (docs v5/user/rm-master-apikey): deletes the key that signs the request.
REVOKE_ENDPOINTS: dict[str, Endpoint] = {
    "bybit": Endpoint("private_post_v5_user_delete_api", "POST", "/v5/user/delete-api"),
}


def supports_api_revoke(exchange: str) -> bool:
    return exchange in REVOKE_ENDPOINTS


async def revoke_key(
    exchange: str, creds: Credentials, *, endpoints: Mapping[str, str] | None = None
) -> RevokeResult:
    ep = REVOKE_ENDPOINTS.get(exchange)
    if ep is None:
        page = key_page(exchange)
        where = f" at {page}" if page else " on the exchange's website"
        return RevokeResult(False, False, f"This exchange has no API to delete a key: delete it{where}.")
    redact.remember(creds.secret_values())
    adapter = get_adapter(exchange)
    client: Any = create_client(exchange, creds, endpoint=(endpoints or {}).get(exchange),
                                allowlist=Allowlist([ep]), options=adapter.ccxt_options if adapter else None,
                                configure=adapter.configure if adapter else None)
    try:
        async with asyncio.timeout(KEY_DEADLINE_S):
            await getattr(client, ep.method)({})
        return RevokeResult(True, True, "The exchange deleted the old key.")
    except Exception as exc:  # noqa: BLE001
        cap = capture_of(client)
        status, msg = errors.classify(adapter, exc, cap.status, cap.body)
        if status is Status.PERMISSION_DENIED:
            msg = ("The exchange refused to delete this key through the API (only master keys with a transfer or "
                   "withdrawal permission can delete themselves). Delete it on the exchange's API page.")
        return RevokeResult(True, False, redact.scrub(msg), status)
    finally:
        await client.close()
