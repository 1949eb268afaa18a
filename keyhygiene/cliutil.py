"""What every command shares: opening the vault, reading credentials without argv, printing JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from keyhygiene.core import redact
from keyhygiene.paths import app_paths
from keyhygiene.service.types import DatabaseError, ValidationError

if TYPE_CHECKING:
    from keyhygiene.core.credentials import Credentials
    from keyhygiene.service.app import App

ENV_KEY = "KEYHYGIENE_API_KEY"
ENV_SECRET = "KEYHYGIENE_API_SECRET"
ENV_PASSPHRASE = "KEYHYGIENE_API_PASSPHRASE"
ENDPOINTS_ENV = "KEYHYGIENE_ENDPOINTS"


class UsageError(Exception):
    """Maps to exit code 2 with the message on stderr."""


def open_app(args: argparse.Namespace, *, keychain: bool = False) -> App:
    """The application over the vault of ``--data-dir`` (with ``--endpoint``s); with ``keychain``, a KeychainError
    (exit 3) first when no keychain can be used, before the data dir, its database or its log are created: a
    refused command leaves nothing behind. Close it (``with``) when done."""
    from keyhygiene.logsetup import configure_logging
    from keyhygiene.service.app import App
    from keyhygiene.service.backend import team_connected

    paths = app_paths(getattr(args, "data_dir", None))
    # A team vault holds the secrets on its server (its token may come from BAO_TOKEN in a headless script): the
    # command's own require() asks the server instead.
    if keychain and not team_connected(paths):
        from keyhygiene.service import keychain as keychain_check

        keychain_check.require()
    from keyhygiene.core.registry import default_resolver

    # The backend seam: the team vault when one is connected (`keyhygiene team connect`), else the local one.
    app = App.open(paths, service_resolver=default_resolver(), endpoints=getattr(args, "endpoints", None))
    for warning in app.vault.warnings:
        err(f"warning: {warning}")
    try:
        configure_logging(paths)
    except OSError as exc:
        app.close()
        raise DatabaseError(
            f"The log folder {paths.log_dir} cannot be written ({exc.strerror or exc}). Check its permissions "
            "or choose another data folder with --data-dir."
        ) from None
    return app


def open_vault(args: argparse.Namespace, *, keychain: bool = False) -> Any:
    """The vault alone (``open_app(...).vault``), for the commands that have not moved to the service yet
    (rotate: the rotation session becomes a service use case). The caller closes it."""
    return open_app(args, keychain=keychain).vault


def parse_endpoints(values: list[str] | None) -> dict[str, str]:
    """``--endpoint EXCHANGE=URL`` (repeatable) merged over ``KEYHYGIENE_ENDPOINTS`` (comma-separated).

    Every entry must name a ccxt exchange and a well-formed http(s) URL: an override that is silently ignored
    (a misspelled id) would send the key to the exchange's production host instead (issue 18)."""
    out: dict[str, str] = {}
    sources: dict[str, str] = {}
    env = os.environ.get(ENDPOINTS_ENV, "")
    items = [(ENDPOINTS_ENV, s) for s in env.split(",") if s.strip()] + [("--endpoint", v) for v in values or []]
    for source, item in items:
        name, sep, url = item.strip().partition("=")
        if not sep or not name.strip() or not url.strip():
            raise UsageError(f"{source} expects EXCHANGE=URL, got {item.strip()!r}")
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"{source}: the URL must start with http:// or https://, got {url!r}")
        _check_url(source, url)
        out[name.strip().lower()] = url
        sources[name.strip().lower()] = source
    if out:
        _check_exchanges(sources)
    return out


def _check_url(source: str, url: str) -> None:
    from urllib.parse import urlsplit

    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UsageError(f"{source}: the URL {url!r} contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port outside 0-65535 or not a number
    except ValueError as exc:
        raise UsageError(f"{source}: {url!r} is not a valid URL ({exc})") from None
    if not parts.hostname:
        raise UsageError(f"{source}: the URL {url!r} names no host")
    if port == 0:
        raise UsageError(f"{source}: the URL {url!r} has port 0")


def _check_exchanges(sources: dict[str, str]) -> None:
    from keyhygiene.service import exchange_info

    for name, source in sources.items():
        if exchange_info.is_known(name):
            continue
        import difflib  # only for a misspelling: every start with --endpoint passes through here

        close = difflib.get_close_matches(name, exchange_info.exchange_ids(), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else "; use a ccxt exchange id such as binance"
        raise UsageError(f"{source}: unknown exchange {name!r}{hint}")


PEM_BEGIN = "-----BEGIN "
PEM_END = "-----END "


def _ask(prompt: str, hidden: bool = True) -> str:
    """A hidden prompt on a terminal; one line of piped stdin otherwise; "" when there is no input at all.

    A PEM block (Coinbase CDP private keys) spans several lines: after a ``-----BEGIN`` line, lines are read up to
    the ``-----END`` line, so both a paste at the prompt and a piped file arrive whole.
    """
    if sys.stdin is None or sys.stdin.closed:
        return ""
    lines: list[str] = []
    try:
        tty = sys.stdin.isatty()
        while True:
            shown = "" if lines else prompt
            if tty:
                import getpass  # here: the window's start-up reads no prompt (getpass loads termios)

                line = getpass.getpass(shown) if hidden else input(shown)
            else:
                # Piped input: one value per line, so scripts can pass secrets on stdin instead of argv.
                raw = sys.stdin.readline()
                if not raw:
                    break
                line = raw.rstrip("\r\n")
            lines.append(line)
            in_pem = lines[0].lstrip().startswith(PEM_BEGIN) and PEM_END not in lines[0]
            if not in_pem or (len(lines) > 1 and line.lstrip().startswith(PEM_END)):
                break
    except (EOFError, OSError):
        pass
    if len(lines) > 1:
        return "\n".join(lines) + "\n"
    return lines[0] if lines else ""


def _ask_field(field: str, what: str, prompt: str) -> str:
    try:
        return _ask(prompt)
    except UnicodeDecodeError:
        # The bytes are not quoted back: they may be most of a secret.
        raise ValidationError(field, f"The {what} read from standard input is not valid UTF-8 text.") from None


def _unescape_pem(value: str) -> str:
    """A PEM pasted from a JSON file keeps its ``\\n`` escapes (the CDP key download); make them newlines."""
    if PEM_BEGIN in value and "\\n" in value and "\n" not in value.strip():
        return value.replace("\\n", "\n")
    return value


def read_credentials(exchange: str, needs_passphrase: bool) -> Credentials:
    """From the environment or a hidden prompt; never from argv (other users can read argv)."""
    key = os.environ.get(ENV_KEY)
    secret = os.environ.get(ENV_SECRET)
    passphrase = os.environ.get(ENV_PASSPHRASE)
    if key is None:
        key = _ask_field("api_key", "API key", f"{exchange} API key: ")
    if secret is None:
        secret = _ask_field("secret", "API secret", f"{exchange} API secret (hidden): ")
    if passphrase is None and needs_passphrase:
        passphrase = _ask_field("passphrase", "API passphrase", f"{exchange} API passphrase (hidden): ")
    if not key or not secret:
        raise ValidationError(
            "api_key" if not key else "secret",
            f"No API {'key' if not key else 'secret'} given: set {ENV_KEY} and {ENV_SECRET} "
            "or run in a terminal to be prompted.",
        )
    from keyhygiene.core.credentials import Credentials  # not at import: the window's start needs none

    creds = Credentials(api_key=key, secret=_unescape_pem(secret), passphrase=passphrase or None)
    redact.remember(creds.secret_values())
    return creds


def ask_secret(prompt: str) -> str:
    """A hidden prompt on a terminal, one line of piped stdin otherwise (a token, a passphrase)."""
    value = _ask(prompt)
    if value:
        redact.remember([value])
    return value


def table_lines(rows: list[tuple[str, ...]], max_width: int) -> list[str]:
    """Left-aligned columns two spaces apart; a cell longer than ``max_width`` is cut and ends in "…", so a cut
    label or id never passes for a whole one."""
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "\u2026" for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))] if cells else []
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def err(message: str) -> None:
    sys.stderr.write(f"keyhygiene: {redact.scrub(message)}\n")
    sys.stderr.flush()


def add_fail_on(parser: argparse.ArgumentParser) -> None:
    """``--fail-on SEVERITY``, worded once for ``audit`` and ``status`` (same exit codes, DESIGN.md)."""
    from keyhygiene.core.severity import SEVERITIES

    parser.add_argument("--fail-on", choices=SEVERITIES, metavar="SEVERITY", type=str.lower,
                        help=f"exit with code 1 when any finding is at least this severe ({', '.join(SEVERITIES)})")
