"""The hygiene report: one model (``model.build_report``), rendered as HTML, JSON and CSV here and as PDF by
``keyhygiene.ui.report_pdf`` (Qt). See DESIGN.md §6."""

from keyhygiene.core.report.model import Report, build_report

__all__ = ["Report", "build_report"]
