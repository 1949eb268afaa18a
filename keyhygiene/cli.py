"""``keyhygiene`` command line (DESIGN.md, "CLI"). Exit codes live in exitcodes.py."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from keyhygiene import __version__, exitcodes
from keyhygiene.cliutil import UsageError, err, parse_endpoints
from keyhygiene.commands import COMMAND_MODULES
from keyhygiene.core import redact

log = logging.getLogger(__name__)


class _SubParsers(argparse._SubParsersAction):
    """argparse copies a subcommand's values over the parent's, so ``--endpoint A CMD --endpoint B`` kept only B.

    A repeatable global flag must add up wherever it is given: keep what the outer levels collected, then add.
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        outer = getattr(namespace, "endpoint", None)
        super().__call__(parser, namespace, values, option_string)
        inner = getattr(namespace, "endpoint", None)
        if outer and inner is not outer:
            namespace.endpoint = [*outer, *(inner or [])]


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _SubParsers)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(exitcodes.USAGE, f"{self.prog}: error: {message}\n")


def _add_globals(p: argparse.ArgumentParser, suppress: bool) -> None:
    # On subcommands the defaults are SUPPRESS so a value given before the subcommand is not reset after it.
    default = argparse.SUPPRESS if suppress else None
    p.add_argument("--data-dir", metavar="DIR", default=default,
                   help="vault folder (default: the platform's user data dir; env KEYHYGIENE_DATA_DIR)")
    p.add_argument("--endpoint", metavar="EXCHANGE=URL", action="append",
                   default=argparse.SUPPRESS if suppress else [],
                   help="point an exchange at a testnet, proxy or simulator (repeatable; env KEYHYGIENE_ENDPOINTS)")


def _add_gui_flags(p: argparse.ArgumentParser, suppress: bool) -> None:
    d = argparse.SUPPRESS if suppress else False
    p.add_argument("--demo", action="store_true", default=d,
                   help="open the app on sample keys, an in-memory keychain and a local exchange simulator")
    p.add_argument("--smoke-test", action="store_true", default=d,
                   help="start, show the window, run an audit, exit 0 only if all of that worked")
    p.add_argument("--screenshot", metavar="PATH", default=argparse.SUPPRESS if suppress else None,
                   help="save a PNG of the main window after the first audit, then exit")


class _NotTheGui(Exception):
    """The GUI-only parser could not parse argv: it names another command (or is wrong): use the full parser."""


class _GuiOnlyParser(_Parser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _NotTheGui(message)


def build_parser(*, commands: bool = True) -> argparse.ArgumentParser:
    """The whole CLI; with ``commands=False`` only the app's flags and ``gui`` (no command module imported)."""
    parser = (_Parser if commands else _GuiOnlyParser)(
        prog="keyhygiene",
        description="Know what every exchange API key can do, who has it, and rotate the ones you gave away.",
    )
    parser.add_argument("--version", action="version", version=f"KeyHygiene {__version__}")
    _add_globals(parser, suppress=False)
    _add_gui_flags(parser, suppress=False)
    common = _Parser(add_help=False)
    _add_globals(common, suppress=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    gui = sub.add_parser("gui", parents=[common], help="open the desktop app (the default)")
    _add_gui_flags(gui, suppress=True)
    gui.set_defaults(func=run_gui)
    if commands:
        for name in COMMAND_MODULES:
            importlib.import_module(name).register(sub, common)
    return parser


_GUI_VALUES = {"--data-dir": "data_dir", "--endpoint": "endpoint", "--screenshot": "screenshot"}
_GUI_SWITCHES = {"--demo": "demo", "--smoke-test": "smoke_test"}


def parse_gui_args(tokens: Sequence[str]) -> argparse.Namespace | None:
    """The app's usual command lines (``[gui] [--data-dir DIR] [--endpoint EX=URL]… [--demo] [--smoke-test]
    [--screenshot PATH]``, each option spelt out) read without building an argparse parser: building even the
    GUI-only one costs ~13 M instructions of the window's start (argparse's messages look up their translations,
    which loads ``locale``). The result is what ``build_parser(commands=False).parse_args(tokens)`` returns
    (tests/unit/test_cli_gui_args.py compares them); anything else - an abbreviation, ``--``, a value that starts
    with ``-``, another word - returns None, and argparse reads it with its usual messages."""
    ns: dict[str, Any] = {"data_dir": None, "endpoint": [], "demo": False, "smoke_test": False, "screenshot": None,
                          "command": None}
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        i += 1
        if token == "gui" and ns["command"] is None:
            ns["command"] = "gui"
            ns["func"] = run_gui
            continue
        name, eq, value = token.partition("=")
        if name in _GUI_SWITCHES and not eq:
            ns[_GUI_SWITCHES[name]] = True
            continue
        if name not in _GUI_VALUES:
            return None
        if not eq:
            if i == n:
                return None
            value = tokens[i]
            i += 1
        if not value or value.startswith("-"):
            return None
        if name == "--endpoint":
            ns["endpoint"].append(value)
        else:
            ns[_GUI_VALUES[name]] = value
    return argparse.Namespace(**ns)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Opening the app (no command, or ``gui``) needs none of the command modules: importing them all for the
    parser costs ~35 ms of the app's startup. Try the GUI-only parser first; anything else (another command, an
    error, ``--help``, which lists every command) goes through the full parser, so its messages are unchanged."""
    tokens = list(sys.argv[1:] if argv is None else argv)
    quick = parse_gui_args(tokens)
    if quick is not None:
        return quick
    asks_help = any(t == "-h" or (len(t) > 2 and "--help".startswith(t)) for t in tokens)  # "--he" too
    if not asks_help:
        try:
            return build_parser(commands=False).parse_args(tokens)
        except _NotTheGui:
            pass
    return build_parser().parse_args(tokens)


def run_gui(args: argparse.Namespace) -> int:
    try:
        app = importlib.import_module("keyhygiene.app")
    except ImportError as exc:
        if "PySide6" in str(exc):
            err("the desktop app needs PySide6: pip install PySide6-Essentials")
            return exitcodes.USAGE
        raise
    return int(app.run(args))


def main(argv: Sequence[str] | None = None) -> int:
    from keyhygiene.hardening import harden_process

    harden_process()  # before anything reads a secret (environment, prompt, keychain): no core dumps, umask 077
    # JSON and human output carry "…" in masked keys; do not let a C locale turn that into a crash.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure:
            try:
                reconfigure(encoding="utf-8", errors="replace")
            except (ValueError, OSError):
                pass
    from keyhygiene.logsetup import close_logging, protect_last_resort

    protect_last_resort()
    from keyhygiene import pyside_cache

    pyside_cache.check()  # before anything imports PySide (the window, doctor, a PDF report): never a stale copy
    args = parse_args(argv)
    try:
        args.endpoints = parse_endpoints(getattr(args, "endpoint", None))
    except UsageError as exc:
        err(str(exc))
        return exitcodes.USAGE
    func = getattr(args, "func", None) or run_gui
    try:
        return dispatch(func, args)
    finally:
        close_logging()


def dispatch(func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    from keyhygiene.service.types import DatabaseError, KeychainError, NotFound, ValidationError

    try:
        return int(func(args) or 0)
    except KeychainError as exc:
        reason = getattr(exc, "reason", None)
        if reason is not None:  # the team vault (store/team_client.py): DESIGN.md's "vault unavailable"
            err(f"vault unavailable ({reason.value}): {exc.status.message}")
        else:
            err(f"keychain {exc.status.state.value} ({exc.status.backend}): {exc.status.message}")
        return exitcodes.KEYCHAIN
    except (ValidationError, NotFound, UsageError) as exc:
        err(str(exc))
        return exitcodes.USAGE
    except DatabaseError as exc:
        err(str(exc))
        return exitcodes.STORAGE
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        if not _stdout_gone():
            return _unexpected()
        # The reader went away (`keyhygiene audit --json | head`): stop quietly, as other Unix tools do.
        return SIGPIPE_EXIT
    except Exception as exc:
        # The rotation's journal loads with a rotation, not with every start of the window.
        from keyhygiene.core.rotation.journal import RotationInProgress

        if isinstance(exc, RotationInProgress):
            # A rotation of this key is open: the user's own (resume it) or a teammate's in the team vault.
            err(str(exc))
            return exitcodes.ROTATION_WAITING
        return _unexpected()


SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for a tool whose reader closed the pipe


def _stdout_gone() -> bool:
    """True when stdout's reader has closed it (then stdout points at devnull, so exiting does not fail again)."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return True
    import select  # only when a pipe broke

    poll = getattr(select, "poll", None)
    if poll is not None:  # POSIX: a pipe without a reader polls as an error; any other BrokenPipeError is a bug
        p = poll()
        p.register(fd, select.POLLOUT)
        if not any(ev & (select.POLLERR | select.POLLHUP) for _fd, ev in p.poll(0)):
            return False
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass
    return True


def _unexpected() -> int:
    """Called inside an ``except`` block. Python's own handler would print the raw traceback, and exception texts
    can carry key material (a library echoing a request, a parser quoting its input): log and print it redacted."""
    log.exception("unexpected error")
    sys.stderr.write(redact.scrub(traceback.format_exc()))
    err("unexpected error (a bug); the redacted details are above and in the log file")
    return exitcodes.INTERNAL


def gui_main() -> int:
    """Entry point of the ``keyhygiene-gui`` gui-script (no console on Windows)."""
    return main(["gui", *sys.argv[1:]] if len(sys.argv) > 1 and sys.argv[1] != "gui" else sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
