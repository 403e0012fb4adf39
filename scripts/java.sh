#!/usr/bin/env bash
# Builds and tests the Java client library in java/ (Maven, Java 17; the gRPC and protobuf classes
# are generated from proto/ at build time, dependencies come from Maven Central into ~/.m2).
#
#   scripts/java.sh build   build java/ (mvn package, no tests): the shaded jar is installed as
#                           python/ray/jars/ray_dist.jar (where the Python workers' Java runner and
#                           upstream's wheel keep it)
#   scripts/java.sh test    one mvn package with every JUnit test: the unit tests, the jar built and
#                           installed, then the cluster tests, which start real clusters themselves
#                           (`ray start --head --port P --num-cpus N --temp-dir DIR`, and the
#                           library's own local cluster) and stop them, checking that no process
#                           and no /dev/shm entry is left; then a smoke test of the jar compiled
#                           with plain javac
#
# Installs what it needs: a JDK 17 and Maven (Debian packages, when missing) and, for the cluster
# tests, the project's Python environment in .venv (with py4j) if it lacks it. The `ray` command
# the tests use is RAY_CLI, else .venv/bin/ray. Run from anywhere, non-interactive (CI=true, no
# stdin); output is quiet unless something fails, and any failure exits non-zero.
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

# A JDK 17 and Maven, from Debian's packages when missing.
deps() {
  local missing=()
  command -v javac > /dev/null && command -v java > /dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mvn > /dev/null || missing+=(maven)
  [[ ${#missing[@]} -eq 0 ]] && return
  echo "java.sh: installing ${missing[*]}" >&2
  local sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo > /dev/null || die "not root and no sudo: install ${missing[*]} by hand"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q > /dev/null || die "apt-get update failed"
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" > /dev/null \
    || die "apt-get install ${missing[*]} failed"
  for tool in mvn java javac; do
    command -v "$tool" > /dev/null || die "'$tool' is still missing after installing ${missing[*]}"
  done
}

# The Python environment the cluster tests run the cluster from: .venv with the project (and so
# py4j, which the workers' Java runner drives the JVM with), as scripts/setup.sh makes it.
python_env() {
  if [[ -n "${RAY_CLI:-}" ]]; then
    [[ -x "$RAY_CLI" ]] || die "RAY_CLI=$RAY_CLI is not an executable"
    return
  fi
  if ! .venv/bin/python -c 'import ray, py4j' > /dev/null 2>&1; then
    echo "java.sh: installing the project into .venv" >&2
    [[ -x .venv/bin/python ]] || "${PYTHON:-python3}" -m venv .venv || die "cannot create .venv"
    .venv/bin/python -m pip install --quiet -e . < /dev/null || die "pip install -e . failed"
  fi
  export RAY_CLI="$ROOT/.venv/bin/ray"
}

# The package phase shades the jar and installs it as $DIST (java/runtime/pom.xml).
check_installed() {
  [[ -f "$JAR" ]] || die "the build did not produce $JAR"
  cmp -s "$JAR" "$DIST" || die "the build did not install $JAR as $DIST"
}

# Stops what an interrupted earlier run of the cluster tests left running: the clusters they
# start record themselves under java/test/target/ray-tmp (their RAY_TMPDIR), and nothing else
# does, so `ray stop` with that RAY_TMPDIR stops only those.
stop_leftovers() {
  local records=java/test/target/ray-tmp
  [[ -d "$records" ]] || return 0
  RAY_TMPDIR="$ROOT/$records" "$RAY_CLI" stop > /dev/null 2>&1 < /dev/null || true
}

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
    deps
    mvn_quiet -DskipTests package
    check_installed
    echo "java: built $DIST ($(du -h "$DIST" | cut -f1))"
    ;;
  test)
    deps
    python_env
    stop_leftovers
    clean_reports
    # One Maven run: api and runtime with their unit tests, the jar shaded and installed as
    # $DIST, then the cluster tests (java/test), which start their clusters and use that jar.
    status=0
    mvn_quiet package || status=$?
    if [[ "$status" -eq 0 ]]; then
      check_installed
      smoke
    fi
    summary || true
    exit "$status"
    ;;
  *)
    echo "usage: scripts/java.sh build|test" >&2
    exit 2
    ;;
esac
