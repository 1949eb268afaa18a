#!/usr/bin/env bash
# Install KeyHygiene the way Python users do, from a fresh clone: `python -m build` (sdist, then the wheel built
# from that sdist), the wheel into a clean venv, and the same wheel through pipx; each install must run
# `keyhygiene --help`, `keyhygiene --demo --smoke-test` and `keyhygiene report` in all four formats with every
# resource the repository ships found inside the installed package (issue 19).
# Run it inside a keychain session, as .ci/run does: the report is of a key stored in the real Secret Service.
# PYTHON picks the interpreter (3.11 or newer; default python3). Needs the network or a pip cache for the
# dependencies.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Nothing of the checkout may leak into the installed app's imports.
unset PYTHONPATH KEYHYGIENE_DATA_DIR KEYHYGIENE_ENDPOINTS
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" PIP_DISABLE_PIP_VERSION_CHECK=1

say() { echo "wheel-check: $*"; }
fail() { echo "wheel-check: FAILED: $*" >&2; exit 1; }

# A fresh clone builds what git has: a file left out of git (or out of the sdist) fails here, not on a user's
# machine. Outside git (an unpacked sdist) the tree itself is built.
SRC="$ROOT"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    SRC="$WORK/src"
    git clone --quiet --no-hardlinks "$ROOT" "$SRC"
    say "building $(git -C "$SRC" rev-parse --short HEAD) from a fresh clone"
fi
"$PY" -m venv "$WORK/tools"
"$WORK/tools/bin/python" -m pip install -q build pipx
"$WORK/tools/bin/python" -m build --outdir "$WORK/dist" "$SRC" >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log" >&2; fail "python -m build"; }
WHEEL="$(echo "$WORK"/dist/keyhygiene-*.whl)"
SDIST="$(echo "$WORK"/dist/keyhygiene-*.tar.gz)"
[ -f "$WHEEL" ] && [ -f "$SDIST" ] || fail "python -m build made no wheel and sdist: $(ls "$WORK/dist")"
say "built $(basename "$SDIST") and $(basename "$WHEEL")"

# $1: a name for the install, $2: its keyhygiene command, $3: its python.
check_install() {
    local name="$1" app="$2" python="$3" data="$WORK/data-$1" out="$WORK/reports-$1"
    mkdir -p "$out"
    cd "$WORK"  # not the checkout: its keyhygiene/ must not be importable from the working directory
    "$app" --help | grep -q "usage: keyhygiene" || fail "$name: keyhygiene --help"
    # Every file of resources/ must be in the installed package, unchanged.
    local installed
    installed="$("$python" -c 'from keyhygiene.paths import resources_dir; print(resources_dir())')"
    case "$installed" in
        "$SRC"/*|"$ROOT"/*) fail "$name: resources read from the checkout ($installed), not the package" ;;
    esac
    diff -r "$SRC/resources" "$installed" >/dev/null || fail "$name: $installed differs from resources/"
    say "$name: --help ok; $(find "$installed" -type f | wc -l) resource files in $installed"

    "$app" --demo --smoke-test || fail "$name: keyhygiene --demo --smoke-test"

    local key secret id
    key="whl$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    secret="whs$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    id="$(KEYHYGIENE_API_KEY=$key KEYHYGIENE_API_SECRET=$secret "$app" --data-dir "$data" keys add \
            --exchange binance --label "wheel check" --shared-with 3commas@2022-05-01 --json </dev/null \
          | "$python" -c 'import json, sys; print(json.load(sys.stdin)["id"])')" || fail "$name: keys add"
    local fmt
    for fmt in html pdf json csv; do
        "$app" --data-dir "$data" report --format "$fmt" -o "$out/report.$fmt" >/dev/null \
            || fail "$name: report --format $fmt"
    done
    head -c 5 "$out/report.pdf" | grep -q "%PDF-" || fail "$name: the PDF report is not a PDF"
    grep -q "wheel check" "$out/report.html" || fail "$name: the HTML report lacks the key"
    grep -q "wheel check" "$out/report.csv" || fail "$name: the CSV report lacks the key"
    "$python" - "$out/report.json" <<'EOF' || fail "$name: the JSON report does not validate against its schema"
import json, sys
import jsonschema
from keyhygiene.paths import resource
report = json.load(open(sys.argv[1], encoding="utf-8"))
jsonschema.validate(report, json.loads(resource("report.schema.json").read_text(encoding="utf-8")))
assert [k["label"] for k in report["keys"]] == ["wheel check"], report["keys"]
# The sharing with 3commas meets the registry's December 2022 leak: services.json was read from the package.
assert report["keys"][0]["exposures"], report["keys"][0]
EOF
    if grep -rq "$secret" "$data" "$out"; then fail "$name: the secret was written to the data dir or a report"; fi
    "$app" --data-dir "$data" keys remove "$id" >/dev/null || fail "$name: keys remove"
    say "$name: report in html, pdf, json and csv ok"
    cd - >/dev/null
}

"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q "$WHEEL"
check_install pip "$WORK/venv/bin/keyhygiene" "$WORK/venv/bin/python"

export PIPX_HOME="$WORK/pipx" PIPX_BIN_DIR="$WORK/pipx-bin" PIPX_MAN_DIR="$WORK/pipx-man"
"$WORK/tools/bin/pipx" install --quiet "$WHEEL" >/dev/null
check_install pipx "$PIPX_BIN_DIR/keyhygiene" "$PIPX_HOME/venvs/keyhygiene/bin/python"

say "OK: sdist and wheel build; pip and pipx installs pass"
