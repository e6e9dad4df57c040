#!/usr/bin/env bash
# Debian packages the proxy benchmark uses (`npm run bench`, src/bench/proxy/): haproxy in TCP
# mode is the reference relay. The bench installs it itself when missing; this script lets a
# machine be prepared ahead. CI does not run the bench. Idempotent and quiet; runs as root.
set -euo pipefail
if ! command -v haproxy >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq haproxy >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq haproxy >/dev/null; }
fi
