#!/usr/bin/env bash
# One command for every benchmark: builds the sidecar, the handshake binary and the Go drivers (cached
# under .cache/), then runs bench/run.ts. Results: a table on stdout, bench/results/*.json and latest.md.
# Some sections only: BENCH_SECTIONS=verify bash bench/run.sh (weight verification, Ingress and Gateway mode, with
# Argo's algorithm; the sidecar and handshake builds are skipped unless rpc or footprint is asked for).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` from the lock, not `npm ci`: npm 11 writes only this platform's optional packages
  # (rollup's native builds) into the lock and `npm ci` then refuses it as out of sync.
  npm install --no-save --no-audit --no-fund --loglevel=error
fi
command -v moto_server >/dev/null 2>&1 || python3 -m pip install --quiet 'moto[server]==5.2.1'
sections="${BENCH_SECTIONS:-gob,verify,rpc,footprint}"
if [[ ",${sections// /}," == *,rpc,* || ",${sections// /}," == *,footprint,* ]]; then
  npm run --silent build
  bash scripts/build-go.sh
fi
mkdir -p .cache/bench-bin
(cd bench/go && CGO_ENABLED=0 go build -trimpath -o ../../.cache/bench-bin/ ./...)
npx tsc -p tsconfig.bench.json
node .cache/bench-js/bench/run.js
