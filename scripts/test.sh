#!/usr/bin/env bash
# Runs every test of the project (Python; Java and C++ once their builds exist).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
