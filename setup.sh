#!/usr/bin/env bash
# Create .venv with Python 3.11 and install contactflow with its test extras.
# Idempotent: re-running upgrades nothing that is already satisfied.
set -euo pipefail
cd "$(dirname "$0")"
# Debian packages, only as root with apt and only if missing:
#   slurm-wlm + munge: single-node SLURM cluster for the queue tests
#   cp2k: DFT engine 'cp2k:pbe-d3' (cp2k_shell.psmp + basis/potential data in /usr/share/cp2k)
#   chromium + chromium-driver: the results browser's tests drive Debian's headless chromium (nothing
#   downloads a browser build)
APT_PKGS="slurm-wlm munge cp2k chromium chromium-driver"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if ! dpkg -s $APT_PKGS >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $APT_PKGS
  fi
fi
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
echo "contactflow installed in $(pwd)/.venv"
