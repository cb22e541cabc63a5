# swavlab GPU worker image: `swavlab worker` on the official PyTorch CUDA runtime image (conda Python with torch,
# torchvision, CUDA and cuDNN), plus the Node 20 binary of the Node image. GPUs come through the NVIDIA container
# runtime (compose: deploy.resources.reservations.devices; Kubernetes: nvidia.com/gpu); the worker gives each
# visible GPU a device slot.
# Build from the repository root:  docker build -f docker/worker-cuda.Dockerfile -t swavlab/worker-cuda:local .

ARG NODE_IMAGE=node:20.20.0-bookworm-slim
ARG TORCH_IMAGE=pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime

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

FROM ${TORCH_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="swavlab-worker-cuda" \
      org.opencontainers.image.description="swavlab worker (BullMQ) with CUDA PyTorch: runs SwAV pretraining jobs on NVIDIA GPUs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.documentation="docker/README.md"
# Node's official binary is linked against glibc only, which the Ubuntu base provides.
COPY --from=build /usr/local/bin/node /usr/local/bin/node
RUN node --version \
    && /opt/conda/bin/python3 -c 'import numpy, PIL, torch, torchvision'
# The same numeric user as the other swavlab images (shared artifacts volume).
RUN groupadd --system --gid 10001 swavlab \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/swavlab --shell /usr/sbin/nologin swavlab \
    && mkdir -p /var/lib/swavlab/artifacts \
    && chown -R 10001:10001 /var/lib/swavlab
COPY --from=build /out /app
WORKDIR /app
# utility: nvidia-smi, through which the worker counts its GPUs.
ENV NODE_ENV=production \
    PYTHON_BIN=/opt/conda/bin/python3 \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    SWAVLAB_HOME=/var/lib/swavlab \
    SWAVLAB_WORKER_HOST=0.0.0.0 \
    SWAVLAB_WORKER_PORT=9464
USER 10001:10001
EXPOSE 9464
# The worker checks that Python imports torch (and CUDA initialises) before it is ready.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["node", "/app/docker/healthcheck.mjs", "worker"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["node", "/app/apps/cli/bin/swavlab.mjs", "worker"]
