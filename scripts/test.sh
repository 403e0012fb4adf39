#!/usr/bin/env bash
# Runs every test of the project: Python (pytest), then C++ (ctest). Sets up first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
bash scripts/cpp.sh test
