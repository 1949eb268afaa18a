"""Settings' "Team vault" section: connect to an OpenBao/Vault server, see its status, disconnect.

The same use cases as ``keyhygiene team connect|status|disconnect`` (``service/team_app.py``), run on the service's
pool: every one of them waits on the network. The token is typed into a masked field, handed to the service (which
keeps it in the OS keychain) and wiped from the field at once: never in QSettings, ui.ini or a log. The server's TLS
certificate is always verified (a private CA's certificate can be chosen). After a connect or a disconnect the window
reopens on the new backend (``Services.switch_backend``). These buttons act at once; the dialog's Save is not needed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from keyhygiene.core import redact
from keyhygiene.core.timeutil import parse_iso, utcnow
from keyhygiene.ui.widgets import Banner, SecretField, muted, wrap

if TYPE_CHECKING:
    from keyhygiene.ui.services import Services

log = logging.getLogger(__name__)
DEFAULT_MOUNT = "keyhygiene"  # service/team's; not imported here: that module loads hvac's stack


def age_text(at: datetime | None, now: datetime) -> str:
    """'just now', '5 minutes ago', '3 hours ago', '2 days ago' (a cache's age)."""
    if at is None:
        return "never refreshed"
    s = max(0, int((now - at).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if s >= size:
            n = s // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def role_of(policies: list[str]) -> str:
    """The role a token's policies name (``keyhygiene team policy`` writes keyhygiene-<role>), else the policies."""
    names = [p for p in policies if p != "default"]
    if "root" in names:
        return "root (every right)"
    for role in ("admin", "trader", "auditor"):
        if any(p.endswith(role) for p in names):
            return role + (" \u2014 reads metadata and findings, never secrets" if role == "auditor" else "")
    return ", ".join(names) or "default only"


class TeamVaultPage(QWidget):
    """The tab. ``busy`` while a network job runs; ``switched`` once the window shows the new backend."""

    switched = Signal(bool)  # True: now on a team vault

    def __init__(self, services: Services, parent: QWidget | None = None, *, demo: bool = False) -> None:
        super().__init__(parent)
        self.services = services
        self.setAccessibleName("Team vault")
        lay = QVBoxLayout(self)
        lay.addWidget(muted(wrap(
            "Keep the keys of a desk or a fund on a shared OpenBao or HashiCorp Vault server instead of this "
            "computer's keychain. Everyone sees the same keys, sharings and findings; each person's token decides "
            "what they may do (admin, trader or auditor: see `keyhygiene team policy`).", self)))
        self.banner = Banner(self)
        lay.addWidget(self.banner)

        # ---- status ----
        self.status_box = QGroupBox("Status", self)
        form = QFormLayout(self.status_box)
        self.fields: dict[str, QLabel] = {}
        for name, label in (("state", "State"), ("server", "Server"), ("mount", "Mount"), ("role", "Role"),
                            ("who", "Signed in as"), ("keys", "Keys"), ("cache", "Cache")):
            v = QLabel("\u2014", self.status_box)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            v.setWordWrap(True)
            v.setAccessibleName(label)
            self.fields[name] = v
            form.addRow(label, v)
        row = QHBoxLayout()
        self.check_button = QPushButton("Check &status", self.status_box)
        self.check_button.setToolTip("Ask the server again: is it up, is the token valid, what may it do")
        self.check_button.clicked.connect(self.check_status)
        self.disconnect_button = QPushButton("&Disconnect", self.status_box)
        self.disconnect_button.setToolTip("Go back to this computer's keychain; the team's keys stay on the server")
        self.disconnect_button.clicked.connect(self.disconnect)
        row.addWidget(self.check_button)
        row.addWidget(self.disconnect_button)
        row.addStretch(1)
        form.addRow(row)
        lay.addWidget(self.status_box)

        # ---- connect ----
        self.connect_box = QGroupBox("Connect to a team vault", self)
        cf = QFormLayout(self.connect_box)
        self.url = QLineEdit(self.connect_box)
        self.url.setPlaceholderText("https://vault.example.com:8200")
        self.url.setAccessibleName("Server URL")
        cf.addRow("Server &URL", self.url)
        self.mount = QLineEdit(DEFAULT_MOUNT, self.connect_box)
        self.mount.setAccessibleName("Mount")
        self.mount.setToolTip("The KV version 2 secrets engine's path on the server")
        cf.addRow("&Mount", self.mount)
        self.token = SecretField("Token", self.connect_box, placeholder="Paste your token (kept in the OS keychain)")
        cf.addRow("&Token", self.token)
        ca_row = QHBoxLayout()
        self.ca_cert = QLineEdit(self.connect_box)
        self.ca_cert.setPlaceholderText("Only for a private certificate authority")
        self.ca_cert.setAccessibleName("CA certificate file")
        self.ca_button = QPushButton("C&hoose\u2026", self.connect_box)
        self.ca_button.setAccessibleName("Choose a CA certificate file")
        self.ca_button.clicked.connect(self.choose_ca)
        ca_row.addWidget(self.ca_cert, 1)
        ca_row.addWidget(self.ca_button)
        ca_label = QLabel("CA &certificate", self.connect_box)
        ca_label.setBuddy(self.ca_cert)  # Alt+C reaches the field (a row of two widgets has no buddy by itself)
        cf.addRow(ca_label, ca_row)
        cf.addRow(muted(wrap("The server's TLS certificate is always verified; plain http is allowed only to this "
                             "computer (a dev server).", self.connect_box)))
        crow = QHBoxLayout()
        self.connect_button = QPushButton("C&onnect", self.connect_box)
        self.connect_button.setToolTip("Check the server and the token, then use the team vault")
        self.connect_button.clicked.connect(self.connect_clicked)
        crow.addWidget(self.connect_button)
        crow.addStretch(1)
        cf.addRow(crow)
        lay.addWidget(self.connect_box)

        # ---- progress ----
        prow = QHBoxLayout()
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)  # busy: a network call has no known length
        self.progress.setMaximumWidth(120)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Working")
        self.progress_label = QLabel("", self)
        prow.addWidget(self.progress)
        prow.addWidget(self.progress_label, 1)
        lay.addLayout(prow)
        lay.addStretch(1)
        self._busy = False
        self._checking: object | None = None
        self._set_busy(False)
        self.demo = demo
        if demo:
            for w in (self.connect_box, self.status_box):
                w.setEnabled(False)
            self.banner.show_message("Not in the demo", "The demo's keys stay in its own sample vault; connect a "
                                     "team vault from the app itself.", "info")
        self._show_connected(self.services.app.is_team)
        if self.services.app.is_team and not demo:
            self.check_status()

    # ---- state ------------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._busy

    def _set_busy(self, busy: bool, what: str = "") -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        self.progress_label.setText(what if busy else "")
        # The buttons stay enabled (a press while busy does nothing): disabling the one that has the keyboard
        # focus would throw the focus elsewhere in the middle of the user's Tab path.
        self.progress.setAccessibleDescription(what if busy else "")

    def _show_connected(self, connected: bool) -> None:
        self.disconnect_button.setVisible(connected)
        self.check_button.setVisible(connected)
        self.connect_box.setTitle("Connect to another team vault" if connected else "Connect to a team vault")
        if not connected:
            for f in self.fields.values():
                f.setText("\u2014")
            self.fields["state"].setText("Not connected: keys are kept in this computer's keychain")

    def show_status(self, st: Any) -> None:
        """Fill the status fields from a ``service.team.TeamStatus``."""
        self._show_connected(bool(st.connected))
        if not st.connected:
            return
        token = st.token or {}
        f = self.fields
        f["state"].setText("Ready" if st.usable else f"Unavailable \u2014 {st.message}")
        f["server"].setText(st.url or "\u2014")
        f["mount"].setText(st.mount or "\u2014")
        f["role"].setText(role_of(list(token.get("policies") or [])) if token else "\u2014")
        f["who"].setText(str(token.get("display_name") or "\u2014"))
        f["keys"].setText(str(st.keys) if st.keys is not None else "\u2014")
        at = parse_iso(st.refreshed_at)
        f["cache"].setText(age_text(at, utcnow()).capitalize() + (f" ({at:%Y-%m-%d %H:%M} UTC)" if at else ""))
        if st.usable:
            self.banner.hide()
        else:
            self.banner.show_message("Team vault unavailable", st.message, "critical")

    def _failed(self, title: str, exc: BaseException) -> None:
        self._set_busy(False)
        text = getattr(getattr(exc, "status", None), "message", None) or str(exc)
        self.banner.show_message(title, redact.scrub(text), "critical")

    # ---- actions ----------------------------------------------------------------------------------------------
    def check_status(self) -> None:
        if self._busy:
            return
        self._set_busy(True, "Asking the team vault\u2026")
        self._checking = asked = object()  # a connect or disconnect meanwhile makes this answer stale

        def done(st: Any) -> None:
            if self._checking is asked:
                self._checking = None
                self._set_busy(False)
                self.show_status(st)

        def failed(exc: BaseException) -> None:
            if self._checking is asked:
                self._checking = None
                self._failed("Could not ask the team vault", exc)

        self.services.pool.submit(self.services.app.team_status, on_done=done, on_error=failed, context=self)

    def _take_over(self) -> bool:
        """Connect and disconnect may start while a status check runs (its answer is then dropped), not while
        another connect or disconnect does."""
        if self._busy and self._checking is None:
            return False
        self._checking = None
        return True

    def choose_ca(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "The CA certificate of the team vault's server",
                                                    self.ca_cert.text(), "Certificates (*.pem *.crt *.cer);;All (*)")
        if path:
            self.ca_cert.setText(path)

    def connect_clicked(self) -> None:
        if not self._take_over():
            return
        url, mount, token = self.url.text().strip(), self.mount.text().strip(), self.token.text().strip()
        if not url:
            self.banner.show_message("Not connected", "Type the server's address, such as "
                                     "https://vault.example.com:8200.", "high")
            self.url.setFocus()
            return
        if not token:
            self.banner.show_message("Not connected", "Paste your token: an admin creates one with the policy of "
                                     "your role (`keyhygiene team policy`).", "high")
            self.token.setFocus()
            return
        redact.remember([token])
        self.token.wipe()  # the service has it now; the field does not keep it
        ca = self.ca_cert.text().strip() or None
        self.banner.hide()
        self._set_busy(True, f"Connecting to {url}\u2026")

        def connected(st: Any) -> None:
            self.show_status(st)
            self._reopen(True)

        self.services.pool.submit(self.services.app.team_connect, url, token, mount or DEFAULT_MOUNT, ca,
                                  on_done=connected, on_error=lambda exc: self._failed("Not connected", exc),
                                  context=self)

    def disconnect(self) -> None:
        if not self._take_over():
            return
        self._set_busy(True, "Disconnecting\u2026")
        self.services.pool.submit(self.services.app.team_disconnect, on_done=lambda _cfg: self._reopen(False),
                                  on_error=lambda exc: self._failed("Still connected", exc), context=self)

    def _reopen(self, team: bool) -> None:
        self._set_busy(True, "Opening the team vault\u2026" if team else "Opening this computer's vault\u2026")

        def done() -> None:
            self._set_busy(False)
            self._show_connected(self.services.app.is_team)
            where = "the team vault" if team else "this computer's keychain"
            self.banner.show_message("Done", f"The window now shows the keys in {where}.", "ok")
            self.switched.emit(team)

        self.services.switch_backend(on_done=done, on_error=lambda exc: self._failed(
            "The window could not reopen; restart KeyHygiene", exc))
