"""Re-export: the API-key pages are a core fact (``core/exchange_facts.py``), without ccxt."""

from keyhygiene.core.exchange_facts import API_KEY_PAGES, key_page

__all__ = ["API_KEY_PAGES", "key_page"]
