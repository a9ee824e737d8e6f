#!/usr/bin/env bash
# Installs headless Chromium (the browser the page tests drive through
# puppeteer-core) from Debian's packages when it is missing. Nothing is
# downloaded outside apt: puppeteer-core never fetches a browser. Idempotent.
set -euo pipefail

CHROMIUM=${CHROMIUM_BIN:-/usr/bin/chromium}
if [[ -x $CHROMIUM ]]; then
  echo "chromium already installed at $CHROMIUM"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: expected apt-get to install chromium; install Chromium or Chrome yourself and set CHROMIUM_BIN to its path" >&2
  exit 1
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
# Two installers may run side by side (.ci/run): wait for apt's lock instead of failing on it.
apt_get=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600)
"${apt_get[@]}" update
"${apt_get[@]}" install -y --no-install-recommends chromium fonts-liberation
chromium --version
