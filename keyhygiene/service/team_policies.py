"""Ready HCL policies for the three team roles (``keyhygiene team policy``).

KV v2 paths: ``<mount>/data/...`` is a version's content, ``<mount>/metadata/...`` the listing and the stage
labels, ``<mount>/destroy/...`` wipes old versions. The auditor reads metadata (keys' records, inspections, the
rotation history) and never ``<mount>/data/keys/*``: the server itself refuses it the secrets.
"""

from __future__ import annotations

ROLES = ("admin", "trader", "auditor")

_ADMIN = """\
# KeyHygiene team vault: admin. Everything in the mount, including removing keys and their history.
path "{m}/data/*" {{
  capabilities = ["create", "read", "update", "delete"]
}}
path "{m}/metadata/*" {{
  capabilities = ["read", "list", "update", "delete"]
}}
path "{m}/destroy/*" {{
  capabilities = ["update"]
}}
path "{m}/delete/*" {{
  capabilities = ["update"]
}}
path "{m}/undelete/*" {{
  capabilities = ["update"]
}}
"""

_TRADER = """\
# KeyHygiene team vault: trader. Adds, uses and rotates keys; records sharings and inspections.
path "{m}/data/keys/*" {{
  capabilities = ["create", "read", "update", "delete"]
}}
path "{m}/data/meta/*" {{
  capabilities = ["create", "read", "update", "delete"]
}}
path "{m}/data/rotations/*" {{
  capabilities = ["create", "read", "update"]
}}
path "{m}/data/index" {{
  capabilities = ["create", "read", "update"]
}}
path "{m}/metadata/*" {{
  capabilities = ["read", "list", "update", "delete"]
}}
path "{m}/destroy/keys/*" {{
  capabilities = ["update"]
}}
"""

_AUDITOR = """\
# KeyHygiene team vault: auditor. Reads keys' metadata, findings' inputs and rotation history; makes reports.
# Never secret material: nothing under {m}/data/keys/ is readable with this policy.
path "{m}/data/meta/*" {{
  capabilities = ["read"]
}}
path "{m}/data/rotations/*" {{
  capabilities = ["read"]
}}
path "{m}/data/index" {{
  capabilities = ["read"]
}}
path "{m}/metadata/meta/" {{
  capabilities = ["list"]
}}
path "{m}/metadata/rotations/" {{
  capabilities = ["list"]
}}
path "{m}/data/keys/*" {{
  capabilities = ["deny"]
}}
"""

_TEMPLATES = {"admin": _ADMIN, "trader": _TRADER, "auditor": _AUDITOR}


def policy_hcl(role: str, mount: str) -> str:
    if role not in _TEMPLATES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return _TEMPLATES[role].format(m=mount.strip("/"))
