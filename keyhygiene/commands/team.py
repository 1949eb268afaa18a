"""``keyhygiene team connect|status|disconnect|policy|import``: the shared OpenBao/Vault server (DESIGN.md item 9).

The command logic only parses, asks and prints; the use cases live in keyhygiene.service.team. The token is read
from BAO_TOKEN / VAULT_TOKEN or a hidden prompt, never from argv, and is kept in the OS keychain.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from keyhygiene import exitcodes
from keyhygiene.cliutil import ask_secret, print_json
from keyhygiene.core.plural import plural, word_for
from keyhygiene.paths import app_paths


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    team = sub.add_parser("team", parents=[common], help="use a shared OpenBao/Vault server as the vault")
    tsub = team.add_subparsers(dest="team_command", metavar="ACTION", required=True)

    p = tsub.add_parser("connect", parents=[common],
                        help="connect to a team vault (token from BAO_TOKEN/VAULT_TOKEN or a hidden prompt)")
    p.add_argument("url", metavar="URL", help="the server, e.g. https://vault.example.com:8200")
    p.add_argument("--mount", default="keyhygiene", metavar="NAME", help="the KV v2 mount (default: keyhygiene)")
    p.add_argument("--ca-cert", metavar="FILE", help="the CA certificate of a server with a private CA")
    p.add_argument("--json", action="store_true", help="print the resulting status as JSON")
    p.set_defaults(func=cmd_connect)

    p = tsub.add_parser("status", parents=[common], help="is the team vault reachable, unsealed, the token valid")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = tsub.add_parser("disconnect", parents=[common], help="go back to the local keychain vault")
    p.set_defaults(func=cmd_disconnect)

    p = tsub.add_parser("policy", parents=[common], help="print ready HCL policies for the team roles")
    p.add_argument("--role", choices=("admin", "trader", "auditor"), help="one role (default: all three)")
    p.add_argument("--mount", default=None, metavar="NAME", help="the mount (default: the connected one)")
    p.set_defaults(func=cmd_policy)

    p = tsub.add_parser("import", parents=[common], help="copy the local vault's keys into the team vault")
    p.add_argument("--remove-local", action="store_true",
                   help="delete each local key once its copy was read back from the team vault and matched")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)


def _resolver() -> Callable[[str], str]:
    from keyhygiene.core.registry import default_resolver

    return default_resolver()


def cmd_connect(args: argparse.Namespace) -> int:
    from keyhygiene.service import team

    paths = app_paths(getattr(args, "data_dir", None))
    url = team.validated_url(args.url)  # a typo is a usage error before any prompt
    token = team.env_token() or ask_secret(f"Token for {url} (hidden): ")
    st = team.connect(paths, url, token, mount=args.mount, ca_cert=args.ca_cert, service_resolver=_resolver())
    if args.json:
        print_json(st.to_json())
    else:
        print(f"Connected to {st.url} (mount {st.mount}); {plural(st.keys, 'key')} in the team vault.")
        print("The token is kept in the OS keychain. Every command now uses the team vault; "
              "`keyhygiene team disconnect` goes back to the local one.")
    return exitcodes.OK


def cmd_status(args: argparse.Namespace) -> int:
    from keyhygiene.service import team

    st = team.status(app_paths(getattr(args, "data_dir", None)), _resolver())
    if args.json:
        print_json(st.to_json())
    elif not st.connected:
        print("Not connected to a team vault: keys live in this machine's keychain.")
    else:
        print(f"team vault: {st.url} (mount {st.mount})")
        print(f"state:      {st.reason}")
        print(f"            {st.message}")
        if st.token:
            print(f"token:      policies {', '.join(st.token.get('policies') or []) or '-'}; "
                  f"expires {st.token.get('expire_time') or 'never'}")
        if st.keys is not None:
            print(f"keys:       {st.keys}")
    if st.connected and not st.usable:
        return exitcodes.KEYCHAIN
    return exitcodes.OK


def cmd_disconnect(args: argparse.Namespace) -> int:
    from keyhygiene.service import team

    cfg = team.disconnect(app_paths(getattr(args, "data_dir", None)))
    if cfg is None:
        print("Not connected to a team vault.")
    else:
        print(f"Disconnected from {cfg.url} (mount {cfg.mount}): the token was removed from the keychain and the "
              "local cache deleted. The team's keys stay on the server. Keys now live in this machine's keychain.")
    return exitcodes.OK


def cmd_policy(args: argparse.Namespace) -> int:
    from keyhygiene.service import team
    from keyhygiene.service.team_policies import ROLES, policy_hcl

    mount = args.mount or team.connected_mount(app_paths(getattr(args, "data_dir", None))) or "keyhygiene"
    roles = [args.role] if args.role else list(ROLES)
    for i, role in enumerate(roles):
        if i:
            print()
        print(policy_hcl(role, mount), end="")
    if not args.role:
        print("\n# bao policy write keyhygiene-<role> <file>; bao token create -policy=keyhygiene-<role>")
    return exitcodes.OK


def cmd_import(args: argparse.Namespace) -> int:
    from keyhygiene.service import team

    def show(item: team.ImportItem) -> None:
        if not args.json:
            print(f"{item.key_id}  {item.result:<8}  {item.label}{('  - ' + item.message) if item.message else ''}")

    result = team.import_local(app_paths(getattr(args, "data_dir", None)), _resolver(),
                               remove_local=args.remove_local, progress=show)
    if args.json:
        print_json({"keys": [i.to_json() for i in result.items], "removed_locally": result.removed_locally,
                    "complete": result.complete})
    else:
        done = sum(1 for i in result.items if i.result in ("imported", "already"))
        print(f"{done} of {plural(len(result.items), 'key')} {word_for(done, 'is')} in the team vault"
              + (f"; {len(result.removed_locally)} removed from the local keychain." if args.remove_local else
                 ". Nothing was removed locally (--remove-local does, after checking each copy)."))
    return exitcodes.OK if result.complete else exitcodes.USAGE
