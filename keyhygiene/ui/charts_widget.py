"""Small painted charts for the summary strip: the hygiene score ring, risk distribution and key ages.

Painted with QPainter (QtCharts is not part of PySide6-Essentials); each chart also sets an accessible
description with the same numbers so screen readers get them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

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


RISK_ORDER = ("critical", "high", "medium", "low", "ok", "unknown")
RISK_LABELS = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "ok": "Clean",
               "unknown": "Not evaluated"}


def risk_buckets(rows: Sequence[KeyRow]) -> list[Bucket]:
    counts = dict.fromkeys(RISK_ORDER, 0)
    for r in rows:
        w = r.worst_severity
        if w is None:
            counts["ok" if r.score is not None else "unknown"] += 1
        elif w == "info":
            counts["low"] += 1
        else:
            counts[w] += 1
    return [Bucket(RISK_LABELS[k], counts[k], k) for k in RISK_ORDER]


AGE_EDGES = ((30, "<30 d"), (90, "30–90 d"), (180, "3–6 mo"), (365, "6–12 mo"), (730, "1–2 y"), (10**9, ">2 y"))


def age_buckets(rows: Sequence[KeyRow], now: datetime, max_age_days: int) -> list[Bucket]:
    counts = [0] * len(AGE_EDGES)
    unknown = 0
    for r in rows:
        d = r.age_days(now)
        if d is None:
            unknown += 1
            continue
        for i, (edge, _label) in enumerate(AGE_EDGES):
            if d < edge:
                counts[i] += 1
                break
    out = []
    lower = 0
    for (edge, label), n in zip(AGE_EDGES, counts, strict=True):
        over = lower >= max_age_days
        partly = lower < max_age_days < edge
        out.append(Bucket(label, n, "high" if over else ("medium" if partly else "ok")))
        lower = edge
    out.append(Bucket("unknown", unknown, "unknown"))
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
            f"{self.title}: " + ", ".join(f"{b.label} {b.count}" for b in buckets if b.count)
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

    def sizeHint(self) -> QSize:
        return QSize(320, 88)

    def set_rows(self, rows: Sequence[KeyRow], now: datetime, max_age_days: int) -> None:
        self._max_age = max_age_days
        self.title = f"Key ages (policy: {max_age_days} d)"
        self._set(age_buckets(rows, now, max_age_days))

    def paintEvent(self, _e: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        top = self._title(p)
        dark = theme.is_dark(self.palette())
        buckets = [b for b in self._buckets if b.label != "unknown" or b.count]
        if not buckets:
            p.end()
            return
        f = QFont(self.font())
        f.setPointSizeF(max(7, self.font().pointSizeF() * 0.82))
        p.setFont(f)
        fm = p.fontMetrics()
        label_h = fm.height() + 2
        area = QRectF(0, top, self.width(), self.height() - top - label_h)
        peak = max((b.count for b in buckets), default=0) or 1
        slot = area.width() / len(buckets)
        bw = min(34.0, slot * 0.62)
        text_color = self.palette().color(QPalette.ColorRole.WindowText)
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText)
        for i, b in enumerate(buckets):
            cx = area.left() + slot * i + slot / 2
            h = (area.height() - fm.height()) * b.count / peak
            rect = QRectF(cx - bw / 2, area.bottom() - h, bw, h)
            color = theme.severity_color(b.color_key, dark)
            if not b.count:
                color = QColor(muted)
                color.setAlpha(60)
                rect = QRectF(cx - bw / 2, area.bottom() - 2, bw, 2)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color)
            p.drawRoundedRect(rect, 3, 3)
            if b.count:
                p.setPen(text_color)
                p.drawText(QRectF(cx - slot / 2, rect.top() - fm.height(), slot, fm.height()),
                           Qt.AlignmentFlag.AlignCenter, str(b.count))
            p.setPen(muted)
            p.drawText(QRectF(cx - slot / 2, area.bottom() + 2, slot, label_h), Qt.AlignmentFlag.AlignCenter,
                       fm.elidedText(b.label, Qt.TextElideMode.ElideRight, int(slot)))
        p.end()
