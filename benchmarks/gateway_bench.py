#!/usr/bin/env python3
"""The client gateway's figures, measured with the protocol-level test client, beside the
Python driver's own figures for the same operations in the same run (same cluster).

    .venv/bin/python benchmarks/gateway_bench.py [--json-out PATH] [--trials N]

The client (`tests/gateway_client.py`) speaks client_gateway.proto through the generated
stubs, as the Java and C++ libraries do. Rows: one small put, one small get, one task round
trip (submit, then get its result), 1,000 pipelined tasks (the Submit stream, then one Get),
and 100 MiB put and get (chunked). Throughputs are the median of the trials.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from bench_common import fmt  # noqa: E402
from gateway_client import GatewayClient, python_function, value  # noqa: E402

import ray  # noqa: E402
from ray._private import runtime, serialization  # noqa: E402

CODE = str(HERE.parent / "tests" / "gateway_code")
MIB = 1 << 20


def rate(fn: Callable[[], object], seconds: float, multiplier: float = 1.0) -> float:
    fn()
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return multiplier * n / elapsed


def trials(fn: Callable[[], float], n: int) -> tuple[float, list[float]]:
    values = [fn() for _ in range(n)]
    return statistics.median(values), values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--trial-seconds", type=float, default=1.0)
    parser.add_argument("--json-out", default=None)
    opts = parser.parse_args()
    ray.init(num_cpus=2)
    address = runtime._context.address
    results: dict[str, dict] = {}

    def record(name: str, unit: str, better: str, median: float, values: list[float]) -> None:
        results[name] = {"unit": unit, "better": better, "value": median, "trials": values}
        print(f"{name:36s} {fmt(median):>12s} {unit}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    client = GatewayClient(address, runtime._node.token, code_search_path=[CODE])
    record("gateway_open_session", "s", "lower", time.perf_counter() - t0, [])
    try:
        small = serialization.serialize(0).to_bytes()
        one = serialization.serialize(1).to_bytes()
        held = client.put(small)
        add = python_function("gateway_targets", "add")

        garbage: list[bytes] = []

        def drop(oid: bytes) -> None:
            # A client library releases in batches, off the caller's path.
            garbage.append(oid)
            if len(garbage) >= 500:
                client.release(garbage)
                garbage.clear()

        def put_small() -> None:
            drop(client.put(small))

        def task_round_trip() -> None:
            # As a library does it: the task goes on the Submit stream (no round trip), then
            # one Get waits for its result.
            item, rid = client.task_item(add, [value(one), value(one)])
            client.submit_nowait([item])
            client.get([rid])
            drop(rid)

        def pipelined() -> float:
            items, returns = [], []
            for _ in range(1000):
                item, rid = client.task_item(add, [value(one), value(one)])
                items.append(item)
                returns.append(rid)
            t = time.perf_counter()
            client.submit_stream([items[i : i + 100] for i in range(0, 1000, 100)])
            client.get(returns)
            elapsed = time.perf_counter() - t
            client.release(returns)
            return 1000 / elapsed

        big = serialization.serialize(np.ones(100 * MIB, dtype=np.uint8)).to_bytes()

        def put_big() -> float:
            t = time.perf_counter()
            oid = client.put(big)
            elapsed = time.perf_counter() - t
            client.release([oid])
            return len(big) / elapsed / 1e9

        client.release(garbage)
        garbage.clear()
        big_id = client.put(big)

        def get_big() -> float:
            t = time.perf_counter()
            client.get([big_id])
            return len(big) / (time.perf_counter() - t) / 1e9

        n, s = opts.trials, opts.trial_seconds
        record("gateway_put_small", "ops/s", "higher", *trials(lambda: rate(put_small, s), n))
        record(
            "gateway_get_small",
            "ops/s",
            "higher",
            *trials(lambda: rate(lambda: client.get([held]), s), n),
        )
        record(
            "gateway_task_round_trip",
            "ops/s",
            "higher",
            *trials(lambda: rate(task_round_trip, s), n),
        )
        pipelined()
        record("gateway_tasks_pipelined_1k", "tasks/s", "higher", *trials(pipelined, n))
        record("gateway_put_100mib", "GB/s", "higher", *trials(put_big, n))
        record("gateway_get_100mib", "GB/s", "higher", *trials(get_big, n))
    finally:
        client.close()

    # The Python driver's own figures for the same operations, on the same cluster.
    @ray.remote
    def add_py(a: int, b: int) -> int:
        return a + b

    ref = ray.put(0)
    n, s = opts.trials, opts.trial_seconds
    record("driver_put_small", "ops/s", "higher", *trials(lambda: rate(lambda: ray.put(0), s), n))
    record("driver_get_small", "ops/s", "higher", *trials(lambda: rate(lambda: ray.get(ref), s), n))
    record(
        "driver_task_round_trip",
        "ops/s",
        "higher",
        *trials(lambda: rate(lambda: ray.get(add_py.remote(1, 1)), s), n),
    )

    def driver_pipelined() -> float:
        t = time.perf_counter()
        ray.get([add_py.remote(1, 1) for _ in range(1000)])
        return 1000 / (time.perf_counter() - t)

    driver_pipelined()
    record("driver_tasks_pipelined_1k", "tasks/s", "higher", *trials(driver_pipelined, n))
    ray.shutdown()
    report = {"results": results, "loadavg": os.getloadavg()}
    if opts.json_out:
        Path(opts.json_out).write_text(json.dumps(report, indent=1))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
