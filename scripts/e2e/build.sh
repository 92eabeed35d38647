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

mkdir -p "$out/manifests"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
GOBUILD_SCRIPT=scripts/e2e/build.sh
GOBUILD_LOGS="$out/logs"
# shellcheck source=../lib/gobuild.sh
source "$(dirname "$0")/../lib/gobuild.sh"

# Directory of a module in the module cache (downloaded through the proxy if needed).
moddir() { gobuild_modfield "$1" Dir; }

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
    gobuild_timed argo-get go get "github.com/argoproj/argo-rollouts/cmd/rollouts-controller@$ARGO_VERSION"
    gobuild_timed argo go build -trimpath -ldflags "-s -w -X github.com/argoproj/argo-rollouts/utils/version.version=${ARGO_VERSION#v}" \
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
    gobuild_timed "$name-get" go get "$pkg@${module#*@}"
    gobuild_timed "$name" go build -trimpath -ldflags '-s -w' -o "$out/$name.tmp" "$pkg"
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

# k8s.io/kubernetes needs a wrapper module (scripts/lib/gobuild.sh, gobuild_k8s_wrapper).
build_kcm() {
  [ -x "$out/kube-controller-manager" ] && return 0
  echo "building kube-controller-manager $K8S_VERSION (about 6 min cold, 1-2 min after kube-apiserver)..." >&2
  local mod="$work/kcm"
  gobuild_k8s_wrapper "$mod" e2epeers/kcm "$K8S_VERSION"
  (
    cd "$mod"
    gobuild_timed kcm-get go get "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_VERSION"
    gobuild_timed kube-controller-manager go build -trimpath -ldflags "$(gobuild_k8s_ldflags "$K8S_VERSION")" \
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
