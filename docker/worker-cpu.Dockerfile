# swavlab CPU worker image: `swavlab worker` on Debian bookworm with Debian's own PyTorch (python3-torch), the
# interpreter the project is tested with. For machines without GPUs (compose profile `cpu`, overlay cpu-dev).
# Build from the repository root:  docker build -f docker/worker-cpu.Dockerfile -t swavlab/worker-cpu:local .

ARG NODE_IMAGE=node:20.20.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
# The worker needs no dashboard: Prisma's client and the TypeScript build only.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund \
    && npm run generate \
    && npx tsc -b \
    && npm prune --omit=dev --no-audit --no-fund \
    && bash docker/assemble.sh /out --trainer

# The Node image is Debian bookworm: its python3-torch is the trainer's PyTorch.
FROM ${NODE_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="swavlab-worker-cpu" \
      org.opencontainers.image.description="swavlab worker (BullMQ) with Debian's CPU PyTorch: runs SwAV pretraining jobs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.documentation="docker/README.md"
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       python3 python3-torch python3-torchvision python3-numpy python3-pil \
    && rm -rf /var/lib/apt/lists/* \
    && /usr/bin/python3 -c 'import numpy, PIL, torch, torchvision'
# The same numeric user as the other swavlab images (shared artifacts volume).
RUN groupadd --system --gid 10001 swavlab \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/swavlab --shell /usr/sbin/nologin swavlab \
    && mkdir -p /var/lib/swavlab/artifacts \
    && chown -R 10001:10001 /var/lib/swavlab
COPY --from=build /out /app
WORKDIR /app
ENV NODE_ENV=production \
    PYTHON_BIN=/usr/bin/python3 \
    SWAVLAB_HOME=/var/lib/swavlab \
    SWAVLAB_WORKER_HOST=0.0.0.0 \
    SWAVLAB_WORKER_PORT=9464
USER 10001:10001
EXPOSE 9464
# The worker checks that Python imports torch before it is ready: a slow start on a busy host.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["node", "/app/docker/healthcheck.mjs", "worker"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["node", "/app/apps/cli/bin/swavlab.mjs", "worker"]
