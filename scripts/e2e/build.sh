#!/usr/bin/env bash
# Builds the real peers of the end-to-end suite from the Go module proxy and caches them, so that only the
# first run pays: the Argo Rollouts controller, the AWS Load Balancer Controller, kwok (the fake kubelet)
# and kube-controller-manager. kube-apiserver and etcd come from scripts/kube/build.sh. Also copies the
# manifests the suite installs out of the same module zips (Argo's install.yaml, the LBC's CRDs, the Gateway
# API CRDs, kwok's stage definitions), so a test never fetches anything.
#
#   bash scripts/e2e/build.sh          # build what is missing, then print the cache directory
#   bash scripts/e2e/build.sh --print  # print the cache directory only (no build)
#
# Builds run one after another at low priority: each needs 1-3 GiB and the two cores are shared.
set -euo pipefail
cd "$(dirname "$0")/../.."

ARGO_VERSION="${E2E_ARGO_ROLLOUTS_VERSION:-v1.10.1}"
LBC_VERSION="${E2E_LBC_VERSION:-v3.6.2}"
KWOK_VERSION="${E2E_KWOK_VERSION:-v0.8.0}"
K8S_VERSION="${KUBE_TEST_K8S_VERSION:-v1.34.4}"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/rollouts-plugin-alb"
out="$cache_root/e2e-argo-${ARGO_VERSION}-lbc-${LBC_VERSION}-kwok-${KWOK_VERSION}-k8s-${K8S_VERSION}"

if [ "${1:-}" = "--print" ]; then
  echo "$out"
  exit 0
fi

want=(rollouts-controller aws-load-balancer-controller kwok kube-controller-manager
  manifests/argo-install.yaml manifests/lbc-crds.yaml manifests/kwok-stages.yaml
  manifests/gateway-api-crds.yaml manifests/lbc-gateway-crds.yaml)
missing=0
for f in "${want[@]}"; do [ -e "$out/$f" ] || missing=1; done
if [ "$missing" = 0 ]; then
  echo "$out"
  exit 0
fi

export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
mkdir -p "$out/manifests" "$out/logs"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() {
  echo "scripts/e2e/build.sh: $1 failed; last lines of its log ($2):" >&2
  tail -n 40 "$2" >&2
  exit 1
}

# Runs a step at low priority, keeps its log, and prints its wall time and peak memory.
timed() {
  local name=$1 log="$out/logs/$1.log"
  shift
  local start=$SECONDS
  if [ -x /usr/bin/time ]; then
    nice -n 10 /usr/bin/time -v -o "$out/logs/$name.time" "$@" >"$log" 2>&1 || fail "$name" "$log"
    awk -F': ' '/Elapsed \(wall clock\)/ {w=$2} /Maximum resident set size/ {m=$2}
      END {printf "  %s: wall %s, peak RSS %.0f MiB\n", n, w, m/1024}' n="$name" "$out/logs/$name.time" >&2
  else
    nice -n 10 "$@" >"$log" 2>&1 || fail "$name" "$log"
    echo "  $name: $((SECONDS - start)) s" >&2
  fi
}

# Directory of a module in the module cache (downloads it through the proxy if needed).
moddir() {
  local dir
  dir="$(go mod download -json "$1" 2>"$work/download.log" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')" || true
  [ -n "$dir" ] && [ -d "$dir" ] || fail "go mod download $1" "$work/download.log"
  echo "$dir"
}
gomodfile() {
  local f
  f="$(go mod download -json "$1" 2>"$work/download.log" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')" || true
  [ -n "$f" ] && [ -f "$f" ] || fail "go mod download $1" "$work/download.log"
  echo "$f"
}

# Argo's go.mod has replace directives (and k8s.io/kubelet v0.0.0), so `go install pkg@v` refuses it. A
# wrapper module made of its own go.mod and go.sum, under another module path, requires it instead.
build_argo() {
  [ -x "$out/rollouts-controller" ] && return 0
  echo "building the Argo Rollouts controller $ARGO_VERSION (about 6 min cold on 2 cores)..." >&2
  local dir mod="$work/argo"
  dir="$(moddir "github.com/argoproj/argo-rollouts@$ARGO_VERSION")"
  mkdir -p "$mod"
  sed 's#^module .*#module e2epeers/argo#' "$dir/go.mod" >"$mod/go.mod"
  printf '\nrequire github.com/argoproj/argo-rollouts %s\n' "$ARGO_VERSION" >>"$mod/go.mod"
  cp "$dir/go.sum" "$mod/go.sum"
  chmod u+w "$mod/go.mod" "$mod/go.sum"
  (
    cd "$mod"
    timed argo-get go get "github.com/argoproj/argo-rollouts/cmd/rollouts-controller@$ARGO_VERSION"
    timed argo go build -trimpath -ldflags "-s -w -X github.com/argoproj/argo-rollouts/utils/version.version=${ARGO_VERSION#v}" \
      -o "$out/rollouts-controller.tmp" github.com/argoproj/argo-rollouts/cmd/rollouts-controller
  )
  mv "$out/rollouts-controller.tmp" "$out/rollouts-controller"
}

argo_manifests() {
  [ -f "$out/manifests/argo-install.yaml" ] && return 0
  local dir
  dir="$(moddir "github.com/argoproj/argo-rollouts@$ARGO_VERSION")"
  install -m 0644 "$dir/manifests/install.yaml" "$out/manifests/argo-install.yaml"
}

build_plain() { # name module package expected
  local name=$1 module=$2 pkg=$3 expected=$4
  [ -x "$out/$name" ] && return 0
  echo "building $name ($module, about $expected cold on 2 cores)..." >&2
  local mod="$work/$name"
  mkdir -p "$mod"
  (
    cd "$mod"
    go mod init "e2epeers/$name" >/dev/null 2>&1
    timed "$name-get" go get "$pkg@${module#*@}"
    timed "$name" go build -trimpath -ldflags '-s -w' -o "$out/$name.tmp" "$pkg"
  )
  mv "$out/$name.tmp" "$out/$name"
}

lbc_manifests() {
  [ -f "$out/manifests/lbc-crds.yaml" ] && return 0
  local dir
  dir="$(moddir "sigs.k8s.io/aws-load-balancer-controller/v3@$LBC_VERSION")"
  install -m 0644 "$dir/helm/aws-load-balancer-controller/crds/crds.yaml" "$out/manifests/lbc-crds.yaml"
}

# The CRDs the LBC's ALBGatewayAPI feature needs (without every one of them it turns the gate off at start,
# pkg/gateway/crddetect): the Gateway API standard channel of sigs.k8s.io/gateway-api at the version the
# LBC's go.mod requires, one file, and the LBC's own gateway.k8s.aws CRDs as its Helm chart ships them.
gateway_manifests() {
  # Both names are checked: an older run of this script wrote a different lbc-gateway-crds.yaml.
  [ -f "$out/manifests/gateway-api-crds.yaml" ] && [ -f "$out/manifests/lbc-gateway-crds.yaml" ] && return 0
  local lbc version gw f
  lbc="$(moddir "sigs.k8s.io/aws-load-balancer-controller/v3@$LBC_VERSION")"
  version="$(sed -n 's#^[[:space:]]*sigs\.k8s\.io/gateway-api \(v[^ ]*\).*$#\1#p' "$lbc/go.mod" | head -n 1)"
  [ -n "$version" ] || { echo "scripts/e2e/build.sh: no sigs.k8s.io/gateway-api in $lbc/go.mod" >&2; exit 1; }
  gw="$(moddir "sigs.k8s.io/gateway-api@$version")"
  : >"$work/gateway-api-crds.yaml"
  for f in "$gw"/config/crd/standard/*.yaml; do
    { echo "---"; cat "$f"; } >>"$work/gateway-api-crds.yaml"
  done
  install -m 0644 "$work/gateway-api-crds.yaml" "$out/manifests/gateway-api-crds.yaml"
  install -m 0644 "$lbc/helm/aws-load-balancer-controller/crds/gateway-crds.yaml" "$out/manifests/lbc-gateway-crds.yaml"
}

kwok_manifests() {
  [ -f "$out/manifests/kwok-stages.yaml" ] && return 0
  local dir f
  dir="$(moddir "sigs.k8s.io/kwok@$KWOK_VERSION")"
  : >"$work/stages.yaml"
  # The "fast" sets: Nodes ready at once, Pods running and ready at once with an IP from the Node's podCIDR.
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ -f "$dir/kustomize/stage/$f" ] || { echo "scripts/e2e/build.sh: kwok stage $f not found under $dir/kustomize/stage" >&2; exit 1; }
    { echo "---"; cat "$dir/kustomize/stage/$f"; } >>"$work/stages.yaml"
  done
  install -m 0644 "$work/stages.yaml" "$out/manifests/kwok-stages.yaml"
}

# k8s.io/kubernetes points its k8s.io/* staging modules at ./staging paths that the module zip lacks: the
# wrapper repeats each replace with the published staging version, as scripts/kube/build.sh does.
build_kcm() {
  [ -x "$out/kube-controller-manager" ] && return 0
  echo "building kube-controller-manager $K8S_VERSION (about 6 min cold, 1-2 min after kube-apiserver)..." >&2
  local mod="$work/kcm" staging="v0.${K8S_VERSION#v1.}" gomod
  gomod="$(gomodfile "k8s.io/kubernetes@$K8S_VERSION")"
  mkdir -p "$mod"
  {
    echo "module e2epeers/kcm"
    echo
    echo "go $(sed -n 's/^go //p' "$gomod")"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/k8s\.io/.*$#\t\1 => \1 '"$staging"'#p' "$gomod"
    echo ")"
  } >"$mod/go.mod"
  (
    cd "$mod"
    timed kcm-get go get "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_VERSION"
    local v=k8s.io/component-base/version
    timed kube-controller-manager go build -trimpath \
      -ldflags "-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) -X $v.gitTreeState=clean" \
      -o "$out/kube-controller-manager.tmp" k8s.io/kubernetes/cmd/kube-controller-manager
  )
  mv "$out/kube-controller-manager.tmp" "$out/kube-controller-manager"
}

argo_manifests
lbc_manifests
gateway_manifests
kwok_manifests
build_kcm
build_plain kwok "sigs.k8s.io/kwok@$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok "2 min"
build_argo
build_plain aws-load-balancer-controller "sigs.k8s.io/aws-load-balancer-controller/v3@$LBC_VERSION" \
  sigs.k8s.io/aws-load-balancer-controller/v3 "8 min"
echo "$out"
