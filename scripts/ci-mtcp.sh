#!/usr/bin/env bash
# M-TCP tests (issue 5): Redis on 127.0.0.1:6379 for eager transfer across machines, and a
# PostgreSQL database tsmp_mtcp (on the cluster scripts/ci-names.sh sets up) for the bank demo.
# Idempotent and quiet. The tests find these by default; override with TSMP_MTCP_REDIS_URL and
# TSMP_MTCP_PG_URL. Tests skip with one line when a server is not reachable.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq redis-server >/dev/null
fi
# Loopback only, no persistence: the tests' data is throw-away.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes >/dev/null
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# PostgreSQL: the cluster, role tsmp and its password come from ci-names.sh; we add a database.
bash scripts/ci-names.sh >/dev/null
if [ "$(su postgres -c "psql -qAtX -c \"select 1 from pg_database where datname='tsmp_mtcp'\"")" != "1" ]; then
  su postgres -c "psql -qAtX -v ON_ERROR_STOP=1 -c 'create database tsmp_mtcp owner tsmp'"
fi
echo "ci-mtcp: Redis at redis://127.0.0.1:6379, PostgreSQL at postgres://tsmp:tsmp@127.0.0.1:5432/tsmp_mtcp"
