#!/usr/bin/env bash
# Create .venv with Python 3.11 and install contactflow with its test extras.
# Idempotent: re-running upgrades nothing that is already satisfied.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
echo "contactflow installed in $(pwd)/.venv"
