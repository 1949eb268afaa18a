"""The JSON report: the report model as one document, validated by ``resources/report.schema.json``.

Per key it carries the same object ``audit --json`` prints (the ``inspect --json`` profile plus ``id``, ``label``,
``exchange``, ``findings``, ``score``, ``blast_radius``) and then report-only fields. This document is also what the
content hash covers (see ``integrity.py``), and the HTML report embeds it, so every format can be checked against it.
"""

from __future__ import annotations

import json
from typing import Any

from keyhygiene.core.models import KeyProfile, Status
from keyhygiene.core.report.integrity import HASH_FIELD, with_hash
from keyhygiene.core.report.model import ROTATION_REASONS, Report, ReportExposure, ReportKey
from keyhygiene.core.report.rotations import RotationEntry
from keyhygiene.core.timeutil import iso

# What ``audit --json`` shows for a key that was never inspected (``core.audit.KeyAudit.of``): same here.
NOT_CHECKED_MESSAGE = "Not checked."


def report_document(report: Report) -> dict[str, Any]:
    """The JSON report as a dict, including ``content_sha256``."""
    doc: dict[str, Any] = {
        "schema_version": report.schema_version,
        "generator": {"name": report.app_name, "version": report.app_version},
        "generated_at": iso(report.generated_at),
        "refreshed": report.refreshed,
        "results": {
            "oldest_check": iso(report.results.oldest_check),
            "newest_check": iso(report.results.newest_check),
            "age_seconds": report.results.age_seconds,
            "unchecked_keys": report.results.unchecked_keys,
        },
        "policy": report.policy.to_json(),
        "summary": {
            "keys": report.summary.key_count,
            "overall_score": report.summary.overall_score,
            "findings_by_severity": dict(report.summary.findings_by_severity),
            "keys_by_highest_severity": dict(report.summary.keys_by_highest_severity),
            "keys_needing_rotation": list(report.summary.keys_needing_rotation),
            "keys_with_incident_exposure": list(report.summary.keys_with_incident_exposure),
            "keys_shared": report.summary.keys_shared,
            "score_formula": report.score_formula,
            "needs_attention": report.summary.needs_attention,
            "headline": report.summary.headline,
            "reminders": [r.to_json() for r in report.summary.reminders],
        },
        "keys": [key_json(k) for k in report.keys],
        "rotations": [rotation_json(r) for r in report.rotations],
    }
    return with_hash(doc)


def key_json(k: ReportKey) -> dict[str, Any]:
    """One key: exactly the object ``audit --json`` prints for it (``core.audit.KeyAudit.to_json``: the
    ``inspect --json`` profile plus id, label, exchange, purpose, shared_with, checked_at, findings, score,
    blast_radius), then what only the report adds."""
    profile = k.profile or KeyProfile(exchange=k.exchange, key=k.key, status=Status.ERROR,
                                      message=NOT_CHECKED_MESSAGE)
    d = profile.to_json()
    d.update(
        {
            "id": k.id,
            "label": k.label,
            "exchange": k.exchange,
            "purpose": k.purpose,
            "shared_with": k.shared_with,
            "checked_at": iso(k.checked_at),
            "findings": [f.to_json() for f in k.findings],
            "score": k.score,
            "blast_radius": k.blast_radius,
        }
    )
    d.update(
        {
            "state": k.state,
            "note": k.note,
            "key_created_at": iso(k.created_at),
            "key_created_source": k.created_source,
            "age_days": k.age_days,
            "highest_severity": k.highest_severity,
            "exposures": [exposure_json(e) for e in k.exposures],
            "incident_exposure": k.incident_services,
            "needs_rotation": k.needs_rotation,
            "rotation_reasons": [ROTATION_REASONS[r] for r in k.rotation_reasons],
            "last_rotated": iso(k.last_rotated),
        }
    )
    return d


def exposure_json(e: ReportExposure) -> dict[str, Any]:
    return {
        "service": e.service,
        "service_name": e.service_name,
        "category": e.category,
        "in_registry": e.in_registry,
        "shared_at": e.shared_at.isoformat() if e.shared_at else None,
        "revoked_at": e.revoked_at.isoformat() if e.revoked_at else None,
        "active": e.active,
        "note": e.note,
        "incidents": [
            {
                "date": i.date.isoformat() if i.date else None,
                "when": i.when,
                "title": i.title,
                "summary": i.summary,
                "sources": list(i.sources),
                "verified": i.verified,
                "affects_key": i.affects_key,
            }
            for i in e.incidents
        ],
    }


def rotation_json(r: RotationEntry) -> dict[str, Any]:
    return {
        "id": r.id,
        "key_id": r.key_id,
        "label": r.key_label,
        "state": r.state,
        "completed": r.completed,
        "started_at": iso(r.started_at),
        "updated_at": iso(r.updated_at),
        "finished_at": iso(r.finished_at),
        "old_key": r.old_key,
        "new_key": r.new_key,
        "old_key_rejected_at": iso(r.old_key_rejected_at),
    }


def shared_document(report: Report) -> dict[str, Any]:
    """The report's JSON document, built and hashed once per report and shared by every renderer (the JSON file,
    the HTML embed, the PDF's digest and attachment). Read it, never change it: ``report_document`` gives a copy
    of one's own."""
    doc = report.memo.get("document")
    if doc is None:
        doc = report.memo["document"] = report_document(report)
    return doc


def render_json(report: Report, document: dict[str, Any] | None = None) -> str:
    """The JSON report file. Without ``document`` (or given the shared one) the text is made once per report:
    pretty-printing runs json's pure-Python encoder, and the PDF attaches this same text."""
    shared = document is None or document is report.memo.get("document")
    if shared and "json_text" in report.memo:
        return report.memo["json_text"]
    doc = shared_document(report) if document is None else document
    assert HASH_FIELD in doc
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if shared:
        report.memo["json_text"] = text
    return text
