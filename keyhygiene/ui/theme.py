"""Colours that carry meaning (severity, permission tone), chosen for the current light or dark palette.

Everything else comes from the platform palette, so native style and the system's dark mode are respected.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

# (light palette, dark palette). Contrast checked against white/dark window backgrounds.
_SEVERITY: dict[str, tuple[str, str]] = {
    "critical": ("#b3261e", "#f2716b"),
    "high": ("#c2570c", "#f59a52"),
    "medium": ("#94690b", "#e8c25a"),
    "low": ("#2b63a8", "#76aef0"),
    "info": ("#5f6b76", "#a4afb9"),
    "ok": ("#2e7d4f", "#6cc48f"),
    "unknown": ("#7a8590", "#8d98a3"),
}
_TONES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    # tone: ((light bg, light fg), (dark bg, dark fg))
    "danger": (("#fde3e1", "#9f1d16"), ("#5a2522", "#ffb4ae")),
    "warn": (("#fff0d9", "#8a4a00"), ("#4d3818", "#ffd08a")),
    "neutral": (("#e6eef6", "#244a6e"), ("#27394b", "#b8d4f0")),
    "service": (("#ece8f7", "#4a3a86"), ("#352e52", "#d0c6f5")),
    "incident": (("#fde3e1", "#9f1d16"), ("#5a2522", "#ffb4ae")),
    "muted": (("#eceff1", "#55606a"), ("#33393e", "#b6c0c8")),
}
SEVERITY_NAMES = ("critical", "high", "medium", "low", "info")


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def severity_color(severity: str | None, dark: bool | None = None) -> QColor:
    d = is_dark() if dark is None else dark
    light_hex, dark_hex = _SEVERITY.get(severity or "unknown", _SEVERITY["unknown"])
    return QColor(dark_hex if d else light_hex)


def tone_colors(tone: str, dark: bool | None = None) -> tuple[QColor, QColor]:
    d = is_dark() if dark is None else dark
    light, darkc = _TONES.get(tone, _TONES["muted"])
    bg, fg = darkc if d else light
    return QColor(bg), QColor(fg)


def score_color(score: int | None, dark: bool | None = None) -> QColor:
    """A hygiene score (100 = clean) coloured like the severity it corresponds to."""
    if score is None:
        return severity_color("unknown", dark)
    if score >= 90:
        return severity_color("ok", dark)
    if score >= 75:
        return severity_color("low", dark)
    if score >= 50:
        return severity_color("medium", dark)
    if score >= 25:
        return severity_color("high", dark)
    return severity_color("critical", dark)


def dark_palette() -> QPalette:
    """Used only when the user picks Dark and the platform style does not provide a dark palette itself."""
    p = QPalette()
    base, window, text = QColor("#1e2227"), QColor("#272b31"), QColor("#e6e8eb")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#242830"))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor("#30353c"))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8b939c"))
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor("#2f343b"))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor("#ff6b6b"))
    p.setColor(QPalette.ColorRole.Light, QColor("#3a4048"))
    p.setColor(QPalette.ColorRole.Midlight, QColor("#343a41"))
    p.setColor(QPalette.ColorRole.Mid, QColor("#23272c"))
    p.setColor(QPalette.ColorRole.Dark, QColor("#16191c"))
    p.setColor(QPalette.ColorRole.Shadow, QColor("#0b0c0e"))
    p.setColor(QPalette.ColorRole.Highlight, QColor("#2a82da"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Link, QColor("#6fb3ff"))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7d848c"))
    return p


# The keyboard focus ring: at least 3:1 against the window in each theme (WCAG 2.2, 1.4.11 non-text contrast).
_FOCUS = ("#1a5fb4", "#8cc2ff")


def focus_color(dark: bool | None = None) -> QColor:
    d = is_dark() if dark is None else dark
    return QColor(_FOCUS[1] if d else _FOCUS[0])


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
