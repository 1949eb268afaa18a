"""Chart geometry for the report, as plain shapes. The template draws them as inline SVG (autoescaped, so labels
stay text), and the PDF renders the very same SVG through Qt. No plotting library, no JavaScript.

Large vaults change the chart's form rather than its truth: up to ``PER_KEY_LIMIT`` keys the age chart and the
permission matrix show one row per key; above that they aggregate (an age histogram, a matrix per exchange).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from keyhygiene.core.permissions import permission_label
from keyhygiene.core.plural import plural, word_for
from keyhygiene.core.report.model import PERMISSION_ORDER, Report, ReportKey

PER_KEY_LIMIT = 30
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"

SEVERITY_COLOURS: dict[str, str] = {
    "critical": "#a61e1e",
    "high": "#d9480f",
    "medium": "#e0a800",
    "low": "#3b6fd8",
    "info": "#7b8494",
    "none": "#2b8a3e",
}
OK_COLOUR = "#2b8a3e"
OVER_COLOUR = "#c92a2a"
GRID = "#d7dce3"
INK = "#1f2933"
MUTED = "#5f6b7a"
# How dangerous each right is, as a fill colour in the permission matrix.
PERMISSION_COLOURS: dict[str, str] = {
    "read": "#2b8a3e",
    "spot_trade": "#e8590c",
    "margin_trade": "#e8590c",
    "futures_trade": "#e8590c",
    "options_trade": "#e8590c",
    "withdraw": "#a61e1e",
    "transfer": "#a61e1e",
}
@dataclass(frozen=True)
class Rect:
    kind: ClassVar[str] = "rect"
    x: float
    y: float
    w: float
    h: float
    fill: str
    title: str | None = None
    stroke: str | None = None
    rx: float = 0


@dataclass(frozen=True)
class Text:
    kind: ClassVar[str] = "text"
    x: float
    y: float
    text: str
    anchor: str = "start"  # start | middle | end
    size: float = 11
    weight: str = "normal"
    fill: str = INK


@dataclass(frozen=True)
class Line:
    kind: ClassVar[str] = "line"
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = GRID
    width: float = 1
    dash: str | None = None


@dataclass
class Chart:
    id: str
    title: str
    description: str  # one sentence for screen readers and the PDF's alt text
    width: float
    height: float
    shapes: list[Rect | Text | Line] = field(default_factory=list)
    caption: str | None = None

    def add(self, *shapes: Rect | Text | Line) -> None:
        self.shapes.extend(shapes)


def _short(text: str, n: int = 26) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _nice_max(v: float) -> int:
    """An axis maximum at or above ``v`` that splits into four round ticks (0, ¼, ½, ¾, max)."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if v <= step * 4:
            return step * 4
    return int(-(-v // 10000) * 10000)


def risk_distribution(report: Report) -> Chart:
    counts = report.summary.keys_by_highest_severity
    order = ["critical", "high", "medium", "low", "info", "none"]
    names = {"none": "no findings"}
    total = max(1, report.summary.key_count)
    left, bar_w, row_h, top = 110, 300, 26, 14
    c = Chart(
        id="chart-risk",
        title="Risk distribution",
        description="Number of keys by their most severe finding: "
        + ", ".join(f"{names.get(s, s)} {counts.get(s, 0)}" for s in order)
        + ".",
        width=left + bar_w + 90,
        height=top + row_h * len(order) + 8,
    )
    peak = max(1, max(counts.get(s, 0) for s in order))
    for i, sev in enumerate(order):
        n = counts.get(sev, 0)
        y = top + i * row_h
        c.add(Text(left - 8, y + 15, names.get(sev, sev).capitalize(), anchor="end", size=11))
        c.add(Rect(left, y + 2, bar_w, row_h - 8, "#f1f3f6", rx=2))
        if n:
            c.add(Rect(left, y + 2, max(2.0, bar_w * n / peak), row_h - 8, SEVERITY_COLOURS[sev],
                       title=f"{names.get(sev, sev)}: {plural(n, 'key')}", rx=2))
        c.add(Text(left + bar_w + 8, y + 15, f"{n}  ({round(100 * n / total)}%)", size=11, fill=MUTED))
    return c


def key_ages(report: Report) -> Chart:
    limit = report.policy.max_age_days
    known = [k for k in report.keys if k.age_days is not None]
    unknown = len(report.keys) - len(known)
    if len(report.keys) <= PER_KEY_LIMIT:
        c = _ages_per_key(known, limit)
    else:
        c = _ages_histogram(known, limit)
    over = sum(1 for k in known if (k.age_days or 0) > limit)
    c.caption = f"{over} of {plural(len(known), 'key')} {word_for(over, 'is')} older than the policy's {limit} days."
    added = sum(1 for k in known if k.created_source == "added")
    if added:
        c.caption += (f" {plural(added, 'key')} {word_for(added, 'has')} no known creation date: "
                      f"{'its' if added == 1 else 'their'} age (\u2265) counts from when "
                      f"{'it was' if added == 1 else 'they were'} added to KeyHygiene.")
    if unknown:
        c.caption += (f" {plural(unknown, 'key')} {word_for(unknown, 'has')} no date at all and "
                      f"{word_for(unknown, 'is')} not shown.")
    return c


def _ages_per_key(keys: list[ReportKey], limit: int) -> Chart:
    keys = sorted(keys, key=lambda k: (-(k.age_days or 0), k.label, k.id))
    left, plot_w, row_h, top = 190, 330, 22, 26
    scale_max = _nice_max(max([limit * 1.25] + [float(k.age_days or 0) for k in keys]))
    height = top + row_h * max(1, len(keys)) + 26
    c = Chart(
        id="chart-ages",
        title="Key ages against the policy limit",
        description=f"Age in days of each key; the dashed line is the policy limit of {limit} days.",
        width=left + plot_w + 70,
        height=height,
    )
    bottom = top + row_h * max(1, len(keys))
    for t in range(0, 5):
        v = scale_max * t / 4
        x = left + plot_w * v / scale_max
        c.add(Line(x, top - 4, x, bottom, GRID))
        c.add(Text(x, bottom + 16, f"{int(v)} d", anchor="middle", size=10, fill=MUTED))
    if not keys:
        c.add(Text(left, top + 14, "No key has a known creation date.", size=11, fill=MUTED))
    lx = left + plot_w * limit / scale_max
    for i, k in enumerate(keys):
        y = top + i * row_h
        age = k.age_days or 0
        over = age > limit
        end = left + max(2.0, plot_w * age / scale_max)
        c.add(Text(left - 8, y + 14, _short(k.label), anchor="end", size=10.5))
        c.add(Rect(left, y + 4, end - left, row_h - 9, OVER_COLOUR if over else OK_COLOUR,
                   title=f"{k.label}: {age} days{' (over the limit)' if over else ''}", rx=2))
        # A value label that would sit on the dashed limit line moves just past it.
        label_x = lx + 5 if end < lx and lx - end < 36 else end + 5
        at_least = "\u2265 " if k.created_source == "added" else ""  # counted from when it was added
        c.add(Text(label_x, y + 14, f"{at_least}{age} d", size=10, fill=MUTED))
    c.add(Line(lx, top - 10, lx, bottom, INK, 1.5, "5,3"))
    c.add(Text(lx, top - 14, f"policy limit {limit} d", anchor="middle", size=10, weight="bold"))
    return c


def _ages_histogram(keys: list[ReportKey], limit: int) -> Chart:
    third = max(1, limit // 3)
    edges = [(0, third), (third + 1, 2 * third), (2 * third + 1, limit),
             (limit + 1, 2 * limit), (2 * limit + 1, 4 * limit), (4 * limit + 1, None)]
    counts = [0] * len(edges)
    for k in keys:
        age = k.age_days or 0
        for i, (lo, hi) in enumerate(edges):
            if age >= lo and (hi is None or age <= hi):
                counts[i] += 1
                break
    left, top, plot_h, col_w, gap = 46, 24, 170, 62, 14
    peak = _nice_max(max(1, max(counts)))
    c = Chart(
        id="chart-ages",
        title="Key ages against the policy limit",
        description=f"Number of keys per age band; bands right of the dashed line exceed the {limit}-day limit.",
        width=left + len(edges) * (col_w + gap) + 20,
        height=top + plot_h + 48,
    )
    for t in range(0, 5):
        v = peak * t / 4
        y = top + plot_h - plot_h * v / peak
        c.add(Line(left, y, left + len(edges) * (col_w + gap), y, GRID))
        c.add(Text(left - 6, y + 4, str(int(v)), anchor="end", size=10, fill=MUTED))
    for i, ((lo, hi), n) in enumerate(zip(edges, counts, strict=True)):
        x = left + gap / 2 + i * (col_w + gap)
        h = plot_h * n / peak
        over = lo > limit
        label = f"{lo}\u2013{hi} d" if hi is not None else f"> {lo - 1} d"
        c.add(Rect(x, top + plot_h - h, col_w, h, OVER_COLOUR if over else OK_COLOUR,
                   title=f"{label}: {plural(n, 'key')}", rx=2))
        c.add(Text(x + col_w / 2, top + plot_h - h - 5, str(n), anchor="middle", size=10.5, weight="bold"))
        c.add(Text(x + col_w / 2, top + plot_h + 16, label, anchor="middle", size=10, fill=MUTED))
    lx = left + 3 * (col_w + gap)
    c.add(Line(lx, top - 12, lx, top + plot_h, INK, 1.5, "5,3"))
    c.add(Text(lx, top - 14, f"policy limit {limit} d", anchor="middle", size=10, weight="bold"))
    return c


def permission_matrix(report: Report) -> Chart:
    if len(report.keys) <= PER_KEY_LIMIT:
        return _matrix_per_key(report.keys)
    return _matrix_per_exchange(report.keys)


_MATRIX_COLS = [*PERMISSION_ORDER, "ip"]


def _matrix_header(c: Chart, left: float, cell: float, top: float) -> None:
    for j, p in enumerate(_MATRIX_COLS):
        name = "IP limit" if p == "ip" else permission_label(p)
        c.add(Text(left + j * cell + cell / 2, top - 8, name, anchor="middle", size=9.5, weight="bold"))


def _matrix_per_key(keys: tuple[ReportKey, ...]) -> Chart:
    left, cell, top, row_h = 190, 58, 30, 22
    c = Chart(
        id="chart-permissions",
        title="Permission matrix",
        description="Which rights each key grants, and whether it is restricted to IP addresses.",
        width=left + cell * len(_MATRIX_COLS) + 10,
        height=top + row_h * max(1, len(keys)) + 8,
    )
    _matrix_header(c, left, cell, top)
    if not keys:
        c.add(Text(left, top + 14, "No keys stored.", size=11, fill=MUTED))
    for i, k in enumerate(keys):
        y = top + i * row_h
        c.add(Text(left - 8, y + 15, _short(k.label), anchor="end", size=10.5))
        perms = k.permissions
        for j, p in enumerate(_MATRIX_COLS):
            x = left + j * cell + 4
            if perms is None:
                c.add(Rect(x, y + 3, cell - 8, row_h - 6, "#ffffff", title=f"{k.label}: not inspected",
                           stroke=GRID, rx=3))
                c.add(Text(x + (cell - 8) / 2, y + 15, "?", anchor="middle", size=10, fill=MUTED))
                continue
            if p == "ip":
                restricted = k.ip_restricted
                fill = {True: OK_COLOUR, False: OVER_COLOUR, None: "#ffffff"}[restricted]
                word = {True: "yes", False: "no", None: "?"}[restricted]
                c.add(Rect(x, y + 3, cell - 8, row_h - 6, fill, title=f"{k.label}: IP restricted: {word}",
                           stroke=GRID if restricted is None else None, rx=3))
                c.add(Text(x + (cell - 8) / 2, y + 15, word, anchor="middle", size=9.5,
                           fill=MUTED if restricted is None else "#ffffff"))
                continue
            granted = p in perms
            c.add(Rect(x, y + 3, cell - 8, row_h - 6, PERMISSION_COLOURS[p] if granted else "#eef1f4",
                       title=f"{k.label}: {permission_label(p)} {'granted' if granted else 'not granted'}", rx=3))
            if granted:
                c.add(Text(x + (cell - 8) / 2, y + 15, "\u2713", anchor="middle", size=11, fill="#ffffff"))
    return c


def _matrix_per_exchange(keys: tuple[ReportKey, ...]) -> Chart:
    groups: dict[str, list[ReportKey]] = {}
    for k in keys:
        groups.setdefault(k.exchange, []).append(k)
    left, cell, top, row_h = 150, 62, 30, 24
    c = Chart(
        id="chart-permissions",
        title="Permission matrix by exchange",
        description="For each exchange, how many of its inspected keys grant each right or are IP-restricted.",
        width=left + cell * len(_MATRIX_COLS) + 10,
        height=top + row_h * len(groups) + 8,
    )
    _matrix_header(c, left, cell, top)
    from keyhygiene.core.exchange_facts import display_name  # as html.exchange_name: the reader sees names, not ids

    for i, (ex_id, ks) in enumerate(sorted(groups.items())):
        y = top + i * row_h
        ex = display_name(ex_id)
        inspected = [k for k in ks if k.permissions is not None]
        c.add(Text(left - 8, y + 16, f"{ex} ({len(ks)})", anchor="end", size=10.5))
        for j, p in enumerate(_MATRIX_COLS):
            x = left + j * cell + 4
            if p == "ip":
                n = sum(1 for k in inspected if k.ip_restricted)
                colour = OK_COLOUR
            else:
                n = sum(1 for k in inspected if p in (k.permissions or []))
                colour = PERMISSION_COLOURS[p]
            share = n / len(inspected) if inspected else 0.0
            c.add(Rect(x, y + 3, cell - 8, row_h - 6, "#eef1f4", rx=3))
            if n:
                c.add(Rect(x, y + 3, cell - 8, row_h - 6, _mix(colour, share),
                           title=f"{ex}: {n} of {plural(len(inspected), 'inspected key')}", rx=3))
            c.add(Text(x + (cell - 8) / 2, y + 16, f"{n}/{len(inspected)}", anchor="middle", size=9.5,
                       fill="#ffffff" if share > 0.5 else INK))
    return c


def _mix(colour: str, share: float) -> str:
    """``colour`` faded towards white by how small ``share`` is (0.25 .. 1 strength)."""
    strength = 0.25 + 0.75 * max(0.0, min(1.0, share))
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    mixed = (round(255 - (255 - v) * strength) for v in (r, g, b))
    return "#" + "".join(f"{v:02x}" for v in mixed)


def all_charts(report: Report) -> list[Chart]:
    return [risk_distribution(report), key_ages(report), permission_matrix(report)]
