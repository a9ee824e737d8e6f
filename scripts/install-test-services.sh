#!/usr/bin/env bash
# Makes sure the servers the test suite starts are installed (npm's `pretest`):
# FerretDB unless MONGODB_URL points at a server, redis-server unless REDIS_URL
# does, and Chromium for the browser tests of the pages. The installers are
# idempotent and quick once done.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z ${MONGODB_URL:-} ]]; then bash "$here/install-ferretdb.sh"; fi
if [[ -z ${REDIS_URL:-} ]]; then bash "$here/install-redis.sh"; fi
bash "$here/install-chromium.sh"
