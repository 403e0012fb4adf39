#!/usr/bin/env python3
"""Microbenchmarks of the public Ray API: start-up, idle memory, tasks, objects and actors.

The same file runs unchanged under this project's `ray` and under upstream Ray, because it uses
only the public API (`ray.init/remote/get/put/wait/kill/shutdown`, actors via `@ray.remote` on a
class)::

    /work/main/.venv/bin/python benchmarks/microbenchmark.py
    /work/upstream-ray-venv/bin/python benchmarks/microbenchmark.py

It prints a table and then, as the last line of stdout, one JSON object with every result
(`--json-out` also writes that object to a file; `benchmarks/compare.py` reads it). The names and
shapes follow upstream's `ray microbenchmark` (`ray/_private/ray_perf.py`), scaled to a 2-core
machine. Throughputs are the MEDIAN of several fixed-length trials after a warm-up (the best trial
is kept in `best`); latencies and sizes are the MEDIAN of several runs (the best in `best`).

A benchmark that fails records an entry with `error` and the run goes on with the next one. Every
`ray.get`/`ray.wait` has a timeout, and each benchmark has a time budget plus a hard alarm, so the
whole run finishes in a few minutes even when something hangs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import mmap
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import psutil
from bench_common import fmt, listening_beyond_loopback, tagged_pids

# Every cluster stays on loopback: ray.init gets _node_ip_address=127.0.0.1, and upstream Ray
# also needs this variable before it is imported, or it maps 127.0.0.1 back to the machine's
# own address (ours ignores it).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import ray  # noqa: E402

NUM_CPUS = 2
GET_TIMEOUT_S = 30.0
MIB = 1 << 20
LARGE_OBJECT_BYTES = 100 * MIB
CLUSTER_TAG_ENV = "MICROBENCH_CLUSTER_TAG"
LOOPBACK = "127.0.0.1"

# ---------------------------------------------------------------------------------------------
# Results and timing harness
# ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    """One measured number (or the error that prevented measuring it)."""

    name: str
    group: str
    unit: str
    better: str  # "higher" or "lower"
    value: float | None = None
    best: float | None = None
    stat: str = ""
    trials: list[float] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Config:
    """Knobs shared by every benchmark (see `--help`)."""

    trials: int
    trial_s: float
    warmup_s: float
    budget_s: float
    hard_limit_s: float
    init_runs: int
    settle_s: float


class BenchmarkTimeout(Exception):
    """A benchmark overran its hard time limit."""


def measure_rate(fn: Callable[[], Any], multiplier: float, cfg: Config) -> list[float]:
    """Calls `fn` for `cfg.trials` trials of about `cfg.trial_s` seconds each, after a warm-up.

    Returns:
        One rate per trial: `multiplier * calls / seconds`. Stops early (keeping at least one trial)
        when `cfg.budget_s` is spent.
    """
    start = time.perf_counter()
    deadline = start + cfg.warmup_s
    fn()
    while time.perf_counter() < deadline:
        fn()
    rates: list[float] = []
    for _ in range(cfg.trials):
        calls = 0
        t0 = time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= cfg.trial_s:
                break
        rates.append(multiplier * calls / elapsed)
        if time.perf_counter() - start > cfg.budget_s:
            break
    return rates


def measure_seconds(fn: Callable[[], Any], cfg: Config, reps: int, warmup: int = 1) -> list[float]:
    """Times `reps` calls of `fn` one by one (after `warmup` untimed calls), within the budget."""
    start = time.perf_counter()
    for _ in range(warmup):
        fn()
    times: list[float] = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > cfg.budget_s:
            break
    return times


def rate_result(name: str, group: str, rates: list[float]) -> Result:
    """A higher-is-better result: the median trial, and the best (highest) one."""
    return Result(
        name=name,
        group=group,
        unit=RESULT_UNITS[name][0],
        better="higher",
        value=statistics.median(rates),
        best=max(rates),
        stat=f"median of {len(rates)} trials",
        trials=rates,
    )


def seconds_result(name: str, group: str, times: list[float]) -> Result:
    """A lower-is-better result: the median run, and the best (lowest) one."""
    return Result(
        name=name,
        group=group,
        unit=RESULT_UNITS[name][0],
        better="lower",
        value=statistics.median(times),
        best=min(times),
        stat=f"median of {len(times)} runs",
        trials=times,
    )


@contextlib.contextmanager
def hard_limit(seconds: float) -> Iterator[None]:
    """Raises BenchmarkTimeout in the main thread if the block runs longer than `seconds`."""

    def on_alarm(signum: int, frame: Any) -> None:
        raise BenchmarkTimeout(f"benchmark overran its hard limit of {seconds:.0f}s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------------------------
# Process and memory helpers
# ---------------------------------------------------------------------------------------------


def process_label(proc: psutil.Process) -> str:
    """A short name for a cluster process: the binary, the `-m` module or the script."""
    try:
        cmd = proc.cmdline()
    except psutil.Error:
        return "?"
    if not cmd:
        return proc.name()
    exe = os.path.basename(cmd[0])
    if exe.startswith("python"):
        if "-m" in cmd[:-1]:
            return cmd[cmd.index("-m") + 1].rsplit(".", 1)[-1]
        for arg in cmd[1:]:
            if not arg.startswith("-"):
                return os.path.basename(arg)
    return exe[:40]


def memory_of(pids: list[int]) -> dict[str, Any]:
    """RSS, USS and PSS (MiB) of each pid and their sums; vanished pids are skipped."""
    procs = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            try:
                full = p.memory_full_info()
                rss, uss, pss = full.rss, full.uss, getattr(full, "pss", None)
            except psutil.AccessDenied:
                rss, uss, pss = p.memory_info().rss, None, None
            procs.append(
                {
                    "pid": pid,
                    "label": process_label(p),
                    "rss_mib": rss / MIB,
                    "uss_mib": None if uss is None else uss / MIB,
                    "pss_mib": None if pss is None else pss / MIB,
                }
            )
        except psutil.Error:
            continue

    def total(key: str) -> float | None:
        values = [p[key] for p in procs]
        return None if not values or any(v is None for v in values) else sum(values)

    return {
        "processes": procs,
        "count": len(procs),
        "rss_mib": total("rss_mib"),
        "uss_mib": total("uss_mib"),
        "pss_mib": total("pss_mib"),
    }


def reap(pids: list[int], grace_s: float) -> list[str]:
    """Waits up to `grace_s` for `pids` to exit, then kills the survivors (by pid); names them."""
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            procs.append(psutil.Process(pid))
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    killed = []
    for p in alive:
        with contextlib.suppress(psutil.Error):
            killed.append(f"{p.pid}:{process_label(p)}")
            p.terminate()
    _, alive = psutil.wait_procs(alive, timeout=3)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    return killed


# ---------------------------------------------------------------------------------------------
# Start-up time and idle memory (fresh interpreter per run)
# ---------------------------------------------------------------------------------------------

# Runs in a fresh interpreter so that `import ray` is measured cold (nothing preloaded). The
# cluster processes inherit CLUSTER_TAG_ENV, so they are found even if one is not a descendant.
_INIT_CHILD = r"""
import time
t0 = time.perf_counter()
import ray
t1 = time.perf_counter()
ray.init(num_cpus=NUM_CPUS, _node_ip_address="127.0.0.1")
t2 = time.perf_counter()
import json, os, sys
sys.path.insert(0, SCRIPT_DIR)
import psutil
from microbenchmark import memory_of, reap, tagged_pids, CLUSTER_TAG_ENV
time.sleep(SETTLE_S)
me = psutil.Process()
pids = {c.pid for c in me.children(recursive=True)}
pids |= set(tagged_pids(CLUSTER_TAG_ENV, os.environ[CLUSTER_TAG_ENV]))
pids.discard(os.getpid())
mem = memory_of(sorted(pids))
driver_rss = me.memory_info().rss / (1 << 20)
t3 = time.perf_counter()
ray.shutdown()
t4 = time.perf_counter()
left = reap(sorted(pids), 10.0)
print("INIT_CHILD_RESULT " + json.dumps({
    "import_s": t1 - t0, "init_s": t2 - t1, "shutdown_s": t4 - t3,
    "memory": mem, "driver_rss_mib": driver_rss, "leftovers_killed": left,
}))
"""


def bench_init_and_idle_memory(cfg: Config, out: list[Result]) -> None:
    """`import ray` and `ray.init(num_cpus=2)` times, then the memory of the idle cluster."""
    group = "init"
    script_dir = os.path.dirname(os.path.abspath(__file__))
    code = (
        _INIT_CHILD.replace("NUM_CPUS", str(NUM_CPUS))
        .replace("SCRIPT_DIR", repr(script_dir))
        .replace("SETTLE_S", repr(cfg.settle_s))
    )
    runs: list[dict[str, Any]] = []
    errors: list[str] = []
    for _ in range(cfg.init_runs):
        tag = uuid.uuid4().hex
        env = dict(os.environ, **{CLUSTER_TAG_ENV: tag})
        try:
            proc = subprocess.run(
                [sys.executable, "-c", code],
                env=env,
                cwd=script_dir,
                capture_output=True,
                text=True,
                timeout=120 + cfg.settle_s,
            )
        except subprocess.TimeoutExpired:
            errors.append("init child timed out")
            reap(tagged_pids(CLUSTER_TAG_ENV, tag), 0)
            continue
        leftovers = reap(tagged_pids(CLUSTER_TAG_ENV, tag), 5.0)
        line = next(
            (ln for ln in proc.stdout.splitlines() if ln.startswith("INIT_CHILD_RESULT ")), None
        )
        if proc.returncode != 0 or line is None:
            errors.append(f"init child exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
            continue
        run = json.loads(line.split(" ", 1)[1])
        run["leftovers_killed"] += leftovers
        runs.append(run)
    if not runs:
        raise RuntimeError("; ".join(errors) or "no init run succeeded")

    out.append(seconds_result("import_time", group, [r["import_s"] for r in runs]))
    out.append(seconds_result("init_time", group, [r["init_s"] for r in runs]))
    out.append(seconds_result("shutdown_time", group, [r["shutdown_s"] for r in runs]))
    # Memory: report the run with the median RSS, so the numbers belong to one cluster.
    runs.sort(key=lambda r: r["memory"]["rss_mib"] or 0.0)
    mid = runs[len(runs) // 2]
    mem = mid["memory"]
    note = f"median run of {len(runs)}, {cfg.settle_s:g}s after init, driver excluded"
    details = {
        "processes": mem["processes"],
        "driver_rss_mib": mid["driver_rss_mib"],
        "leftovers_killed": [x for r in runs for x in r["leftovers_killed"]],
        "errors": errors,
    }
    for key, label in (("rss_mib", "rss"), ("uss_mib", "uss"), ("pss_mib", "pss")):
        values = [r["memory"][key] for r in runs if r["memory"][key] is not None]
        out.append(
            Result(
                name=f"idle_cluster_{label}",
                group=group,
                unit="MiB",
                better="lower",
                value=mem[key],
                best=min(values) if values else None,
                stat=note,
                trials=values,
                details=details if label == "rss" else {},
            )
        )
    out.append(
        Result(
            name="idle_cluster_processes",
            group=group,
            unit="count",
            better="lower",
            value=mem["count"],
            stat=note,
            details={"labels": sorted(p["label"] for p in mem["processes"])},
        )
    )


# ---------------------------------------------------------------------------------------------
# Remote functions and actors
# ---------------------------------------------------------------------------------------------


@ray.remote
def small_value() -> int:
    return 0


@ray.remote
def yield_small_values(n: int) -> Any:
    """A generator task (streaming, the default for a body that yields)."""
    for _ in range(n):
        yield 0


@ray.remote
def call_own_actor(actor: Any, n: int) -> int:
    """The caller side of "n:n actor calls async": `n` pipelined calls to one actor."""
    ray.get([actor.small_value.remote() for _ in range(n)], timeout=GET_TIMEOUT_S)
    return n


# Actors ask for no CPU so that 8 of them, plus the n:n caller tasks, fit on 2 cores (upstream's
# default, 1 CPU to schedule and 0 to run, would give the same placement).
@ray.remote(num_cpus=0)
class Actor:
    def small_value(self) -> int:
        return 0

    def pid(self) -> int:
        return os.getpid()


@ray.remote(num_cpus=0)
class AsyncActor:
    async def small_value(self) -> int:
        return 0

    async def pid(self) -> int:
        await asyncio.sleep(0)
        return os.getpid()


def get(refs: Any) -> Any:
    return ray.get(refs, timeout=GET_TIMEOUT_S)


def kill_actors(actors: list[Any]) -> None:
    """Kills actors with `ray.kill` (falls back to dropping the handles if that fails)."""
    for a in actors:
        with contextlib.suppress(Exception):
            ray.kill(a)
    actors.clear()


# ---------------------------------------------------------------------------------------------
# Tasks and objects
# ---------------------------------------------------------------------------------------------


def bench_tasks(cfg: Config, out: list[Result]) -> None:
    rates = measure_rate(lambda: get(small_value.remote()), 1, cfg)
    out.append(rate_result("single_client_tasks_sync", "tasks", rates))


def bench_tasks_async(cfg: Config, out: list[Result]) -> None:
    n = 1000
    rates = measure_rate(lambda: get([small_value.remote() for _ in range(n)]), n, cfg)
    out.append(rate_result("single_client_tasks_async", "tasks", rates))


def bench_generator(cfg: Config, out: list[Result]) -> None:
    """Values per second from one generator task yielding small values, each read with
    `ray.get` as it arrives (one task of 1000 values per call)."""
    n = 1000

    def run() -> None:
        for ref in yield_small_values.remote(n):
            get(ref)

    rates = measure_rate(run, n, cfg)
    out.append(rate_result("single_client_generator_values", "generator", rates))


def bench_put_small(cfg: Config, out: list[Result]) -> None:
    rates = measure_rate(lambda: ray.put(0), 1, cfg)
    out.append(rate_result("single_client_put_calls", "objects", rates))


def bench_get_small(cfg: Config, out: list[Result]) -> None:
    ref = ray.put(0)
    rates = measure_rate(lambda: get(ref), 1, cfg)
    out.append(rate_result("single_client_get_calls", "objects", rates))


def large_array() -> np.ndarray:
    # Filled (not np.zeros), so every page is real memory that a copy must touch.
    return np.full(LARGE_OBJECT_BYTES, 7, dtype=np.uint8)


def copy_baselines(arr: np.ndarray) -> dict[str, float]:
    """What this machine's memory allows, for context: GB/s of a copy into touched memory, and
    into freshly mapped memory (page faults included, as for a new shared-memory object)."""
    target = np.empty_like(arr)
    target.fill(1)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        np.copyto(target, arr)
        times.append(time.perf_counter() - t0)
    del target
    fresh = []
    for _ in range(3):
        t0 = time.perf_counter()
        with mmap.mmap(-1, arr.nbytes) as m:
            view = np.frombuffer(m, dtype=np.uint8)
            np.copyto(view, arr)
            fresh.append(time.perf_counter() - t0)
            del view
    return {
        "baseline_memcpy_gbps": arr.nbytes / 1e9 / min(times),
        "baseline_fresh_mmap_copy_gbps": arr.nbytes / 1e9 / min(fresh),
    }


def bench_put_large(cfg: Config, out: list[Result]) -> None:
    arr = large_array()
    rates = measure_rate(lambda: ray.put(arr), arr.nbytes / 1e9, cfg)
    r = rate_result("single_client_put_100mib", "objects", rates)
    r.details = {"bytes": arr.nbytes, "gb": "1e9 bytes", **copy_baselines(arr)}
    out.append(r)


def bench_get_large(cfg: Config, out: list[Result]) -> None:
    arr = large_array()
    ref = ray.put(arr)
    del arr
    t0 = time.perf_counter()
    first = get(ref)
    first_s = time.perf_counter() - t0
    if first.nbytes != LARGE_OBJECT_BYTES or first[0] != 7 or first[-1] != 7:
        raise AssertionError("ray.get of the 100 MiB array returned wrong contents")
    details = {
        "first_get_s": first_s,
        "read_only": not first.flags.writeable,
        "owns_data": bool(first.flags.owndata),
        "zero_copy_likely": (not first.flags.writeable) and not first.flags.owndata,
    }
    del first
    rates = measure_rate(lambda: get(ref), 1, cfg)
    times = [1 / r for r in rates]
    r = seconds_result("single_client_get_100mib", "objects", times)
    r.stat = f"median of {len(times)} trials (per get)"
    r.details = details
    out.append(r)
    gbps = [LARGE_OBJECT_BYTES / 1e9 * r for r in rates]
    out.append(rate_result("single_client_get_100mib_gbps", "objects", gbps))


def _wait_all(refs: list[Any]) -> None:
    ready, not_ready = ray.wait(refs, num_returns=len(refs), timeout=GET_TIMEOUT_S)
    if len(ready) != len(refs) or not_ready:
        raise AssertionError(f"ray.wait returned {len(ready)} of {len(refs)} ready refs")


def bench_wait(cfg: Config, out: list[Result]) -> None:
    n = 1000
    put_refs = [ray.put(i) for i in range(n)]
    times = measure_seconds(lambda: _wait_all(put_refs), cfg, reps=10)
    out.append(seconds_result("wait_1k_put_refs_ready", "objects", times))


def bench_wait_tasks(cfg: Config, out: list[Result]) -> None:
    n = 1000
    task_refs = [small_value.remote() for _ in range(n)]
    get(task_refs)
    times = measure_seconds(lambda: _wait_all(task_refs), cfg, reps=10)
    out.append(seconds_result("wait_1k_task_refs_ready", "tasks", times))


def bench_wait_one_by_one(cfg: Config, out: list[Result]) -> None:
    """Upstream's "single client wait 1k refs": submit 1000 tasks, then wait for them one by one."""
    n = 1000

    def run() -> None:
        not_ready = [small_value.remote() for _ in range(n)]
        while not_ready:
            ready, not_ready = ray.wait(not_ready, num_returns=1, timeout=GET_TIMEOUT_S)
            if not ready:
                raise AssertionError(f"ray.wait timed out with {len(not_ready)} refs pending")

    times = measure_seconds(run, cfg, reps=5)
    out.append(seconds_result("wait_1k_refs_one_by_one", "tasks", times))


# ---------------------------------------------------------------------------------------------
# Actors
# ---------------------------------------------------------------------------------------------


def _actor_pair(cls: Any, name: str, cfg: Config, out: list[Result]) -> None:
    actors = [cls.remote()]
    try:
        a = actors[0]
        get(a.small_value.remote())
        rates = measure_rate(lambda: get(a.small_value.remote()), 1, cfg)
        out.append(rate_result(f"{name}_sync", "actors", rates))
        n = 1000
        rates = measure_rate(lambda: get([a.small_value.remote() for _ in range(n)]), n, cfg)
        out.append(rate_result(f"{name}_async", "actors", rates))
    finally:
        kill_actors(actors)


def bench_actor_calls(cfg: Config, out: list[Result]) -> None:
    _actor_pair(Actor, "1_1_actor_calls", cfg, out)


def bench_async_actor_calls(cfg: Config, out: list[Result]) -> None:
    _actor_pair(AsyncActor, "1_1_async_actor_calls", cfg, out)


def bench_n_n_actor_calls(cfg: Config, out: list[Result]) -> None:
    """Upstream's "n:n actor calls async" at n=2: each caller task drives its own actor."""
    m, n = NUM_CPUS, 500
    actors = [Actor.remote() for _ in range(m)]
    try:
        get([a.small_value.remote() for a in actors])
        rates = measure_rate(
            lambda: get([call_own_actor.remote(actors[i], n) for i in range(m)]), m * n, cfg
        )
        r = rate_result("n_n_actor_calls_async", "actors", rates)
        r.details = {"callers": m, "calls_per_caller": n}
        out.append(r)
    finally:
        kill_actors(actors)


def bench_actor_start(cfg: Config, out: list[Result]) -> None:
    """Time to create 8 actors and get a reply from each; then the memory of those processes."""
    count = 8
    times: list[float] = []
    per_actor: list[dict[str, Any]] = []
    start = time.perf_counter()
    for _ in range(max(1, min(cfg.trials, 3))):
        actors: list[Any] = []
        try:
            t0 = time.perf_counter()
            actors.extend(Actor.remote() for _ in range(count))
            pids = get([a.pid.remote() for a in actors])
            times.append(time.perf_counter() - t0)
            per_actor.extend(memory_of(sorted(set(pids)))["processes"])
        finally:
            kill_actors(actors)
        # Let the killed actors' processes exit, so the next round starts from the same state.
        gone = []
        for pid in set(pids):
            with contextlib.suppress(psutil.Error):
                gone.append(psutil.Process(pid))
        psutil.wait_procs(gone, timeout=10)
        if time.perf_counter() - start > cfg.budget_s:
            break
    r = seconds_result("actor_start_8", "actors", times)
    r.details = {"actors": count}
    out.append(r)
    for key, label in (("rss_mib", "rss"), ("uss_mib", "uss"), ("pss_mib", "pss")):
        values = [p[key] for p in per_actor if p[key] is not None]
        if not values:
            continue
        out.append(
            Result(
                name=f"actor_process_{label}",
                group="actors",
                unit="MiB",
                better="lower",
                value=statistics.median(values),
                best=min(values),
                stat=f"median of {len(values)} actor processes",
                trials=values,
            )
        )


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------

Bench = Callable[[Config, list[Result]], None]

# Every result name with its unit and which direction is better (used for error entries too).
RESULT_UNITS: dict[str, tuple[str, str]] = {
    "import_time": ("s", "lower"),
    "init_time": ("s", "lower"),
    "shutdown_time": ("s", "lower"),
    "idle_cluster_rss": ("MiB", "lower"),
    "idle_cluster_uss": ("MiB", "lower"),
    "idle_cluster_pss": ("MiB", "lower"),
    "idle_cluster_processes": ("count", "lower"),
    "single_client_tasks_sync": ("ops/s", "higher"),
    "single_client_tasks_async": ("ops/s", "higher"),
    "single_client_generator_values": ("values/s", "higher"),
    "single_client_put_calls": ("ops/s", "higher"),
    "single_client_get_calls": ("ops/s", "higher"),
    "single_client_put_100mib": ("GB/s", "higher"),
    "single_client_get_100mib": ("s", "lower"),
    "single_client_get_100mib_gbps": ("GB/s", "higher"),
    "wait_1k_put_refs_ready": ("s", "lower"),
    "wait_1k_task_refs_ready": ("s", "lower"),
    "wait_1k_refs_one_by_one": ("s", "lower"),
    "1_1_actor_calls_sync": ("ops/s", "higher"),
    "1_1_actor_calls_async": ("ops/s", "higher"),
    "1_1_async_actor_calls_sync": ("ops/s", "higher"),
    "1_1_async_actor_calls_async": ("ops/s", "higher"),
    "n_n_actor_calls_async": ("ops/s", "higher"),
    "actor_start_8": ("s", "lower"),
    "actor_process_rss": ("MiB", "lower"),
    "actor_process_uss": ("MiB", "lower"),
    "actor_process_pss": ("MiB", "lower"),
}

INIT_RESULTS = [
    "import_time",
    "init_time",
    "shutdown_time",
    "idle_cluster_rss",
    "idle_cluster_uss",
    "idle_cluster_pss",
    "idle_cluster_processes",
]

# (function, group, the result names it records), in run order.
BENCHMARKS: list[tuple[Bench, str, list[str]]] = [
    (bench_init_and_idle_memory, "init", INIT_RESULTS),
    (bench_tasks, "tasks", ["single_client_tasks_sync"]),
    (bench_tasks_async, "tasks", ["single_client_tasks_async"]),
    (bench_generator, "generator", ["single_client_generator_values"]),
    (bench_put_small, "objects", ["single_client_put_calls"]),
    (bench_get_small, "objects", ["single_client_get_calls"]),
    (bench_put_large, "objects", ["single_client_put_100mib"]),
    (bench_get_large, "objects", ["single_client_get_100mib", "single_client_get_100mib_gbps"]),
    (bench_wait, "objects", ["wait_1k_put_refs_ready"]),
    (bench_wait_tasks, "tasks", ["wait_1k_task_refs_ready"]),
    (bench_wait_one_by_one, "tasks", ["wait_1k_refs_one_by_one"]),
    (bench_actor_calls, "actors", ["1_1_actor_calls_sync", "1_1_actor_calls_async"]),
    (
        bench_async_actor_calls,
        "actors",
        ["1_1_async_actor_calls_sync", "1_1_async_actor_calls_async"],
    ),
    (bench_n_n_actor_calls, "actors", ["n_n_actor_calls_async"]),
    (
        bench_actor_start,
        "actors",
        ["actor_start_8"] + [f"actor_process_{m}" for m in ("rss", "uss", "pss")],
    ),
]


def error_result(
    name: str, group: str, error: str, details: dict[str, Any] | None = None
) -> Result:
    unit, better = RESULT_UNITS[name]
    return Result(name, group, unit, better, error=error, details=details or {})


def run_one(fn: Bench, group: str, names: list[str], cfg: Config) -> list[Result]:
    """Runs one benchmark; on failure, records an error entry for each name it did not record."""
    out: list[Result] = []
    t0 = time.perf_counter()
    try:
        with hard_limit(cfg.hard_limit_s):
            fn(cfg, out)
    except BaseException as e:  # noqa: BLE001 - a failing benchmark must not stop the others
        if isinstance(e, KeyboardInterrupt):
            raise
        message = f"{type(e).__name__}: {e}".strip()
        lines = message.splitlines() or [type(e).__name__]
        short = lines[0][:300]
        done = {r.name for r in out}
        tb = {"traceback": traceback.format_exc()[-3000:]}
        out.extend(error_result(n, group, short, dict(tb)) for n in names if n not in done)
    for r in out:
        r.details.setdefault("elapsed_s", round(time.perf_counter() - t0, 3))
    return out


def render_table(results: list[Result]) -> str:
    rows = [("benchmark", "value", "unit", "best", "better", "statistic")]
    for r in results:
        if r.error:
            rows.append((r.name, "ERROR", r.unit, "-", r.better, r.error[:70]))
        else:
            rows.append((r.name, fmt(r.value), r.unit, fmt(r.best), r.better, r.stat))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        cells = [
            c.rjust(w) if j in (1, 3) else c.ljust(w)
            for j, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--actors",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the actor benchmarks (default: on)",
    )
    p.add_argument(
        "--only",
        nargs="+",
        metavar="WORD",
        help="run only benchmarks whose group or result name contains one of these words",
    )
    p.add_argument("--trials", type=int, default=5, help="trials per throughput benchmark")
    p.add_argument("--trial-seconds", type=float, default=1.0, help="length of one trial")
    p.add_argument("--warmup-seconds", type=float, default=0.5, help="untimed warm-up")
    p.add_argument("--budget-seconds", type=float, default=15.0, help="soft budget per benchmark")
    p.add_argument(
        "--hard-limit-seconds", type=float, default=150.0, help="abort one benchmark after this"
    )
    p.add_argument("--init-runs", type=int, default=3, help="fresh interpreters for init/memory")
    p.add_argument(
        "--settle-seconds", type=float, default=3.0, help="idle time before measuring memory"
    )
    p.add_argument("--quick", action="store_true", help="2 short trials, 1 init run (smoke test)")
    p.add_argument("--json-out", metavar="PATH", help="also write the JSON object to PATH")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = Config(
        trials=2 if args.quick else args.trials,
        trial_s=0.3 if args.quick else args.trial_seconds,
        warmup_s=0.2 if args.quick else args.warmup_seconds,
        budget_s=5.0 if args.quick else args.budget_seconds,
        hard_limit_s=args.hard_limit_seconds,
        init_runs=1 if args.quick else args.init_runs,
        settle_s=1.0 if args.quick else args.settle_seconds,
    )
    selected = []
    for fn, group, names in BENCHMARKS:
        if group == "actors" and not args.actors:
            continue
        if args.only and not any(w in group or any(w in n for n in names) for w in args.only):
            continue
        selected.append((fn, group, names))

    results: list[Result] = []
    load_at_start = os.getloadavg()
    started = time.time()
    t_all = time.perf_counter()

    def record(batch: list[Result]) -> None:
        for r in batch:
            shown = f"ERROR {r.error}" if r.error else f"{fmt(r.value)} {r.unit}"
            print(f"  {r.name:<32} {shown}", file=sys.stderr, flush=True)
        results.extend(batch)

    # Start-up and idle memory first, in fresh interpreters, before this process starts a cluster.
    for fn, group, names in selected:
        if fn is bench_init_and_idle_memory:
            record(run_one(fn, group, names, cfg))

    cluster_error = None
    cluster_tag = uuid.uuid4().hex
    os.environ[CLUSTER_TAG_ENV] = cluster_tag
    rest = [b for b in selected if b[0] is not bench_init_and_idle_memory]
    if rest:
        try:
            with hard_limit(120):
                ray.init(num_cpus=NUM_CPUS, _node_ip_address=LOOPBACK)
                get([small_value.remote() for _ in range(10)])  # workers up and warm
                beyond = listening_beyond_loopback(
                    [os.getpid(), *tagged_pids(CLUSTER_TAG_ENV, cluster_tag)]
                )
                if beyond:
                    raise RuntimeError(
                        "the cluster listens beyond loopback, which benchmarks must not do: "
                        + ", ".join(beyond)
                    )
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            cluster_error = f"ray.init failed: {type(e).__name__}: {e}"
        for fn, group, names in rest:
            if cluster_error:
                record([error_result(n, group, cluster_error) for n in names])
            else:
                record(run_one(fn, group, names, cfg))
        cluster_pids = {c.pid for c in psutil.Process().children(recursive=True)}
        cluster_pids |= set(tagged_pids(CLUSTER_TAG_ENV, cluster_tag))
        with contextlib.suppress(Exception):
            ray.shutdown()
        leftovers = reap(sorted(cluster_pids), 10.0)
    else:
        leftovers = []

    report = {
        "ray_version": getattr(ray, "__version__", "?"),
        "ray_module": os.path.dirname(ray.__file__),
        "python": sys.executable,
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "psutil_version": psutil.__version__,
        "cpus": os.cpu_count(),
        # Other processes on the machine skew every number: compare runs at similar load only.
        "loadavg_start": load_at_start,
        "loadavg_end": os.getloadavg(),
        "started_unix": started,
        "total_seconds": round(time.perf_counter() - t_all, 1),
        "config": asdict(cfg),
        "actors": args.actors,
        "leftover_processes_killed": leftovers,
        "results": [asdict(r) for r in results],
    }
    print()
    print(
        f"ray {report['ray_version']} from {report['ray_module']}, {report['cpus']} cpus, "
        f"load average {load_at_start[0]:.2f} at start, {report['loadavg_end'][0]:.2f} at end"
    )
    print(render_table(results))
    if leftovers:
        print(f"killed processes left after ray.shutdown(): {', '.join(leftovers)}")
    text = json.dumps(report)
    if args.json_out:
        with open(args.json_out, "w") as f:
            f.write(text + "\n")
    print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
