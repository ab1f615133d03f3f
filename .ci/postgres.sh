#!/usr/bin/env bash
# Makes sure the machine's PostgreSQL answers on 127.0.0.1:5432 (trust auth,
# database `test`), starting the cluster if it is down, and drops the
# per-test schemas earlier runs left. Exits non-zero if it cannot.
set -euo pipefail

ready() { pg_isready -h 127.0.0.1 -p 5432 -q; }

if ! ready; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; trying to start it" >&2
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
if ! ready; then
  echo "FAIL: PostgreSQL is not reachable on 127.0.0.1:5432; the PostgreSQL suite cannot run" >&2
  exit 1
fi

# Per-test schemas are named t_<uuid>; remove the ones earlier runs left.
psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -q -t -A -c \
  "SELECT 'DROP SCHEMA IF EXISTS ' || quote_ident(nspname) || ' CASCADE;' FROM pg_namespace WHERE nspname LIKE 't\_%'" \
  | psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -q >/dev/null
echo "PostgreSQL is ready on 127.0.0.1:5432 (database test)" >&2
