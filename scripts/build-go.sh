#!/usr/bin/env bash
# Builds the static handshake binary (standard library only, no cgo) into bin/handshake. This is the one
# documented build command for the executable Argo Rollouts starts (see plugin.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
if [ -f cmd/handshake/go.mod ]; then
  (cd cmd/handshake && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o ../../bin/handshake .)
fi
