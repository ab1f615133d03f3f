#!/usr/bin/env bash
# Fidelity suite: drives cloudsim over HTTPS with the providers' official
# Python SDKs (unmodified, pinned in requirements.txt).
#
#   bash crates/cloudsim/conformance/run.sh [pytest args...]
#
# Creates (or reuses) a venv under $CLOUDSIM_CONFORMANCE_VENV (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/folio/cloudsim-conformance-venv), builds
# and starts `cloudsim serve --port 0 --tls-generate DIR`, runs the tests,
# and ends with one line `N passed, M failed`. Exits non-zero on any
# failure or when cloudsim does not start.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
python="${PYTHON:-python3}"
venv="${CLOUDSIM_CONFORMANCE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/folio/cloudsim-conformance-venv}"
work="$(mktemp -d "${TMPDIR:-/tmp}/cloudsim-conformance.XXXXXX")"
sim_pid=""

cleanup() {
    if [[ -n "$sim_pid" ]] && kill -0 "$sim_pid" 2>/dev/null; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

fail_summary() {
    echo "cloudsim conformance: $1" >&2
    echo "0 passed, 1 failed"
    exit 1
}

# 1. The venv, rebuilt when requirements.txt changes.
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "== creating venv $venv" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" \
        || fail_summary "pip install failed"
    echo "$want" >"$stamp"
fi

# 2. Build and start cloudsim with a generated CA.
echo "== building cloudsim" >&2
(cd "$repo" && cargo build --quiet -p cloudsim --release) || fail_summary "cargo build failed"
target="${CARGO_TARGET_DIR:-$repo/target}"
[[ "$target" = /* ]] || target="$repo/$target"
bin="$target/release/cloudsim"
[[ -x "$bin" ]] || fail_summary "no binary at $bin"

log="$work/cloudsim.log"
"$bin" serve --port 0 --tls-generate "$work/tls" >"$log" 2>&1 &
sim_pid=$!
url=""
for _ in $(seq 1 300); do
    url="$(sed -n 's/.*listening on \(https\?:\/\/[^ ]*\).*/\1/p' "$log" | head -n1)"
    [[ -n "$url" ]] && break
    kill -0 "$sim_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z "$url" ]]; then
    cat "$log" >&2
    fail_summary "cloudsim did not start"
fi
ca="$(ls "$work"/tls/*ca*.pem 2>/dev/null | head -n1 || true)"
[[ -n "$ca" ]] || fail_summary "no CA file in $work/tls"
# Certificates name localhost; use it rather than the IP.
url="${url/127.0.0.1/localhost}"
echo "== cloudsim at $url (CA $ca)" >&2

# 3. Run the SDK tests.
junit="$work/junit.xml"
set +e
# requests and httplib2 let these variables override a CA passed in code;
# the SDKs get cloudsim's CA explicitly instead.
env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE -u HTTPLIB2_CA_CERTS \
    CLOUDSIM_URL="$url" CLOUDSIM_CA="$ca" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    --junitxml="$junit" "$here" "$@"
status=$?
set -e

if [[ ! -s "$junit" ]]; then
    tail -n 50 "$log" >&2
    fail_summary "pytest produced no report (exit $status)"
fi
"$venv/bin/python" - "$junit" <<'EOF'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
total = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
line = f"{total - failed - skipped} passed, {failed} failed"
print(line + (f", {skipped} skipped" if skipped else ""))
EOF
if [[ $status -ne 0 ]]; then
    echo "== last cloudsim log lines" >&2
    tail -n 20 "$log" >&2
fi
exit $status
