#!/usr/bin/env bash
# System packages the suite needs (Debian): Chromium for browser tests, Node for the OIDC provider.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v wrk >/dev/null 2>&1 || need+=(wrk)  # the read-path bench's load generator
command -v nginx >/dev/null 2>&1 || need+=(nginx)  # the reverse proxy of the production sample (deploy/)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  fi
  if [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; then
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing system packages: ${need[*]} (install them with apt-get)" >&2
  fi
fi
# The browser tests launch this very binary (never a browser downloaded by Playwright).
if [ ! -x /usr/bin/chromium ]; then
  echo "chromium is not at /usr/bin/chromium: the browser tests will fail in CI" >&2
fi
