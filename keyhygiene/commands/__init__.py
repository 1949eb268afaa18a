"""One module per CLI command group. Each exposes ``register(subparsers, common)``; cli.py wires them up.

Modules import heavy things (ccxt, Qt) inside their handlers only, so ``keyhygiene --help`` stays fast.
"""

# Order = order in ``keyhygiene --help``.
COMMAND_MODULES: tuple[str, ...] = (
    "keyhygiene.commands.keys",
    "keyhygiene.commands.inspect",
    "keyhygiene.commands.audit",
    "keyhygiene.commands.status",
    "keyhygiene.commands.rotate",
    "keyhygiene.commands.report",
    "keyhygiene.commands.scan",
    "keyhygiene.commands.doctor",
    "keyhygiene.commands.team",
)
