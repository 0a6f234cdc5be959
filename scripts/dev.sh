#!/usr/bin/env bash
# Command 1 of README.md: sets up everything, builds, applies local D1 migrations and serves
# twenty-edge at http://127.0.0.1:8787 on local state (.wrangler/state), with a demo
# workspace (demo@twenty-edge.dev / twenty-edge-demo) seeded through the public API.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export CLOUDFLARE_CF_FETCH_ENABLED=false   # no Internet round-trip for Request.cf
export WRANGLER_SEND_METRICS=false
export TWENTY_EDGE_PREBUILT=1               # built just above
PORT="${PORT:-8787}"
node_modules/.bin/wrangler d1 migrations apply DB --local
node_modules/.bin/wrangler dev --ip 127.0.0.1 --port "$PORT" "$@" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null' INT TERM EXIT
node scripts/seed-demo.mjs "http://127.0.0.1:$PORT" || echo "demo seed failed (the server keeps running)" >&2
wait "$server"
