#!/usr/bin/env bash
# Builds the static handshake binary (standard library only) into bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
if [ -f cmd/handshake/go.mod ]; then
  (cd cmd/handshake && CGO_ENABLED=0 go build -trimpath -o ../../bin/handshake .)
fi
