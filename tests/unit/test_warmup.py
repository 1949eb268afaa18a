"""Loading the exchange stack ahead of the first request (keyhygiene.exchanges.warmup)."""

from __future__ import annotations

import subprocess
import sys


def test_load_exchange_stack_imports_what_an_inspection_needs() -> None:
    # A fresh interpreter: in this one, other tests have imported ccxt already.
    code = (
        "import sys\n"
        "from keyhygiene.exchanges import warmup\n"
        "assert not warmup.loaded()\n"
        "warmup.load_exchange_stack()\n"
        "assert warmup.loaded()\n"
        "assert 'ccxt.async_support.binance' in sys.modules\n"
        "from keyhygiene.exchanges.client import shared_ssl_context\n"
        "assert shared_ssl_context.cache_info().currsize == 1\n"
        "assert shared_ssl_context().cert_store_stats()['x509_ca'] > 0\n"
        "warmup.load_exchange_stack()  # again: nothing to do\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
