# Shared by the scripts that build the test peers from the Go module proxy (scripts/kube/build.sh,
# scripts/e2e/build.sh). Source it after setting:
#   GOBUILD_SCRIPT  the calling script's name, for error messages
#   GOBUILD_LOGS    where each step's log and timing go
#   work            a scratch directory the caller removes

export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0

gobuild_fail() {
  echo "$GOBUILD_SCRIPT: $1 failed; last lines of its log ($2):" >&2
  tail -n 40 "$2" >&2
  exit 1
}

# Runs a build step at low priority and records its wall time and peak memory next to its log, because a
# first build competes with everything else for 2 cores.
gobuild_timed() {
  local name=$1 log="$GOBUILD_LOGS/$1.log"
  shift
  mkdir -p "$GOBUILD_LOGS"
  local start=$SECONDS
  if [ -x /usr/bin/time ]; then
    nice -n 10 /usr/bin/time -v -o "$GOBUILD_LOGS/$name.time" "$@" >"$log" 2>&1 || gobuild_fail "$name" "$log"
    awk -F': ' '/Elapsed \(wall clock\)/ {w=$2} /Maximum resident set size/ {m=$2}
      END {printf "  %s: wall %s, peak RSS %.0f MiB\n", n, w, m/1024}' n="$name" "$GOBUILD_LOGS/$name.time" >&2
  else
    nice -n 10 "$@" >"$log" 2>&1 || gobuild_fail "$name" "$log"
    echo "  $name: $((SECONDS - start)) s" >&2
  fi
}

# `go mod download -json MODULE@VERSION` field FIELD (Dir, GoMod, ...), downloading through the proxy.
gobuild_modfield() {
  local value
  value="$(go mod download -json "$1" 2>"$work/download.log" | sed -n 's/^[[:space:]]*"'"$2"'": "\(.*\)",*$/\1/p')" || true
  [ -n "$value" ] && [ -e "$value" ] || gobuild_fail "go mod download $1" "$work/download.log"
  echo "$value"
}

# k8s.io/kubernetes cannot be required as it is: its go.mod points the k8s.io/* staging modules at
# ./staging/src paths that the module zip lacks. Writes, into DIR, a wrapper module named NAME that repeats
# each of those replace directives with the published staging version (v0.<minor>.<patch>).
gobuild_k8s_wrapper() {
  local dir=$1 name=$2 version=$3 staging="v0.${3#v1.}" gomod
  gomod="$(gobuild_modfield "k8s.io/kubernetes@$version" GoMod)"
  mkdir -p "$dir"
  {
    echo "module $name"
    echo
    echo "go $(sed -n 's/^go //p' "$gomod")"
    echo
    echo "require k8s.io/kubernetes $version"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/k8s\.io/.*$#\t\1 => \1 '"$staging"'#p' "$gomod"
    echo ")"
  } >"$dir/go.mod"
  grep -q "k8s.io/api => k8s.io/api $staging" "$dir/go.mod" ||
    { echo "$GOBUILD_SCRIPT: no staging replace directives found in $gomod" >&2; exit 1; }
}

# go build flags that make a k8s.io/kubernetes binary report VERSION (as /version and --version show).
gobuild_k8s_ldflags() {
  local v=k8s.io/component-base/version
  echo "-s -w -X $v.gitVersion=$1 -X $v.gitMajor=1 -X $v.gitMinor=$(echo "$1" | cut -d. -f2) -X $v.gitTreeState=clean"
}
