# syntax=docker/dockerfile:1
# One image per service: docker build --build-arg SERVICE=ticket-service -t reservex/ticket-service .
# SERVICE is one of account-service, ticket-service, payment-service, payment-provider.
ARG NODE_IMAGE=node:24.11-bookworm-slim

# Production dependencies of the one service and the workspace packages it imports, nothing else.
FROM ${NODE_IMAGE} AS deps
ARG SERVICE
WORKDIR /app
COPY package.json package-lock.json ./
COPY system/kit/package.json system/kit/
COPY system/contracts/package.json system/contracts/
COPY system/${SERVICE}/package.json system/${SERVICE}/
RUN test -n "${SERVICE}" \
  && npm ci --omit=dev --no-audit --no-fund --ignore-scripts --workspace "system/${SERVICE}" --include-workspace-root=false

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    SERVICE=${SERVICE}
WORKDIR /app
# Node 24 runs the TypeScript sources as they are (type stripping): there is no build output to copy.
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json ./
COPY --chown=node:node system/kit/package.json system/kit/
COPY --chown=node:node system/kit/src system/kit/src
COPY --chown=node:node system/contracts/package.json system/contracts/
COPY --chown=node:node system/contracts/src system/contracts/src
COPY --chown=node:node system/${SERVICE}/package.json system/${SERVICE}/
COPY --chown=node:node system/${SERVICE}/src system/${SERVICE}/src
COPY --chown=node:node system/${SERVICE}/migrations system/${SERVICE}/migrations
USER node
# Each service listens on PORT (default 8080 in the image) and migrates its database at start, under a lock.
ENV PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/actuator/health/liveness').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "exec node system/${SERVICE}/src/main.ts"]
