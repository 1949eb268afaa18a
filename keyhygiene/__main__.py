import sys

from keyhygiene.cli import main

sys.exit(main())
