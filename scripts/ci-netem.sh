#!/usr/bin/env bash
# What the emulated-network tests and `npm run bench:paper` need from Debian: ip/tc/ss
# (iproute2), sysctl (procps), prlimit (util-linux), and a /dev/net/tun node. Idempotent, quiet.
set -euo pipefail
need=()
command -v ip >/dev/null || need+=(iproute2)
command -v tc >/dev/null || need+=(iproute2)
command -v ss >/dev/null || need+=(iproute2)
command -v sysctl >/dev/null || need+=(procps)
command -v prlimit >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null
fi
# Containers often lack the TUN node although the kernel has the driver; the tests skip without it.
if [ ! -e /dev/net/tun ] && [ "$(id -u)" = 0 ]; then
  mkdir -p /dev/net
  mknod /dev/net/tun c 10 200 2>/dev/null || true
  chmod 0666 /dev/net/tun 2>/dev/null || true
fi
