"""The CSV report: one row per key, in the spirit of the AWS IAM credential report.

Conventions (as in the IAM report): ``true``/``false`` for yes/no, ISO 8601 UTC times, an empty cell where the
value is unknown (the key was never inspected, or the exchange does not say). Several values in one cell are
separated by ``;``. The ``report_*`` columns repeat, on every row, the app version, when the report was made, the
policy and the report's SHA-256, so the file still says where it came from after it has been filtered or pasted
elsewhere.

Columns are only ever appended (scripts read them by position too), which is why ``created_source`` comes after the
``report_*`` ones. ``created`` is the date a key's age is counted from, as the JSON report's ``key_created_at``:
what the exchange reports, else what the user declared, else when the key was added to the app; ``created_source``
says which (``exchange``, ``declared`` or ``added``, as the JSON's ``key_created_source``), and with ``added`` the
``age_days`` is only a minimum.

``report_sha256``, the last column, is the SHA-256 of the CSV's own records without that column: the header and
every row as this module writes them (``,`` separators, ``"`` quotes only where needed, CRLF after every record,
UTF-8), each with its last cell dropped — for the file as written, its bytes with ``,`` plus the digest cut from the
end of every record. The exact definition is in ``keyhygiene.core.report.integrity``, and
``python -m keyhygiene.core.report.integrity REPORT.csv`` checks it.

Spreadsheet formula injection: any text cell that a spreadsheet would read as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) gets a leading ``'`` (OWASP's advice), so a label like ``=HYPERLINK(…)``
is shown, not evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable

from keyhygiene.core.report import integrity
from keyhygiene.core.report.model import PERMISSION_ORDER, Report, ReportKey
from keyhygiene.core.timeutil import iso

COLUMNS: tuple[str, ...] = (
    "exchange",
    "label",
    "key",
    "account_type",
    "created",
    "age_days",
    "expires",
    "last_checked",
    "status",
    *(f"perm_{p}" for p in PERMISSION_ORDER),
    "perm_other",
    "ip_restricted",
    "ip_count",
    "shared_with",
    "incident_exposure",
    "highest_severity",
    "findings",
    "score",
    "needs_rotation",
    "last_rotated",
    "key_id",
    "purpose",
    "report_app_version",
    "report_generated_at",
    "report_policy",
    "created_source",
    integrity.CSV_HASH_COLUMN,  # last: its value is the digest of everything before it
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(cell: object) -> object:
    """A cell as the spreadsheet should see it: text that could be read as a formula is made plain text."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def _bool(v: bool | None) -> str:
    return "" if v is None else ("true" if v else "false")


def _account_type(k: ReportKey) -> str:
    if k.profile is None or k.profile.is_master is None:
        return ""
    return "master" if k.profile.is_master else "sub-account"


def policy_summary(report: Report) -> str:
    return ";".join(
        f"{name}={_flat(value)}" for name, value in report.policy.to_json().items() if not isinstance(value, dict)
    )


def _flat(value: object) -> str:
    if isinstance(value, list):
        return "|".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def row(k: ReportKey, report: Report, policy: str) -> list[object]:
    p = k.profile
    known = k.permissions  # None: not inspected, or the exchange did not answer
    perms = set(known or [])
    expires = None
    if p is not None:
        # The sooner of the two: a key whose trade right lapses has effectively expired for a bot.
        dates = [d for d in (p.expires_at, p.trade_expires_at) if d is not None]
        expires = min(dates) if dates else None
    return [
        k.exchange,
        k.label,
        k.key,
        _account_type(k),
        iso(k.created_at) or "",
        "" if k.age_days is None else k.age_days,
        iso(expires) or "",
        iso(k.checked_at) or "",
        k.status or "not_checked",
        *(("" if known is None else _bool(perm in perms)) for perm in PERMISSION_ORDER),
        ";".join(sorted(set(p.other))) if p is not None and known is not None else "",
        _bool(k.ip_restricted),
        "" if k.ip_count is None else k.ip_count,
        ";".join(k.shared_with),
        ";".join(k.incident_services),
        k.highest_severity or "none",
        len(k.findings),
        k.score,
        _bool(k.needs_rotation),
        iso(k.last_rotated) or "",
        k.id,
        k.purpose,
        report.app_version,
        iso(report.generated_at),
        policy,
        k.created_source or "",
    ]


def rows(report: Report) -> Iterable[list[object]]:
    policy = policy_summary(report)
    for k in report.keys:
        yield row(k, report, policy)


def render_csv(report: Report) -> str:
    """The CSV text (RFC 4180: CRLF line ends, fields quoted where needed), to be written as UTF-8."""
    records: list[list[object]] = [list(COLUMNS[:-1])]
    for r in rows(report):
        assert len(r) == len(COLUMNS) - 1  # every column but the digest
        records.append([guard(c) for c in r])
    # Hashed after guarding: the digest covers the cells exactly as the file holds them.
    digest = integrity.csv_sha256(records)
    return integrity.csv_text([records[0] + [COLUMNS[-1]], *(r + [digest] for r in records[1:])])
