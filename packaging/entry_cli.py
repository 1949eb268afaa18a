"""PyInstaller entry point for the console executable ``keyhygiene``."""

import sys

from keyhygiene.cli import main

if __name__ == "__main__":
    sys.exit(main())
