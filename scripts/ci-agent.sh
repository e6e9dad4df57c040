#!/usr/bin/env bash
# Debian packages the agent's tests use (issue 4): Chromium for the dashboard test (driven by
# playwright-core with executablePath /usr/bin/chromium), iproute2 for the LAN rendezvous test in
# network namespaces. Idempotent and quiet; CI runs it as root on a fresh clone.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v ip >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-dejavu-core >/dev/null
fi
