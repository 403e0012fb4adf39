"""Reference counting and the shared-memory store on one node: objects are freed when their
last reference goes, nested and borrowed refs keep objects alive, and a full store spills.

The store's contents are read from the node manager's stats (`GetNodeStats`).
Each test starts its own cluster so the store starts empty.
"""

from __future__ import annotations

import gc
import os
import time

import numpy as np
import pytest
from utils import wait_for_condition

import ray
from ray.exceptions import ObjectStoreFullError

pytestmark = pytest.mark.timeout(120)

MB = 1024 * 1024


def _stats():
    from ray._private import runtime

    return runtime.core_worker().nm.stats()


def _store_empty():
    s = _stats()
    assert s.num_objects == 0 and s.object_store_used_bytes == 0, (
        f"{s.num_objects} object(s), {s.object_store_used_bytes} bytes still in the store"
    )
    return True


def _array(mb: int, fill: int) -> np.ndarray:
    return np.full(mb * MB // 8, fill, dtype=np.int64)


# ---- freeing ---------------------------------------------------------------------------------


def test_put_object_freed_after_del(ray_start_regular):
    ref = ray.put(_array(20, 1))
    s = _stats()
    assert s.num_objects == 1 and s.object_store_used_bytes >= 20 * MB
    del ref
    gc.collect()
    wait_for_condition(_store_empty, timeout=10)


def test_many_puts_freed(ray_start_regular):
    for i in range(5):
        ref = ray.put(_array(5, i))
        assert ray.get(ref)[0] == i
        del ref
    gc.collect()
    wait_for_condition(_store_empty, timeout=10)


def test_task_return_freed_after_del(ray_start_regular):
    @ray.remote
    def make():
        return np.ones(3 * MB, dtype=np.int64)

    ref = make.remote()
    assert ray.get(ref).sum() == 3 * MB
    assert _stats().num_objects == 1
    del ref
    gc.collect()
    wait_for_condition(_store_empty, timeout=10)


def test_unused_task_return_freed(ray_start_regular):
    @ray.remote
    def make(path):
        open(path, "w").close()
        return np.ones(3 * MB, dtype=np.int64)

    @ray.remote
    def nothing():
        return None

    marker = "/tmp/" + os.urandom(6).hex()
    try:
        make.remote(marker)  # the returned ref is dropped at once
        wait_for_condition(lambda: os.path.exists(marker), timeout=30)
        ray.get(nothing.remote())
        wait_for_condition(_store_empty, timeout=10)
    finally:
        if os.path.exists(marker):
            os.unlink(marker)


def test_large_argument_freed_after_task(ray_start_regular):
    @ray.remote
    def total(a):
        return int(a.sum())

    assert ray.get(total.remote(_array(10, 1))) == 10 * MB // 8
    gc.collect()
    wait_for_condition(_store_empty, timeout=10)


def test_zero_copy_array_outlives_its_ref(ray_start_regular):
    ref = ray.put(_array(10, 7))
    arr = ray.get(ref)
    del ref
    gc.collect()
    wait_for_condition(lambda: _stats().num_objects == 0, timeout=10)
    # The mapping stays valid after the store dropped the object.
    assert arr[0] == 7 and arr[-1] == 7 and int(arr.sum()) == 7 * (10 * MB // 8)


# ---- what keeps objects alive --------------------------------------------------------------------


def test_pending_task_keeps_argument_alive(ray_start_regular, tmp_path):
    release = tmp_path / "release"

    @ray.remote
    def wait_then_sum(release, a):
        while not os.path.exists(release):
            time.sleep(0.02)
        return int(a.sum())

    blocker = ray.put(_array(10, 2))
    ref = wait_then_sum.remote(str(release), blocker)
    del blocker
    gc.collect()
    assert _stats().num_objects >= 1
    open(release, "w").close()
    assert ray.get(ref, timeout=30) == 2 * (10 * MB // 8)
    del ref
    gc.collect()
    wait_for_condition(_store_empty, timeout=10)


def test_nested_ref_keeps_inner_alive(ray_start_regular):
    inner_ref = ray.put(_array(10, 3))
    outer_ref = ray.put([inner_ref])
    inner_hex = inner_ref.hex()
    del inner_ref
    gc.collect()
    [inner_again] = ray.get(outer_ref)
    assert inner_again.hex() == inner_hex
    assert ray.get(inner_again)[0] == 3
    del inner_again
    gc.collect()
    assert _stats().num_objects == 1, "the outer object still holds the inner one"
    del outer_ref
    gc.collect()
    wait_for_condition(_store_empty, timeout=10)


def test_seed_nested_objects(ray_start_regular):
    # From the seed: Ray keeps the inner object alive until all outer references are deleted.
    object_ref = ray.put(1)
    object_ref_2 = ray.put([object_ref])
    del object_ref
    gc.collect()
    [inner] = ray.get(object_ref_2)
    assert ray.get(inner) == 1


def test_ref_inside_task_argument_keeps_object_alive(ray_start_regular):
    @ray.remote
    def read_later(container):
        time.sleep(0.3)
        return int(ray.get(container["ref"])[0])

    inner = ray.put(_array(5, 9))
    result = read_later.remote({"ref": inner})
    del inner
    gc.collect()
    assert ray.get(result, timeout=30) == 9


def test_worker_owned_object_borrowed_by_driver(ray_start_regular):
    @ray.remote
    def make_ref():
        return [ray.put(np.full(2 * MB, 4, dtype=np.int64))]

    [ref] = ray.get(make_ref.remote())
    assert ray.get(ref)[0] == 4
    assert _stats().num_objects == 1
    del ref
    gc.collect()
    wait_for_condition(_store_empty, timeout=10)


def test_child_task_result_returned_by_reference(ray_start_regular):
    @ray.remote
    def child():
        return np.full(2 * MB, 5, dtype=np.int64)

    @ray.remote
    def parent():
        return [child.remote()]

    [ref] = ray.get(parent.remote())
    assert ray.get(ref, timeout=30)[0] == 5


# ---- a full store ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ray_start_regular", [{"num_cpus": 2, "object_store_memory": 200 * MB}], indirect=True
)
def test_full_store_spills_and_restores(ray_start_regular):
    refs = [ray.put(_array(60, i)) for i in range(5)]  # 300 MB in a 200 MB store
    s = _stats()
    assert s.object_store_capacity_bytes == 200 * MB
    assert s.num_spilled_objects >= 2, s
    assert s.object_store_used_bytes <= 200 * MB
    for i, ref in enumerate(refs):
        arr = ray.get(ref)
        assert arr.shape == (60 * MB // 8,)
        assert arr[0] == i and arr[-1] == i and arr[len(arr) // 2] == i
        del arr
    assert ray.get(refs[0])[123] == 0


@pytest.mark.parametrize(
    "ray_start_regular", [{"num_cpus": 2, "object_store_memory": 200 * MB}], indirect=True
)
def test_full_store_with_task_results(ray_start_regular):
    @ray.remote
    def make(i):
        return np.full(60 * MB // 8, i, dtype=np.int64)

    refs = [make.remote(i) for i in range(5)]
    for i, ref in enumerate(refs):
        assert int(ray.get(ref, timeout=60)[-1]) == i


@pytest.mark.parametrize(
    "ray_start_regular", [{"num_cpus": 2, "object_store_memory": 100 * MB}], indirect=True
)
def test_object_larger_than_store(ray_start_regular):
    with pytest.raises(ObjectStoreFullError):
        ray.put(np.zeros(150 * MB // 8))
    # The store still works afterwards.
    assert ray.get(ray.put(_array(10, 1)))[0] == 1


@pytest.mark.parametrize(
    "ray_start_regular", [{"num_cpus": 2, "object_store_memory": 100 * MB}], indirect=True
)
def test_task_result_larger_than_store(ray_start_regular):
    @ray.remote(max_retries=0)
    def too_big():
        return np.zeros(150 * MB // 8)

    with pytest.raises(ObjectStoreFullError):
        ray.get(too_big.remote(), timeout=60)


@pytest.mark.parametrize(
    "ray_start_regular", [{"num_cpus": 2, "object_store_memory": 100 * MB}], indirect=True
)
def test_freed_objects_make_room(ray_start_regular):
    for i in range(10):  # 400 MB through a 100 MB store, one at a time
        ref = ray.put(_array(40, i))
        assert ray.get(ref)[0] == i
        del ref
        gc.collect()
    s = _stats()
    assert s.num_spilled_objects == 0, "freed objects were spilled instead of deleted"
    wait_for_condition(_store_empty, timeout=10)


def test_owner_died(ray_start_regular):
    @ray.remote
    def make():
        return [ray.put("owned by the worker")], os.getpid()

    [ref], worker_pid = ray.get(make.remote())
    os.kill(worker_pid, 9)
    with pytest.raises(ray.exceptions.OwnerDiedError) as info:
        ray.get(ref, timeout=30)
    assert isinstance(info.value, ray.exceptions.ObjectLostError)
    assert ref.hex() in str(info.value)


def test_ref_collected_by_gc_while_a_runtime_lock_is_held(ray_start_regular):
    """The collector may run inside a locked region of the runtime; dropping a ref then
    must not deadlock on that lock (it is released on another thread)."""
    import threading

    from ray._private import runtime

    cw = runtime.core_worker()
    gc.disable()
    try:
        ref = ray.put(np.zeros(1000))
        oid = ref.binary()

        class Cycle:
            pass

        cycle = Cycle()
        cycle.me = cycle
        cycle.ref = ref
        del ref, cycle
        assert cw.refs.has(oid)
        done = threading.Event()

        def collect_holding_the_store_lock() -> None:
            with cw.memory_store._lock:
                gc.collect()
            done.set()

        threading.Thread(target=collect_holding_the_store_lock, daemon=True).start()
        assert done.wait(20), "dropping a ref in gc deadlocked on the memory store lock"
    finally:
        gc.enable()
    wait_for_condition(lambda: not cw.refs.has(oid), timeout=10)
