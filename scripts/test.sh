#!/usr/bin/env bash
# Runs every test of the project: Python (pytest), then C++ (ctest), then Java (JUnit 5).
# Sets up first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
bash scripts/cpp.sh test
bash scripts/java.sh test
