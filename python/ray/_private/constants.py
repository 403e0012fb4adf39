"""Tunables of the runtime. Each can be overridden by an environment variable `RAY_<NAME>`."""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)


class TunableError(ValueError):
    """An environment variable overriding a tunable does not hold a value of its type."""


def _env(name: str, default: float, kind: type) -> float:
    value = os.environ.get(f"RAY_{name}")
    if not value:
        return default
    try:
        parsed = kind(value)
    except ValueError:
        raise TunableError(
            f"The environment variable RAY_{name}={value!r} is not {'an integer' if kind is int else 'a number'}; "
            f"set it to one (the default is {default}) or unset it."
        ) from None
    if parsed != parsed or parsed in (float("inf"), float("-inf")):
        raise TunableError(f"The environment variable RAY_{name}={value!r} must be finite.")
    return parsed


def _env_int(name: str, default: int) -> int:
    return int(_env(name, default, int))


def _env_float(name: str, default: float) -> float:
    return float(_env(name, default, float))


# Objects at most this large travel inline in RPCs and live in the owner's memory.
MAX_INLINE_OBJECT_BYTES = _env_int("MAX_INLINE_OBJECT_BYTES", 100 * 1024)
# Default object store capacity as a fraction of system memory (capped below).
OBJECT_STORE_MEMORY_FRACTION = _env_float("OBJECT_STORE_MEMORY_FRACTION", 0.3)
OBJECT_STORE_MEMORY_CAP_BYTES = _env_int("OBJECT_STORE_MEMORY_CAP_BYTES", 200 * 1024**3)
# Deadline of ordinary control-plane RPCs.
RPC_TIMEOUT_S = _env_float("RPC_TIMEOUT_S", 30.0)
# How long a started process may take to report its port.
PROCESS_START_TIMEOUT_S = _env_float("PROCESS_START_TIMEOUT_S", 60.0)
# Node heartbeats, and how many missed ones mark a node dead.
HEARTBEAT_PERIOD_S = _env_float("HEARTBEAT_PERIOD_S", 0.5)
NUM_HEARTBEATS_TIMEOUT = _env_int("NUM_HEARTBEATS_TIMEOUT", 20)
# How long the cluster keeps working without its GCS: node managers, workers, actors and
# in-flight work go on, new tasks of functions already known run; after it, nodes stop and
# calls that need the GCS fail.
GCS_GRACE_S = _env_float("GCS_GRACE_S", 60.0)
# A lease with no queued task is kept this long before it is returned.
IDLE_LEASE_TIMEOUT_S = _env_float("IDLE_LEASE_TIMEOUT_S", 0.05)
# Tasks pushed to one leased worker at a time: the next one waits on the worker, so the
# worker does not idle between tasks.
MAX_TASKS_IN_FLIGHT_PER_WORKER = _env_int("MAX_TASKS_IN_FLIGHT_PER_WORKER", 2)
# Lease requests one resource shape keeps in flight at once, when its queue is long enough
# to use that many workers (a burst then gets its leases, spilled ones too, in one round).
MAX_PENDING_LEASE_REQUESTS = _env_int("MAX_PENDING_LEASE_REQUESTS", 4)
# A task waiting on a worker is given back to its submitter if the task ahead of it blocks
# (in get/wait) or has run this long; the submitter then stops queueing on that worker
# for PIPELINE_BACKOFF_S.
PIPELINE_WAIT_S = _env_float("PIPELINE_WAIT_S", 0.02)
PIPELINE_BACKOFF_S = _env_float("PIPELINE_BACKOFF_S", 1.0)
# A task push stream with nothing in flight is closed after this long.
STREAM_IDLE_S = _env_float("STREAM_IDLE_S", 2.0)
# Push streams a process keeps open at once (two threads each); tasks to further workers
# go as unary calls.
MAX_PUSH_STREAMS = _env_int("MAX_PUSH_STREAMS", 64)
# Idle workers above the prestarted pool exit after this long.
IDLE_WORKER_KILL_S = _env_float("IDLE_WORKER_KILL_S", 10.0)
# Calls one caller keeps in flight to one actor: its max_concurrency, within these bounds.
ACTOR_CALLS_IN_FLIGHT_MIN = _env_int("ACTOR_CALLS_IN_FLIGHT_MIN", 32)
ACTOR_CALLS_IN_FLIGHT_MAX = _env_int("ACTOR_CALLS_IN_FLIGHT_MAX", 256)
# An actor runs a caller's later calls if an earlier one has not arrived after this long.
SEQUENCE_GAP_TIMEOUT_S = _env_float("SEQUENCE_GAP_TIMEOUT_S", 10.0)
# Poll interval of long-polls (get on borrowed objects, actor state).
LONG_POLL_S = _env_float("LONG_POLL_S", 5.0)
# A client session's KeepAlive stream replies this often; a session without a stream for
# its grace period (default SESSION_RECONNECT_GRACE_S, at most SESSION_MAX_GRACE_S) ends.
SESSION_KEEPALIVE_S = _env_float("SESSION_KEEPALIVE_S", 2.0)
SESSION_RECONNECT_GRACE_S = _env_float("SESSION_RECONNECT_GRACE_S", 10.0)
SESSION_MAX_GRACE_S = 60.0
# How long a session owner may take to start.
SESSION_START_TIMEOUT_S = _env_float("SESSION_START_TIMEOUT_S", 60.0)
# How long the Submit stream holds an acknowledgement back while return values it was asked
# for are on their way, so the two travel in one reply (a client's sync call then reads one
# message, not two).
SUBMIT_ACK_HOLD_S = _env_float("SUBMIT_ACK_HOLD_S", 0.002)
# Largest object a client may put.
MAX_CLIENT_OBJECT_BYTES = _env_int("MAX_CLIENT_OBJECT_BYTES", 64 * 1024**3)
# Where sessions live.
TEMP_DIR = os.environ.get("RAY_TMPDIR", "/tmp/openray")
# Default retries.
DEFAULT_TASK_MAX_RETRIES = _env_int("DEFAULT_TASK_MAX_RETRIES", 3)
# Lines of a dead worker's stderr shown in WorkerCrashedError.
STDERR_TAIL_LINES = _env_int("STDERR_TAIL_LINES", 20)
# The bound on how long ray.shutdown() waits for the workers' last output to be printed.
LOG_DRAIN_TIMEOUT_S = _env_float("LOG_DRAIN_TIMEOUT_S", 5.0)
# gRPC metadata key carrying the cluster token.
TOKEN_METADATA_KEY = "x-ray-token"
# Environment variable carrying the token to child processes.
TOKEN_ENV = "RAY_CLUSTER_TOKEN"
# Default GCS port of `ray start --head`.
DEFAULT_GCS_PORT = 6379
# Max message size on every channel.
GRPC_MAX_MESSAGE_BYTES = 512 * 1024 * 1024
# How much of a stream gRPC receives ahead of its reader, on every channel and server. A fixed
# window rather than gRPC's bandwidth-delay probing: on loopback that probing let a stream's
# window grow past 100 MB, so a pull whose store writes lag the network buffered most of a
# large object in the node manager's heap (about 200 MB for a 600 MB object; about 60 MB with
# this bound, whatever the size). 4 MiB in flight per stream still fills a 10 Gb/s link at
# a 3 ms round trip.
GRPC_STREAM_WINDOW_BYTES = _env_int("GRPC_STREAM_WINDOW_BYTES", 4 * 1024**2)
# Objects pulled from another node travel in chunks of this size (the source may send smaller
# ones; always kept well below GRPC_MAX_MESSAGE_BYTES). A transfer holds about one chunk in
# memory at each end, besides the destination's store.
OBJECT_TRANSFER_CHUNK_BYTES = _env_int("OBJECT_TRANSFER_CHUNK_BYTES", 4 * 1024**2)
# A pull of an object larger than OBJECT_TRANSFER_PARALLEL_MIN_BYTES reads it from its source
# on this many ReadObject streams at once, each a range of it written straight into the copy
# (one stream runs at about half of what loopback and the store's page faults allow).
OBJECT_TRANSFER_STREAMS = _env_int("OBJECT_TRANSFER_STREAMS", 2)
OBJECT_TRANSFER_PARALLEL_MIN_BYTES = _env_int("OBJECT_TRANSFER_PARALLEL_MIN_BYTES", 8 * 1024**2)
# A range stream that breaks is resumed where it stopped, this many times per range, before
# the pull gives up on the source.
OBJECT_TRANSFER_RANGE_RETRIES = _env_int("OBJECT_TRANSFER_RANGE_RETRIES", 2)
# A pull that receives no chunk for this long gives up on its source and tries the next copy.
OBJECT_TRANSFER_STALL_S = _env_float("OBJECT_TRANSFER_STALL_S", 30.0)
# The longest a get waits for objects to arrive from other nodes when it has no timeout.
OBJECT_PULL_TIMEOUT_S = _env_float("OBJECT_PULL_TIMEOUT_S", 600.0)
# Pulls a node runs at once (more wait for a free slot).
MAX_CONCURRENT_PULLS = _env_int("MAX_CONCURRENT_PULLS", 4)
# The exit code of a worker that ends on purpose (`exit_actor()`, a non-forced `ray.kill`, an
# idle worker the node manager stops): any other exit of an actor's worker, `sys.exit()` and
# `os._exit(0)` included, is the actor dying (restarted under `max_restarts`), as in Ray.
WORKER_INTENDED_EXIT_CODE = 75
# How often a process sends the application metrics it recorded to its node manager.
METRICS_REPORT_INTERVAL_S = _env_float("METRICS_REPORT_INTERVAL_S", 2.0)
# Also export each counter as a gauge without the `_total` suffix (upstream's default since 2.10).
EXPORT_COUNTER_AS_GAUGE = bool(_env_int("EXPORT_COUNTER_AS_GAUGE", 1))
# The largest runtime_env package (working_dir, a py_modules entry), as Ray bounds it (500 MiB;
# RAY_max_grpc_message_size overrides it, as in Ray).
RUNTIME_ENV_MAX_PACKAGE_BYTES = 500 * 1024 * 1024
# The prefix of a lease rejection for a runtime env whose workers could not start (the node
# scheduler writes it, the submitter recognises it).
RUNTIME_ENV_SETUP_FAILED = "The runtime env could not be set up"
