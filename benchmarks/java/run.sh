#!/usr/bin/env bash
# Builds and runs the Java benchmark (JavaBench.java) against a cluster started for it with
# `ray start --head --node-ip-address 127.0.0.1 --port P --num-cpus 2 --temp-dir DIR`, then stops
# it (ours: `ray stop`; upstream: by pid, since its `ray stop` ends every Ray process of the user).
#
#   benchmarks/java/run.sh [--ray DIR/bin/ray] [--json-out PATH] [JavaBench options...]
#
# --ray picks the installation: this project's .venv/bin/ray (default), or upstream Ray in its
# own venv, e.g. --ray /work/upstream-ray-venv/bin/ray. The jar is that installation's
# ray/jars/ray_dist.jar (ours: `scripts/java.sh build` installs it); the benchmark is compiled
# with plain javac against it, and the code search path names its classes and bench_fixtures.py.
# Progress on stderr; stdout ends with the JSON object JavaBench prints. Do not run it while a
# build runs.
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
log() { echo "[java bench] $*" >&2; }

PYTHON="$(dirname "$RAY")/python"
JAR="$("$PYTHON" -c 'import os, ray; print(os.path.join(os.path.dirname(ray.__file__), "jars", "ray_dist.jar"))')"
[ -f "$JAR" ] || { echo "no Java library at $JAR" >&2; exit 1; }
if "$RAY" --version 2>/dev/null | grep -q openray; then LABEL=openray; else LABEL="upstream $("$RAY" --version 2>/dev/null | awk '{print $NF}')"; fi

WORK="$(mktemp -d /tmp/ray_java_bench_XXXXXX)"
STARTED=0
# shellcheck source=../cluster_pids.sh
source "$HERE/../cluster_pids.sh"
cleanup() {
  if [ "$STARTED" = 1 ]; then
    stop_cluster
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log "building against $JAR ($LABEL)"
mkdir -p "$WORK/classes"
javac -cp "$JAR" -d "$WORK/classes" "$HERE/JavaBench.java"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log "ray start --head --node-ip-address 127.0.0.1 --port $PORT --num-cpus 2"
mkdir -p "$WORK/tmp"
STARTED=1
RAY_TMPDIR="$WORK/tmp" RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 "$RAY" start --head \
  --node-ip-address 127.0.0.1 --port "$PORT" --num-cpus 2 --temp-dir "$WORK/ray" < /dev/null >&2
# The GCS must listen on loopback only (127.0.0.1, or ::ffff:127.0.0.1 on a dual-stack socket).
LISTEN="$(ss -ltn 2>/dev/null | awk '{print $4}' | grep -E ":$PORT\$" || true)"
log "GCS listens on: $(echo $LISTEN)"
if grep -qvE '^\[?(::ffff:)?127\.0\.0\.1\]?:' <<<"$LISTEN"; then
  echo "the GCS listens beyond loopback: $LISTEN" >&2
  exit 1
fi
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Upstream's `ray start` turns on token authentication when ~/.ray/auth_token exists (or makes
# one); its drivers send that token with RAY_AUTH_MODE=token.
# Its Java driver takes the machine's address as its node's unless told (-Dray.node-ip).
DRIVER_ENV=()
JAVA_OPTS=()
if [ "$LABEL" != openray ]; then
  if [ -f "$HOME/.ray/auth_token" ]; then DRIVER_ENV=(RAY_AUTH_MODE=token); fi
  JAVA_OPTS=(-Dray.node-ip=127.0.0.1)
fi
env "${DRIVER_ENV[@]}" RAY_TMPDIR="$WORK/tmp" java "${JAVA_OPTS[@]}" -Dray.address="127.0.0.1:$PORT" \
  -Dray.job.code-search-path="$WORK/classes:$HERE" -cp "$WORK/classes:$JAR" JavaBench \
  --label "$LABEL" "${ARGS[@]}" < /dev/null > "$WORK/out.txt" || STATUS=$?
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$WORK/out.txt"
if [ "${STATUS:-0}" -ne 0 ]; then
  log "JavaBench failed (exit $STATUS)"
  exit "$STATUS"
fi
if [ -n "$JSON_OUT" ]; then tail -n 1 "$WORK/out.txt" > "$JSON_OUT"; fi
