#!/usr/bin/env bash
# Builds and runs the C++ benchmark (cpp_bench.cc) against a cluster started for it with
# `ray start --head --node-ip-address 127.0.0.1 --port P --num-cpus 2 --temp-dir DIR`, then stops
# it (ours: `ray stop`; upstream: by pid, since its `ray stop` ends every Ray process of the user).
#
#   benchmarks/cpp/run.sh [--ray DIR/bin/ray] [--json-out PATH] [cpp_bench options...]
#
# --ray picks the installation: this project's .venv/bin/ray (default), or upstream Ray's C++
# API in its own venv (`pip install "ray[cpp]"`), e.g. --ray /work/upstream-ray-cpp-venv/bin/ray.
# The headers and libray_api.so come from that `ray cpp --show-library-path`; the benchmark is
# built with plain g++ as the driver and as the shared library of its RAY_REMOTE functions
# (the code search path names the library's directory and bench_targets.py's). Progress on
# stderr; stdout ends with the JSON object cpp_bench prints. Do not run it while a build runs.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RAY="$ROOT/.venv/bin/ray"
JSON_OUT=""
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ray) RAY="$2"; shift 2 ;;
    --json-out) JSON_OUT="$2"; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
log() { echo "[cpp bench] $*" >&2; }

# Upstream prints these lines through its logger (stderr, with a prefix).
PATHS="$("$RAY" cpp --show-library-path 2>&1)"
INC="$(sed -n 's/.*Ray C++ include path \([^ ]*\).*/\1/p' <<<"$PATHS")"
LIB="$(sed -n 's/.*Ray C++ library path \([^ ]*\).*/\1/p' <<<"$PATHS")"
[ -f "$INC/ray/api.h" ] && [ -f "$LIB/libray_api.so" ] || { echo "no C++ library: $PATHS" >&2; exit 1; }
if "$RAY" --version 2>/dev/null | grep -q openray; then LABEL=openray; else LABEL="upstream $("$RAY" --version 2>/dev/null | awk '{print $NF}')"; fi

WORK="$(mktemp -d /tmp/ray_cpp_bench_XXXXXX)"
STARTED=0
# shellcheck source=../cluster_pids.sh
source "$HERE/../cluster_pids.sh"
cleanup() {
  if [ "$STARTED" = 1 ]; then
    stop_cluster
  fi
  [ -n "${KEEP_WORK:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

# Upstream's wheel builds libray_api.so with the pre-C++11 std::string ABI: so must we.
CXXFLAGS=(-std=c++17 -O2)
# (grep reads all of nm's output: with pipefail, `grep -q` stopping early fails the pipeline.)
if ! nm -DC "$LIB/libray_api.so" | grep -c "std::__cxx11::basic_string" > /dev/null; then
  CXXFLAGS+=(-D_GLIBCXX_USE_CXX11_ABI=0)
fi
log "building against $INC ($LABEL): g++ ${CXXFLAGS[*]}"
mkdir -p "$WORK/lib"
# --no-as-needed: upstream's worker finds the library's functions through symbols of
# libray_api.so, which the library must therefore list as NEEDED.
g++ "${CXXFLAGS[@]}" -fPIC -shared -DRAY_BENCH_LIBRARY -I"$INC" "$HERE/cpp_bench.cc" \
  -L"$LIB" -Wl,--no-as-needed -lray_api -Wl,-rpath,"$LIB" -o "$WORK/lib/libcpp_bench_functions.so"
g++ "${CXXFLAGS[@]}" -I"$INC" "$HERE/cpp_bench.cc" -L"$LIB" -lray_api -Wl,-rpath,"$LIB" \
  -o "$WORK/cpp_bench"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log "ray start --head --node-ip-address 127.0.0.1 --port $PORT --num-cpus 2"
mkdir -p "$WORK/tmp"
STARTED=1
RAY_TMPDIR="$WORK/tmp" RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 "$RAY" start --head \
  --node-ip-address 127.0.0.1 --port "$PORT" --num-cpus 2 --temp-dir "$WORK/ray" < /dev/null >&2
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Upstream's `ray start` turns on token authentication when ~/.ray/auth_token exists (or makes
# one? Not on a fresh machine); its C++ driver sends that token only with RAY_AUTH_MODE=token.
DRIVER_ENV=()
if [ "$LABEL" != openray ] && [ -f "$HOME/.ray/auth_token" ]; then DRIVER_ENV=(RAY_AUTH_MODE=token); fi
env "${DRIVER_ENV[@]}" RAY_TMPDIR="$WORK/tmp" "$WORK/cpp_bench" --ray_address="127.0.0.1:$PORT" \
  --ray_code_search_path="$WORK/lib:$HERE" --label="$LABEL" "${ARGS[@]}" > "$WORK/out.json"
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
tail -n 1 "$WORK/out.json"
if [ -n "$JSON_OUT" ]; then tail -n 1 "$WORK/out.json" > "$JSON_OUT"; fi
