#!/usr/bin/env bash
# Smoke-test the frozen bundle (dist/KeyHygiene) the way a user's machine would run it. Run inside a D-Bus session
# with an unlocked Secret Service (see .ci/run): the bundle must find that real keychain — a frozen app that lost
# keyring's backends falls back to the fail backend, and `doctor --require-keychain` then exits 3 and fails this.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:-$ROOT/dist/KeyHygiene/keyhygiene}"
[ -x "$BIN" ] || { echo "smoke: no bundle at $BIN" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "smoke: keychain backend"
"$BIN" doctor --require-keychain

echo "smoke: demo window, audit, exit"
QT_QPA_PLATFORM=offscreen "$BIN" --demo --smoke-test

echo "smoke: a key into the real keychain and out again"
KEY="smk$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SECRET="sms$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ID=$(KEYHYGIENE_API_KEY=$KEY KEYHYGIENE_API_SECRET=$SECRET "$BIN" --data-dir "$WORK/data" keys add \
        --exchange binance --label "smoke test" --json </dev/null | "${PYTHON:-python3}" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN" --data-dir "$WORK/data" keys list | grep -q "smoke test"
if grep -rq "$SECRET" "$WORK/data"; then echo "smoke: secret found in the data dir" >&2; exit 1; fi
"$BIN" --data-dir "$WORK/data" keys remove "$ID" >/dev/null
echo "smoke: bundle OK ($(du -sh "$(dirname "$BIN")" | cut -f1))"
