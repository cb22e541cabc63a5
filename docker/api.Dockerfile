# swavlab API image: `swavlab api` (Fastify REST, Server-Sent Events, /metrics) and the dashboard's assets.
# Build from the repository root:  docker build -f docker/api.Dockerfile -t swavlab/api:local .
# Migrations run when the API opens the database (packages/db's migrator, under Prisma Migrate's advisory lock,
# so an API and workers starting together apply them once). Configuration: README.md, Configuration.

ARG NODE_IMAGE=node:20.20.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
# Prisma's client is generated offline (the schema engine is not needed to generate); dev dependencies
# (TypeScript, Vite, the Prisma CLI) are pruned before the runtime tree is assembled.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund \
    && npm run build \
    && npm prune --omit=dev --no-audit --no-fund \
    && bash docker/assemble.sh /out

FROM ${NODE_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="swavlab-api" \
      org.opencontainers.image.description="swavlab REST API and dashboard: SwAV pretraining runs and ablation grids" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.documentation="docker/README.md"
# A fixed numeric user, the same in every swavlab image, so that volumes shared by the API and the workers
# (artifacts) have one owner, and Kubernetes' runAsNonRoot can check it.
RUN groupadd --system --gid 10001 swavlab \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/swavlab --shell /usr/sbin/nologin swavlab \
    && mkdir -p /var/lib/swavlab/artifacts \
    && chown -R 10001:10001 /var/lib/swavlab
COPY --from=build /out /app
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    SWAVLAB_HOME=/var/lib/swavlab
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "/app/docker/healthcheck.mjs", "api"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["node", "/app/apps/cli/bin/swavlab.mjs", "api"]
