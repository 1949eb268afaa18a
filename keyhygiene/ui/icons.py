"""Icons: the app icon, exchange monograms and action icons, all drawn for this project (resources/icons).

Action icons are stroked with ``currentColor`` and tinted to the palette's text colour, so they read well in
light and dark mode. Exchanges without a monogram file get one painted from their name.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter, QPainterPath, QPalette, QPixmap

if TYPE_CHECKING:
    from PySide6.QtSvg import QSvgRenderer

from keyhygiene.paths import resource

_SIZES = (16, 20, 24, 32, 48, 64)  # the app icon: window managers and the About box ask for large ones
# Toolbar, menu and table icons are shown at 16-24 px (x2 for HiDPI): three renderings instead of six halve the
# cost of drawing the first frame's icons; QIcon scales the nearest one for any other size.
_SMALL_SIZES = (16, 24, 32)


def _renderer(svg: bytes) -> QSvgRenderer:
    from PySide6.QtSvg import QSvgRenderer  # on first use: the first frame has no SVG in it

    return QSvgRenderer(QByteArray(svg))


def _render(svg: bytes, size: int, dpr: float, renderer: QSvgRenderer | None = None) -> QPixmap:
    renderer = renderer or _renderer(svg)
    pm = QPixmap(int(size * dpr), int(size * dpr))
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(p, QRectF(0, 0, pm.width(), pm.height()))
    p.end()
    pm.setDevicePixelRatio(dpr)
    return pm


def _dpr() -> float:
    app = QGuiApplication.instance()
    screen = QGuiApplication.primaryScreen() if app is not None else None
    return max(2.0, screen.devicePixelRatio() if screen else 1.0)  # render crisp on HiDPI and when scaled


def _icon_from_svg(svg: bytes, sizes: tuple[int, ...] = _SIZES) -> QIcon:
    icon = QIcon()
    dpr = _dpr()
    renderer = _renderer(svg)  # parsed once for every size
    for s in sizes:
        icon.addPixmap(_render(svg, s, dpr, renderer))
    return icon


@cache
def app_icon() -> QIcon:
    return _icon_from_svg(resource("icons", "keyhygiene.svg").read_bytes())


def app_pixmap(size: int) -> QPixmap:
    return _render(resource("icons", "keyhygiene.svg").read_bytes(), size, _dpr())


def _text_color() -> QColor:
    return QGuiApplication.palette().color(QPalette.ColorRole.WindowText)


@cache
def _action_icon(name: str, color: str) -> QIcon:
    svg = resource("icons", f"action-{name}.svg").read_text(encoding="utf-8").replace("currentColor", color)
    return _icon_from_svg(svg.encode(), _SMALL_SIZES)


def action_icon(name: str, color: QColor | str | None = None) -> QIcon:
    c = QColor(color) if color is not None else _text_color()
    return _action_icon(name, c.name())


@cache
def exchange_icon(exchange: str) -> QIcon:
    path = resource("icons", f"exchange-{exchange}.svg")
    if path.is_file():
        return _icon_from_svg(path.read_bytes(), _SMALL_SIZES)
    icon = QIcon()
    for s in _SMALL_SIZES:
        icon.addPixmap(monogram(exchange, s))
    return icon


@cache
def exchange_pixmap(exchange: str, size: int, dpr: float) -> QPixmap:
    """One exchange icon at one size, for the key list: a single rendering (``exchange_icon`` draws three sizes
    of each, ~20 ms for the twelve exchanges of a first frame)."""
    path = resource("icons", f"exchange-{exchange}.svg")
    if path.is_file():
        return _render(path.read_bytes(), size, dpr)
    return monogram(exchange, size)


def monogram(exchange: str, size: int) -> QPixmap:
    """A rounded square in a colour derived from the id, with up to two letters: for the other ccxt exchanges."""
    dpr = _dpr()
    pm = QPixmap(int(size * dpr), int(size * dpr))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    import hashlib

    hue = int(hashlib.sha256(exchange.encode()).hexdigest()[:4], 16) % 360
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    r = QRectF(size * 0.03, size * 0.03, size * 0.94, size * 0.94)
    path.addRoundedRect(r, size * 0.22, size * 0.22)
    p.fillPath(path, QColor.fromHsl(hue, 120, 95))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(6, int(size * 0.42)))
    p.setFont(font)
    p.setPen(QColor("white"))
    letters = "".join(ch for ch in exchange if ch.isalnum())[:2].upper() or "?"
    p.drawText(r, Qt.AlignmentFlag.AlignCenter, letters)
    p.end()
    return pm


def clear_caches() -> None:
    """After a palette change: tinted icons must be re-rendered in the new text colour."""
    _action_icon.cache_clear()
