#!/usr/bin/env bash
# Sign, notarise and staple dist/KeyHygiene.app (run on macOS after `pyinstaller packaging/keyhygiene.spec`).
# Needs: a "Developer ID Application" certificate in the login keychain, and a notarytool keychain profile:
#   xcrun notarytool store-credentials keyhygiene-notary --apple-id YOU --team-id TEAM --password APP_PASSWORD
# Usage: SIGN_ID="Developer ID Application: Name (TEAM)" packaging/macos/sign_and_notarize.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
APP="$ROOT/dist/KeyHygiene.app"
ENT="$ROOT/packaging/macos/entitlements.plist"
: "${SIGN_ID:?set SIGN_ID to your Developer ID Application identity}"
PROFILE="${NOTARY_PROFILE:-keyhygiene-notary}"
# Sign inner binaries first (deep signing is deprecated), then the app with the hardened runtime.
find "$APP/Contents" -type f \( -name "*.so" -o -name "*.dylib" -o -perm -111 \) -print0 |
    xargs -0 -I{} codesign --force --timestamp --options runtime --entitlements "$ENT" --sign "$SIGN_ID" {}
codesign --force --timestamp --options runtime --entitlements "$ENT" --sign "$SIGN_ID" "$APP"
codesign --verify --strict --verbose=2 "$APP"
ZIP="$ROOT/dist/KeyHygiene.zip"
ditto -c -k --keepParent "$APP" "$ZIP"
xcrun notarytool submit "$ZIP" --keychain-profile "$PROFILE" --wait
xcrun stapler staple "$APP"
spctl --assess --type execute --verbose "$APP"
echo "signed and notarised: $APP"
