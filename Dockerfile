# syntax=docker/dockerfile:1
# livescope's container images, one target per service, for Node.js 24 LTS, run as the unprivileged
# user `node`. Build from the repository root:
#   docker build --target scope-worker  -t livescope/scope-worker .
#   docker build --target control-plane -t livescope/control-plane .
#   docker build --target interop       -t livescope/interop .     (livescope-interop; also holds livescope-ingest)
#   docker build --target build         -t livescope/tools .       (the workspace with its dev tools: provisions topics)
# Not built on the CI machine (no Docker engine there): see docs/operations.md#containers-and-kubernetes.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY . .
# Every dependency (the build needs the dev tools), the services and the workspace packages they import.
RUN npm ci --no-audit --no-fund \
 && npx turbo run build --filter=@livescope/scope-worker... --filter=@livescope/control-plane... --filter=@livescope/interop... --output-logs=errors-only

FROM build AS production-dependencies
RUN npm ci --omit=dev --no-audit --no-fund

# What every service image holds: the builds and the production dependencies, owned by root and
# read-only for the user that runs them.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-dependencies /src/package.json ./
COPY --from=production-dependencies /src/node_modules ./node_modules
COPY --from=production-dependencies /src/packages ./packages
COPY --from=production-dependencies /src/services ./services
USER node

FROM runtime AS scope-worker
ENV LIVESCOPE_METRICS_HOST=0.0.0.0
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# V8 flags of the worker: services/scope-worker/node-flags.json (a larger young generation, see docs/performance.md).
CMD ["node", "--max-semi-space-size=32", "services/scope-worker/dist/main.js"]

FROM runtime AS control-plane
ENV LIVESCOPE_API_HOST=0.0.0.0
EXPOSE 8787
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD ["node", "-e", "fetch('http://127.0.0.1:8787/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "services/control-plane/dist/main.js"]

FROM runtime AS interop
ENV LIVESCOPE_INTEROP_HOST=0.0.0.0
EXPOSE 8470
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD ["node", "-e", "fetch('http://127.0.0.1:8470/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "services/interop/dist/main.js"]
