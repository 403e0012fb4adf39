#!/usr/bin/env bash
# Sets up everything: a virtual environment in .venv with the project and its test tools, the
# C++ client library (built and installed into python/ray/cpp; scripts/cpp.sh installs the
# Debian packages it needs) and the Java client library (built with Maven and installed as
# python/ray/jars/ray_dist.jar; scripts/java.sh installs a JDK and Maven when missing).
# Idempotent: re-running only redoes what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
# An editable install leaves the sources uncompiled (a wheel install compiles them); with
# PYTHONDONTWRITEBYTECODE set, every process (driver, GCS, node manager, each worker) would
# then compile the runtime afresh at start. Python still recompiles any file edited later.
.venv/bin/python -m compileall -q python/ray
bash scripts/cpp.sh build
bash scripts/java.sh build
