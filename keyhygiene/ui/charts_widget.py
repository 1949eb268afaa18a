"""Small painted charts for the summary strip: the hygiene score ring, risk distribution and key ages.

Painted with QPainter (QtCharts is not part of PySide6-Essentials); each chart also sets an accessible
description with the same numbers so screen readers get them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QHelpEvent, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from keyhygiene.core.plural import plural
from keyhygiene.ui import theme
from keyhygiene.ui.key_row import KeyRow


class ScoreRing(QWidget):
    """The overall hygiene score, 0–100, as a ring gauge."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._score: int | None = None
        self.setMinimumSize(QSize(84, 84))
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Overall hygiene score")
        self.setToolTip("Overall hygiene score of the vault: 100 means nothing to fix")

    def sizeHint(self) -> QSize:
        return QSize(88, 88)

    def set_score(self, score: int | None) -> None:
        self._score = score
        self.setAccessibleDescription("not evaluated yet" if score is None else f"{score} out of 100")
        self.update()

    @property
    def score(self) -> int | None:
        return self._score

    def paintEvent(self, _e: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height()) - 8
        r = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        pal = self.palette()
        track = pal.color(QPalette.ColorRole.Mid)
        track.setAlpha(90)
        pen = QPen(track, 8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.drawArc(r, 0, 360 * 16)
        color = theme.score_color(self._score, theme.is_dark(pal))
        if self._score is not None:
            pen.setColor(color)
            p.setPen(pen)
            p.drawArc(r, 90 * 16, -int(360 * 16 * max(0, min(100, self._score)) / 100))
        f = QFont(self.font())
        f.setPixelSize(int(side * 0.34))
        f.setBold(True)
        p.setFont(f)
        p.setPen(pal.color(QPalette.ColorRole.WindowText))
        p.drawText(r.adjusted(0, -side * 0.08, 0, -side * 0.08), Qt.AlignmentFlag.AlignCenter,
                   "—" if self._score is None else str(self._score))
        f2 = QFont(self.font())
        f2.setPixelSize(max(9, int(side * 0.12)))
        p.setFont(f2)
        p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        p.drawText(r.adjusted(0, side * 0.30, 0, 0), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                   "hygiene")
        p.end()


@dataclass(frozen=True)
class Bucket:
    label: str
    count: int
    color_key: str
    short: str = ""  # when ``label`` does not fit under its column ("6–12m" for "6–12 mo")
    words: str = ""  # what it means, in words: the tooltip and the accessible description

    @property
    def said(self) -> str:
        return self.words or self.label


# "info" is a bucket of its own, as in the report's risk chart and the row's "Info · 100": counting an info-only key
# as "Low" made the header chart say something the row and the report do not.
RISK_ORDER = ("critical", "high", "medium", "low", "info", "ok", "unknown")
RISK_LABELS = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info",
               "ok": "Clean", "unknown": "Not evaluated"}


def risk_buckets(rows: Sequence[KeyRow]) -> list[Bucket]:
    counts = dict.fromkeys(RISK_ORDER, 0)
    for r in rows:
        w = r.worst_severity
        if w is None:
            counts["ok" if r.score is not None else "unknown"] += 1
        else:
            counts[w] += 1
    return [Bucket(RISK_LABELS[k], counts[k], k) for k in RISK_ORDER]


# Upper edge in days, label, short label, words.
AGE_EDGES = ((30, "<30 d", "<30d", "under 30 days old"), (90, "30–90 d", "1–3m", "30 to 90 days old"),
             (180, "3–6 mo", "3–6m", "3 to 6 months old"), (365, "6–12 mo", "6–12m", "6 to 12 months old"),
             (730, "1–2 y", "1–2y", "1 to 2 years old"), (10**9, ">2 y", ">2y", "over 2 years old"))
UNKNOWN_AGE = Bucket("unknown", 0, "unknown", "?", "age unknown (no creation date)")


def age_buckets(rows: Sequence[KeyRow], now: datetime, max_age_days: int) -> list[Bucket]:
    counts = [0] * len(AGE_EDGES)
    unknown = 0
    for r in rows:
        d = r.age_days(now)
        if d is None:
            unknown += 1
            continue
        for i, (edge, *_labels) in enumerate(AGE_EDGES):
            if d < edge:
                counts[i] += 1
                break
    out = []
    lower = 0
    for (edge, label, short, words), n in zip(AGE_EDGES, counts, strict=True):
        over = lower >= max_age_days
        partly = lower < max_age_days < edge
        out.append(Bucket(label, n, "high" if over else ("medium" if partly else "ok"), short, words))
        lower = edge
    out.append(replace(UNKNOWN_AGE, count=unknown))
    return out


class _ChartBase(QWidget):
    title = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._buckets: list[Bucket] = []
        self.setMinimumHeight(84)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def buckets(self) -> list[Bucket]:
        return list(self._buckets)

    def _set(self, buckets: list[Bucket]) -> None:
        self._buckets = buckets
        self.setAccessibleDescription(
            f"{self.title}: " + ", ".join(f"{b.said} {b.count}" for b in buckets if b.count)
        )
        self.update()

    def _title(self, p: QPainter) -> float:
        f = QFont(self.font())
        f.setBold(True)
        p.setFont(f)
        p.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        h = p.fontMetrics().height()
        p.drawText(QRectF(0, 0, self.width(), h), Qt.AlignmentFlag.AlignLeft, self.title)
        return h + 6


class RiskChart(_ChartBase):
    """One stacked bar: how many keys sit at each worst severity, with a legend."""

    title = "Keys by risk"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Keys by risk chart")
        self.setMinimumWidth(220)

    def set_rows(self, rows: Sequence[KeyRow]) -> None:
        self._set(risk_buckets(rows))

    def sizeHint(self) -> QSize:
        return QSize(300, 88)

    def paintEvent(self, _e: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        top = self._title(p)
        dark = theme.is_dark(self.palette())
        total = sum(b.count for b in self._buckets)
        bar = QRectF(0, top, self.width() - 2, 14)
        clip = QPainterPath()
        clip.addRoundedRect(bar, 7, 7)
        p.setClipPath(clip)
        track = self.palette().color(QPalette.ColorRole.Mid)
        track.setAlpha(70)
        p.fillRect(bar, track)
        x = bar.left()
        for b in self._buckets:
            if total and b.count:
                w = bar.width() * b.count / total
                p.fillRect(QRectF(x, bar.top(), w, bar.height()), theme.severity_color(b.color_key, dark))
                x += w
        p.setClipping(False)
        f = QFont(self.font())
        f.setPointSizeF(max(7.5, self.font().pointSizeF() * 0.9))
        p.setFont(f)
        fm = p.fontMetrics()
        lx, ly = 0.0, bar.bottom() + 8
        for b in self._buckets:
            if not b.count:
                continue
            text = f"{b.label} {b.count}"
            w = fm.horizontalAdvance(text) + 22
            if lx + w > self.width():
                lx, ly = 0.0, ly + fm.height() + 3
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.severity_color(b.color_key, dark))
            p.drawRoundedRect(QRectF(lx, ly + (fm.height() - 9) / 2, 9, 9), 2, 2)
            p.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            p.drawText(QRectF(lx + 13, ly, w, fm.height()), Qt.AlignmentFlag.AlignVCenter, text)
            lx += w
        if not total:
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(QRectF(0, ly, self.width(), fm.height()), Qt.AlignmentFlag.AlignLeft, "No keys yet")
        p.end()


class AgeChart(_ChartBase):
    """Columns of key counts by age; buckets past the policy's maximum age are drawn in the warning colour."""

    title = "Key ages"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Key ages chart")
        self.setMinimumWidth(240)
        self._max_age = 90

    def set_rows(self, rows: Sequence[KeyRow], now: datetime, max_age_days: int) -> None:
        self._max_age = max_age_days
        self.title = f"Key ages (policy: {max_age_days} d)"
        self._set(age_buckets(rows, now, max_age_days))

    def _label_font(self) -> QFont:
        f = QFont(self.font())
        f.setPointSizeF(max(7, self.font().pointSizeF() * 0.82))
        return f

    def _title_height(self) -> float:
        f = QFont(self.font())
        f.setBold(True)
        return QFontMetricsF(f).height() + 6

    def sizeHint(self) -> QSize:
        # Room for the title, two rows of labels, a count and a column at any font size (1.5x included).
        line = QFontMetricsF(self._label_font()).height()
        return QSize(320, max(88, math.ceil(self._title_height() + 3 * line + 36)))

    def minimumSizeHint(self) -> QSize:
        return QSize(240, self.sizeHint().height())

    def label_layout(self) -> list[tuple[Bucket, QRectF, QRectF, str]]:
        """Each shown bucket with its column's slot, its label's box and the label drawn there. The labels are
        the longer ones when they all fit under their columns, else the short ones ("6–12m"), else the short ones
        on two staggered rows (each twice a column wide); elided only past that. The tooltip and the accessible
        description always say the bucket in words."""
        buckets = [b for b in self._buckets if b.label != "unknown" or b.count]
        if not buckets:
            return []
        fm = QFontMetricsF(self._label_font())
        line = fm.height()
        slot = self.width() / len(buckets)
        top = self._title_height()

        def fits(texts: list[str], room: float) -> bool:
            return all(fm.horizontalAdvance(t) <= room - 4 for t in texts)

        longs = [b.label for b in buckets]
        shorts = [b.short or b.label for b in buckets]
        if fits(longs, slot):
            texts, rows = longs, 1
        elif fits(shorts, slot):
            texts, rows = shorts, 1
        else:
            texts, rows = shorts, 2
        label_top = self.height() - rows * line - 2
        out = []
        for i, (b, text) in enumerate(zip(buckets, texts, strict=True)):
            cx = slot * i + slot / 2
            width = slot * rows
            box = QRectF(cx - width / 2, label_top + (i % rows) * line, width, line)
            if fm.horizontalAdvance(text) > width - 4:
                text = fm.elidedText(text, Qt.TextElideMode.ElideRight, width - 4)
            out.append((b, QRectF(slot * i, top, slot, label_top - top), box, text))
        return out

    def tooltip_at(self, x: float) -> str:
        """The bucket under ``x``, in words: how many keys, and whether that age is past the policy."""
        for b, column, _box, _text in self.label_layout():
            if column.left() <= x < column.right():
                past = {"high": f"; past the policy's {self._max_age} days",
                        "medium": f"; partly past the policy's {self._max_age} days"}.get(b.color_key, "")
                return f"{plural(b.count, 'key')} {b.said}{past}"
        return ""

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip and isinstance(e, QHelpEvent):
            text = self.tooltip_at(e.position().x() if hasattr(e, "position") else e.pos().x())
            if text:
                QToolTip.showText(e.globalPos(), text, self)
            else:
                QToolTip.hideText()
                e.ignore()
            return True
        return super().event(e)

    def paintEvent(self, _e: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._title(p)
        dark = theme.is_dark(self.palette())
        layout = self.label_layout()
        if not layout:
            p.end()
            return
        p.setFont(self._label_font())
        fm = p.fontMetrics()
        peak = max((b.count for b, *_rest in layout), default=0) or 1
        text_color = self.palette().color(QPalette.ColorRole.WindowText)
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText)
        for b, column, box, text in layout:
            cx = column.center().x()
            bw = min(34.0, column.width() * 0.62)
            h = (column.height() - fm.height() - 2) * b.count / peak
            rect = QRectF(cx - bw / 2, column.bottom() - h, bw, h)
            color = theme.severity_color(b.color_key, dark)
            if not b.count:
                color = QColor(muted)
                color.setAlpha(60)
                rect = QRectF(cx - bw / 2, column.bottom() - 2, bw, 2)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color)
            p.drawRoundedRect(rect, 3, 3)
            if b.count:
                p.setPen(text_color)
                p.drawText(QRectF(column.left(), rect.top() - fm.height(), column.width(), fm.height()),
                           Qt.AlignmentFlag.AlignCenter, str(b.count))
            p.setPen(muted)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        p.end()
