# Puts the project's Node release first on PATH, installing it once into a per-user cache.
#
#   source scripts/node/env.sh          # from bash scripts (scripts/test-all.sh does this first)
#
# Node comes from the npm registry package node-linux-<arch> (the official linux binary, repackaged), and
# npm from the registry package `npm` at the release that Node version bundles, so the lock file is written
# by the same npm on every machine. Both are fetched with the npm already on the machine (`npm pack`,
# which checks the registry's integrity hash) into a temporary directory that is renamed into place only
# when complete, so an interrupted or concurrent first run never leaves a half-installed Node behind.
# Layout of the cache directory is that of the official tarball: bin/{node,npm,npx}, lib/node_modules/npm.
#
# Bump NODE_VERSION and NODE_NPM_VERSION together (npm version: "deps: upgrade npm" in Node's CHANGELOG).

ALB_NODE_VERSION="${ALB_NODE_VERSION:-26.12.1}"
ALB_NODE_NPM_VERSION="${ALB_NODE_NPM_VERSION:-11.20.0}"

alb_node_env() {
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *)
      echo "scripts/node/env.sh: no node-linux-* registry package for machine type $(uname -m)" >&2
      return 1
      ;;
  esac
  local cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/rollouts-plugin-alb"
  local dir="$cache_root/node-v$ALB_NODE_VERSION"
  [ "$arch" = x64 ] || dir="$dir-$arch"

  if [ ! -x "$dir/bin/node" ] || [ ! -e "$dir/bin/npm" ] ||
    [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$ALB_NODE_VERSION" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "scripts/node/env.sh: Node v$ALB_NODE_VERSION is not in $dir and there is no npm on PATH to fetch it" >&2
      return 1
    fi
    echo "installing Node v$ALB_NODE_VERSION (registry package node-linux-$arch) and npm $ALB_NODE_NPM_VERSION into $dir" >&2
    mkdir -p "$cache_root" || return 1
    local tmp
    tmp="$(mktemp -d "$cache_root/.node-v$ALB_NODE_VERSION.XXXXXX")" || return 1
    if ! (
      set -e
      cd "$tmp"
      npm pack --silent --pack-destination "$tmp" "node-linux-$arch@$ALB_NODE_VERSION" "npm@$ALB_NODE_NPM_VERSION" >/dev/null
      mkdir -p root/lib/node_modules/npm
      tar -xzf "node-linux-$arch-$ALB_NODE_VERSION.tgz" -C root --strip-components=1 --no-same-owner
      tar -xzf "npm-$ALB_NODE_NPM_VERSION.tgz" -C root/lib/node_modules/npm --strip-components=1 --no-same-owner
      ln -s ../lib/node_modules/npm/bin/npm-cli.js root/bin/npm
      ln -s ../lib/node_modules/npm/bin/npx-cli.js root/bin/npx
      test "$(root/bin/node --version)" = "v$ALB_NODE_VERSION"
      test "$(PATH="$tmp/root/bin:$PATH" root/bin/npm --version)" = "$ALB_NODE_NPM_VERSION"
    ); then
      rm -rf "$tmp"
      echo "scripts/node/env.sh: installing Node v$ALB_NODE_VERSION failed" >&2
      return 1
    fi
    # A stale or partial directory from an older layout is replaced; if another run won the race, keep its copy.
    if [ -e "$dir" ] && [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$ALB_NODE_VERSION" -o ! -e "$dir/bin/npm" ]; then
      rm -rf "$dir"
    fi
    mv -T "$tmp/root" "$dir" 2>/dev/null || true
    rm -rf "$tmp"
    if [ ! -x "$dir/bin/node" ]; then
      echo "scripts/node/env.sh: $dir/bin/node missing after install" >&2
      return 1
    fi
  fi

  case ":$PATH:" in
    *":$dir/bin:"*) ;;
    *) PATH="$dir/bin:$PATH" ;;
  esac
  export PATH
  hash -r
  if [ -z "${ALB_NODE_ENV_PRINTED:-}" ]; then
    echo "node $(node --version), npm $(npm --version) from $dir"
    export ALB_NODE_ENV_PRINTED=1
  fi
}

alb_node_env || { unset -f alb_node_env; return 1 2>/dev/null || exit 1; }
unset -f alb_node_env
