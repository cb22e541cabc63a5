#!/usr/bin/env bash
# Runs the trainer's pytest suite with the interpreter that has PyTorch (PYTHON_BIN, else the
# first of python3, /usr/bin/python3 that imports torch), as docs/contributing.md describes.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON_BIN:-}"
if [ -z "$py" ]; then
  for cand in python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import torch' >/dev/null 2>&1; then py="$cand"; break; fi
  done
fi
if [ -z "$py" ]; then
  echo "pytest.sh: no interpreter with torch found (set PYTHON_BIN or apt-get install python3-torch)" >&2
  exit 1
fi
exec "$py" -m pytest packages/trainer/tests -q "$@"
