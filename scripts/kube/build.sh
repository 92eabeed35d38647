#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy (the only place this machine can fetch from)
# and caches them under a versioned directory, so that only the first run pays for the build.
#
#   bash scripts/kube/build.sh          # build if missing, then print the cache directory
#   bash scripts/kube/build.sh --print  # print dir=<cache dir> and rollout_crd=<path> only (no build)
#
# k8s.io/kubernetes cannot be required as-is: its go.mod points the k8s.io/* staging modules at
# ./staging/src paths that do not exist in the module zip. A throw-away wrapper module repeats each of
# those replace directives with the published staging version (v0.<minor>.<patch>).
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

export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() {
  echo "scripts/kube/build.sh: $1 failed; last lines of its log ($2):" >&2
  tail -n 40 "$2" >&2
  exit 1
}

# Runs a build step at low priority and records its wall time and peak memory next to the binary,
# because the first build competes with everyone else's tests for 2 cores. Its log stays there too.
timed() {
  local name=$1 log="$out/$1.log"
  shift
  if [ -x /usr/bin/time ]; then
    nice -n 10 /usr/bin/time -v -o "$out/$name.time" "$@" >"$log" 2>&1 || fail "$name" "$log"
    awk -F': ' '/Elapsed \(wall clock\)/ {w=$2} /Maximum resident set size/ {m=$2}
      END {printf "  %s: wall %s, peak RSS %.0f MiB\n", n, w, m/1024}' n="$name" "$out/$name.time" >&2
  else
    nice -n 10 "$@" >"$log" 2>&1 || fail "$name" "$log"
  fi
}

build_etcd() {
  [ -x "$out/etcd" ] && return 0
  echo "building etcd $ETCD_VERSION (go.etcd.io/etcd/server/v3)..." >&2
  local mod="$work/etcd"
  mkdir -p "$mod"
  (
    cd "$mod"
    go mod init kubetest/etcd >/dev/null 2>&1
    timed etcd-get go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    timed etcd go build -trimpath -ldflags '-s -w' -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3
  )
  mv "$out/etcd.tmp" "$out/etcd"
}

build_kube_apiserver() {
  [ -x "$out/kube-apiserver" ] && return 0
  echo "building kube-apiserver $K8S_VERSION (k8s.io/kubernetes/cmd/kube-apiserver)..." >&2
  local mod="$work/kube" staging="v0.${K8S_VERSION#v1.}"
  mkdir -p "$mod"
  local gomod
  gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>"$work/download.log" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')" || true
  [ -n "$gomod" ] && [ -f "$gomod" ] || fail "go mod download k8s.io/kubernetes@$K8S_VERSION" "$work/download.log"
  {
    echo "module kubetest/kube"
    echo
    echo "go $(sed -n 's/^go //p' "$gomod")"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/k8s\.io/.*$#\t\1 => \1 '"$staging"'#p' "$gomod"
    echo ")"
  } >"$mod/go.mod"
  grep -q "k8s.io/api => k8s.io/api $staging" "$mod/go.mod" ||
    { echo "scripts/kube/build.sh: no staging replace directives found in $gomod" >&2; exit 1; }
  (
    cd "$mod"
    timed kube-get go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION"
    local v=k8s.io/component-base/version
    timed kube-apiserver go build -trimpath \
      -ldflags "-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) -X $v.gitTreeState=clean" \
      -o "$out/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  )
  mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
}

# The Rollout CRD ships in the argo-rollouts module zip, so it comes from the module proxy too.
fetch_rollout_crd() {
  [ -f "$rollout_crd" ] && return 0
  echo "fetching the Rollout CRD from github.com/argoproj/argo-rollouts@$ARGO_ROLLOUTS_VERSION..." >&2
  local dir
  dir="$(go mod download -json "github.com/argoproj/argo-rollouts@$ARGO_ROLLOUTS_VERSION" 2>"$work/argo.log" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')" || true
  [ -n "$dir" ] && [ -f "$dir/manifests/crds/rollout-crd.yaml" ] ||
    fail "go mod download github.com/argoproj/argo-rollouts@$ARGO_ROLLOUTS_VERSION" "$work/argo.log"
  mkdir -p "$(dirname "$rollout_crd")"
  install -m 0644 "$dir/manifests/crds/rollout-crd.yaml" "$rollout_crd.tmp"
  mv "$rollout_crd.tmp" "$rollout_crd"
}

fetch_rollout_crd
build_etcd
build_kube_apiserver
echo "$out"
