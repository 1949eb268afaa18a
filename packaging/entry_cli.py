"""PyInstaller entry point for the console executable ``keyhygiene``."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["--exchange-worker"]:
        # The window's exchange process (service/exchange_executor.py): before anything else is imported, so it
        # loads only what it runs. Credentials reach it over its stdin, never argv.
        from keyhygiene.service.exchange_worker import main as worker_main

        sys.exit(worker_main())
    from keyhygiene.cli import main

    sys.exit(main())
