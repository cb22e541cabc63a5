#!/usr/bin/env bash
# The one-command quickstart: installs what is missing (apt packages, npm dependencies), builds,
# then runs `swavlab demo` on the embedded defaults (PGlite, a private redis-server, CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-packages.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
exec node apps/cli/bin/swavlab.mjs demo "$@"
