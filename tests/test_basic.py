"""Tasks on one node: the seed walkthrough, `@ray.remote` and `.options()`, returns, arguments,
nested tasks, parallelism, worker output and the runtime context.

Every test here shares one 2-CPU cluster (`ray_start_regular_shared`).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest
from utils import wait_for_condition

import ray

pytestmark = pytest.mark.timeout(60)


@ray.remote
def remote_function():
    return 1


@ray.remote
def remote_chain_function(value):
    return value + 1


@ray.remote
def echo(x):
    return x


@ray.remote
def slow_echo(x, seconds):
    time.sleep(seconds)
    return x


@ray.remote
def chatty_task(token):
    print(f"hello from the worker {token}")
    return os.getpid()


@ray.remote
def grumpy_task():
    print("complaint 51c0", file=sys.stderr)
    return os.getpid()


def regular_function():
    return 1


# ---- the seed walkthrough ----------------------------------------------------------------


def test_walkthrough_remote_function(ray_start_regular_shared):
    assert regular_function() == 1
    object_id = remote_function.remote()
    assert isinstance(object_id, ray.ObjectRef)
    assert ray.get(object_id) == 1


def test_walkthrough_invocations_run_in_parallel(ray_start_regular_shared):
    refs = [remote_function.remote() for _ in range(4)]
    assert ray.get(refs) == [1, 1, 1, 1]


def test_walkthrough_chained_tasks(ray_start_regular_shared):
    y1_id = remote_function.remote()
    assert ray.get(y1_id) == 1
    chained_id = remote_chain_function.remote(y1_id)
    assert ray.get(chained_id) == 2


def test_walkthrough_return_multiple(ray_start_regular_shared):
    @ray.remote(num_returns=3)
    def return_multiple():
        return 1, 2, 3

    a_id, b_id, c_id = return_multiple.remote()
    assert ray.get([a_id, b_id, c_id]) == [1, 2, 3]


def test_walkthrough_put_get(ray_start_regular_shared):
    y = 1
    obj_id = ray.put(y)
    assert ray.get(obj_id) == 1


# ---- @ray.remote and .options() -------------------------------------------------------------


def test_remote_without_and_with_options(ray_start_regular_shared):
    @ray.remote
    def bare(x):
        return x * 2

    @ray.remote(num_cpus=1, max_retries=0, name="renamed")
    def with_options(x):
        return x * 3

    @ray.remote()
    def empty_parens(x):
        return x * 4

    assert ray.get(bare.remote(2)) == 4
    assert ray.get(with_options.remote(2)) == 6
    assert ray.get(empty_parens.remote(2)) == 8


def test_options_override_decorator(ray_start_regular_shared):
    @ray.remote(num_returns=1)
    def pair():
        return 1, 2

    assert ray.get(pair.remote()) == (1, 2)
    first, second = pair.options(num_returns=2).remote()
    assert ray.get([first, second]) == [1, 2]
    # .options() does not change the function itself.
    assert ray.get(pair.remote()) == (1, 2)


def test_options_num_cpus_zero(ray_start_regular_shared):
    @ray.remote
    def f():
        return "ok"

    assert ray.get(f.options(num_cpus=0).remote()) == "ok"


def test_remote_function_cannot_be_called_directly(ray_start_regular_shared):
    with pytest.raises(TypeError, match=r"remote_function\.remote\(\)"):
        remote_function()


@pytest.mark.parametrize(
    "options",
    [{"num_cpus": -1}, {"num_returns": -1}, {"not_an_option": 1}, {"max_retries": "x"}],
)
def test_invalid_options_are_rejected(ray_start_regular_shared, options):
    with pytest.raises(ValueError):
        ray.remote(**options)(regular_function)
    with pytest.raises(ValueError):
        remote_function.options(**options)


def test_remote_rejects_positional_non_callable():
    with pytest.raises(TypeError):
        ray.remote(1, 2)


def test_max_calls_restarts_the_worker(ray_start_regular_shared):
    """With max_calls=1 every call runs in a fresh worker process (the worker exits after it)."""

    @ray.remote(max_calls=1)
    def worker_pid():
        return os.getpid()

    pids = [ray.get(worker_pid.remote(), timeout=30) for _ in range(3)]
    assert len(set(pids)) == 3, pids


def test_kwargs_and_defaults(ray_start_regular_shared):
    @ray.remote
    def f(a, b=10, *, c=100):
        return a + b + c

    assert ray.get(f.remote(1)) == 111
    assert ray.get(f.remote(1, 2, c=3)) == 6
    assert ray.get(f.remote(a=1, b=ray.put(5), c=ray.put(7))) == 13


# ---- num_returns ------------------------------------------------------------------------------


def test_num_returns_zero(ray_start_regular_shared, tmp_path):
    marker = tmp_path / "ran"

    @ray.remote(num_returns=0)
    def side_effect(path):
        with open(path, "w") as f:
            f.write("done")

    assert side_effect.remote(str(marker)) is None
    wait_for_condition(lambda: marker.exists() and marker.read_text() == "done")


def test_num_returns_one_returns_a_ref(ray_start_regular_shared):
    @ray.remote(num_returns=1)
    def f():
        return (1, 2, 3)

    ref = f.remote()
    assert isinstance(ref, ray.ObjectRef)
    assert ray.get(ref) == (1, 2, 3)


def test_num_returns_three(ray_start_regular_shared):
    @ray.remote(num_returns=3)
    def f(x):
        return x, x + 1, np.full(200_000, x)  # the third is large: in the shared store

    refs = f.remote(5)
    assert isinstance(refs, list) and len(refs) == 3
    assert len({r.hex() for r in refs}) == 3
    a, b, c = ray.get(refs)
    assert (a, b) == (5, 6)
    assert c.shape == (200_000,) and (c == 5).all()


def test_num_returns_mismatch_is_an_error(ray_start_regular_shared):
    @ray.remote(num_returns=2)
    def f():
        return 1, 2, 3

    refs = f.remote()
    with pytest.raises(ray.exceptions.RayError):
        ray.get(refs, timeout=30)


# ---- arguments ---------------------------------------------------------------------------------


def test_top_level_refs_are_resolved(ray_start_regular_shared):
    @ray.remote
    def kind(x):
        return type(x).__name__, x

    assert ray.get(kind.remote(ray.put(41))) == ("int", 41)
    assert ray.get(kind.remote(remote_function.remote())) == ("int", 1)


def test_nested_refs_are_kept_as_refs(ray_start_regular_shared):
    object_ref = ray.put(1)

    @ray.remote
    def inspect(container):
        inner = container["obj"]
        return isinstance(inner, ray.ObjectRef), inner.hex(), ray.get(inner)

    is_ref, hex_id, value = ray.get(inspect.remote({"obj": object_ref}))
    assert is_ref and hex_id == object_ref.hex() and value == 1

    @ray.remote
    def in_list(items):
        return [isinstance(r, ray.ObjectRef) for r in items], ray.get(items)

    refs = [ray.put(i) for i in range(3)]
    assert ray.get(in_list.remote(refs)) == ([True, True, True], [0, 1, 2])


def test_echo_seed_by_value_and_by_reference(ray_start_regular_shared):
    object_ref = ray.put(1)
    # Pass-by-value: the task sees the value.
    assert ray.get(echo.remote(object_ref)) == 1
    # Pass-by-reference: the ref is preserved inside the dict.
    out = ray.get(echo.remote({"obj": object_ref}))
    assert out == {"obj": object_ref}
    assert isinstance(out["obj"], ray.ObjectRef)
    assert ray.get(out["obj"]) == 1


def test_large_argument_by_value(ray_start_regular_shared):
    arr = np.arange(1_000_000, dtype=np.int64)  # 8 MB, above the inline limit

    @ray.remote
    def total(a):
        return int(a.sum())

    assert ray.get(total.remote(arr)) == int(arr.sum())
    assert ray.get(total.remote(arr)) == int(arr.sum())


def test_task_returns_ref_it_created(ray_start_regular_shared):
    @ray.remote
    def make():
        return [ray.put("inner"), remote_function.remote()]

    inner, child = ray.get(make.remote())
    assert ray.get(inner) == "inner"
    assert ray.get(child) == 1


# ---- nested tasks ----------------------------------------------------------------------------


def test_tasks_submit_tasks(ray_start_regular_shared):
    @ray.remote
    def leaf(x):
        return x * 10

    @ray.remote
    def parent(n):
        return ray.get([leaf.remote(i) for i in range(n)])

    assert ray.get(parent.remote(3)) == [0, 10, 20]


def test_nested_tasks_two_levels(ray_start_regular_shared):
    @ray.remote
    def leaf(x):
        return x + 1

    @ray.remote
    def middle(x):
        return ray.get(leaf.remote(x)) + 1

    @ray.remote
    def top(x):
        return ray.get([middle.remote(x), middle.remote(x + 10)])

    assert ray.get(top.remote(0)) == [2, 12]


def test_child_refs_returned_without_get(ray_start_regular_shared):
    @ray.remote
    def parent():
        return remote_chain_function.remote(remote_function.remote())

    child_ref = ray.get(parent.remote())
    assert isinstance(child_ref, ray.ObjectRef)
    assert ray.get(child_ref) == 2


# ---- parallelism and dependencies ------------------------------------------------------------


def _warm_up(n: int) -> None:
    """Makes sure `n` workers are running so timing tests do not measure process startup."""

    @ray.remote
    def pid_after(seconds):
        time.sleep(seconds)
        return os.getpid()

    wait_for_condition(
        lambda: len(set(ray.get([pid_after.remote(0.2) for _ in range(n)]))) == n, timeout=30
    )


@pytest.mark.timeout(90)
def test_two_tasks_run_in_parallel(ray_start_regular_shared):
    _warm_up(2)

    @ray.remote
    def sleeper():
        time.sleep(1)
        return os.getpid()

    start = time.monotonic()
    pids = ray.get([sleeper.remote(), sleeper.remote()])
    elapsed = time.monotonic() - start
    assert len(set(pids)) == 2
    assert elapsed < 1.9, f"two 1 s tasks on 2 CPUs took {elapsed:.2f}s: they ran serially"


def test_dependent_task_waits_for_its_input(ray_start_regular_shared, tmp_path):
    @ray.remote
    def produce(path):
        time.sleep(0.5)
        with open(path, "w") as f:
            f.write(repr(time.time()))
        return 7

    @ray.remote
    def consume(value, path):
        return value, float(open(path).read()), time.time()

    path = str(tmp_path / "produced_at")
    value, produced_at, consumed_at = ray.get(consume.remote(produce.remote(path), path))
    assert value == 7
    assert consumed_at >= produced_at


def test_many_small_tasks(ray_start_regular_shared):
    refs = [remote_chain_function.remote(i) for i in range(200)]
    assert ray.get(refs) == [i + 1 for i in range(200)]


# ---- worker output -------------------------------------------------------------------------------


def test_worker_print_reaches_driver_stdout(ray_start_regular_shared, capfd):
    pid = ray.get(chatty_task.remote("b2f7"))
    seen = []

    def printed():
        seen.append(capfd.readouterr().out)
        text = "".join(seen)
        assert f"(chatty_task pid={pid}) hello from the worker b2f7" in text, text[-2000:]
        return True

    wait_for_condition(printed, timeout=10)


def test_worker_stderr_reaches_driver_stderr(ray_start_regular_shared, capfd):
    pid = ray.get(grumpy_task.remote())
    seen = []

    def printed():
        seen.append(capfd.readouterr().err)
        text = "".join(seen)
        assert f"(grumpy_task pid={pid}) complaint 51c0" in text, text[-2000:]
        return True

    wait_for_condition(printed, timeout=10)


# ---- runtime context and cluster info ---------------------------------------------------------------


def test_runtime_context_ids(ray_start_regular_shared):
    ctx = ray.get_runtime_context()
    driver = {
        "job": ctx.get_job_id(),
        "node": ctx.get_node_id(),
        "worker": ctx.get_worker_id(),
    }
    assert ctx.get_task_id() is None
    assert driver["node"] == ray_start_regular_shared["node_id"]

    @ray.remote
    def inside():
        c = ray.get_runtime_context()
        return {
            "job": c.get_job_id(),
            "node": c.get_node_id(),
            "worker": c.get_worker_id(),
            "task": c.get_task_id(),
        }

    ref = inside.remote()
    got = ray.get(ref)
    assert got["job"] == driver["job"]
    assert got["node"] == driver["node"]
    assert got["worker"] != driver["worker"]
    assert got["task"] is not None
    assert bytes.fromhex(got["task"]) == ref.task_id()
    other = ray.get(inside.remote())
    assert other["task"] != got["task"]


def test_is_initialized(ray_start_regular_shared):
    assert ray.is_initialized()

    @ray.remote
    def in_worker():
        return ray.is_initialized()

    assert ray.get(in_worker.remote()) is True


def test_nodes(ray_start_regular_shared):
    nodes = ray.nodes()
    assert len(nodes) == 1
    node = nodes[0]
    assert node["Alive"] is True
    assert node["NodeID"] == ray_start_regular_shared["node_id"]
    assert node["Resources"]["CPU"] == 2
    assert node["NodeManagerAddress"] == "127.0.0.1"
    assert node["NodeManagerPort"] > 0


def test_init_twice_raises(ray_start_regular_shared):
    with pytest.raises(RuntimeError, match="ignore_reinit_error"):
        ray.init()
    info = ray.init(ignore_reinit_error=True)
    assert info["node_id"] == ray_start_regular_shared["node_id"]
    assert ray.get(remote_function.remote()) == 1
