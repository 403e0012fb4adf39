"""Starting and stopping the embedded cluster: `ray.init`, `ray.shutdown`, re-initialization,
and a driver that dies without shutting down (the cluster must go with it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psutil
import pytest
from utils import alive, describe, new_shm_entries, shm_entries, start_driver, wait_for_condition

import ray

pytestmark = pytest.mark.timeout(90)


@ray.remote
def pid():
    return os.getpid()


def test_init_returns_context(shutdown_only):
    info = ray.init(num_cpus=1)
    assert ray.is_initialized()
    assert info["node_id"] == ray.get_runtime_context().get_node_id()
    assert info["job_id"] == ray.get_runtime_context().get_job_id()
    host, port = info.address.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    assert os.path.isdir(info["session_dir"])


def test_is_initialized_false_before_init_and_after_shutdown(shutdown_only):
    assert not ray.is_initialized()
    ray.init(num_cpus=1)
    assert ray.is_initialized()
    ray.shutdown()
    assert not ray.is_initialized()


def test_shutdown_stops_every_process(shutdown_only):
    shm_before = shm_entries()
    ray.init(num_cpus=2)
    worker_pids = set(ray.get([pid.remote() for _ in range(4)]))
    procs = psutil.Process().children(recursive=True)
    assert len(procs) >= 3, describe(procs)  # GCS, node manager, workers
    assert worker_pids <= {p.pid for p in procs}
    assert new_shm_entries(shm_before), "the node's object store lives in /dev/shm"
    ray.shutdown()
    assert not ray.is_initialized()
    wait_for_condition(lambda: not alive(procs), timeout=10)
    wait_for_condition(lambda: not new_shm_entries(shm_before), timeout=10)


def test_shutdown_twice_and_without_init(shutdown_only):
    ray.shutdown()
    ray.init(num_cpus=1)
    ray.shutdown()
    ray.shutdown()
    assert not ray.is_initialized()


def test_init_after_shutdown_starts_a_new_cluster(shutdown_only):
    first = ray.init(num_cpus=1)
    ref = ray.put("from the first cluster")
    assert ray.get(pid.remote()) > 0
    ray.shutdown()
    second = ray.init(num_cpus=1)
    assert second["node_id"] != first["node_id"]
    assert ray.get(ray.put("second")) == "second"
    assert ray.get(pid.remote()) > 0
    del ref  # a ref of the old cluster may be dropped safely


def test_init_twice_raises_unless_ignored(shutdown_only):
    info = ray.init(num_cpus=1)
    with pytest.raises(RuntimeError):
        ray.init(num_cpus=1)
    again = ray.init(num_cpus=1, ignore_reinit_error=True)
    assert again["node_id"] == info["node_id"]
    assert ray.is_initialized()


def test_init_rejects_unknown_argument(shutdown_only):
    with pytest.raises(TypeError):
        ray.init(num_cpus=1, not_an_argument=True)
    assert not ray.is_initialized()


def test_init_as_context_manager(shutdown_only):
    with ray.init(num_cpus=1):
        assert ray.get(ray.put(5)) == 5
    assert not ray.is_initialized()


def test_api_call_without_init_starts_a_cluster(shutdown_only):
    assert ray.get(ray.put("auto")) == "auto"
    assert ray.is_initialized()


def _driver_shm(driver_pid: int) -> set[str]:
    """The /dev/shm entries of the cluster a driver process started (its object store)."""
    return {name for name in shm_entries() if f"_{driver_pid}_" in name}


def test_driver_exit_without_shutdown_cleans_up():
    driver = start_driver(
        """
        import os, ray
        ray.init(num_cpus=1)

        @ray.remote
        def f():
            return os.getpid()

        print("worker", ray.get(f.remote()), flush=True)
        """
    )
    out, _ = driver.communicate(timeout=60)
    assert driver.returncode == 0, out
    worker = int(out.split("worker ")[1].split()[0])
    wait_for_condition(lambda: not psutil.pid_exists(worker), timeout=10)
    wait_for_condition(lambda: not _driver_shm(driver.pid), timeout=10)


@pytest.mark.timeout(120)
def test_driver_killed_with_sigkill_takes_its_cluster_down():
    shm_before = shm_entries()
    driver = start_driver(
        """
        import os, sys, time, numpy as np, ray
        ray.init(num_cpus=2)

        @ray.remote
        def f():
            return os.getpid()

        pids = ray.get([f.remote() for _ in range(2)])
        keep = ray.put(np.zeros(2_000_000))  # something in the shared-memory store
        print("READY", flush=True)
        time.sleep(600)
        """
    )
    try:
        line = driver.stdout.readline()
        while line and "READY" not in line:
            line = driver.stdout.readline()
        assert "READY" in line, "the driver did not start its cluster"
        cluster = psutil.Process(driver.pid).children(recursive=True)
        assert len(cluster) >= 3, describe(cluster)  # GCS, node manager and workers
        owned_shm = _driver_shm(driver.pid)
        assert owned_shm, (
            f"no object store of the driver in /dev/shm: {sorted(shm_entries() - shm_before)}"
        )
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=10)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        driver.stdout.close()

    def cluster_gone():
        survivors = alive(cluster)
        assert not survivors, describe(survivors)
        return True

    wait_for_condition(cluster_gone, timeout=10)

    def shm_gone():
        left = {name for name in owned_shm if os.path.exists(os.path.join("/dev/shm", name))}
        assert not left, sorted(left)
        return True

    wait_for_condition(shm_gone, timeout=10)


def test_driver_raising_exception_cleans_up():
    driver = start_driver(
        """
        import os, ray
        ray.init(num_cpus=1)

        @ray.remote
        def f():
            return os.getpid()

        print("worker", ray.get(f.remote()), flush=True)
        raise SystemExit("driver failed on purpose")
        """
    )
    out, _ = driver.communicate(timeout=60)
    assert driver.returncode == 1, out
    worker = int(out.split("worker ")[1].split()[0])
    wait_for_condition(lambda: not psutil.pid_exists(worker), timeout=10)


def test_driver_script_runs_from_a_file(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(
        "import ray\n"
        "ray.init(num_cpus=1)\n"
        "@ray.remote\n"
        "def square(x):\n"
        "    return x * x\n"
        "assert ray.get([square.remote(i) for i in range(4)]) == [0, 1, 4, 9]\n"
        "print('ok')\n"
    )
    from utils import driver_env

    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=driver_env()
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


def test_services_stop_by_themselves_every_time():
    """Shutdown closes each service's lifeline and sends SIGTERM right after, so both
    arrive together; each time the GCS and node manager exit on their own (not by the
    SIGKILL that follows 5 s later) and remove their shared memory."""
    from ray._private import node as node_mod

    for _ in range(8):
        before = shm_entries()
        started = node_mod.start_node({"CPU": 1.0}, 64 * 1024 * 1024, head=True)
        children = list(started.children)
        started.stop()
        for child in children:
            assert child.popen.returncode == 0, (child.name, child.popen.returncode)
        assert not new_shm_entries(before)


def test_malformed_tunable_names_the_variable():
    env = dict(os.environ, RAY_MAX_PUSH_STREAMS="abc")
    result = subprocess.run(
        [sys.executable, "-c", "import ray"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "RAY_MAX_PUSH_STREAMS='abc' is not an integer" in result.stderr, result.stderr


def test_wrong_token_is_a_clear_ray_error(shutdown_only):
    from ray._private import runtime

    ray.init(num_cpus=1)
    address = runtime._context.address
    # The cluster stays up while a second driver tries to join it with a bad token.
    script = f"""
import os, ray
os.environ["RAY_CLUSTER_TOKEN"] = "not-the-token"
try:
    ray.init(address={address!r})
except ray.exceptions.RayError as err:
    assert "refused the cluster token" in str(err), err
    assert "grpc" not in type(err).__module__
    print("REFUSED", type(err).__name__)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert "REFUSED" in result.stdout, result.stdout + result.stderr


def test_node_manager_port_as_address_is_a_clear_error(shutdown_only):
    from ray._private import runtime

    ray.init(num_cpus=1)
    nm_address = runtime._node.node_manager_address
    token = runtime._node.token
    script = f"""
import os, ray
os.environ["RAY_CLUSTER_TOKEN"] = {token!r}
try:
    ray.init(address={nm_address!r})
except ray.exceptions.RayError as err:
    assert "does not serve the GCS" in str(err), err
    print("REFUSED", type(err).__name__)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert "REFUSED" in result.stdout, result.stdout + result.stderr


def test_tasks_and_actors_inherit_the_jobs_namespace(shutdown_only) -> None:
    """`ray.get_actor(name)` without `namespace=` inside a task or an actor finds the actor the
    driver named in its job's namespace, as in Ray."""
    ray.init(namespace="inherited", num_cpus=2)

    @ray.remote
    class Holder:
        def __init__(self, value: int) -> None:
            self.value = value

        def get(self) -> int:
            return self.value

    keep = Holder.options(name="ns-shared").remote(41)  # noqa: F841 - named actors die unreferenced

    @ray.remote
    def look() -> tuple[str, int]:
        return (
            ray.get_runtime_context().namespace,
            ray.get(ray.get_actor("ns-shared").get.remote()),
        )

    @ray.remote
    class Looker:
        def look(self) -> int:
            return ray.get(ray.get_actor("ns-shared").get.remote())

    assert ray.get(look.remote(), timeout=60) == ("inherited", 41)
    assert ray.get(Looker.remote().look.remote(), timeout=60) == 41
    with pytest.raises(ValueError):
        ray.get_actor("ns-shared", namespace="elsewhere")


def test_nested_tasks_keep_the_jobs_code_search_path(shutdown_only, tmp_path) -> None:
    """A task submitted from a worker carries its job's config (the code search path here),
    not the worker's own empty one, so a nested task imports the job's modules too."""
    import types

    (tmp_path / "searched_module_xyz.py").write_text("VALUE = 17\n")
    ray.init(num_cpus=2, job_config=types.SimpleNamespace(code_search_path=[str(tmp_path)]))

    @ray.remote
    def leaf() -> int:
        import searched_module_xyz

        return searched_module_xyz.VALUE

    @ray.remote
    def outer(depth: int) -> int:
        return ray.get(leaf.remote()) if depth == 0 else ray.get(outer.remote(depth - 1))

    assert ray.get(outer.remote(2), timeout=60) == 17
