"""Multi-node clusters on one machine, started as users start them, and the CLI around them.

Every node is a `ray start ... --block` process tree in a process group of its own,
listening on its own loopback address (127.0.0.1 for the head, then 127.0.0.2, ...), with
its own `--temp-dir`. Drivers and `ray` commands run as subprocesses that see only the
test's RAY_TMPDIR. Each test leaves no process, /dev/shm entry or listening port behind
(checked by the `ray_start_cluster` and `cli` fixtures).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap

import psutil
import pytest
from utils import (
    Cli,
    Cluster,
    alive,
    group_members,
    listening_addresses,
    still_listening,
    wait_for_condition,
)

import ray
from ray._private.cli.status import NodeStore, format_status
from ray._private.generated import common_pb2, gcs_pb2, node_manager_pb2

MiB = 1 << 20
# An address of no machine (TEST-NET-2, RFC 5737): never an address of this one.
FOREIGN_IP = "198.51.100.7"


def _listening_by_node(node) -> dict[tuple[str, int], int]:
    return listening_addresses(node.processes())


def _run_driver(cluster: Cluster, code: str, timeout: float = 120, **env: str):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=cluster.env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _module(cmdline: list[str]) -> str:
    """`gcs`, `node_manager`, `worker_main` (the runtime module a process runs), or ``."""
    for arg in cmdline:
        if arg.startswith("ray._private."):
            return arg.rsplit(".", 1)[-1]
    return ""


def _status_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def _lines_without_memory(text: str) -> list[str]:
    """`ray status` lines with the `memory` resource (every node's RAM, which varies) left
    out and runs of blanks made one."""
    out = []
    for line in _status_lines(text):
        if line.startswith("memory "):
            continue
        out.append(re.sub(r"\s+", " ", re.sub(r", memory [^,]*", "", line)))
    return out


def _section(text: str, title: str) -> list[str]:
    """The lines of a demand subsection of `ray status` (up to the next subsection)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(title))
    out = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        out.append(line.strip())
    return out


# ---- the fixture itself -------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_three_nodes_on_three_addresses_with_their_own_sessions(ray_start_cluster):
    cluster = ray_start_cluster
    head = cluster.add_node(num_cpus=1)
    second = cluster.add_node(num_cpus=1, resources={"second": 1})
    third = cluster.add_node(num_cpus=1, resources={"third": 2})
    nodes = [head, second, third]
    cluster.wait_for_nodes()

    assert [n.node_ip_address for n in nodes] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    # The joining nodes got no token: `ray start` found it from the head's address alone,
    # though the head keeps it under its own --temp-dir.
    assert "RAY_CLUSTER_TOKEN" not in cluster.env()
    assert all(n.token == head.token for n in nodes)
    assert head.is_head and not second.is_head and not third.is_head
    assert cluster.address.startswith("127.0.0.1:")
    assert cluster.alive_node_ids() == {n.node_id for n in nodes}
    # Registered with the GCS at their own addresses, with their own resources.
    infos = {i.node_id: i for i in cluster.gcs_client().get_all_nodes()}
    for node in nodes:
        info = infos[node.node_id]
        assert info.node_manager_address == node.node_ip_address
        assert f"{info.node_manager_address}:{info.node_manager_port}" == (
            node.node_manager_address
        )
    assert infos[third.node_id].resources.total["third"] == 2
    # One session name (the cluster's), in three different folders, each under its temp dir.
    assert len({n.session_dir.name for n in nodes}) == 1
    assert len({n.session_dir for n in nodes}) == 3
    for node in nodes:
        assert node.session_dir.parent == node.temp_dir.resolve()
        assert (node.session_dir / "logs").is_dir()
        assert any((node.session_dir / "logs").glob("node_manager-*.log"))
    assert (head.session_dir / "logs" / "gcs.log").exists()
    assert not (second.session_dir / "logs" / "gcs.log").exists()

    # Each node is one process group of its own (ray start, node manager, GCS, workers) ...
    def workers_up():
        for node in nodes:
            procs = node.processes()
            if "worker_main" not in {_module(p.cmdline()) for p in procs}:
                return False
        return True

    wait_for_condition(workers_up, timeout=60)
    groups = set()
    for node in nodes:
        members = group_members(node.pgid)
        assert {p.pid for p in members} >= {p.pid for p in node.processes()}
        assert {os.getpgid(p.pid) for p in node.processes()} == {node.pgid}
        groups.add(node.pgid)
    assert len(groups) == 3

    # ... and every one of its processes listens on the node's own address only.
    def listens_only_on_own_address():
        problems = {}
        for node in nodes:
            listening = _listening_by_node(node)
            kinds = set()
            for (ip, _port), pid in listening.items():
                cmd = psutil.Process(pid).cmdline()
                kinds.add(_module(cmd))
                if ip != node.node_ip_address:
                    problems[(ip, _port)] = " ".join(cmd)[:120]
            expected = {"node_manager", "worker_main"} | ({"gcs"} if node.is_head else set())
            if kinds != expected:
                problems[node.node_ip_address] = sorted(kinds)
        assert not problems, problems
        return True

    wait_for_condition(listens_only_on_own_address, timeout=60)

    # Teardown leaves nothing: no process, no /dev/shm directory, no listening address.
    shm_dirs = [n.shm_dir for n in nodes]
    assert all(d.exists() for d in shm_dirs)
    listened = {a for n in nodes for a in _listening_by_node(n)}
    assert len(listened) >= 7  # GCS, three node managers, a worker each
    cluster.shutdown()
    assert cluster.leftovers() == []
    assert still_listening(listened) == {}
    assert not [d for d in shm_dirs if d.exists()]
    assert all(n.popen.returncode == 0 for n in nodes), [n.output() for n in nodes]


@pytest.mark.timeout(240)
def test_kill_node_loses_the_whole_node_at_once(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    lost = cluster.add_node(num_cpus=1)
    wait_for_condition(lambda: len(lost.processes()) >= 3, timeout=60)  # + a worker
    procs = lost.processes()
    shm_dir = lost.shm_dir
    assert shm_dir.exists()
    cluster.kill_node(lost)
    assert lost.popen.returncode == -signal.SIGKILL
    assert not alive(procs) and not alive(group_members(lost.pgid))
    assert not shm_dir.exists()
    assert lost not in cluster.list_all_nodes()
    # The GCS finds out by the missed heartbeats, then lists only the head alive.
    cluster.wait_for_nodes(timeout=60)
    dead = [n for n in cluster.gcs_client().get_all_nodes() if n.node_id == lost.node_id]
    assert dead[0].state == common_pb2.NODE_STATE_DEAD
    assert "heartbeat" in dead[0].death_reason


# ---- drivers ------------------------------------------------------------------------------

JOIN = """
import json, ray
ray.init(address={address!r}{extra})

@ray.remote
def where():
    return ray.get_runtime_context().get_node_id()

ctx = ray.get_runtime_context()
print(json.dumps({{"node": ctx.get_node_id(), "task_node": ray.get(where.remote(), timeout=60),
                   "nodes": len([n for n in ray.nodes() if n["Alive"]])}}))
"""


@pytest.mark.timeout(300)
def test_driver_joins_by_auto_and_by_address_under_a_temp_dir(ray_start_cluster):
    cluster = ray_start_cluster
    head = cluster.add_node(num_cpus=1)
    second = cluster.add_node(num_cpus=1)
    # The sessions (and tokens) live under the nodes' --temp-dirs, not in RAY_TMPDIR: the
    # driver finds the token from the address alone, as its user's record says.
    assert not list(cluster.ray_tmpdir.glob("session_*"))
    assert head.session_dir.parent == head.temp_dir.resolve()
    for address in ("auto", cluster.address):
        result = _run_driver(cluster, JOIN.format(address=address, extra=""))
        assert result.returncode == 0, result.stdout + result.stderr
        got = json.loads(result.stdout.strip().splitlines()[-1])
        # By default a driver attaches to this machine's node at 127.0.0.1: the head.
        assert got == {"node": head.node_id.hex(), "task_node": head.node_id.hex(), "nodes": 2}

    # Given the second node's address, it attaches to that node and its tasks run there.
    result = _run_driver(
        cluster, JOIN.format(address=cluster.address, extra=", _node_ip_address='127.0.0.2'")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got == {"node": second.node_id.hex(), "task_node": second.node_id.hex(), "nodes": 2}


@pytest.mark.timeout(240)
def test_driver_on_a_node_uses_that_nodes_store_and_address(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    second = cluster.add_node(num_cpus=1)
    code = f"""
        import os, numpy as np, ray
        from ray._private import runtime
        ray.init(address={cluster.address!r}, _node_ip_address="127.0.0.2")
        cw = runtime.core_worker()
        assert cw.nm.address == {second.node_manager_address!r}, cw.nm.address
        assert cw.address.ip_address == "127.0.0.2", cw.address
        ref = ray.put(np.ones(4 << 20, dtype=np.uint8))
        assert os.listdir({str(second.shm_dir)!r}), "the object is in node 2's store"
        assert ray.get(ref).sum() == 4 << 20
        print("OK")
    """
    result = _run_driver(cluster, code)
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr


@pytest.mark.timeout(240)
def test_driver_attaches_by_default_to_this_machines_node(ray_start_cluster):
    """With no node at 127.0.0.1, a driver attaches to the node of this machine there is."""
    cluster = ray_start_cluster
    head = cluster.add_node(num_cpus=1, node_ip_address="127.0.0.4")
    result = _run_driver(cluster, JOIN.format(address="auto", extra=""))
    assert result.returncode == 0, result.stdout + result.stderr
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got == {"node": head.node_id.hex(), "task_node": head.node_id.hex(), "nodes": 1}


@pytest.mark.timeout(240)
def test_driver_refuses_a_node_address_with_no_node(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    result = _run_driver(
        cluster,
        f"import ray; ray.init(address={cluster.address!r}, _node_ip_address='127.0.0.9')",
    )
    assert result.returncode != 0
    assert "ConnectionError" in result.stderr, result.stderr
    assert "no alive node of that cluster runs at 127.0.0.9" in result.stderr, result.stderr
    assert "ray start --address" in result.stderr and "127.0.0.1" in result.stderr


# ---- ray status ---------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_status_lists_nodes_resources_and_pending_actor_demand(ray_start_cluster):
    cluster = ray_start_cluster
    head = cluster.add_node(num_cpus=1, resources={"busy": 1})
    second = cluster.add_node(num_cpus=2, resources={"side": 3})
    third = cluster.add_node(num_cpus=1)
    cluster.connect()

    @ray.remote(num_cpus=0, resources={"busy": 1})
    class Holder:
        def ping(self):
            return "pong"

    @ray.remote(num_cpus=0, resources={"nowhere": 1})
    class Nowhere:
        def ping(self):
            return "pong"

    holder = Holder.remote()
    assert ray.get(holder.ping.remote(), timeout=60) == "pong"

    def status(pred):
        def check():
            result = cluster.cli("status", "--address", cluster.address)
            assert result.returncode == 0, result.stderr
            return pred(result.stdout) and result.stdout

        return wait_for_condition(check, timeout=60, retry_interval_ms=300)

    # The holder's resource shows as used on the head (once the head reports it).
    text = status(lambda out: "busy 1/1" in out)
    lines = _lines_without_memory(text)
    assert "Nodes: 3 alive, 0 dead" in lines
    node_lines = [line for line in lines if line.startswith("ALIVE")]
    assert len(node_lines) == 3
    assert node_lines[0].split()[1:] == [head.node_id.hex()[:12], head.node_manager_address, "head"]
    for node in (second, third):
        assert [node.node_id.hex()[:12], node.node_manager_address] in [
            line.split()[1:3] for line in node_lines
        ]
    per_node = [line for line in lines if line.startswith("resources (used/total):")]
    assert per_node[0] == "resources (used/total): CPU 0/1, busy 1/1"
    assert "resources (used/total): CPU 0/2, side 0/3" in per_node
    assert "resources (used/total): CPU 0/1" in per_node
    assert "CPU 0 / 4" in lines and "busy 1 / 1" in lines and "side 0 / 3" in lines
    assert "Demand: none (nothing waits for resources)" in lines

    # One actor waits for the busy resource (fits, not now); one needs what no node has.
    waiter = Holder.remote()
    nowhere = Nowhere.remote()
    text = status(
        lambda out: (
            "1 actor  {busy: 1}" in _section(out, "Waiting")
            and "1 actor  {nowhere: 1}" in _section(out, "Infeasible")
        )
    )
    assert "1 actor  {busy: 1}" not in _section(text, "Infeasible")
    assert "1 actor  {nowhere: 1}" not in _section(text, "Waiting")
    assert "fit nowhere right now" in text and "fit nowhere ever" in text

    # When the holder goes, the waiter gets the resource and the waiting demand is gone.
    ray.kill(holder)
    assert ray.get(waiter.ping.remote(), timeout=60) == "pong"
    text = status(lambda out: _section(out, "Waiting") == ["none"])
    assert "1 actor  {nowhere: 1}" in _section(text, "Infeasible")
    ray.kill(nowhere)

    # A node lost: listed dead, with why, and its resources gone from the total.
    cluster.kill_node(third)
    text = status(lambda out: "Nodes: 2 alive, 1 dead" in out)
    dead = [line for line in _status_lines(text) if line.startswith("DEAD")]
    assert len(dead) == 1
    assert dead[0].split()[1:3] == [third.node_id.hex()[:12], third.node_manager_address]
    assert "heartbeat" in dead[0]
    assert "CPU 0 / 3" in _lines_without_memory(text)


def test_status_text_without_a_cluster():
    """The status report from a GetClusterStatus reply: nodes, use, and both kinds of demand."""
    reply = gcs_pb2.GetClusterStatusReply()
    head = reply.nodes.add(
        node_id=b"\x01" * 28,
        node_manager_address="127.0.0.1",
        node_manager_port=1000,
        state=common_pb2.NODE_STATE_ALIVE,
        is_head=True,
    )
    head.resources.total.update({"CPU": 4, "GPU": 1, "accel": 2})
    head.resources.available.update({"CPU": 1.5, "GPU": 1, "accel": 0})
    gone = reply.nodes.add(
        node_id=b"\x02" * 28,
        node_manager_address="127.0.0.2",
        node_manager_port=2000,
        state=common_pb2.NODE_STATE_DEAD,
        death_reason="missed heartbeats for 10.0s",
    )
    gone.resources.total.update({"CPU": 8})
    reply.demand.add(shape={"CPU": 1}, count=3, kind="task")
    reply.demand.add(shape={"accel": 1}, count=1, kind="actor")
    reply.demand.add(shape={"CPU": 64, "GPU": 2}, count=2, kind="task", infeasible=True)
    stats = node_manager_pb2.GetNodeStatsReply(
        object_store_used_bytes=MiB, object_store_capacity_bytes=100 * MiB, num_workers=2
    )
    text = format_status("127.0.0.1:6379", "session_x", reply, {head.node_id: NodeStore(stats)})
    lines = _status_lines(text)
    assert "Nodes: 1 alive, 1 dead" in lines
    assert "ALIVE  010101010101  127.0.0.1:1000  head" in lines
    assert "DEAD   020202020202  127.0.0.2:2000  (missed heartbeats for 10.0s)" in lines
    assert "resources (used/total): CPU 2.5/4, GPU 0/1, accel 2/2" in lines
    assert "CPU    2.5 / 4" in lines  # dead nodes do not count
    assert any(line.startswith("object store: 1.0 MiB used of 100.0 MiB") for line in lines)
    assert _section(text, "Waiting") == ["1 actor  {accel: 1}", "3 tasks  {CPU: 1}"]
    assert _section(text, "Infeasible") == ["2 tasks  {CPU: 64, GPU: 2}"]
    empty = format_status("a:1", "s", gcs_pb2.GetClusterStatusReply(), {})
    assert "Demand: none (nothing waits for resources)" in empty


# ---- ray start / ray stop with several nodes ------------------------------------------------


def _parent_name(path: str) -> str:
    return os.path.basename(os.path.dirname(path))


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.mark.timeout(300)
def test_stop_stops_every_node_started_here(cli: Cli, tmp_path) -> None:
    head_out = cli.run(
        "start", "--head", "--port", "0", "--num-cpus", "1",
        "--node-ip-address", "127.0.0.1", "--temp-dir", str(tmp_path / "head"),
    ).stdout  # fmt: skip
    address = cli.address()
    assert f"GCS address:   {address}" in head_out
    # `--flag=value` and `--flag value` both work.
    cli.run(
        "start", f"--address={address}", "--node-ip-address=127.0.0.2",
        f"--temp-dir={tmp_path / 'second'}", "--num-cpus=1", '--resources={"side": 1}',
        "--object-store-memory=104857600",
    )  # fmt: skip
    cli.run(
        "start", "--address", address, "--node-ip-address", "127.0.0.3",
        "--temp-dir", str(tmp_path / "third"), "--num-cpus", "0", "--num-gpus", "0",
    )  # fmt: skip
    recorded = cli.recorded()
    assert [e["kind"] for e in recorded] == ["gcs", "node_manager", "node_manager", "node_manager"]
    assert [e["address"].rsplit(":", 1)[0] for e in recorded] == [
        "127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.3",
    ]  # fmt: skip
    assert [_parent_name(e["session_dir"]) for e in recorded[1:]] == ["head", "second", "third"]

    text = cli.run("status").stdout
    lines = _lines_without_memory(text)
    assert "Nodes: 3 alive, 0 dead" in lines, text
    assert "resources (used/total): CPU 0/1, side 0/1" in lines, text
    assert "resources (used/total): CPU 0/0" in lines, text
    assert any(re.match(r"object store: 0 B used of 100\.0 MiB", line) for line in lines), text
    # Every node listens on its own address only.
    cli.remember_processes()
    for entry in recorded:
        ip = entry["address"].rsplit(":", 1)[0]
        proc = psutil.Process(entry["pid"])
        listening = listening_addresses([proc, *proc.children(recursive=True)])
        assert listening and {a[0] for a in listening} == {ip}, (entry, listening)

    processes = list(cli.seen.values())
    shm_dirs = cli.node_shm_dirs()
    assert len(shm_dirs) == 3 and all(d.exists() for d in shm_dirs)
    result = cli.run("stop")
    assert result.stdout.count("Stopped node manager") == 3, result.stdout
    assert result.stdout.count("Stopped GCS") == 1, result.stdout
    wait_for_condition(lambda: not alive(processes), timeout=30)
    assert not [d for d in shm_dirs if d.exists()]
    assert cli.still_listening() == {}
    assert cli.recorded() == [] and cli.current_cluster() is None
    assert "No Ray processes" in cli.run("stop").stdout


@pytest.mark.timeout(300)
def test_stop_force_and_blocking_nodes(cli: Cli, tmp_path) -> None:
    """`ray stop` also ends `ray start --block` nodes (their foreground process exits), and
    `--force` kills what `ray start` started at once."""
    blocking = subprocess.Popen(
        [*cli.command, "start", "--head", "--port", "0", "--num-cpus", "1", "--block",
         "--temp-dir", str(tmp_path / "head")],
        env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        for line in blocking.stdout:
            if line.startswith("Blocking"):
                break
        address = cli.address()
        cli.run(
            "start", "--address", address, "--node-ip-address", "127.0.0.2", "--num-cpus", "1",
            "--temp-dir", str(tmp_path / "second"),
        )  # fmt: skip
        cli.remember_processes()
        processes = list(cli.seen.values())
        assert len(processes) >= 4
        result = cli.run("stop", "--force")
        assert result.stdout.count("Killed node manager") == 2, result.stdout
        # The head's GCS is killed, or already stopped by the blocking `ray start`, which
        # stops its node when it sees the node manager die (a race either may win).
        assert "Killed GCS" in result.stdout or "Already gone: GCS" in result.stdout, result.stdout
        # The blocking `ray start` sees its node die, says so and exits.
        assert blocking.wait(timeout=60) == 1
        rest = blocking.stdout.read()
        assert "died (killed by signal 9)" in rest, rest
        wait_for_condition(lambda: not alive(processes), timeout=30)
        assert not [d for d in cli.node_shm_dirs() if d.exists()]
    finally:
        if blocking.poll() is None:
            os.killpg(blocking.pid, signal.SIGKILL)
            blocking.wait()


# ---- refusals -------------------------------------------------------------------------------


@pytest.mark.timeout(240)
def test_refuses_a_taken_port(cli: Cli) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.2", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = cli.run(
            "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.2", check=False
        )
        assert result.returncode == 1
        assert f"Port {port} on 127.0.0.2 is already in use" in result.stderr, result.stderr
        assert "--port 0" in result.stderr
        # A joining node's --node-manager-port likewise.
        cli.run("start", "--head", "--port", "0", "--num-cpus", "0")
        result = cli.run(
            "start", "--address", cli.address(), "--node-ip-address", "127.0.0.2",
            "--node-manager-port", str(port), check=False,
        )  # fmt: skip
        assert result.returncode == 1
        assert "already in use" in result.stderr and "--node-manager-port" in result.stderr
    assert len(cli.recorded()) == 2, "only the head"


@pytest.mark.timeout(240)
def test_refuses_an_unreachable_head(cli: Cli) -> None:
    address = f"127.0.0.1:{_free_port()}"  # nothing listens there
    for args in (["start", "--address", address], ["start", "--address", address, "--token", "t"]):
        result = cli.run(*args, check=False)
        assert result.returncode == 1
        assert f"Cannot reach the GCS at {address}" in result.stderr, result.stderr
        assert "ray start --head" in result.stderr, result.stderr
    result = cli.run("status", "--address", address, check=False)
    assert result.returncode == 1 and f"Cannot reach the GCS at {address}" in result.stderr
    assert cli.recorded() == []


@pytest.mark.timeout(240)
def test_refuses_a_wrong_token(cli: Cli) -> None:
    cli.run("start", "--head", "--port", "0", "--num-cpus", "0")
    address = cli.address()
    result = cli.run("start", "--address", address, "--token", "not-the-token", check=False)
    assert result.returncode == 1
    assert f"The GCS at {address} refused the token (given with --token)" in result.stderr
    assert f"ray token --address {address}" in result.stderr
    result = cli.run("status", "--token", "not-the-token", check=False)
    assert result.returncode == 1 and "refused the token" in result.stderr, result.stderr
    driver = cli.driver(
        f"import ray; ray.init(address={address!r})",
        check=False,
        env=dict(cli.env, RAY_CLUSTER_TOKEN="not-the-token"),
    )
    assert driver.returncode != 0 and "refused the cluster token" in driver.stderr, driver.stderr
    # With the right token given explicitly, the node joins.
    cli.run("start", "--address", address, "--token", cli.token(), "--num-cpus", "0")
    assert len(cli.recorded()) == 3


@pytest.mark.timeout(240)
def test_refuses_a_node_ip_address_of_another_machine(cli: Cli) -> None:
    for args in (
        ["start", "--head", "--port", "0", "--node-ip-address", FOREIGN_IP],
        ["start", "--head", "--port", "0", f"--node-ip-address={FOREIGN_IP}", "--block"],
    ):
        result = cli.run(*args, check=False)
        assert result.returncode == 1
        assert f"--node-ip-address {FOREIGN_IP} is not an address of this machine" in (
            result.stderr
        ), result.stderr
        assert "127.0.0.1" in result.stderr  # it names the addresses it could use
    result = cli.run("start", "--head", "--port", "0", "--node-ip-address", "nohost", check=False)
    assert result.returncode == 1 and "is not an IP address" in result.stderr, result.stderr
    cli.run("start", "--head", "--port", "0", "--num-cpus", "0")
    result = cli.run(
        "start", "--address", cli.address(), "--node-ip-address", FOREIGN_IP, check=False
    )
    assert result.returncode == 1 and "not an address of this machine" in result.stderr
    assert len(cli.recorded()) == 2


@pytest.mark.timeout(120)
def test_start_usage_errors(cli: Cli) -> None:
    result = cli.run("start", "--address", "127.0.0.1:1", "--port", "5", check=False)
    assert result.returncode == 1 and "--port sets the GCS port" in result.stderr
    result = cli.run("start", "--address", "nohostport", check=False)
    assert result.returncode == 1 and "HOST:PORT" in result.stderr
    result = cli.run("start", "--head", "--port", "0", "--resources", "{bad", check=False)
    assert result.returncode == 1 and "--resources must be a JSON object" in result.stderr
    result = cli.run("start", "--head", "--address", "127.0.0.1:1", check=False)
    assert result.returncode == 2, result.stderr
    assert cli.recorded() == []


@pytest.mark.timeout(180)
def test_a_driver_that_shuts_down_mid_task_frees_the_worker(ray_start_cluster):
    """ray.shutdown() while a task of the driver still runs: the worker running it ends (nobody
    waits for that task any more), so the node's only CPU serves the next driver at once."""
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    result = _run_driver(
        cluster,
        f"""
        import time, ray
        ray.init(address={cluster.address!r})

        @ray.remote
        def sleeper():
            time.sleep(600)

        ref = sleeper.remote()
        ready, _ = ray.wait([ref], timeout=3)
        assert not ready
        ray.shutdown()
        print("shut down")
        """,
    )
    assert result.returncode == 0 and "shut down" in result.stdout, result.stdout + result.stderr
    cluster.connect()

    @ray.remote
    def quick() -> int:
        return 7

    assert ray.get(quick.remote(), timeout=30) == 7
