"""The `ray` command line: start, stop, status and version, with real detached processes.

Every test runs the CLI and its drivers as subprocesses with its own RAY_TMPDIR,
so it never sees a developer's cluster. The `cli` fixture (conftest.py) always runs
`ray stop` at the end and checks that every process the cluster recorded (and
everything those spawned) is gone, by pid.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import psutil
import pytest
from conftest import cli
from utils import Cli, alive

from ray._private.generated import gcs_pb2, gcs_pb2_grpc

# `cli` (the fixture, from conftest.py) is re-exported for the modules that import it from here.
__all__ = ["Cli", "cli"]

pytestmark = pytest.mark.timeout(240)


def wait_for_condition(
    pred: Callable[[], Any], timeout: float = 30, what: str = "condition"
) -> Any:
    """Polls `pred` until it returns something truthy; fails with the last value seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; last saw {last!r}")


def _start_head(cli: Cli, *args: str) -> subprocess.CompletedProcess:
    result = cli.run("start", "--head", "--port", "0", *args)
    assert cli.current_cluster() is not None
    return result


RUN_TASK = """
import ray
ray.init(address={address!r})
@ray.remote
def double(x):
    return 2 * x
assert ray.get(double.remote(21)) == 42
print("RESOURCES", ray.cluster_resources())
"""


def test_version(cli: Cli) -> None:
    """The version names this runtime and the Ray API it implements."""
    from importlib import metadata

    import ray

    for args in (["--version"], ["version"]):
        out = cli.run(*args).stdout
        assert out.startswith("openray, version"), out
        assert metadata.version("openray") in out and f"Ray {ray.__version__} API" in out, out


def test_mistyped_flag_is_refused(cli: Cli) -> None:
    """argparse would take `--num-cpu` for `--num-cpus`; a typo must not start a cluster."""
    result = cli.run("start", "--head", "--port", "0", "--num-cpu", "2", check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "unrecognized arguments: --num-cpu" in result.stderr, result.stderr
    assert cli.recorded() == [] and cli.current_cluster() is None


def test_block_stays_in_the_foreground_until_sigterm(cli: Cli) -> None:
    proc = subprocess.Popen(
        [*cli.command, "start", "--head", "--port", "0", "--num-cpus", "1", "--block"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Blocking"):
                break
        address = next(ln.split()[2] for ln in lines if ln.strip().startswith("GCS address:"))
        assert cli.address() == address
        cli.remember_processes()
        assert len(cli.recorded()) == 2
        cli.driver(RUN_TASK.format(address="auto"))
        proc.terminate()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wait_for_condition(lambda: not alive(cli.seen.values()), what="the node to stop")
    assert cli.recorded() == [] and cli.current_cluster() is None


def test_stop_when_nothing_runs(cli: Cli) -> None:
    result = cli.run("stop")
    assert "No Ray processes" in result.stdout


def test_status_without_cluster_fails(cli: Cli) -> None:
    result = cli.run("status", check=False)
    assert result.returncode != 0
    assert "No Ray cluster is running" in result.stderr
    assert "ray start --head" in result.stderr


def test_head_outlives_drivers(cli: Cli) -> None:
    out = _start_head(cli, "--num-cpus", "2").stdout
    address = cli.address()
    host, port = address.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0, "--port 0 must record the port the GCS bound"
    assert address in out and 'ray.init(address="auto")' in out and "ray stop" in out
    # The token is not printed (it would land in terminal scrollback and CI logs); it is
    # stored 0600 in the session and printed when asked.
    assert cli.token() not in out and "ray token" in out
    assert cli.run("token", "--address", address).stdout.strip() == cli.token()
    assert (cli.current_cluster()[1].token_file.stat().st_mode & 0o777) == 0o600
    gcs = next(e for e in cli.recorded() if e["kind"] == "gcs")

    cli.driver(RUN_TASK.format(address="auto"))
    # The driver is gone; the cluster is not.
    assert psutil.pid_exists(gcs["pid"])
    status = cli.run("status").stdout
    assert "1 alive, 0 dead" in status
    cli.driver(RUN_TASK.format(address="auto"))
    cli.driver(RUN_TASK.format(address=address))
    assert "1 alive, 0 dead" in cli.run("status").stdout


def test_status_shows_resources(cli: Cli) -> None:
    store = 100 * 1024**2
    _start_head(
        cli, "--num-cpus", "3", "--resources", '{"accel": 2}', "--object-store-memory", str(store)
    )
    status = cli.run("status").stdout
    lines = [line.split() for line in status.splitlines()]
    # Used / total: nothing runs yet.
    assert ["CPU", "0", "/", "3"] in lines, status
    assert ["accel", "0", "/", "2"] in lines, status
    assert "100.0 MiB" in status, status
    out = cli.driver(RUN_TASK.format(address="auto")).stdout
    assert "'CPU': 3.0" in out and "'accel': 2.0" in out, out


def test_stop_leaves_no_process_and_no_shared_memory(cli: Cli) -> None:
    _start_head(cli, "--num-cpus", "2")
    cli.driver(
        """
        import numpy as np
        import ray
        ray.init(address="auto")
        big = ray.put(np.ones(1 << 20))  # goes to the node's shared-memory store
        assert ray.get(big).sum() == 1 << 20
        """
    )
    cli.remember_processes()
    shm_dirs = cli.node_shm_dirs()
    assert shm_dirs and all(d.exists() for d in shm_dirs), shm_dirs
    processes = list(cli.seen.values())
    assert len(processes) >= 3, "expected the GCS, the node manager and its workers"

    result = cli.run("stop")
    assert "Stopped GCS" in result.stdout and "Stopped node manager" in result.stdout, result.stdout
    wait_for_condition(lambda: not alive(processes), what="the cluster's processes to exit")
    assert not [d for d in shm_dirs if d.exists()]
    assert cli.recorded() == [] and cli.current_cluster() is None
    assert cli.run("status", check=False).returncode != 0
    assert "No Ray processes" in cli.run("stop").stdout


def test_second_head_fails_while_one_runs(cli: Cli) -> None:
    _start_head(cli)
    address = cli.address()
    result = cli.run("start", "--head", "--port", "0", check=False)
    assert result.returncode != 0
    assert "already running" in result.stderr and address in result.stderr, result.stderr
    assert len(cli.recorded()) == 2
    assert cli.address() == address
    cli.run("status")


def test_head_on_taken_port_fails(cli: Cli) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = cli.run("start", "--head", "--port", str(port), check=False)
    assert result.returncode != 0
    assert "already in use" in result.stderr, result.stderr
    assert cli.recorded() == [] and cli.current_cluster() is None


def test_gcs_refuses_calls_without_token(cli: Cli) -> None:
    _start_head(cli)
    channel = grpc.insecure_channel(cli.address())
    try:
        stub = gcs_pb2_grpc.GcsServiceStub(channel)
        for metadata in ((), (("x-ray-token", "wrong"),)):
            with pytest.raises(grpc.RpcError) as info:
                stub.GetAllNodes(gcs_pb2.GetAllNodesRequest(), timeout=10, metadata=metadata)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        reply = stub.GetClusterInfo(
            gcs_pb2.GetClusterInfoRequest(), timeout=10, metadata=(("x-ray-token", cli.token()),)
        )
        assert reply.session_name == cli.current_cluster()[1].name
    finally:
        channel.close()


def test_node_joins_cluster(cli: Cli) -> None:
    _start_head(cli, "--num-cpus", "1")
    address = cli.address()
    out = cli.run(
        "start", "--address", address, "--num-cpus", "1", "--resources", '{"side": 1}'
    ).stdout
    assert address in out
    assert [e["kind"] for e in cli.recorded()] == ["gcs", "node_manager", "node_manager"]
    cli.driver(
        """
        import time
        import ray
        ray.init(address="auto")
        deadline = time.monotonic() + 60
        while len([n for n in ray.nodes() if n["Alive"]]) < 2:
            assert time.monotonic() < deadline, ray.nodes()
            time.sleep(0.05)
        assert ray.cluster_resources()["side"] == 1.0
        """
    )
    status = cli.run("status").stdout
    assert "2 alive, 0 dead" in status and ["side", "0", "/", "1"] in [
        s.split() for s in status.splitlines()
    ]
    result = cli.run("stop")
    assert result.stdout.count("Stopped node manager") == 2, result.stdout


def test_join_needs_the_right_token(cli: Cli) -> None:
    _start_head(cli)
    address = cli.address()
    env = dict(cli.env, RAY_CLUSTER_TOKEN="not-the-token")
    result = cli.run("start", "--address", address, check=False, env=env)
    assert result.returncode != 0 and "refused the token" in result.stderr, result.stderr
    assert len(cli.recorded()) == 2
    # With the token from the environment, as on another machine.
    env = dict(cli.env, RAY_CLUSTER_TOKEN=cli.token())
    cli.run("start", "--address", address, "--num-cpus", "0", env=env)
    assert len(cli.recorded()) == 3


def test_crashed_cluster_is_reported_and_cleaned_up(cli: Cli) -> None:
    _start_head(cli)
    cli.remember_processes()
    recorded = cli.recorded()
    shm_dirs = cli.node_shm_dirs()
    for entry in recorded:  # a crash: SIGKILL, no chance to clean up
        psutil.Process(entry["pid"]).kill()
    wait_for_condition(lambda: not alive(cli.seen.values()), what="the crash")
    status = cli.run("status", check=False)
    assert status.returncode != 0 and "does not answer" in status.stderr, status.stderr
    # A new head replaces the dead one; `ray stop` stops it and cleans up after the crashed one.
    _start_head(cli)
    cli.run("status")
    result = cli.run("stop")
    assert result.stdout.count("Already gone") == 2, result.stdout
    assert not [d for d in shm_dirs if d.exists()], result.stdout


def test_stop_force_kills_and_cleans_up(cli: Cli) -> None:
    _start_head(cli)
    cli.remember_processes()
    processes = list(cli.seen.values())
    shm_dirs = cli.node_shm_dirs()
    result = cli.run("stop", "--force")
    assert "Killed GCS" in result.stdout and "Killed node manager" in result.stdout, result.stdout
    wait_for_condition(lambda: not alive(processes), what="the killed processes")
    assert not [d for d in shm_dirs if d.exists()], result.stdout


def test_temp_dir_and_token_found_from_the_address(cli: Cli, tmp_path: Path) -> None:
    """Sessions go under --temp-dir; a driver of the same user finds the token by address."""
    temp = tmp_path / "elsewhere"
    _start_head(cli, "--num-cpus", "1", "--temp-dir", str(temp))
    address = cli.address()
    session = cli.current_cluster()[1]
    assert session.session_dir.parent == temp.resolve()
    assert (session.logs_dir / "gcs.log").exists()
    # The default temp dir holds no session of this cluster, yet the driver finds the token.
    assert not list(cli.tmpdir.glob("session_2*"))
    cli.driver(RUN_TASK.format(address=address))
    # A second node with its own temp dir joins by address alone.
    temp2 = tmp_path / "node2"
    cli.run("start", "--address", address, "--num-cpus", "1", "--temp-dir", str(temp2))
    assert (temp2 / session.name / "logs").is_dir()
    cli.run("stop")
    assert cli.run("token", "--address", address, check=False).returncode != 0


def test_start_memory_sets_the_memory_resource(cli: Cli) -> None:
    started = _start_head(cli, "--num-cpus", "1", "--memory", str(3 * 1024**3)).stdout
    assert "memory 3.0 GiB" in started, started
    status = cli.run("status").stdout
    assert "3.0 GiB" in status, status
    out = cli.driver(RUN_TASK.format(address="auto")).stdout
    assert "'memory': 3221225472.0" in out, out


def test_start_rejects_negative_memory(cli: Cli) -> None:
    result = cli.run("start", "--head", "--port", "0", "--memory", "-5", check=False)
    assert result.returncode != 0
    assert "--memory must be a number of bytes >= 0" in result.stderr, result.stderr
    assert cli.current_cluster() is None
