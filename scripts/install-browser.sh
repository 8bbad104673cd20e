#!/usr/bin/env bash
# Installs what the browser tests need: Debian's Chromium (Playwright never downloads its own
# here) and end2end's npm packages. Fails loudly when Chromium cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[browser] installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "error: Chromium is required by the browser tests and was not found at $CHROMIUM." >&2
  echo "       Install Debian's 'chromium' package or set CHROMIUM_PATH." >&2
  exit 1
fi

if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  echo "[browser] installing end2end npm packages"
  (cd end2end && npm ci --silent --no-audit --no-fund)
fi
