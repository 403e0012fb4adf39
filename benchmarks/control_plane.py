#!/usr/bin/env python3
"""The control plane under load: GCS latency idle and with 2,000 pending actors and 1,000 open
subscriptions on one node, p50/p99.

    .venv/bin/python benchmarks/control_plane.py [--json-out PATH] [--upstream PYTHON]

Rows (each the latency of one call, measured back to back):
- `gcs_heartbeat` (ours only): a node's ReportHeartbeat at the GCS, the liveness path.
- `gcs_nodes_call`: `ray.nodes()` (a GCS round trip through the public API), in both systems.
- `task_round_trip`: one no-op task submitted and fetched, in both systems.

Each is measured on an idle cluster, then after 2,000 actors that wait for a resource only 2
can hold were created (and, for ours, 1,000 `Subscribe` streams were opened, as 1,000
connected drivers would hold). With `--upstream`, the same script runs under upstream Ray's
interpreter too (without the subscriptions, which its public API cannot open) and both are
printed side by side.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_common import fmt  # noqa: E402

PENDING_ACTORS = 2000
SUBSCRIPTIONS = 1000


def latencies(call: Callable[[], object], n: int) -> dict[str, float]:
    for _ in range(min(20, n)):
        call()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "n": n,
    }


def measure(n: int) -> dict[str, dict[str, float]]:
    import ray

    @ray.remote
    def noop():
        return None

    rows = {
        "gcs_nodes_call": latencies(lambda: ray.nodes(), n),
        "task_round_trip": latencies(lambda: ray.get(noop.remote(), timeout=60), n),
    }
    heartbeat = _heartbeat_call()
    if heartbeat is not None:
        rows["gcs_heartbeat"] = latencies(heartbeat, n)
    return rows


def _heartbeat_call() -> Callable[[], object] | None:
    """ReportHeartbeat for this node with its current view (ours only)."""
    try:
        from ray._private import runtime
        from ray._private.generated import gcs_pb2, gcs_pb2_grpc
    except ImportError:
        return None
    import grpc

    cw = runtime.core_worker()
    stub = gcs_pb2_grpc.GcsServiceStub(grpc.insecure_channel(runtime._context.address))
    node = next(
        x for x in stub.GetAllNodes(gcs_pb2.GetAllNodesRequest(), metadata=cw.token_md).nodes
    )
    request = gcs_pb2.ReportHeartbeatRequest(
        node_id=node.node_id, available=dict(node.resources.available)
    )
    return lambda: stub.ReportHeartbeat(request, timeout=30, metadata=cw.token_md)


def _open_subscriptions(count: int) -> Callable[[], None] | None:
    try:
        from ray._private import runtime
        from ray._private.generated import gcs_pb2, gcs_pb2_grpc
    except ImportError:
        return None
    import grpc

    md = runtime.core_worker().token_md
    channels = [grpc.insecure_channel(runtime._context.address) for _ in range(10)]
    streams = []
    for i in range(count):
        stub = gcs_pb2_grpc.GcsServiceStub(channels[i % len(channels)])
        streams.append(
            stub.Subscribe(gcs_pb2.SubscribeRequest(channels=[gcs_pb2.CHANNEL_LOGS]), metadata=md)
        )

    def close() -> None:
        for s in streams:
            s.cancel()
        for c in channels:
            c.close()

    return close


def run_here(n: int) -> dict:
    import ray

    kwargs = {"num_cpus": 2, "resources": {"scarce": 2}}
    if importlib.util.find_spec("ray._private.generated") is None:
        # Upstream Ray: keep it on loopback.
        kwargs["_node_ip_address"] = "127.0.0.1"
    ray.init(**kwargs)
    try:
        print("idle ...", file=sys.stderr, flush=True)
        idle = measure(n)

        @ray.remote(num_cpus=0, resources={"scarce": 1})
        class Scarce:
            def ping(self):
                return "pong"

        print(f"creating {PENDING_ACTORS} actors ...", file=sys.stderr, flush=True)
        t = time.perf_counter()
        actors = [Scarce.remote() for _ in range(PENDING_ACTORS)]
        create_s = time.perf_counter() - t
        pings = [a.ping.remote() for a in actors]
        ready, _ = ray.wait(pings, num_returns=2, timeout=120)
        assert len(ready) == 2, "two actors should have started"
        close = _open_subscriptions(SUBSCRIPTIONS)
        print("loaded ...", file=sys.stderr, flush=True)
        loaded = measure(n)
        if close is not None:
            close()
        for a in actors:
            ray.kill(a)
        alive = all(node["Alive"] for node in ray.nodes())
        return {
            "system": "ours" if close is not None else "upstream",
            "version": ray.__version__,
            "idle": idle,
            "loaded": loaded,
            "create_2000_actors_s": create_s,
            "subscriptions": SUBSCRIPTIONS if close is not None else 0,
            "node_alive_after": alive,
            "loadavg": os.getloadavg(),
        }
    finally:
        ray.shutdown()


def run_other(python: str, n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "side.json")
        env = dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
        subprocess.run(
            [python, __file__, "--side", "--n", str(n), "--json-out", out],
            check=True,
            timeout=900,
            env=env,
            stdout=sys.stderr,
        )
        with open(out) as f:
            return json.load(f)


def table(reports: list[dict]) -> str:
    lines = [
        f"{'row':<18} {'state':<7} "
        + " ".join(f"{r['system'] + ' p50/p99 ms':>24}" for r in reports)
    ]
    for row in ("gcs_heartbeat", "gcs_nodes_call", "task_round_trip"):
        for state in ("idle", "loaded"):
            cells = []
            for r in reports:
                m = r[state].get(row)
                cells.append(f"{(fmt(m['p50_ms']) + ' / ' + fmt(m['p99_ms'])) if m else '-':>24}")
            lines.append(f"{row:<18} {state:<7} " + " ".join(cells))
    lines.append(
        f"{'create 2000 actors':<26} "
        + " ".join(f"{fmt(r['create_2000_actors_s']) + ' s':>24}" for r in reports)
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="calls per row and state")
    parser.add_argument("--upstream", help="upstream Ray's python, to run the same side by side")
    parser.add_argument("--json-out")
    parser.add_argument("--side", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    reports = [run_here(args.n)]
    if args.upstream and not args.side:
        reports.append(run_other(args.upstream, args.n))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(reports if not args.side else reports[0], f, indent=1)
    if not args.side:
        print(table(reports))


if __name__ == "__main__":
    main()
