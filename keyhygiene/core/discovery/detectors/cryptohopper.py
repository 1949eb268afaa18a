"""The Cryptohopper CLI's login: ``~/.cryptohopper/config.json`` = ``{"apiUrl", "webUrl", "token", "appKey",
"user"}`` written with mode 0600 (cryptohopper/cryptohopper-cli, src/config.ts; ``cryptohopper logout`` removes
the token). The token is an OAuth bearer token for the Cryptohopper account, not an exchange key, but that
account holds the user's exchange keys and trades with them, so it is reported as a service token.
"""

from __future__ import annotations

from keyhygiene.core.discovery.model import KIND_SERVICE_TOKEN, Document, FoundKey
from keyhygiene.core.discovery.values import looks_like_credential
from keyhygiene.core.models import Credentials

CONFIG_DIR = ".cryptohopper"
TOKEN_FIELD = "token"


class CryptohopperDetector:
    format = "cryptohopper"
    tool = "Cryptohopper CLI"

    def wants(self, name: str, parent: str) -> bool:
        return name == "config.json" and parent == CONFIG_DIR

    def detect(self, doc: Document) -> list[FoundKey]:
        data = doc.strict_json  # the CLI writes it with JSON.stringify: no need for tolerance
        if not isinstance(data, dict):
            return []
        token = data.get(TOKEN_FIELD)
        if not looks_like_credential(token, min_len=16):
            return []
        assert isinstance(token, str)
        return [FoundKey(
            path=str(doc.path),
            format=self.format,
            tool=self.tool,
            kind=KIND_SERVICE_TOKEN,
            exchange="cryptohopper",
            exchange_known=False,
            fields=[TOKEN_FIELD],
            location=TOKEN_FIELD,
            advice=(
                "This token acts as your Cryptohopper account, which holds your exchange keys and trades with "
                "them. Run `cryptohopper logout` when you no longer script Cryptohopper from this computer, and "
                "revoke the CLI's access in your Cryptohopper account if this file was ever copied elsewhere."
            ),
            cleanable=False,
            credentials=Credentials(api_key=token.strip(), secret=""),
            secret_paths=[(TOKEN_FIELD,)],
        )]
