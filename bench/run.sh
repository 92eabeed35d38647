#!/usr/bin/env bash
# One command for every benchmark: builds the sidecar, the handshake binary and the Go drivers (cached
# under .cache/), then runs bench/run.ts. Results: a table on stdout, bench/results/*.json and latest.md.
# Some sections only: BENCH_SECTIONS=verify bash bench/run.sh (weight verification, Ingress and Gateway mode, with
# Argo's algorithm; the sidecar and handshake builds are skipped unless rpc or footprint is asked for);
# BENCH_SECTIONS=scale (a cold round of 200 Rollouts on 10 shared ALBs and on 200 ALBs, every mode, with Argo's);
# BENCH_SECTIONS=analysis (CloudWatch calls per ALB-analysis measurement; needs no Go build at all).
# BENCH_FOOTPRINT_BASELINE=<git ref> (with footprint): also builds that revision's sidecar (.cache/footprint-baseline)
# and measures it first in the same run, with its own deploy/ NODE_OPTIONS, e.g. BENCH_FOOTPRINT_BASELINE=main.
set -euo pipefail
cd "$(dirname "$0")/.."
# The same Node as production (package.json engines), installed into the cache once.
# shellcheck source=scripts/node/env.sh
source scripts/node/env.sh
echo "node --version: $(node --version)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` from the lock, not `npm ci`: npm 11 writes only this platform's optional packages
  # (rollup's native builds) into the lock and `npm ci` then refuses it as out of sync.
  npm install --no-save --no-audit --no-fund --loglevel=error
fi
# moto 5.2.6 or later (CloudWatch over RPCv2 CBOR: the analysis section), as scripts/test-all.sh installs it.
if ! python3 -c 'import moto, sys; v = tuple(int(x) for x in moto.__version__.split(".")[:3]); sys.exit(0 if v >= (5, 2, 6) else 1)' 2>/dev/null; then
  python3 -m pip install --quiet 'moto[server]==5.2.6'
fi
sections="${BENCH_SECTIONS:-gob,verify,scale,rpc,footprint,analysis}"
has() { [[ ",${sections// /}," == *,$1,* ]]; }
if has rpc || has footprint; then
  npm run --silent build
  bash scripts/build-go.sh
fi
# The Go drivers (Argo's verification, gob, the RPC client): every section but analysis.
if has gob || has verify || has scale || has rpc || has footprint; then
  mkdir -p .cache/bench-bin
  (cd bench/go && CGO_ENABLED=0 go build -trimpath -o ../../.cache/bench-bin/ ./...)
fi
if has footprint && [ -n "${BENCH_FOOTPRINT_BASELINE:-}" ]; then
  base=.cache/footprint-baseline
  rm -rf "$base" && mkdir -p "$base"
  git archive "$BENCH_FOOTPRINT_BASELINE" | tar -x -C "$base"
  ln -s "$PWD/node_modules" "$base/node_modules"
  (cd "$base" && npx tsc -p tsconfig.build.json)
  export BENCH_FOOTPRINT_BASELINE_ROOT="$PWD/$base"
fi
npx tsc -p tsconfig.bench.json
node .cache/bench-js/bench/run.js
