#!/usr/bin/env bash
# Create .venv with Python 3.11 and install contactflow with its test extras.
# Idempotent: re-running upgrades nothing that is already satisfied.
set -euo pipefail
cd "$(dirname "$0")"
# SLURM (single-node cluster for the queue tests) + munge; only as root with apt, only if missing
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if ! dpkg -s slurm-wlm munge >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge
  fi
fi
# CP2K (DFT engine 'cp2k:pbe-d3': cp2k_shell.psmp + basis/potential data in /usr/share/cp2k); root + apt only
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if ! dpkg -s cp2k >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends cp2k
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
