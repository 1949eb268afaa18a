"""Judgements the rotation makes, as pure functions: what the new key should allow, who must get it, whether the
new key may replace the old one, and what the exchange's answer about the old key really proves.

No I/O here: the machine gathers profiles and registry entries and passes them in, so every rule is unit-tested.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from keyhygiene.core.models import AUTH_REJECTIONS, Finding, KeyProfile, KeyRecord, Status
from keyhygiene.core.permissions import TRADE_PERMISSIONS, Permission
from keyhygiene.core.rotation.states import RISK_TEXT, Risk, Verdict
from keyhygiene.core.service_info import ServiceInfo
from keyhygiene.core.severity import Severity

FILE_PREFIX = "file:"

# What each purpose needs at most (DESIGN.md purposes). Used to suggest the new key's permissions.
PURPOSE_NEEDS: dict[str, frozenset[str]] = {
    "read-only": frozenset({Permission.READ}),
    "tax": frozenset({Permission.READ}),
    "trading": frozenset({Permission.READ} | TRADE_PERMISSIONS),
    "bot": frozenset({Permission.READ} | TRADE_PERMISSIONS),
    "other": frozenset({Permission.READ} | TRADE_PERMISSIONS),
}
# Never suggested: a consumer that truly needs these should make the user decide, not the wizard.
NEVER_SUGGESTED = frozenset({Permission.WITHDRAW, Permission.TRANSFER})

# Answers that name the key itself as unknown or wrong: after the key's deletion they are what exchanges send.
CERTAIN_DEAD: frozenset[Status] = frozenset({Status.INVALID_KEY, Status.INVALID_SIGNATURE, Status.INVALID_PASSPHRASE})
# Answers that a deleted key gets on some exchanges, but that an IP whitelist or a lost permission also produce.
AMBIGUOUS_DEAD: frozenset[Status] = AUTH_REJECTIONS - CERTAIN_DEAD
RETRYABLE: frozenset[Status] = frozenset(
    {Status.RATE_LIMITED, Status.CLOCK_SKEW, Status.UNREACHABLE, Status.ERROR}
)


@dataclass
class Consumer:
    """One checklist line: a service or a local file that holds the old key and must get the new one."""

    id: str  # the exposure's service string: registry id, free text, or "file:/path"
    name: str
    kind: str  # "service" | "file"
    ips: list[str] = field(default_factory=list)
    ips_published: str = "unknown"
    ips_url: str | None = None
    needs: str | None = None
    done: bool = False

    @property
    def instruction(self) -> str:
        if self.kind == "file":
            return f"Replace the old key with the new one in {self.name}, then restart whatever reads it."
        text = f"Open {self.name} and replace the old key with the new one (delete the old connection there)."
        if self.ips:
            text += " Whitelist its published IPs on the new key: " + ", ".join(self.ips) + "."
        elif self.ips_published == "yes":
            where = f" at {self.ips_url}" if self.ips_url else " in its help pages"
            text += f" It publishes the IP addresses to whitelist on the new key{where}."
        return text

    @property
    def ips_hint(self) -> str | None:
        """Where this consumer's IPs come from, for the plan: the list itself or the page that has it."""
        if self.ips:
            return ", ".join(self.ips)
        if self.ips_published == "yes":
            return f"listed at {self.ips_url}" if self.ips_url else "listed in its help pages"
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "ips": list(self.ips),
            "ips_published": self.ips_published, "ips_url": self.ips_url, "needs": self.needs, "done": self.done,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Consumer:
        return cls(
            id=d["id"], name=d.get("name") or d["id"], kind=d.get("kind", "service"), ips=list(d.get("ips") or []),
            ips_published=d.get("ips_published", "unknown"), ips_url=d.get("ips_url"), needs=d.get("needs"),
            done=bool(d.get("done")),
        )


def consumers_of(record: KeyRecord, services: dict[str, ServiceInfo]) -> list[Consumer]:
    """Every active exposure of the old key, services first, then local files; registry data where known."""
    out: list[Consumer] = []
    for service in record.shared_with:  # active exposures, sorted, de-duplicated
        if service.startswith(FILE_PREFIX):
            out.append(Consumer(id=service, name=service[len(FILE_PREFIX):], kind="file"))
            continue
        info = services.get(service)
        if info is None:
            out.append(Consumer(id=service, name=service, kind="service"))
        else:
            out.append(Consumer(id=service, name=info.name, kind="service", ips=list(info.ips),
                                ips_published=info.ips_published, ips_url=info.ips_url, needs=info.needs))
    return sorted(out, key=lambda c: (c.kind != "service", c.name.lower()))


def suggest_permissions(purpose: str, old: KeyProfile | None, consumers: Sequence[Consumer]) -> list[str]:
    """The least the new key should allow: what the purpose and the consumers need, capped by what the old key had
    (never more), and never withdraw or transfer."""
    allowed = set(PURPOSE_NEEDS.get(purpose, PURPOSE_NEEDS["other"]))
    needs = {c.needs for c in consumers if c.needs}
    if needs and "trade" not in needs:
        allowed &= {Permission.READ}  # every consumer reads only
    if old is not None and old.status is Status.OK and old.permissions:
        allowed &= set(old.permissions) | {Permission.READ}
    return sorted(p.value if isinstance(p, Permission) else p for p in allowed - NEVER_SUGGESTED)


def ips_to_whitelist(consumers: Iterable[Consumer]) -> list[str]:
    seen: dict[str, None] = {}
    for c in consumers:
        for ip in c.ips:
            seen.setdefault(ip, None)
    return list(seen)


@dataclass
class NewKeyReport:
    """The outcome of testing the new key: what the wizard's test page and the CLI show."""

    verdict: Verdict
    status: str
    message: str | None
    profile: dict[str, Any] | None  # the new key's profile (masked; no secrets)
    refusals: list[str] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)  # Risk values
    warnings: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)  # the policy's findings on the new key

    @property
    def risk_texts(self) -> list[str]:
        return [RISK_TEXT[Risk(r)] for r in self.risks]

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value, "status": self.status, "message": self.message,
            "profile": self.profile, "refusals": list(self.refusals), "risks": list(self.risks),
            "warnings": list(self.warnings), "findings": list(self.findings),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> NewKeyReport:
        return cls(
            verdict=Verdict(d["verdict"]), status=d.get("status", "error"), message=d.get("message"),
            profile=d.get("profile"), refusals=list(d.get("refusals") or []), risks=list(d.get("risks") or []),
            warnings=list(d.get("warnings") or []), findings=list(d.get("findings") or []),
        )


def account_of(profile: KeyProfile | None) -> str | None:
    """The exchange account a key belongs to, when the exchange layer reports one (``account_id``)."""
    if profile is None:
        return None
    value = getattr(profile, "account_id", None)
    return str(value) if value not in (None, "") else None


def judge(
    record: KeyRecord,
    old: KeyProfile | None,
    new: KeyProfile,
    findings: Sequence[Finding] = (),
    old_account: str | None = None,
) -> NewKeyReport:
    """May the new key replace the old one? ``old`` is the old key's last known profile, ``findings`` the policy's
    verdict on the new key (rules engine), ``old_account`` the old key's account id if known; all optional."""
    report = NewKeyReport(verdict=Verdict.PASSED, status=Status(new.status).value, message=new.message,
                        profile=new.to_json())
    if new.exchange != record.exchange:
        report.refusals.append(
            f"The new key belongs to {new.exchange}, the old one to {record.exchange}: a rotation replaces a key "
            "with one on the same exchange account. Add the other key as a separate entry."
        )
    status = Status(new.status)
    if status is Status.IP_NOT_ALLOWED:
        report.refusals.append(
            "The exchange refuses the new key from this computer's IP address. If you restricted the key to your "
            "bot's IPs, also add this computer's IP so KeyHygiene can check it, then test again."
        )
    elif status in AUTH_REJECTIONS:
        report.refusals.append(
            f"The exchange rejected the new key ({status.value}): {new.message or 'no reason given'}. Check that "
            "you pasted the key, secret and passphrase of the key you just created, then test again or paste it "
            "again."
        )
    elif status in RETRYABLE:
        report.verdict = Verdict.RETRY
        report.warnings.append(
            f"The exchange could not be asked about the new key ({status.value}): "
            f"{new.message or 'no answer'}. Nothing was changed; try the test again."
        )
        return report
    elif status is not Status.OK:  # unsupported: the exchange has no way to check a key
        report.refusals.append(
            f"KeyHygiene cannot check keys on {record.exchange} ({status.value}): {new.message or ''}".rstrip()
        )
    old_account, new_account = old_account or account_of(old), account_of(new)
    if old_account and new_account and old_account != new_account:
        report.refusals.append(
            f"The new key belongs to a different {record.exchange} account ({new_account}) than the old key "
            f"({old_account}). Create the new key in the same account."
        )
    if report.refusals:
        report.verdict = Verdict.REFUSED
        return report

    perms = set(new.permissions)
    if Permission.WITHDRAW in perms:
        report.risks.append(Risk.WITHDRAW.value)
    if new.ip_restricted is False:
        report.risks.append(Risk.IP_UNRESTRICTED.value)
    elif new.ip_restricted is None:
        report.warnings.append(
            f"{record.exchange} does not say whether the new key is restricted to IP addresses: check on its "
            "API page that it is."
        )
    if Permission.TRANSFER in perms:
        report.warnings.append("The new key can move funds between accounts (transfer): most consumers never need it.")
    if new.permissions_source == "declared":
        report.warnings.append(
            "The exchange cannot report this key's permissions; they are the ones you declared for the old key."
        )
    elif new.permissions_source == "unknown":  # e.g. MEXC: its answer proves only that the key can read
        report.warnings.append(
            f"{record.exchange} does not say what the new key may do beyond what is listed: check its permissions "
            "on its API page (withdrawals above all)."
        )
    if old is not None and Status(old.status) is Status.OK and new.permissions_source == "exchange":
        gained = sorted(perms - set(old.permissions))
        lost = sorted(set(old.permissions) - perms)
        if gained:
            report.warnings.append("The new key can do more than the old one: " + ", ".join(gained) + ".")
        if lost:
            report.warnings.append(
                "The new key cannot " + ", ".join(lost) + " as the old one could: a consumer that needs it will "
                "fail. That is fine if nobody needed it."
            )
        if old.is_master is not None and new.is_master is not None and old.is_master != new.is_master:
            which = "the main account" if new.is_master else "a sub-account"
            report.warnings.append(f"The new key is a key of {which}, the old one was not: check that is intended.")
    for f in findings:
        if Severity(f.severity).at_least(Severity.MEDIUM):
            report.findings.append(f.to_json())
    if report.risks:
        report.verdict = Verdict.RISKY
    return report


@dataclass(frozen=True)
class DeadVerdict:
    dead: bool
    certain: bool
    explanation: str


def dead_verdict(status: Status, exchange_name: str, new_key_ok: bool | None) -> DeadVerdict:
    """What one answer about the old key proves. ``new_key_ok``: whether the new key was accepted from this
    computer at the same time (None: not asked), which rules out a block of this computer as a whole."""
    status = Status(status)
    if status in CERTAIN_DEAD:
        return DeadVerdict(True, True, f"{exchange_name} no longer accepts the old key ({status.value}).")
    if status in AMBIGUOUS_DEAD:
        text = (
            f"{exchange_name} rejects the old key ({status.value}). That answer is the same whether the key was "
            "deleted, its IP whitelist no longer includes this computer, or it lost its permissions, so "
            "KeyHygiene cannot be certain it is deleted."
        )
        if new_key_ok:
            text += " The new key was accepted from this computer at the same moment, so this computer is not blocked."
        text += " Make sure the old key no longer appears on the exchange's API page."
        return DeadVerdict(True, False, text)
    if status is Status.OK:
        return DeadVerdict(False, True, f"{exchange_name} still accepts the old key: it has not been deleted yet.")
    return DeadVerdict(False, False, f"{exchange_name} could not be asked about the old key ({status.value}).")
