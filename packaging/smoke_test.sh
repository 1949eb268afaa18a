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

echo "smoke: the report in all four formats (templates, schema and registry inside the bundle)"
for fmt in html pdf json csv; do
    "$BIN" --data-dir "$WORK/data" report --format "$fmt" -o "$WORK/report.$fmt" >/dev/null
    grep -q "smoke test" "$WORK/report.$fmt" || [ "$fmt" = pdf ] || { echo "smoke: $fmt report lacks the key" >&2; exit 1; }
done
head -c 5 "$WORK/report.pdf" | grep -q "%PDF-" || { echo "smoke: the PDF report is not a PDF" >&2; exit 1; }
if grep -rq "$SECRET" "$WORK/data" "$WORK"/report.*; then echo "smoke: secret found in the data dir" >&2; exit 1; fi
"$BIN" --data-dir "$WORK/data" keys remove "$ID" >/dev/null

# Issue 19: at most 150 MiB unpacked, counted as du -sb does (each file once, links not followed).
BYTES=$(du -sb "$(dirname "$BIN")" | cut -f1)
LIMIT=$((150 * 1024 * 1024))
if [ "$BYTES" -gt "$LIMIT" ]; then
    echo "smoke: the bundle is $BYTES bytes, over 150 MiB ($LIMIT)" >&2
    exit 1
fi
echo "smoke: bundle OK ($BYTES bytes, $((BYTES / 1024 / 1024)) MiB)"
