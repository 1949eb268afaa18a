"""The exchange layer: ccxt.async_support adapters that read a key's own description. Never imports Qt."""
