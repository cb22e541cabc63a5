#!/usr/bin/env bash
# Installs the Debian packages swavlab needs when any is missing: Debian's PyTorch for the trainer,
# pytest/scikit-learn/Pillow for its tests and the digits source, pandas for the Python client's DataFrames, redis-server for `swavlab up`,
# Chromium for the browser tests, and docker-compose and kubectl, which validate the deployment files offline. A no-op (no apt call) when everything is present.
set -euo pipefail
packages=(python3-torch python3-torchvision python3-pytest python3-sklearn python3-pil python3-pandas redis-server chromium docker-compose kubectl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
echo "swavlab: installing ${missing[*]} (apt)" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
