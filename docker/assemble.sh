#!/usr/bin/env bash
# Run by the images' build stage after `npm run build` and `npm prune --omit=dev`: copies what a container needs
# at run time into OUT, laid out as in the repository, because the code finds its files relative to itself
# (prisma/migrations from packages/db/dist, the dashboard from apps/api/dist, the trainer from packages/bridge/dist).
#   assemble.sh OUT            the API image: no Python trainer
#   assemble.sh OUT --trainer  the worker images: also packages/trainer/swavlab
set -euo pipefail
out=${1:?usage: assemble.sh OUT [--trainer]}
trainer=${2:-}
[[ -z $trainer || $trainer == --trainer ]] || { echo "assemble.sh: unknown option $trainer" >&2; exit 64; }

mkdir -p "$out"
cp -a --parents package.json node_modules prisma/migrations docker/entrypoint.sh docker/healthcheck.mjs "$out"
for workspace in packages/* apps/*; do
  [[ -f $workspace/package.json ]] || continue
  cp -a --parents "$workspace/package.json" "$out"
  [[ -d $workspace/dist ]] && cp -a --parents "$workspace/dist" "$out"
done
cp -a --parents apps/cli/bin "$out"
[[ -n $trainer ]] && cp -a --parents packages/trainer/swavlab "$out"
# Build bookkeeping, not needed to run.
find "$out" -name '*.tsbuildinfo' -delete
