#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, builds the sidecar and the Go
# binaries, then runs the TypeScript suites (vitest) and the Go conformance suites (go test).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

step() { printf '\n==> %s\n' "$*"; }

step "Node (the release package.json engines names, installed once into the cache from the npm registry)"
# shellcheck source=scripts/node/env.sh
source scripts/node/env.sh
echo "node --version: $(node --version)"

step "node dependencies"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` from the lock, not `npm ci`: npm 11 writes only this platform's optional packages
  # (rollup's native builds) into the lock and `npm ci` then refuses it as out of sync.
  npm install --no-save --no-audit --no-fund --loglevel=error
fi

step "moto_server (ELBv2 and CloudWatch emulator used by the verifier and analysis tests)"
# 5.2.6 at least: older releases answer the CloudWatch clients' RPCv2 CBOR protocol (the JS SDK's and
# Argo's Go client's GetMetricData/PutMetricData) with 404. A newer moto is kept as it is.
moto_wanted=5.2.6
moto_version() {
  python3 -c 'import moto; print(moto.__version__)' 2>/dev/null || true
}
moto_older_than_wanted() {
  # Compares the numeric parts only ("5.2.6.dev3" counts as 5.2.6); no version at all counts as older.
  python3 - "$1" "$moto_wanted" <<'PY'
import re, sys
num = lambda v: tuple(int(re.match(r"\d*", p).group() or 0) for p in v.split(".")[:3])
sys.exit(0 if not sys.argv[1] or num(sys.argv[1]) < num(sys.argv[2]) else 1)
PY
}
have=$(moto_version)
if ! command -v moto_server >/dev/null 2>&1 || moto_older_than_wanted "$have"; then
  echo "moto ${have:-not installed}: installing moto[server]==$moto_wanted"
  python3 -m pip install --quiet "moto[server]==$moto_wanted"
fi
echo "moto $(moto_version)"

# The kube-apiserver tests make a throw-away PKI with openssl (in the machine image; install it if not).
if ! command -v openssl >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq openssl
fi

step "build the sidecar and type-check everything (src, test, bench)"
npm run --silent build
npm run --silent typecheck

step "build the Go binaries"
bash scripts/build-go.sh

step "kube-apiserver and etcd for the Kubernetes integration tests (built once from the Go module proxy, then cached)"
bash scripts/kube/build.sh

step "end-to-end peers: Argo Rollouts controller, AWS Load Balancer Controller, kwok, kube-controller-manager (built once, then cached)"
bash scripts/e2e/build.sh

step "TypeScript tests"
npx vitest run

if [ -d test/conformance ]; then
  step "Go conformance tests (Argo's own RPC client against the sidecar)"
  (cd test/conformance && go test -count=1 ./...)
fi

step "end-to-end suite (the real Argo Rollouts controller, the real LBC, moto; one stack per file)"
npx vitest run -c vitest.e2e.config.ts
