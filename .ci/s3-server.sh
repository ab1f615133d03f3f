#!/usr/bin/env bash
# Starts a real S3-compatible server (moto in server mode, from PyPI) on
# 127.0.0.1, creates a test bucket, and prints on stdout the variables the S3
# test suite reads, for `eval "$(bash .ci/s3-server.sh)"`:
#
#   export FOLIO_TEST_S3_URL='s3://folio-test/ci?endpoint=http://127.0.0.1:PORT&region=us-east-1'
#   export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
#   export FOLIO_S3_SERVER_PID=... FOLIO_S3_SERVER_LOG=...
#
# Everything else goes to stderr. Exits non-zero, loudly, if the server does
# not answer within 30 s. Environment: FOLIO_S3_PORT (default: a free port),
# FOLIO_S3_BUCKET (default folio-test). Stop the server with
# `kill "$FOLIO_S3_SERVER_PID"`. moto keeps everything in memory.
set -euo pipefail

MOTO_SPEC='moto[server]>=5.2,<5.3'
HOST=127.0.0.1
BUCKET="${FOLIO_S3_BUCKET:-folio-test}"
REGION=us-east-1
WAIT_SECONDS=30

log() { echo "s3-server: $*" >&2; }
fail() { echo "s3-server: FAIL: $*" >&2; exit 1; }

command -v python3 >/dev/null || fail "python3 is required to run moto"
command -v curl >/dev/null || fail "curl is required to probe the server"

install_moto() {
  if python3 -c 'import moto.server, flask, werkzeug' 2>/dev/null; then
    return
  fi
  log "installing $MOTO_SPEC from PyPI"
  python3 -m pip install --quiet "$MOTO_SPEC" >&2 \
    || python3 -m pip install --quiet --user --break-system-packages "$MOTO_SPEC" >&2 \
    || fail "could not install $MOTO_SPEC with pip"
  python3 -c 'import moto.server' 2>/dev/null || fail "moto is installed but cannot be imported"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

answers() { curl -s -o /dev/null --max-time 2 "http://$HOST:$PORT/"; }

install_moto
PORT="${FOLIO_S3_PORT:-$(free_port)}"
LOG="$(mktemp -t folio-moto.XXXXXX.log)"

if answers; then
  fail "something already answers on http://$HOST:$PORT; set FOLIO_S3_PORT to a free port"
fi

log "starting moto on http://$HOST:$PORT (log: $LOG)"
# setsid + nohup: the server outlives this script and the shell that evals it.
setsid nohup python3 -m moto.server -H "$HOST" -p "$PORT" >"$LOG" 2>&1 </dev/null &
PID=$!

running() { kill -0 "$PID" 2>/dev/null && ! grep -q '^State:.*zombie' "/proc/$PID/status" 2>/dev/null; }

for _ in $(seq 1 $((WAIT_SECONDS * 4))); do
  running || { tail -n 30 "$LOG" >&2; fail "moto exited during start-up (log above)"; }
  answers && break
  sleep 0.25
done
if ! answers || ! running; then
  tail -n 30 "$LOG" >&2
  kill "$PID" 2>/dev/null || true
  fail "moto did not answer on http://$HOST:$PORT within ${WAIT_SECONDS}s (log above)"
fi

# moto accepts unsigned requests: a plain PUT creates the bucket.
curl -sf -X PUT -o /dev/null "http://$HOST:$PORT/$BUCKET" \
  || { kill "$PID" 2>/dev/null || true; fail "could not create bucket $BUCKET"; }
log "moto is ready on http://$HOST:$PORT with bucket $BUCKET (pid $PID)"

cat <<VARS
export FOLIO_TEST_S3_URL='s3://$BUCKET/ci?endpoint=http://$HOST:$PORT&region=$REGION'
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=$REGION
export FOLIO_S3_SERVER_PID=$PID
export FOLIO_S3_SERVER_LOG='$LOG'
VARS
