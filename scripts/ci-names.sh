#!/usr/bin/env bash
# Name server tests (issue 3): a PostgreSQL cluster on loopback with the role and database the
# tests use by default: postgres://tsmp:tsmp@127.0.0.1:5432/tsmp_test. Idempotent and quiet.
# CI runs as root on a fresh machine; nothing is exported, the tests find this URL by default
# (override with TSMP_TEST_PG_URL).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
command -v pg_ctlcluster >/dev/null && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v openssl >/dev/null || need+=(openssl)   # the TLS test makes a throw-away certificate
command -v curl >/dev/null || need+=(curl)         # the proxy-authentication test drives curl
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  pg_createcluster "$version" main -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
fi
# Loopback only: the tests never reach beyond this machine.
conf="/etc/postgresql/$version/main/conf.d/tsmp.conf"
if [ ! -f "$conf" ]; then
  printf "listen_addresses = '127.0.0.1'\nmax_connections = 200\n" >"$conf"
  if pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
    pg_ctlcluster "$version" main restart
  fi
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$version" main start
fi

psql_admin() { su postgres -c "psql -qAtX -v ON_ERROR_STOP=1 $*"; }
for _ in $(seq 1 50); do psql_admin "-c 'select 1'" >/dev/null 2>&1 && break; sleep 0.2; done
if [ "$(psql_admin "-c \"select 1 from pg_roles where rolname='tsmp'\"")" != "1" ]; then
  psql_admin "-c \"create role tsmp login password 'tsmp'\""
fi
if [ "$(psql_admin "-c \"select 1 from pg_database where datname='tsmp_test'\"")" != "1" ]; then
  psql_admin "-c 'create database tsmp_test owner tsmp'"
fi
echo "ci-names: PostgreSQL ready at postgres://tsmp:tsmp@127.0.0.1:5432/tsmp_test"
