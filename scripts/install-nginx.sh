#!/usr/bin/env bash
# Installs what the several-nodes test needs: Debian's nginx (the reverse proxy of the README's
# "Running several nodes"). Fails loudly when it cannot be had.
set -euo pipefail
NGINX=${NGINX_PATH:-/usr/sbin/nginx}
if [ ! -x "$NGINX" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[nginx] installing Debian's nginx"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  fi
fi
if [ ! -x "$NGINX" ]; then
  echo "error: nginx is required by the several-nodes test and was not found at $NGINX." >&2
  echo "       Install Debian's 'nginx' package or set NGINX_PATH." >&2
  exit 1
fi
