# syntax=docker/dockerfile:1
# Multi-stage build of the ALB traffic-router plugin image:
#   1. Go builds the static handshake binary Argo execs (the controller image is distroless, no libc needed).
#   2. Node compiles the TypeScript sidecar and keeps only production dependencies.
#   3. The runtime image runs the sidecar as a non-root user; the same image serves as the init container
#      that copies /usr/local/bin/handshake into the shared emptyDir.

FROM golang:1.26-alpine AS handshake
WORKDIR /src
COPY cmd/handshake/ ./
RUN CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags="-s -w" -o /out/handshake .

FROM node:20-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
# From the lock, but not `npm ci`: the lock holds only this build machine's optional native packages.
RUN npm install --no-save --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-alpine
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=handshake /out/handshake /usr/local/bin/handshake
# uid 1000 is the image's `node` user; the manifests pin runAsUser to the same number.
USER 1000:1000
EXPOSE 8090
ENTRYPOINT ["node", "dist/src/main.js"]
