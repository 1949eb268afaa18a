"""The simulator's own "API management" page, so the demo can finish a rotation without any real exchange site.

Served by each simulated exchange on its own loopback port, beside its API:

- ``GET  /console/<exchange>``           the page: the exchange's keys (masked), forms to create and register keys
- ``POST /console/<exchange>/create``    create a system-generated (HMAC) key; its secret is shown once
- ``POST /console/<exchange>/register``  register a public key (PEM); the page shows the API key the exchange made
- ``POST /console/<exchange>/delete``    delete a key (form field ``api_key``)

Form fields: ``token`` (the page's own, required on every POST), ``label``, ``permissions`` (repeatable, DESIGN.md
vocabulary), ``ip_whitelist`` (comma or space separated), ``public_key`` (register), ``api_key`` (delete).
A POST answers ``303 See Other`` back to the page, which shows the outcome once (a new secret is never shown
twice, and reloading the page does not create another key).

Guarded like a local admin page: only loopback peers and loopback ``Host`` names (no DNS rebinding), a per-simulator
form token (no cross-site POST from another page in the browser), no caching, no framing, no scripts.
"""

from __future__ import annotations

import hmac
import html
import ipaddress
import re
import secrets
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from keyhygiene.core.masking import mask_key
from keyhygiene.exchanges.catalog import display_name
from keyhygiene.sim import registration, signatures
from keyhygiene.sim.model import SimKey

if TYPE_CHECKING:
    from keyhygiene.sim.base import Handler
    from keyhygiene.sim.server import Simulator

CONSOLE_PREFIX = "/console"
# The words the app's window uses for each permission (ui/key_row.py), so the user recognises them.
PERMISSION_LABELS: dict[str, str] = {
    "read": "Read", "spot_trade": "Spot", "margin_trade": "Margin", "futures_trade": "Futures",
    "options_trade": "Options", "transfer": "Transfer", "withdraw": "Withdraw",
}
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_MAX_FORM_BYTES = 64 * 1024
_MAX_NOTICES = 32
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'",
}


def console_url(base_url: str, exchange_id: str) -> str:
    """The console page for ``exchange_id`` on a simulated exchange whose API runs at ``base_url`` (the endpoint
    the app uses for it, e.g. ``http://127.0.0.1:53817``). ValueError for anything but a loopback http URL, so a
    real exchange's address can never be turned into a console link."""
    parts = urllib.parse.urlsplit(base_url.strip())
    if parts.scheme != "http" or not parts.hostname or not _is_loopback(parts.hostname):
        raise ValueError("the simulator console is only served on a loopback http:// address")
    ex = exchange_id.strip().lower()
    if not re.fullmatch(r"[a-z0-9]+", ex):
        raise ValueError(f"not an exchange id: {exchange_id!r}")
    return f"http://{parts.netloc}{CONSOLE_PREFIX}/{ex}"


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class _Notice:
    kind: str  # "created" | "registered" | "deleted" | "error"
    text: str
    key: SimKey | None = None
    fields: dict[str, str] = field(default_factory=dict)  # shown once: API key, secret, passphrase…


class Console:
    """The console of one simulated exchange."""

    def __init__(self, sim: Simulator, exchange: str) -> None:
        self.sim = sim
        self.exchange = exchange
        self.path = f"{CONSOLE_PREFIX}/{exchange}"
        self._notices: dict[str, _Notice] = {}

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", self.path, self.page),
            ("POST", f"{self.path}/create", self.create),
            ("POST", f"{self.path}/register", self.register),
            ("POST", f"{self.path}/delete", self.delete),
        ]

    # ---- guard ----------------------------------------------------------------------------------------------
    def _guard(self, request: web.Request) -> None:
        if not _is_loopback(request.remote or ""):
            raise web.HTTPForbidden(text="The simulator console answers only this computer.")
        host = urllib.parse.urlsplit("//" + (request.host or "")).hostname or ""
        if not _is_loopback(host):
            raise web.HTTPForbidden(text="The simulator console answers only loopback addresses.")

    async def _form(self, request: web.Request) -> dict[str, list[str]]:
        self._guard(request)
        if (request.content_length or 0) > _MAX_FORM_BYTES:
            raise web.HTTPRequestEntityTooLarge(max_size=_MAX_FORM_BYTES, actual_size=request.content_length or 0)
        data = await request.post()
        form: dict[str, list[str]] = {}
        for name, value in data.items():
            if isinstance(value, str):
                form.setdefault(name, []).append(value)
        if not hmac.compare_digest((form.get("token") or [""])[0], self.sim.console_token):
            raise web.HTTPForbidden(text="This form has expired: reload the page and try again.")
        return form

    def _back(self, notice: _Notice) -> web.HTTPSeeOther:
        """Back to the page, which shows ``notice`` once (post/redirect/get)."""
        while len(self._notices) >= _MAX_NOTICES:  # never read: drop the oldest
            self._notices.pop(next(iter(self._notices)))
        ref = secrets.token_urlsafe(12)
        self._notices[ref] = notice
        return web.HTTPSeeOther(f"{self.path}?shown={ref}", headers=_SECURITY_HEADERS)

    # ---- actions --------------------------------------------------------------------------------------------
    async def create(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        key = self.sim.create_key(self.exchange, **_settings(form))
        shown = {"API key": key.api_key, "Secret key": key.secret}
        if key.passphrase:
            shown["Passphrase"] = key.passphrase
        shown.update(key.extra)
        raise self._back(_Notice("created", "Key created. Copy the secret now: it is shown only this once.",
                                  key, shown))

    async def register(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        pem = (form.get("public_key") or [""])[0]
        try:
            key = self.sim.register_public_key(self.exchange, pem, **_settings(form))
        except registration.Refused as refused:
            raise self._back(_Notice("error", str(refused))) from None
        raise self._back(_Notice(
            "registered", "Public key registered. Paste this API key into KeyHygiene; the private key never leaves "
                          "your computer.", key, {"API key": key.api_key}))

    async def delete(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        api_key = (form.get("api_key") or [""])[0]
        if not self.sim.delete_key(self.exchange, api_key):
            raise self._back(_Notice("error", "No such key (it may have been deleted already)."))
        raise self._back(_Notice("deleted", f"Key {mask_key(api_key)} deleted: the exchange now rejects it."))

    # ---- page -----------------------------------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.Response:
        self._guard(request)
        notice = self._notices.pop(request.query.get("shown", ""), None)
        body = render_page(self.sim, self.exchange, notice)
        return web.Response(text=body, content_type="text/html", charset="utf-8", headers=_SECURITY_HEADERS)


def _settings(form: dict[str, list[str]]) -> dict[str, object]:
    perms = [p for p in form.get("permissions", []) if p in PERMISSION_LABELS] or ["read"]
    ips = [ip for ip in re.split(r"[\s,]+", (form.get("ip_whitelist") or [""])[0]) if ip]
    label = (form.get("label") or [""])[0].strip()[:60] or None
    return {"permissions": perms, "ip_whitelist": ips or None, "label": label}


# ---- HTML ---------------------------------------------------------------------------------------------------
_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:14px 28px}
header h1{margin:0;font-size:19px;font-weight:600}
header p{margin:2px 0 0;color:#b8c0cf;font-size:13px}
main{max-width:980px;margin:0 auto;padding:18px 28px 40px}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 20px;margin:0 0 18px}
h2{font-size:16px;margin:0 0 10px}
table{width:100%;border-collapse:collapse;font-size:14px}
th,td{text-align:left;padding:7px 8px;border-bottom:1px solid #eceef2;vertical-align:top}
th{color:#5b6475;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
code,textarea,.mono{font-family:ui-monospace,"SF Mono",Menlo,Consolas,monospace;font-size:13px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px}
label{display:block;margin:8px 0 3px;font-weight:600;font-size:13px}
input[type=text],textarea{width:100%;box-sizing:border-box;padding:6px 8px;border:1px solid #c5cbd6;border-radius:5px}
textarea{height:110px}
.perms label{display:inline-block;font-weight:400;margin:2px 12px 2px 0}
button{margin-top:12px;padding:7px 14px;border:0;border-radius:5px;background:#2456d6;color:#fff;font-weight:600;
cursor:pointer}
button.danger{background:#fff;color:#b42318;border:1px solid #e4a49c;margin:0;padding:4px 10px}
.notice{border-radius:8px;padding:12px 16px;margin:0 0 18px;border:1px solid}
.notice.ok{background:#ecfdf3;border-color:#a6e3bd}.notice.error{background:#fef3f2;border-color:#f3b7b0}
.notice .field{margin:6px 0}.notice .field textarea{height:auto;background:#fff}
.muted{color:#5b6475;font-size:13px}.deleted td{color:#9aa1ad}.tag{display:inline-block;padding:0 7px;
border-radius:9px;background:#eef1f6;font-size:12px;margin:1px 2px 1px 0}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _type_label(key: SimKey) -> str:
    kind = signatures.key_type(key)
    if kind == signatures.RSA and key.public_key:
        bits = signatures.load_public_key(key.public_key).key_size  # type: ignore[union-attr]
        return f"RSA {bits}-bit"
    return {"hmac": "HMAC (system-generated)", "ed25519": "Ed25519"}[kind]


def _perm_boxes(prefix: str, client_ip: str) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="permissions" value="{p}"{" checked" if p == "read" else ""}> '
        f"{_e(name)}</label>" for p, name in PERMISSION_LABELS.items())
    return (f'<label>Permissions</label><div class="perms">{boxes}</div>'
            f'<label for="{prefix}-ip">IP restriction (comma separated; empty: unrestricted)</label>'
            f'<input type="text" id="{prefix}-ip" name="ip_whitelist" value="{_e(client_ip)}">'
            f'<div class="muted">This computer reaches the exchange as {_e(client_ip)}.</div>')


def _notice_html(notice: _Notice | None) -> str:
    if notice is None:
        return ""
    css = "error" if notice.kind == "error" else "ok"
    rows = "".join(
        f'<div class="field"><label>{_e(name)}</label><textarea readonly rows="{value.count(chr(10)) + 1}" '
        f'spellcheck="false">{_e(value)}</textarea></div>' for name, value in notice.fields.items())
    return f'<div class="notice {css}" role="status"><strong>{_e(notice.text)}</strong>{rows}</div>'


def render_page(sim: Simulator, exchange: str, notice: _Notice | None = None) -> str:
    name = display_name(exchange)
    path = f"{CONSOLE_PREFIX}/{exchange}"
    token = _e(sim.console_token)
    keys = sorted((k for k in sim.keys.values() if k.exchange == exchange),
                  key=lambda k: (k.revoked, -(k.created_at.timestamp() if k.created_at else 0)))
    rows = []
    for k in keys:
        perms = "".join(f'<span class="tag">{_e(PERMISSION_LABELS.get(p, p))}</span>'
                        for p in PERMISSION_LABELS if p in k.permissions)
        ips = ", ".join(k.ip_whitelist) if k.ip_whitelist else "Unrestricted"
        created = k.created_at.strftime("%Y-%m-%d") if k.created_at else ""
        action = ("Deleted" if k.revoked else
                  f'<form method="post" action="{path}/delete"><input type="hidden" name="token" value="{token}">'
                  f'<input type="hidden" name="api_key" value="{_e(k.api_key)}">'
                  f'<button class="danger" type="submit">Delete</button></form>')
        rows.append(f'<tr{" class=deleted" if k.revoked else ""}><td>{_e(k.label or "")}</td>'
                    f'<td class="mono">{_e(mask_key(k.api_key))}</td><td>{_e(_type_label(k))}</td>'
                    f"<td>{perms}</td><td>{_e(ips)}</td><td>{_e(created)}</td><td>{action}</td></tr>")
    table = ("<table><thead><tr><th>Label</th><th>API key</th><th>Type</th><th>Permissions</th><th>IP</th>"
             "<th>Created</th><th></th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
             if rows else '<p class="muted">No API keys yet.</p>')
    create = (f'<section><h2>Create a system-generated key (HMAC)</h2>'
              f'<form method="post" action="{path}/create"><input type="hidden" name="token" value="{token}">'
              f'<label for="c-label">Label</label><input type="text" id="c-label" name="label" maxlength="60">'
              f'{_perm_boxes("c", sim.client_ip)}<button type="submit">Create key</button></form>'
              f'<p class="muted">{_e(name)} makes the secret and shows it once.</p></section>')
    rules = registration.PUBLIC_KEY_RULES.get(exchange)
    register = ""
    if rules is not None:
        accepted = " or ".join(
            "Ed25519" if kind == "ed25519" else f"RSA {'/'.join(map(str, sizes or ()))}-bit"
            for kind, sizes in rules.items())
        register = (f'<section><h2>Register your own public key</h2>'
                    f'<form method="post" action="{path}/register"><input type="hidden" name="token" value="{token}">'
                    f'<label for="r-label">Label</label><input type="text" id="r-label" name="label" maxlength="60">'
                    f'<label for="r-pem">Public key (PEM, {_e(accepted)})</label>'
                    f'<textarea id="r-pem" name="public_key" spellcheck="false" '
                    f'placeholder="-----BEGIN PUBLIC KEY-----"></textarea>'
                    f'{_perm_boxes("r", sim.client_ip)}<button type="submit">Register public key</button></form>'
                    f'<p class="muted">Paste the public key KeyHygiene generated. The private key stays in your '
                    f'keychain: never paste it here.</p></section>')
    forms = f'<div class="grid">{create}{register}</div>' if register else create
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(name)} API management '
            f'(simulator)</title><meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<style>{_CSS}</style></head><body>"
            f"<header><h1>{_e(name)} · API management</h1><p>KeyHygiene exchange simulator on this computer. "
            f"Nothing here reaches the real {_e(name)}.</p></header><main>{_notice_html(notice)}"
            f"<section><h2>Your API keys</h2>{table}</section>{forms}</main></body></html>")
