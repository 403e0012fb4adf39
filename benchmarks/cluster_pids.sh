#!/usr/bin/env bash
# Sourced by the Java and C++ benchmark runners: stopping the cluster a run started, by pid.
# Needs WORK (the run's folder, which the cluster's --temp-dir lies under), RAY, LABEL (openray or
# upstream ...) and a `log` function.

# The processes of the cluster started here: those whose command line names $WORK (its
# --temp-dir) and their descendants (workers retitle themselves).
cluster_pids() {
  local roots pids
  roots="$(ps -ww -eo pid=,args= | awk -v w="$WORK" 'index($0, w) && $2 !~ /awk/ {print $1}')"
  pids="$roots"
  while [ -n "$roots" ]; do
    roots="$(ps -eo pid=,ppid= | awk -v r=" $(echo $roots) " 'index(r, " " $2 " ") {print $1}')"
    pids="$pids $roots"
  done
  echo $pids
}

# SIGTERM to every process of the cluster, SIGKILL to what is left after 10 s.
stop_by_pid() {
  local pids
  pids="$(cluster_pids)"
  [ -n "$pids" ] || return 0
  kill -TERM $pids 2> /dev/null || true
  for _ in $(seq 100); do
    # (`if`, not `&&`: a dead last pid must not fail the substitution, which under `set -e`
    # ended the whole run here and left the cluster running.)
    pids="$(for p in $pids; do if kill -0 "$p" 2> /dev/null; then echo "$p"; fi; done)"
    [ -z "$pids" ] && return 0
    sleep 0.1
  done
  log "killing what did not stop: $pids"
  kill -KILL $pids 2> /dev/null || true
}

# Stops the cluster the run started: ours with its own `ray stop`, which stops exactly what its
# `ray start` recorded in $RAY_TMPDIR; upstream's by pid, since its `ray stop` ends every Ray
# process of this user by name (other clusters on this machine too).
stop_cluster() {
  if [ "$LABEL" = openray ]; then
    log "ray stop"
    RAY_TMPDIR="$WORK/tmp" "$RAY" stop > "$WORK/stop.log" 2>&1 || { cat "$WORK/stop.log" >&2; true; }
    tail -n 1 "$WORK/stop.log" >&2
  else
    log "stopping the upstream cluster by pid"
    stop_by_pid
  fi
}
