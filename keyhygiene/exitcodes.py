"""Process exit codes (DESIGN.md, "Exit codes"). 6 is ours: the data dir or its database cannot be used."""

OK = 0
FINDINGS = 1
USAGE = 2
KEYCHAIN = 3
EXCHANGE = 4
ROTATION_WAITING = 5
STORAGE = 6
INTERNAL = 70  # a bug (EX_SOFTWARE): a redacted traceback went to stderr and the log
