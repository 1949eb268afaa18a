"""Generate the app icon's PNG sizes, .ico and .icns from resources/icons/keyhygiene.svg, with Qt only.

Usage: python packaging/make_icons.py   (writes packaging/icons/; the Linux tarball and the spec use them)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSize, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources" / "icons" / "keyhygiene.svg"
OUT = ROOT / "packaging" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    img = QImage(QSize(size, size), QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(p)
    p.end()
    return img


def write(img: QImage, path: Path, fmt: bytes) -> None:
    w = QImageWriter(str(path), fmt)
    if not w.write(img):
        raise SystemExit(f"could not write {path}: {w.errorString()}")


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"invalid SVG: {SOURCE}")
    OUT.mkdir(parents=True, exist_ok=True)
    for s in PNG_SIZES:
        write(render(renderer, s), OUT / f"keyhygiene-{s}.png", b"png")
    # Qt's ico/icns writers store one image each; the largest gives every OS something sharp to scale.
    write(render(renderer, 256), OUT / "keyhygiene.ico", b"ico")
    write(render(renderer, 512), OUT / "keyhygiene.icns", b"icns")
    print(f"icons written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
