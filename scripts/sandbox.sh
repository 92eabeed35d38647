#!/usr/bin/env bash
# The local sandbox: the plugin under the real Argo Rollouts controller, the real AWS Load Balancer Controller
# and moto, all on 127.0.0.1, with a demo canary shown step by step. Needs no cluster and no AWS account.
#
#   bash scripts/sandbox.sh                  # build what is missing (first run: about 30 min), start, Ctrl-C stops
#   bash scripts/sandbox.sh promote|abort|retry|image <tag>   # from another terminal, while it runs
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f scripts/node/env.sh ]; then
  # shellcheck source=/dev/null
  source scripts/node/env.sh >/dev/null
fi

case "${1:-}" in
  promote|abort|retry|image)
    exec node .cache/sandbox-js/sandbox/ctl.js "$@" ;;
esac

step() { printf '==> %s\n' "$*"; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm packages"
  npm install --no-save --no-audit --no-fund --loglevel=error
fi
stamp=.cache/sandbox-js/.built
if [ ! -f "$stamp" ] || [ -n "$(find src sandbox test/e2e/support test/support package-lock.json -newer "$stamp" -name '*.ts' -print -quit 2>/dev/null)" ]; then
  step "building the sidecar and the sandbox"
  npm run --silent build
  npx tsc -p tsconfig.sandbox.json
  mkdir -p .cache/sandbox-js && touch "$stamp"
fi
[ -x bin/handshake ] || { step "building the handshake binary"; bash scripts/build-go.sh; }
step "kube-apiserver and etcd (built once from the Go module proxy, then cached)"
bash scripts/kube/build.sh >/dev/null
step "Argo Rollouts controller, AWS Load Balancer Controller, kwok, kube-controller-manager (built once, then cached)"
bash scripts/e2e/build.sh >/dev/null
exec node .cache/sandbox-js/sandbox/main.js "$@"
