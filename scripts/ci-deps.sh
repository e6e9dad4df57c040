#!/usr/bin/env bash
# Debian packages the test suite uses. Idempotent; every part adds its own here.
set -euo pipefail
need=()
command -v curl >/dev/null || need+=(curl)
command -v ss >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
