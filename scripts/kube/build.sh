#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy (the only place this machine can fetch from)
# and caches them under a versioned directory, so that only the first run pays for the build.
#
#   bash scripts/kube/build.sh          # build if missing, then print the cache directory
#   bash scripts/kube/build.sh --print  # print dir=<cache dir> and rollout_crd=<path> only (no build)
#
# k8s.io/kubernetes cannot be required as-is (scripts/lib/gobuild.sh, gobuild_k8s_wrapper, says why and how).
set -euo pipefail

K8S_VERSION="${KUBE_TEST_K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${KUBE_TEST_ETCD_VERSION:-v3.5.35}"
# Same argo-rollouts release as test/conformance/go.mod: its Rollout CRD is installed in the test cluster.
ARGO_ROLLOUTS_VERSION="${KUBE_TEST_ARGO_ROLLOUTS_VERSION:-v1.10.1}"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/rollouts-plugin-alb"
out="$cache_root/kube-${K8S_VERSION}-etcd-${ETCD_VERSION}"

rollout_crd="$out/crds/argo-rollouts-$ARGO_ROLLOUTS_VERSION/rollout-crd.yaml"
if [ "${1:-}" = "--print" ]; then
  printf 'dir=%s\nrollout_crd=%s\n' "$out" "$rollout_crd"
  exit 0
fi

if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ] && [ -f "$rollout_crd" ]; then
  echo "$out"
  exit 0
fi

mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
GOBUILD_SCRIPT=scripts/kube/build.sh
# Each step's log and timing stay next to the binaries.
GOBUILD_LOGS="$out"
# shellcheck source=../lib/gobuild.sh
source "$(dirname "$0")/../lib/gobuild.sh"

build_etcd() {
  [ -x "$out/etcd" ] && return 0
  echo "building etcd $ETCD_VERSION (go.etcd.io/etcd/server/v3)..." >&2
  local mod="$work/etcd"
  mkdir -p "$mod"
  (
    cd "$mod"
    go mod init kubetest/etcd >/dev/null 2>&1
    gobuild_timed etcd-get go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    gobuild_timed etcd go build -trimpath -ldflags '-s -w' -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3
  )
  mv "$out/etcd.tmp" "$out/etcd"
}

build_kube_apiserver() {
  [ -x "$out/kube-apiserver" ] && return 0
  echo "building kube-apiserver $K8S_VERSION (k8s.io/kubernetes/cmd/kube-apiserver)..." >&2
  local mod="$work/kube"
  gobuild_k8s_wrapper "$mod" kubetest/kube "$K8S_VERSION"
  (
    cd "$mod"
    gobuild_timed kube-get go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION"
    gobuild_timed kube-apiserver go build -trimpath -ldflags "$(gobuild_k8s_ldflags "$K8S_VERSION")" \
      -o "$out/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  )
  mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
}

# The Rollout CRD ships in the argo-rollouts module zip, so it comes from the module proxy too.
fetch_rollout_crd() {
  [ -f "$rollout_crd" ] && return 0
  echo "fetching the Rollout CRD from github.com/argoproj/argo-rollouts@$ARGO_ROLLOUTS_VERSION..." >&2
  local dir
  dir="$(gobuild_modfield "github.com/argoproj/argo-rollouts@$ARGO_ROLLOUTS_VERSION" Dir)"
  [ -f "$dir/manifests/crds/rollout-crd.yaml" ] || { echo "scripts/kube/build.sh: no manifests/crds/rollout-crd.yaml in $dir" >&2; exit 1; }
  mkdir -p "$(dirname "$rollout_crd")"
  install -m 0644 "$dir/manifests/crds/rollout-crd.yaml" "$rollout_crd.tmp"
  mv "$rollout_crd.tmp" "$rollout_crd"
}

fetch_rollout_crd
build_etcd
build_kube_apiserver
echo "$out"
