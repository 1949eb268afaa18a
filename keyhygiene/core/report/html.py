"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no network) from Jinja2 templates with
autoescaping on, so a label such as ``<script>alert(1)</script>`` is printed, never run.

The PDF is made from the same model and the same partials (``ui/report_pdf.py``); what both share lives here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import urlparse

import jinja2
from markupsafe import Markup

from keyhygiene.core.models import Finding
from keyhygiene.core.permissions import permission_label
from keyhygiene.core.plural import plural, word_for
from keyhygiene.core.report import charts as chartmod
from keyhygiene.core.report.integrity import (
    DATA_ELEMENT_ID,
    HASH_FIELD,
    JQ_RECIPE,
    PDF_EXTRACT,
    PY_RECIPE,
    embeddable_json,
)
from keyhygiene.core.report.json_report import shared_document
from keyhygiene.core.report.model import (
    PERMISSION_ORDER,
    ROTATION_REASONS,
    Report,
    ReportExposure,
    ReportIncident,
    ReportKey,
)
from keyhygiene.core.severity import Severity
from keyhygiene.core.timeutil import iso
from keyhygiene.paths import resource

STALE_AFTER_SECONDS = 7 * 24 * 3600  # results older than a week get a warning colour
SUMMARY_ROTATION_ROWS = 20  # the summary names the worst keys to rotate; the per-key table has them all


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource("templates"))),
        autoescape=True,  # every template, whatever its extension: user text is never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        dt=format_datetime,
        day=format_day,
        score_class=score_class,
        exchange_name=exchange_name,
        perm_name=permission_label,
    )
    env.tests["safe_url"] = is_safe_url
    return env


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    text = iso(value) or ""
    return f"{text[:10]} {text[11:16]} UTC"


def format_day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return (iso(value) or "")[:10]
    return value.isoformat()


def format_duration(seconds: int) -> str:
    minutes = seconds // 60
    if minutes < 2:
        return "under two minutes old"
    if minutes < 120:
        return f"{minutes} minutes old"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours old"
    return f"{hours // 24} days old"


def score_class(score: int) -> str:
    return "score-good" if score >= 80 else "score-fair" if score >= 50 else "score-poor"


def score_words(score: int) -> str:
    if score >= 80:
        return "Good: little to fix."
    if score >= 50:
        return "Fair: some keys need attention."
    return "Poor: fix the critical and high findings first."


def exchange_name(exchange_id: str) -> str:
    from keyhygiene.core.exchange_facts import display_name

    return display_name(exchange_id)


def is_safe_url(value: object) -> bool:
    """Only web links become clickable: a ``javascript:`` or ``file:`` source in the registry stays plain text."""
    try:
        parsed = urlparse(str(value))
    except ValueError:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def freshness(report: Report) -> tuple[str, bool]:
    """The sentence that says how old the results are, and whether that is old enough to warn about."""
    res = report.results
    if not report.keys:
        return "The vault holds no keys.", False
    if res.oldest_check is None:
        return ("No key has been inspected yet: permissions, IP restrictions and exchange status are unknown. "
                "Run `keyhygiene audit` or make the report with --refresh."), True
    n = res.unchecked_keys
    unchecked = f" {plural(n, 'key')} {word_for(n, 'has')} never been inspected." if n else ""
    if report.refreshed:
        return f"Results from an audit run just before this report.{unchecked}", bool(res.unchecked_keys)
    age = res.age_seconds or 0
    when = format_datetime(res.oldest_check)
    if res.newest_check and res.newest_check != res.oldest_check:
        span = f"between {when} and {format_datetime(res.newest_check)}"
    else:
        span = f"at {when}"
    return (
        f"Results from the last audit, inspected {span}: the oldest is {format_duration(age)}.{unchecked}",
        age > STALE_AFTER_SECONDS or bool(res.unchecked_keys),
    )


def keys_by_risk(report: Report) -> list[ReportKey]:
    return sorted(
        report.keys,
        key=lambda k: (-(Severity(k.highest_severity).rank if k.highest_severity else -1), k.score, k.exchange,
                       k.label, k.id),
    )


def exposures(report: Report) -> list[tuple[ReportKey, ReportExposure]]:
    """Every sharing, those touched by an incident first."""
    rows = [(k, e) for k in report.keys for e in k.exposures]
    return sorted(rows, key=lambda ke: (not ke[1].has_relevant_incident, not ke[1].active, ke[1].service_name,
                                        ke[0].label, ke[0].id))


@dataclass(frozen=True)
class FindingGroup:
    """Findings of one rule and severity across keys, for the compact PDF of a large vault. ``title`` is the
    wording most keys share; ``items`` pairs each key with its own finding (whose title may add a date)."""

    severity: str
    rule: str
    title: str
    example: Finding
    example_key: ReportKey
    items: tuple[tuple[ReportKey, Finding], ...]


@dataclass(frozen=True)
class ServiceGroup:
    """Every key given to one service, split by whether one of its incidents touches the key."""

    service: str
    name: str
    category: str | None
    in_registry: bool
    incidents: tuple[ReportIncident, ...]
    touched: tuple[tuple[ReportKey, ReportExposure], ...]
    others: tuple[tuple[ReportKey, ReportExposure], ...]


def finding_groups(report: Report) -> list[FindingGroup]:
    groups: dict[tuple[str, str], list[tuple[ReportKey, Finding]]] = {}
    for k in keys_by_risk(report):
        for f in k.findings:
            groups.setdefault((f.severity, f.rule), []).append((k, f))
    out = []
    for (sev, rule), items in groups.items():
        title = Counter(f.title for _, f in items).most_common(1)[0][0]
        key, example = next((k, f) for k, f in items if f.title == title)
        out.append(FindingGroup(sev, rule, title, example, key, tuple(items)))
    return sorted(out, key=lambda g: (-_rank(g.severity), -len(g.items), g.rule))


def service_groups(report: Report) -> list[ServiceGroup]:
    by_service: dict[str, list[tuple[ReportKey, ReportExposure]]] = {}
    for k, e in exposures(report):
        by_service.setdefault(e.service, []).append((k, e))
    out = []
    for service, items in by_service.items():
        first = items[0][1]
        out.append(ServiceGroup(
            service=service, name=first.service_name, category=first.category, in_registry=first.in_registry,
            incidents=first.incidents,
            touched=tuple((k, e) for k, e in items if e.has_relevant_incident),
            others=tuple((k, e) for k, e in items if not e.has_relevant_incident),
        ))
    return sorted(out, key=lambda g: (-len(g.touched), g.name.lower()))


def _rank(severity: str) -> int:
    try:
        return Severity(severity).rank
    except ValueError:
        return -1


def policy_items(report: Report) -> list[tuple[str, str]]:
    """The policy as label and value, in words (the settings dialog's labels, not the setting names)."""
    from keyhygiene.core.policy import THRESHOLDS

    out = []
    for name, value in report.policy.to_json().items():
        t = THRESHOLDS.get(name)
        if t is not None and isinstance(value, int) and not isinstance(value, bool):
            out.append((t.label, plural(value, t.unit.removesuffix("s"))))
        elif name == "disabled_rules":
            out.append(("Rules switched off", "; ".join(_rule_words(value)) or "none"))
        else:
            out.append((_setting_words(name).capitalize().replace(" ip ", " IP "), _value_words(value)))
    return out


def policy_sentence(report: Report) -> str:
    """The policy in one sentence for the PDF's title page: what gets flagged, not how the settings are named."""
    values = report.policy.to_json()
    parts = [f"keys older than {plural(report.policy.max_age_days, 'day')} are flagged"]
    if isinstance(warn := values.get("expiry_warning_days"), int):
        parts.append(f"expiries are announced {plural(warn, 'day')} ahead")
    if isinstance(most := values.get("max_consumers"), int):
        parts.append(f"a key given to more than {plural(most, 'consumer')} is flagged")
    parts.append("rules switched off: " + (", ".join(_rule_words(values.get("disabled_rules") or [])) or "none"))
    for name, value in values.items():  # a threshold this sentence does not know yet still shows, in plain words
        if name not in ("max_age_days", "expiry_warning_days", "max_consumers", "disabled_rules"):
            parts.append(f"{_setting_words(name)}: {_value_words(value)}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _rule_words(rule_ids: object) -> list[str]:
    """Switched-off rules by what they check ("the key can withdraw funds"), an unknown id as it is."""
    from keyhygiene.core.rules.engine import RULES

    summaries = {r.id: r.summary.rstrip(".") for r in RULES}
    ids = rule_ids if isinstance(rule_ids, list | tuple) else []
    return [f"\u201c{summaries.get(str(i), str(i))}\u201d" for i in ids]


def _setting_words(name: str) -> str:
    return f" {name.replace('_', ' ')} ".replace(" ip ", " IP ").strip()


def _value_words(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    return "none" if value is None else str(value)


def report_charts(report: Report) -> list[chartmod.Chart]:
    """The report's charts, computed once per report: the HTML draws them inline, the PDF as SVG objects."""
    charts = report.memo.get("charts")
    if charts is None:
        charts = report.memo["charts"] = chartmod.all_charts(report)
    return charts


def template_context(report: Report, document: dict[str, Any] | None = None, *,
                     embed_data: bool = True) -> dict[str, Any]:
    """What the templates see. ``embed_data=False`` leaves out the document as script-safe JSON, which only the
    browser edition embeds (the PDF attaches the JSON file instead)."""
    doc = document if document is not None else shared_document(report)
    text, stale = freshness(report)
    by_risk = keys_by_risk(report)
    rotate = [k for k in by_risk if k.needs_rotation]
    ctx = {
        "r": report,
        "font": chartmod.FONT,
        "charts": report_charts(report),
        "sha": doc[HASH_FIELD],
        "data_element_id": DATA_ELEMENT_ID,
        "freshness": text,
        "stale": stale,
        "score_words": score_words(report.summary.overall_score),
        "reasons": ROTATION_REASONS,
        "perm_order": PERMISSION_ORDER,
        "keys_by_risk": by_risk,
        "rotation_keys": rotate[:SUMMARY_ROTATION_ROWS],
        "rotation_more": max(0, len(rotate) - SUMMARY_ROTATION_ROWS),
        "exposures": exposures(report),
        "policy_items": policy_items(report),
        "policy_sentence": policy_sentence(report),
        "recipes": {"python": PY_RECIPE, "jq": JQ_RECIPE, "pdf": PDF_EXTRACT},
    }
    if embed_data:
        ctx["data_json"] = Markup(embeddable_json(doc))  # noqa: S704 - escaped for <script> by embeddable_json
    return ctx


def render_html(report: Report, document: dict[str, Any] | None = None) -> str:
    return environment().get_template("report.html.j2").render(template_context(report, document))


def chart_svgs(report: Report) -> dict[str, str]:
    """Each chart as a standalone SVG document, for renderers that cannot read inline SVG (the PDF)."""
    macros = environment().get_template("report/_macros.html.j2").make_module({"font": chartmod.FONT})
    svg = macros.svg  # type: ignore[attr-defined]  # a macro of the template, known only at run time
    return {c.id: str(svg(c)) for c in report_charts(report)}
