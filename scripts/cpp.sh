#!/usr/bin/env bash
# Builds, installs and tests the C++ client library (cpp/).
#
# Usage, from the repository root:
#   scripts/cpp.sh deps    install the missing Debian packages (apt-get; needs root)
#   scripts/cpp.sh build   deps + configure (CMake, Ninja) + build + install into python/ray/cpp/
#   scripts/cpp.sh test    build + ctest --output-on-failure (every test, the real-cluster ones too;
#                          runs scripts/setup.sh first when .venv is missing)
#   scripts/cpp.sh unit    build + ctest without the tests labelled "cluster" (no cluster started)
#   scripts/cpp.sh         same as `test`
#
# Environment: CPP_BUILD_DIR (default cpp/build), CPP_BUILD_TYPE (default RelWithDebInfo),
# CPP_JOBS (default 2), CPP_TEST_RAY_CLI / CPP_TEST_PYTHON (the runtime the cluster tests use;
# default .venv/bin/ray, .venv/bin/python). Non-interactive; works with CI=true.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${CPP_BUILD_DIR:-$ROOT/cpp/build}"
BUILD_TYPE="${CPP_BUILD_TYPE:-RelWithDebInfo}"
JOBS="${CPP_JOBS:-2}"
PREFIX="$ROOT/python/ray/cpp"
# The `ray` CLI and Python of the runtime the cluster tests use: the project's .venv.
TEST_CLI="${CPP_TEST_RAY_CLI:-$ROOT/.venv/bin/ray}"
TEST_PYTHON="${CPP_TEST_PYTHON:-$ROOT/.venv/bin/python}"

PACKAGES=(
  build-essential
  cmake
  ninja-build
  pkg-config
  libgrpc++-dev
  protobuf-compiler-grpc
  libprotobuf-dev
  protobuf-compiler
  libmsgpack-cxx-dev
  libgtest-dev
)

log() { echo "[cpp.sh] $*" >&2; }
die() { echo "[cpp.sh] ERROR: $*" >&2; exit 1; }

deps() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "Debian packages: all present"
    return
  fi
  log "installing missing Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} by hand"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q || die "apt-get update failed"
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
}

build() {
  deps
  local start=$SECONDS
  log "configuring in $BUILD_DIR ($BUILD_TYPE)"
  # The runtime the cluster tests run is set at every configure (a cached one may be stale).
  cmake -S "$ROOT/cpp" -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DRAY_TEST_CLI="$TEST_CLI" \
    -DRAY_TEST_PYTHON="$TEST_PYTHON" \
    || die "cmake configure failed"
  log "building with -j$JOBS"
  cmake --build "$BUILD_DIR" -j "$JOBS" || die "build failed"
  log "installing into $PREFIX"
  cmake --install "$BUILD_DIR" || die "install failed"
  log "build + install took $((SECONDS - start)) s"
}

# The cluster tests run the project's Python runtime (<repo>/.venv/bin/ray): on a clean clone,
# set it up first (scripts/setup.sh creates .venv and builds this library).
ensure_venv() {
  if [ -x "$ROOT/.venv/bin/ray" ]; then return; fi
  log "no $ROOT/.venv/bin/ray: running scripts/setup.sh first"
  bash "$ROOT/scripts/setup.sh" || die "scripts/setup.sh failed"
}

run_tests() {
  build
  local start=$SECONDS
  log "running ctest $*"
  (cd "$BUILD_DIR" && ctest --output-on-failure --timeout 300 -j "$JOBS" "$@") || die "C++ tests failed"
  log "tests took $((SECONDS - start)) s"
}

cd "$ROOT"
case "${1:-test}" in
  deps) deps ;;
  build) build ;;
  test) ensure_venv; run_tests ;;
  unit) run_tests -LE cluster ;;
  *) die "unknown command '$1' (use deps, build, test or unit)" ;;
esac
