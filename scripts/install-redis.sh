#!/usr/bin/env bash
# Installs redis-server (the pubsub the tests run against) from Debian's
# packages when it is missing. Idempotent.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ -n ${REDIS_SERVER_BIN:-} && -x ${REDIS_SERVER_BIN} ]] \
  || [[ -x $ROOT/.test-services/bin/redis-server ]] \
  || command -v redis-server >/dev/null 2>&1; then
  echo "redis-server already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-redis: expected apt-get to install redis-server; install Redis 6+ yourself and put redis-server on PATH" >&2
  exit 1
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends redis-server
redis-server --version
