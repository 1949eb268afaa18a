"""PyInstaller entry point for the windowed executable ``KeyHygiene`` (no console on Windows)."""

import sys

from keyhygiene.cli import gui_main

if __name__ == "__main__":
    sys.exit(gui_main())
