#!/usr/bin/env bash
# Debian packages the proxy front's tests use (test/proxy/front-*.test.ts): curl drives real
# SOCKS5 and HTTP CONNECT clients through the front. Idempotent and quiet; CI runs it as root.
set -euo pipefail
if ! command -v curl >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
fi
