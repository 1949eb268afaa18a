"""The application layer, plain Python (no Qt): every use case the window and the command line share.

It owns the vault, the one asyncio loop that owns every ccxt client and the worker pool for keychain calls
(``runtime``), and is the only importer of ``keyhygiene.exchanges`` and ``keyhygiene.store``. ``commands/`` and
``ui/`` call it and nothing below it (core's plain data types aside). Importing this package stays cheap: the
window's first frame imports it, so ccxt, keyring and asyncio load only when a use case needs them.
"""
