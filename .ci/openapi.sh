#!/usr/bin/env bash
# The OpenAPI document against the running server:
# - openapi-spec-validator checks /api/openapi.json is valid OpenAPI;
# - schemathesis sends generated valid and invalid requests to every
#   operation, as the admin, with every check on: it fails on any 5xx, any
#   status, content type or body the document does not describe, a valid
#   request refused or an invalid one accepted (the few rules a schema
#   cannot state are listed in .ci/schemathesis.toml).
# Bounded: a fixed seed and a few examples per operation (about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/folio-ci-target}"
venv="$CARGO_TARGET_DIR/ci-openapi-venv"
# A venv that no longer runs (the cache directory was copied or moved, the
# scripts' first lines still name the old place; or Python changed) is made
# again from scratch.
if [ -d "$venv" ] && ! "$venv/bin/pip" --version >/dev/null 2>&1; then
  rm -rf "$venv"
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "openapi-spec-validator==0.9.0" "schemathesis==4.32.5"

cargo build -p folio
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
admin_token="folio-ci-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"

FOLIO_ADMIN_TOKEN="$admin_token" "$CARGO_TARGET_DIR/debug/folio" \
  --data-dir "$work/data" --log warn serve --listen "127.0.0.1:$port" \
  >"$work/server.log" 2>&1 &
server_pid=$!
cleanup() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  if curl -fsS "$base/api/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/server.log" >&2
    echo "folio serve exited before answering" >&2
    exit 1
  fi
  sleep 0.2
done
curl -fsS "$base/api/openapi.json" -o "$work/openapi.json"

echo "+ openapi-spec-validator"
"$venv/bin/openapi-spec-validator" "$work/openapi.json"

echo "+ schemathesis"
# GET /api/progress/{id}/events is left out: it is a long poll that holds
# each request open up to 30 s waiting for the run to appear, and
# generated ids never do. Nothing is excluded to protect the run: no
# operation can remove the admin or its token.
status=0
timeout 600 "$venv/bin/schemathesis" --config-file .ci/schemathesis.toml --no-color run \
  "$work/openapi.json" --url "$base" \
  -H "Authorization: Bearer $admin_token" \
  --checks all --max-examples 25 --seed "${FOLIO_SCHEMATHESIS_SEED:-23}" --workers 2 \
  --request-timeout 15 --output-truncate false \
  --exclude-path '/api/progress/{id}/events' || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log" >&2
  tail -n 50 "$work/server.log" >&2
  exit "$status"
fi
