#!/usr/bin/env bash
# Package dist/KeyHygiene (the PyInstaller one-dir bundle) as a self-contained Linux tarball with the desktop
# entry, AppStream metadata, icons and an install script for ~/.local. Usage: packaging/linux/build_tarball.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION="$(python3 -c 'import re,sys; print(re.search(r"__version__ = \"(.+?)\"", open(sys.argv[1]).read())[1])' "$ROOT/keyhygiene/__init__.py")"
APP_ID=io.github.keyhygiene.KeyHygiene
BUNDLE="$ROOT/dist/KeyHygiene"
[ -x "$BUNDLE/keyhygiene" ] || { echo "build the bundle first: pyinstaller packaging/keyhygiene.spec" >&2; exit 1; }
STAGE="$(mktemp -d)/KeyHygiene-$VERSION-linux-$(uname -m)"
mkdir -p "$STAGE/share/applications" "$STAGE/share/metainfo"
cp -a "$BUNDLE" "$STAGE/app"
cp "$ROOT/packaging/linux/$APP_ID.desktop" "$STAGE/share/applications/"
cp "$ROOT/packaging/linux/$APP_ID.metainfo.xml" "$STAGE/share/metainfo/"
for s in 16 24 32 48 64 128 256 512; do
    d="$STAGE/share/icons/hicolor/${s}x${s}/apps"; mkdir -p "$d"
    cp "$ROOT/packaging/icons/keyhygiene-$s.png" "$d/$APP_ID.png"
done
mkdir -p "$STAGE/share/icons/hicolor/scalable/apps"
cp "$ROOT/resources/icons/keyhygiene.svg" "$STAGE/share/icons/hicolor/scalable/apps/$APP_ID.svg"
cat > "$STAGE/install.sh" <<'INSTALL'
#!/bin/sh
# Installs KeyHygiene for the current user into ~/.local (no root needed).
set -e
HERE="$(cd "$(dirname "$0")" && pwd)"
PREFIX="${PREFIX:-$HOME/.local}"
mkdir -p "$PREFIX/lib" "$PREFIX/bin"
rm -rf "$PREFIX/lib/KeyHygiene"
cp -a "$HERE/app" "$PREFIX/lib/KeyHygiene"
ln -sf "$PREFIX/lib/KeyHygiene/keyhygiene" "$PREFIX/bin/keyhygiene"
cp -a "$HERE/share/." "$PREFIX/share/"
command -v update-desktop-database >/dev/null && update-desktop-database "$PREFIX/share/applications" || true
echo "KeyHygiene installed: run 'keyhygiene' or find it in your applications menu."
INSTALL
chmod +x "$STAGE/install.sh"
OUT="$ROOT/dist/KeyHygiene-$VERSION-linux-$(uname -m).tar.gz"
tar -C "$(dirname "$STAGE")" -czf "$OUT" "$(basename "$STAGE")"
echo "$OUT ($(du -h "$OUT" | cut -f1))"
