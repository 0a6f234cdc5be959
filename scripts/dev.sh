#!/usr/bin/env bash
# Command 1 of README.md: sets up everything, builds, applies local D1 migrations and serves
# twenty-edge at http://127.0.0.1:8787 on local state (.wrangler/state).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export CLOUDFLARE_CF_FETCH_ENABLED=false   # no Internet round-trip for Request.cf
export WRANGLER_SEND_METRICS=false
export TWENTY_EDGE_PREBUILT=1               # built just above
node_modules/.bin/wrangler d1 migrations apply DB --local
exec node_modules/.bin/wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" "$@"
