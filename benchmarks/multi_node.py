#!/usr/bin/env python3
"""Two nodes on one machine: objects crossing nodes, against this machine's memcpy.

    .venv/bin/python benchmarks/multi_node.py [--upstream PYTHON] [--json-out PATH]
        [--size-mb 200] [--trials 5]

Ours: starts a head (`ray start --head --port P --node-ip-address 127.0.0.1 --block`) and a
second node (`ray start --address 127.0.0.1:P --node-ip-address 127.0.0.1 --block`) as
subprocesses, each in a process group of its own (in this process's session, as upstream's
nodes are: see `TwoNodes._start`) and with its own `--temp-dir`. Upstream: its
`ray start --address` refuses a second node under RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (the
setting that keeps it on loopback), so its two nodes come from `ray.cluster_utils.Cluster`
(each node its own raylet and store on 127.0.0.1). A driver joins, and the run measures (each
the median of `--trials` runs):

- `memcpy`: numpy copy between two warmed buffers of the array's size (the limit of any
  transfer on this machine), and `memcpy_fresh_shm`: the same into a freshly created
  /dev/shm mapping, page faults included (what a store pays to write a new object).
- `transfer_far_to_driver`: an actor on the other node makes a 200 MB array; the driver's
  `ray.get` of it, timed from when it is ready there (GB/s, 1e9 bytes per second).
- `transfer_driver_to_far`: an array the driver put, read as an argument by an actor on the
  other node (the time of the call; one empty call takes about a millisecond of it).
- `transfer_peak_anon_mb`: during those transfers, the most the anonymous memory (heap, not
  the shared store) of each node's node manager (upstream: raylet) grew.
- `tasks_1mib_arg_one_node`: tasks that each take a fresh 1 MiB array, on the driver's node
  (each call puts the array in the store first).
- `tasks_1mib_put_arg_one_node`: tasks that all take one `ray.put` 1 MiB array by reference.
- `tasks_two_nodes`: 10 ms tasks with `scheduling_strategy="SPREAD"` (and how many nodes ran
  them).

Rows are functions in `ROWS`; a failing row records its error and the run goes on. The same
file runs under upstream Ray's interpreter (for upstream every ray process gets
RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0); `--upstream PYTHON` runs it there too and prints both
side by side. Every listening socket of the cluster's processes is checked with `ss -ltnp`
to be on loopback. The nodes are stopped by process group at the end (SIGTERM, then
SIGKILL), and any of their descendants still alive are killed by pid.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import mmap
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_common import fmt  # noqa: E402

# Upstream: keep every ray process, this driver too, on loopback. Set before anything imports
# ray (the find_spec below does), since upstream reads it at import.
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
if os.path.exists(os.path.expanduser("~/.ray/auth_token")):
    # Upstream's `ray start` turns token authentication on when this file exists; its driver
    # then needs the mode too (ours ignores the variable).
    RAY_ENV["RAY_AUTH_MODE"] = "token"
os.environ.update(RAY_ENV)
OURS = importlib.util.find_spec("ray._private.generated") is not None
STORE_BYTES = 2 * 1024**3
LOOPBACK = ("::1", "localhost")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---- the cluster -----------------------------------------------------------------------------


class TwoNodes:
    """A head and one more node, each a `ray start --block` in its own process group."""

    def __init__(self, base_dir: str) -> None:
        self.base_dir = base_dir
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self.seen: dict[int, psutil.Process] = {}
        ray_bin = os.path.join(os.path.dirname(sys.executable), "ray")
        self._ray = ray_bin if os.path.exists(ray_bin) else shutil.which("ray") or "ray"
        self.env = dict(os.environ, **RAY_ENV)
        self.env.pop("RAY_ADDRESS", None)

    def _start(self, name: str, args: list[str]) -> None:
        temp_dir = os.path.join(self.base_dir, name)
        os.makedirs(temp_dir, exist_ok=True)
        common = [
            "--node-ip-address",
            "127.0.0.1",
            "--block",
            "--temp-dir",
            temp_dir,
            "--num-cpus",
            "2",
            "--object-store-memory",
            str(STORE_BYTES),
        ]
        if not OURS:
            common += ["--disable-usage-stats"]
        out = open(os.path.join(self.base_dir, f"{name}.out"), "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [self._ray, "start", *args, *common],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=self.env,
            # A process group of its own, torn down as one, but in this process's session:
            # with the kernel's autogroup scheduling (sched_autogroup_enabled), every session
            # is one CPU-share group, so a node in a session of its own would get a fixed
            # third of the machine beside the driver and the other node, and its workers
            # stall whenever its group's share is used up. Upstream's nodes (children of this
            # process) share this session too, so both systems are scheduled alike.
            process_group=0,
        )
        out.close()
        self.procs.append(proc)

    def start(self) -> None:
        head = ["--head", "--port", str(self.port), "--resources", '{"bench_head": 1}']
        if not OURS:
            head += ["--include-dashboard=false"]
        self._start("head", head)
        _wait_for_port(self.port, 90, self.procs[0])
        self._start("far", ["--address", self.address, "--resources", '{"bench_far": 1}'])

    def note_processes(self) -> None:
        for proc in self.procs:
            try:
                root = psutil.Process(proc.pid)
                for p in [root, *root.children(recursive=True)]:
                    self.seen.setdefault(p.pid, p)
            except psutil.Error:
                pass

    def node_manager_pids(self) -> list[int]:
        """The node manager (upstream: raylet) of each node, head first."""
        out = []
        for proc in self.procs:
            try:
                kids = psutil.Process(proc.pid).children(recursive=True)
            except psutil.Error:
                continue
            for p in kids:
                try:
                    cmd = " ".join(p.cmdline())
                except psutil.Error:
                    continue
                if "node_manager" in cmd or os.path.basename(p.cmdline()[0]) == "raylet":
                    out.append(p.pid)
                    break
        return out

    def stop(self) -> list[str]:
        """Stops both nodes by process group; returns what had to be killed by pid."""
        self.note_processes()
        for proc in reversed(self.procs):
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(10)
        return self._kill_leftovers()

    def _kill_leftovers(self) -> list[str]:
        """Kills, by pid, every process seen in the cluster that is still alive; names them."""
        _, alive = psutil.wait_procs(list(self.seen.values()), timeout=10)
        leftovers = []
        for p in alive:
            try:
                leftovers.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
                p.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(alive, timeout=5)
        return leftovers


class UpstreamTwoNodes(TwoNodes):
    """Upstream's two nodes, made with `ray.cluster_utils.Cluster` (its own tool for several
    nodes on one machine, as its tests use).

    Upstream's `ray start --address` refuses to start a second node when
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 ("Multi-node Ray clusters are not supported on Windows
    and OSX"), and with the variable at 1 it maps 127.0.0.1 to the machine's own address, so the
    nodes would not stay on loopback. `Cluster` starts each node's GCS/raylet/store processes
    (children of this process) on 127.0.0.1, with the same resources as `ray start` gets.
    """

    def start(self) -> None:
        from ray.cluster_utils import Cluster

        common = {"num_cpus": 2, "object_store_memory": STORE_BYTES}
        self._cluster = Cluster(
            initialize_head=True,
            head_node_args={**common, "resources": {"bench_head": 1}, "include_dashboard": False},
        )
        self._cluster.add_node(**common, resources={"bench_far": 1})
        self.address = self._cluster.address

    def note_processes(self) -> None:
        for p in psutil.Process().children(recursive=True):
            self.seen.setdefault(p.pid, p)

    def node_manager_pids(self) -> list[int]:
        out = []
        for node in self._cluster.list_all_nodes():
            for info in node.all_processes.get("raylet", []):
                out.append(info.process.pid)
        return out

    def stop(self) -> list[str]:
        self.note_processes()
        self._cluster.shutdown()
        return self._kill_leftovers()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout_s: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the head exited with code {proc.returncode} before serving")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the head's GCS did not listen on port {port} within {timeout_s}s")


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the `ray start` process leads its group
    except (ProcessLookupError, PermissionError):
        pass


def non_loopback_listeners(pids: set[int]) -> list[str]:
    """Listening sockets of `pids` bound beyond loopback (from `ss -ltnp`)."""
    try:
        out = subprocess.run(
            ["ss", "-ltnpH"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as err:
        return [f"ss failed: {err}"]
    bad = []
    for line in out.splitlines():
        owners = {int(p) for p in re.findall(r"pid=(\d+)", line)}
        if not owners & pids:
            continue
        fields = line.split()
        local = fields[3] if len(fields) > 3 else line
        host = local.rsplit(":", 1)[0].strip("[]")
        if host.startswith("::ffff:"):  # an IPv4 address on an IPv6 socket
            host = host[len("::ffff:") :]
        if host not in LOOPBACK and not host.startswith("127."):
            bad.append(line.strip())
    return bad


# ---- measurements ----------------------------------------------------------------------------


def _median_gbps(nbytes: int, seconds: list[float]) -> dict[str, Any]:
    med = statistics.median(seconds)
    return {
        "gbps": nbytes / med / 1e9,
        "best_gbps": nbytes / min(seconds) / 1e9,
        "median_s": med,
        "trials_s": seconds,
    }


def row_memcpy(ctx: dict[str, Any]) -> dict[str, Any]:
    src = ctx["data"]
    dst = np.empty_like(src)
    np.copyto(dst, src)
    times = []
    for _ in range(max(5, ctx["trials"])):
        t = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t)
    return _median_gbps(src.nbytes, times)


def row_memcpy_fresh_shm(ctx: dict[str, Any]) -> dict[str, Any]:
    src = ctx["data"]
    times = []
    for _ in range(max(3, ctx["trials"])):
        fd, path = tempfile.mkstemp(dir="/dev/shm", prefix="bench_memcpy_")
        try:
            os.ftruncate(fd, src.nbytes)
            mm = mmap.mmap(fd, src.nbytes)
            t = time.perf_counter()
            np.frombuffer(mm, dtype=np.uint8)[:] = src
            times.append(time.perf_counter() - t)
            mm.close()
        finally:
            os.close(fd)
            os.unlink(path)
    return _median_gbps(src.nbytes, times)


class _PeakAnon:
    """Samples each pid's RssAnon while running; `growth_mb` is the peak over the start."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.start = {pid: _rss_anon(pid) for pid in pids}
        self.peak = dict(self.start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], _rss_anon(pid))

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join()
        return [(self.peak[p] - self.start[p]) / 1e6 for p in self.pids]


def _rss_anon(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def row_transfer_far_to_driver(ctx: dict[str, Any]) -> dict[str, Any]:
    import ray

    far, nbytes = ctx["far"], ctx["data"].nbytes
    times, growth = [], []
    for _ in range(ctx["trials"]):
        ref = far.make.remote()
        ready, _ = ray.wait([ref], timeout=120, fetch_local=False)
        assert ready, "the array was not made in time"
        peak = _PeakAnon(ctx["nm_pids"])
        t = time.perf_counter()
        array = ray.get(ref, timeout=120)
        times.append(time.perf_counter() - t)
        growth.append(peak.stop())
        assert array.nbytes == nbytes and int(array[12345]) == int(ctx["data"][12345])
        del array, ref
        time.sleep(0.3)  # let the copies be freed
    out = _median_gbps(nbytes, times)
    out["peak_anon_growth_mb_per_node"] = [max(g[i] for g in growth) for i in range(len(growth[0]))]
    return out


def row_transfer_driver_to_far(ctx: dict[str, Any]) -> dict[str, Any]:
    import ray

    far, data = ctx["far"], ctx["data"]
    ray.get(far.size_of.remote(b""), timeout=60)
    empty = []
    for _ in range(20):
        t = time.perf_counter()
        ray.get(far.size_of.remote(b""), timeout=60)
        empty.append(time.perf_counter() - t)
    times, growth = [], []
    for _ in range(ctx["trials"]):
        ref = ray.put(data)
        peak = _PeakAnon(ctx["nm_pids"])
        t = time.perf_counter()
        size = ray.get(far.size_of.remote(ref), timeout=120)
        times.append(time.perf_counter() - t)
        growth.append(peak.stop())
        assert size == data.nbytes
        del ref
        time.sleep(0.3)
    out = _median_gbps(data.nbytes, times)
    out["empty_call_ms"] = statistics.median(empty) * 1000
    out["peak_anon_growth_mb_per_node"] = [max(g[i] for g in growth) for i in range(len(growth[0]))]
    return out


def row_tasks_1mib_arg_one_node(ctx: dict[str, Any]) -> dict[str, Any]:
    import ray

    @ray.remote(num_cpus=1, resources={ctx["near_resource"]: 0.001})
    def nbytes(array: np.ndarray) -> int:
        return array.nbytes

    arg = np.ones(1024**2, dtype=np.uint8)
    ray.get([nbytes.remote(arg) for _ in range(20)], timeout=120)
    n, rates = 200, []
    for _ in range(ctx["trials"]):
        t = time.perf_counter()
        assert sum(ray.get([nbytes.remote(arg) for _ in range(n)], timeout=300)) == n * arg.nbytes
        rates.append(n / (time.perf_counter() - t))
    return {"tasks_per_s": statistics.median(rates), "trials": rates}


def row_tasks_1mib_put_arg_one_node(ctx: dict[str, Any]) -> dict[str, Any]:
    import ray

    @ray.remote(num_cpus=1, resources={ctx["near_resource"]: 0.001})
    def nbytes(array: np.ndarray) -> int:
        return array.nbytes

    arg = ray.put(np.ones(1024**2, dtype=np.uint8))
    ray.get([nbytes.remote(arg) for _ in range(20)], timeout=120)
    n, rates = 500, []
    for _ in range(ctx["trials"]):
        t = time.perf_counter()
        assert sum(ray.get([nbytes.remote(arg) for _ in range(n)], timeout=300)) == n * 1024**2
        rates.append(n / (time.perf_counter() - t))
    return {"tasks_per_s": statistics.median(rates), "trials": rates}


def row_tasks_two_nodes(ctx: dict[str, Any]) -> dict[str, Any]:
    import ray

    @ray.remote(num_cpus=1)
    def spin() -> str:
        end = time.perf_counter() + 0.01
        while time.perf_counter() < end:
            pass
        return ray.get_runtime_context().get_node_id()

    ray.get([spin.options(scheduling_strategy="SPREAD").remote() for _ in range(8)], timeout=120)
    n, rates, nodes = 200, [], set()
    for _ in range(ctx["trials"]):
        t = time.perf_counter()
        ran = ray.get(
            [spin.options(scheduling_strategy="SPREAD").remote() for _ in range(n)], timeout=300
        )
        rates.append(n / (time.perf_counter() - t))
        nodes.update(ran)
    return {"tasks_per_s": statistics.median(rates), "nodes_used": len(nodes), "trials": rates}


ROWS: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = [
    ("memcpy", row_memcpy),
    ("memcpy_fresh_shm", row_memcpy_fresh_shm),
    ("transfer_far_to_driver", row_transfer_far_to_driver),
    ("transfer_driver_to_far", row_transfer_driver_to_far),
    ("tasks_1mib_arg_one_node", row_tasks_1mib_arg_one_node),
    ("tasks_1mib_put_arg_one_node", row_tasks_1mib_put_arg_one_node),
    ("tasks_two_nodes", row_tasks_two_nodes),
]


def _connect(address: str) -> None:
    import ray

    deadline = time.monotonic() + 60
    while True:
        try:
            ray.init(address=address, _node_ip_address="127.0.0.1")
            return
        except Exception as err:  # noqa: BLE001 - the cluster may still be starting
            if time.monotonic() > deadline:
                raise
            log(f"waiting for the cluster ({err.__class__.__name__}) ...")
            time.sleep(1)


def _wait_for_two_nodes() -> list[dict[str, Any]]:
    import ray

    deadline = time.monotonic() + 90
    while True:
        alive = [n for n in ray.nodes() if n["Alive"]]
        if len(alive) == 2:
            return alive
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(alive)} node(s) alive after 90s, expected 2")
        time.sleep(0.5)


def run_here(size_mb: int, trials: int, only: list[str]) -> dict[str, Any]:
    import ray

    base = tempfile.mkdtemp(prefix="bench_multi_node_")
    cluster = TwoNodes(base) if OURS else UpstreamTwoNodes(base)
    report: dict[str, Any] = {
        "system": "ours" if OURS else "upstream",
        "version": getattr(ray, "__version__", "?"),
        "size_bytes": size_mb * 10**6,
        "loadavg_start": os.getloadavg(),
        "rows": {},
    }
    try:
        log(f"[{report['system']}] starting two nodes at {cluster.address} ...")
        cluster.start()
        _connect(cluster.address)
        nodes = _wait_for_two_nodes()
        cluster.note_processes()
        driver_node = ray.get_runtime_context().get_node_id()
        near = next(n for n in nodes if n["NodeID"] == driver_node)
        far_res = "bench_far" if "bench_head" in near["Resources"] else "bench_head"
        report["driver_on"] = "head" if "bench_head" in near["Resources"] else "far"

        data = np.random.default_rng(0).integers(0, 256, size_mb * 10**6, dtype=np.uint8)

        @ray.remote(num_cpus=0)
        class Far:
            def __init__(self, nbytes: int) -> None:
                self.array = np.random.default_rng(0).integers(0, 256, nbytes, dtype=np.uint8)

            def make(self) -> np.ndarray:
                return self.array

            def size_of(self, value: Any) -> int:
                return len(value) if isinstance(value, bytes) else value.nbytes

            def node(self) -> str:
                return ray.get_runtime_context().get_node_id()

        far = Far.options(resources={far_res: 1}).remote(data.nbytes)
        assert ray.get(far.node.remote(), timeout=120) != driver_node, "the actor is not far"
        cluster.note_processes()
        pids = set(cluster.seen) | {os.getpid()}
        report["non_loopback_listeners"] = non_loopback_listeners(pids)
        nm_pids = cluster.node_manager_pids()
        # Sampled as [the driver's node, the other one].
        if report["driver_on"] == "far":
            nm_pids.reverse()
        ctx = {
            "data": data,
            "far": far,
            "trials": trials,
            "nm_pids": nm_pids,
            "near_resource": "bench_head" if report["driver_on"] == "head" else "bench_far",
        }
        for name, fn in ROWS:
            if only and not any(word in name for word in only):
                continue
            log(f"[{report['system']}] {name} ...")
            try:
                report["rows"][name] = fn(ctx)
            except Exception as err:  # noqa: BLE001 - recorded, the run goes on
                report["rows"][name] = {"error": f"{err.__class__.__name__}: {err}"}
                log(f"  failed: {err!r}")
        del far
    finally:
        try:
            ray.shutdown()
        finally:
            report["leftovers_killed"] = cluster.stop()
            shutil.rmtree(base, ignore_errors=True)
    report["loadavg_end"] = os.getloadavg()
    return report


def run_other(python: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "side.json")
        cmd = [python, os.path.abspath(__file__), "--side", "--json-out", out]
        cmd += ["--size-mb", str(args.size_mb), "--trials", str(args.trials)]
        if args.only:
            cmd += ["--only", *args.only]
        subprocess.run(
            cmd,
            check=True,
            timeout=1800,
            env=dict(os.environ, **RAY_ENV),
            stdout=sys.stderr,
            cwd=tempfile.gettempdir(),  # not the repo: its `python/ray` must not shadow upstream
        )
        with open(out) as f:
            return json.load(f)


def _cell(row: dict[str, Any] | None, key: str) -> str:
    if row is None:
        return "-"
    if "error" in row:
        return "ERROR"
    value = row.get(key)
    if value is None:
        return "-"
    if isinstance(value, list):
        return "/".join(fmt(v) for v in value)
    return fmt(value)


def table(reports: list[dict[str, Any]]) -> str:
    cells = [
        ("memcpy", "gbps", "GB/s"),
        ("memcpy_fresh_shm", "gbps", "GB/s"),
        ("transfer_far_to_driver", "gbps", "GB/s"),
        ("transfer_far_to_driver", "best_gbps", "GB/s best"),
        ("transfer_far_to_driver", "peak_anon_growth_mb_per_node", "MB near/far"),
        ("transfer_driver_to_far", "gbps", "GB/s"),
        ("transfer_driver_to_far", "best_gbps", "GB/s best"),
        ("transfer_driver_to_far", "empty_call_ms", "ms (empty call)"),
        ("transfer_driver_to_far", "peak_anon_growth_mb_per_node", "MB near/far"),
        ("tasks_1mib_arg_one_node", "tasks_per_s", "tasks/s"),
        ("tasks_1mib_put_arg_one_node", "tasks_per_s", "tasks/s"),
        ("tasks_two_nodes", "tasks_per_s", "tasks/s"),
        ("tasks_two_nodes", "nodes_used", "nodes"),
    ]
    header = f"{'row':<26} {'unit':<16}" + "".join(f"{r['system']:>16}" for r in reports)
    lines = [header]
    for row, key, unit in cells:
        values = "".join(f"{_cell(r['rows'].get(row), key):>16}" for r in reports)
        lines.append(f"{row:<26} {unit:<16}{values}")
    for r in reports:
        size = r["size_bytes"] / 1e6
        lines.append(
            f"{r['system']}: ray {r['version']}, {size:.0f} MB, driver on the {r['driver_on']} "
            f"node, listeners beyond loopback: {r['non_loopback_listeners'] or 'none'}, "
            f"leftovers killed: {r['leftovers_killed'] or 'none'}, load {r['loadavg_start'][0]:.2f}"
        )
        for name, row in r["rows"].items():
            if "error" in row:
                lines.append(f"  {r['system']} {name}: {row['error']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200, help="array size (1e6 bytes)")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=[], help="rows whose name has a word")
    parser.add_argument("--upstream", help="upstream Ray's python, to run the same side by side")
    parser.add_argument("--json-out")
    parser.add_argument("--side", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    reports = [run_here(args.size_mb, args.trials, args.only)]
    if args.upstream and not args.side:
        reports.append(run_other(args.upstream, args))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(reports[0] if args.side else reports, f, indent=1)
    if not args.side:
        print(table(reports))


if __name__ == "__main__":
    main()
