# syntax=docker/dockerfile:1
# Image of the ALB traffic-router plugin: the Node sidecar, and the handshake binary the init container copies
# into the controller's emptyDir (/usr/local/bin/handshake). Multi-arch as is:
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t <registry>/rollouts-plugin-trafficrouter-alb:<tag> .
#
#   1. Go cross-compiles the static handshake binary on the build machine's platform for TARGETOS/TARGETARCH
#      (no emulation; the controller image is distroless, so the binary needs no libc).
#   2. Node compiles the TypeScript sidecar, also on the build platform: its output is plain JavaScript and
#      the production dependencies are platform-neutral (no native addons, no os/cpu-specific packages, no
#      install scripts; test/deploy/manifests.test.ts checks the lock for that), then keeps only those.
#   3. The runtime image, per target platform: Node 26 (package.json engines), no npm/yarn, files owned by
#      root and only readable by the non-root uid 1000 that runs them, nothing written at run time, so it
#      runs with readOnlyRootFilesystem: true (the manifests set it).

ARG NODE_IMAGE=node:26-alpine
ARG GO_IMAGE=golang:1.26-alpine

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS handshake
ARG TARGETOS=linux
ARG TARGETARCH
WORKDIR /src
COPY cmd/handshake/ ./
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags="-s -w" -o /out/handshake .

FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# From the lock (`npm install`, as scripts/test-all.sh does; see the comment there).
RUN npm install --no-save --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE}
# The package managers are not needed to run the sidecar; without them the image has less to patch.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=handshake /out/handshake /usr/local/bin/handshake
LABEL org.opencontainers.image.title="rollouts-plugin-trafficrouter-alb" \
      org.opencontainers.image.description="Argo Rollouts traffic-router plugin for AWS ALB (sidecar and handshake binary)" \
      org.opencontainers.image.source="https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-alb"
# uid 1000 is the image's `node` user; the manifests pin runAsUser to the same number.
USER 1000:1000
# HTTP server (health, readiness, metrics, JSON API); the go-plugin listener stays on 127.0.0.1:3001.
EXPOSE 8095
ENTRYPOINT ["node", "dist/src/main.js"]
