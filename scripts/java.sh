#!/usr/bin/env bash
# Builds and tests the Java client library in java/ (Maven, Java 17; the gRPC and protobuf classes
# are generated from proto/ at build time, dependencies come from Maven Central into ~/.m2).
#
#   scripts/java.sh build         build java/ and copy the shaded jar to python/ray/jars/ray_dist.jar
#   scripts/java.sh test          run the JUnit tests that need no cluster, then a smoke test of the jar
#   scripts/java.sh test-cluster  start a cluster (ray start --head --block), run every Java test
#                                 against it (mvn -Pcluster), stop it
#
# Run from anywhere; output is quiet unless something fails, and any failure exits non-zero.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MVN=(mvn -q -B -ntp -Dstyle.color=never -f java/pom.xml)

# Maven (3.8, Debian's) prints stray ANSI resets even in batch mode; drop them.
mvn_quiet() {
  "${MVN[@]}" "$@" 2>&1 | sed -u $'s/\x1b\\[0m//g'
}
JAR=java/runtime/target/ray_dist.jar
DIST=python/ray/jars/ray_dist.jar

die() {
  echo "java.sh: $*" >&2
  exit 1
}

for tool in mvn java javac; do
  command -v "$tool" > /dev/null || die "'$tool' is not installed (need JDK 17 and Maven 3.8+)"
done

# Prints "java: N passed, N failed[, N skipped]" from the Surefire reports of this run.
summary() {
  python3 - "$@" << 'PY'
import glob, re, sys
tests = failed = skipped = 0
for path in glob.glob("java/*/target/surefire-reports/TEST-*.xml"):
    head = open(path, encoding="utf-8").read(4096)
    m = re.search(r"<testsuite\b[^>]*>", head)
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(0))) if m else {}
    tests += int(attrs.get("tests", 0))
    failed += int(attrs.get("failures", 0)) + int(attrs.get("errors", 0))
    skipped += int(attrs.get("skipped", 0))
if tests == 0:
    sys.exit("java.sh: no test ran")
line = f"java: {tests - failed - skipped} passed, {failed} failed"
print(line + (f", {skipped} skipped" if skipped else ""))
PY
}

clean_reports() {
  rm -rf java/*/target/surefire-reports
}

smoke() {
  local dir port
  dir="$(mktemp -d)"
  javac -d "$dir" -cp "$JAR" java/test/smoke/JarSmoke.java
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  RAY_CLUSTER_TOKEN=smoke java -cp "$dir:$JAR" JarSmoke "127.0.0.1:$port" > "$dir/out.txt" 2>&1 \
    || { cat "$dir/out.txt" >&2; rm -rf "$dir"; die "the ray_dist.jar smoke test failed"; }
  rm -rf "$dir"
}

case "${1:-}" in
  build)
    mvn_quiet -DskipTests package
    [[ -f "$JAR" ]] || die "the build did not produce $JAR"
    mkdir -p "$(dirname "$DIST")"
    cp "$JAR" "$DIST"
    echo "java: built $DIST ($(du -h "$DIST" | cut -f1))"
    ;;
  test)
    clean_reports
    mvn_quiet package
    smoke
    summary
    ;;
  test-cluster)
    RAY_CLI="${RAY_CLI:-$ROOT/.venv/bin/ray}"
    [[ -x "$RAY_CLI" ]] || die "no ray command at $RAY_CLI (set RAY_CLI)"
    tmp="$(mktemp -d)"
    export RAY_TMPDIR="$tmp/ray"
    PYTHONUNBUFFERED=1 "$RAY_CLI" start --head --port 0 --num-cpus 4 --block \
      < /dev/null > "$tmp/ray.log" 2>&1 &
    ray_pid=$!
    trap 'kill -TERM "$ray_pid" 2> /dev/null || true; wait "$ray_pid" 2> /dev/null || true; rm -rf "$tmp"' EXIT
    for _ in $(seq 600); do
      grep -q "^See the cluster with" "$tmp/ray.log" && break
      kill -0 "$ray_pid" 2> /dev/null || { cat "$tmp/ray.log" >&2; die "ray start exited"; }
      sleep 0.1
    done
    RAY_ADDRESS="$(sed -n 's/^ *GCS address: *\([^ ]*\).*/\1/p' "$tmp/ray.log" | head -n1)"
    [[ -n "$RAY_ADDRESS" ]] || { cat "$tmp/ray.log" >&2; die "no GCS address in the output of ray start"; }
    export RAY_ADDRESS
    # The Java runtime finds the token as a driver on this machine does: in the record that
    # `ray start` keeps in $RAY_TMPDIR (ray_current_cluster -> session directory -> token).
    unset RAY_CLUSTER_TOKEN
    clean_reports
    status=0
    mvn_quiet -Pcluster package || status=$?
    summary || true
    exit "$status"
    ;;
  *)
    echo "usage: scripts/java.sh build|test|test-cluster" >&2
    exit 2
    ;;
esac
