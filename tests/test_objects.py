"""Objects on one node: put/get, timeouts, wait, zero-copy numpy and ObjectRef behaviour.

Every test here shares one 2-CPU cluster (`ray_start_regular_shared`).
"""

from __future__ import annotations

import mmap
import pickle
import time

import cloudpickle
import numpy as np
import pytest

import ray
from ray.exceptions import GetTimeoutError, RayTimeoutError

pytestmark = pytest.mark.timeout(60)

BIG = 50 * 1024 * 1024 // 8  # float64 elements in 50 MB


@ray.remote
def long_running_function(seconds=30):
    time.sleep(seconds)
    return 1


@ray.remote
def sleep_then(value, seconds):
    time.sleep(seconds)
    return value


# ---- put / get -------------------------------------------------------------------------------


def test_seed_put_get(ray_start_regular_shared):
    obj_ref = ray.put(1)
    assert ray.get(obj_ref) == 1
    assert ray.get([ray.put(i) for i in range(3)]) == [0, 1, 2]


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        -(2**70),
        1.5,
        "text",
        "ünïcode",
        b"bytes",
        b"",
        [1, "two", 3.0, None],
        (1, (2, 3)),
        {"a": 1, 2: "b"},
        {1, 2, 3},
        frozenset({"x"}),
        bytearray(b"abc"),
        np.int64(5),
        np.arange(10),
        np.zeros((3, 4), dtype=np.float32),
    ],
    ids=repr,
)
def test_put_get_small_values(ray_start_regular_shared, value):
    got = ray.get(ray.put(value))
    if isinstance(value, np.ndarray):
        assert got.dtype == value.dtype and got.shape == value.shape and (got == value).all()
    else:
        assert got == value
        assert type(got) is type(value)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


def test_put_get_class_instance(ray_start_regular_shared):
    assert ray.get(ray.put(Point(1, 2))) == Point(1, 2)


def test_put_get_large_values(ray_start_regular_shared):
    blob = bytes(range(256)) * 40_000  # 10 MB
    assert ray.get(ray.put(blob)) == blob
    big_list = list(range(300_000))
    assert ray.get(ray.put(big_list)) == big_list
    text = "x" * 2_000_000
    assert ray.get(ray.put(text)) == text


def test_get_same_ref_twice_in_list(ray_start_regular_shared):
    ref = ray.put("same")
    assert ray.get([ref, ref, ray.put("other")]) == ["same", "same", "other"]


def test_get_empty_list(ray_start_regular_shared):
    assert ray.get([]) == []


def test_get_rejects_non_refs(ray_start_regular_shared):
    with pytest.raises((TypeError, ValueError)):
        ray.get(1)
    with pytest.raises((TypeError, ValueError)):
        ray.get([ray.put(1), 2])


def test_put_of_object_ref_is_rejected(ray_start_regular_shared):
    with pytest.raises(TypeError):
        ray.put(ray.put(1))


def test_task_result_and_put_are_equal_values(ray_start_regular_shared):
    ref = sleep_then.remote({"k": [1, 2]}, 0)
    assert ray.get(ref) == ray.get(ray.put({"k": [1, 2]}))


# ---- get timeouts ---------------------------------------------------------------------------------


def test_get_timeout(ray_start_regular_shared):
    obj_ref = long_running_function.remote()
    start = time.monotonic()
    with pytest.raises(GetTimeoutError) as info:
        ray.get(obj_ref, timeout=0.5)
    elapsed = time.monotonic() - start
    assert 0.4 < elapsed < 5
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, ray.exceptions.RayError)
    ray.cancel(obj_ref, force=True)


def test_get_timeout_zero(ray_start_regular_shared):
    obj_ref = long_running_function.remote()
    with pytest.raises(GetTimeoutError):
        ray.get(obj_ref, timeout=0)
    ready = ray.put(3)
    assert ray.get(ready, timeout=0) == 3
    ray.cancel(obj_ref, force=True)


def test_get_timeout_list(ray_start_regular_shared):
    slow = long_running_function.remote()
    with pytest.raises(GetTimeoutError):
        ray.get([ray.put(1), slow], timeout=0.3)
    ray.cancel(slow, force=True)


def test_ray_timeout_error_alias(ray_start_regular_shared):
    assert RayTimeoutError is GetTimeoutError
    assert issubclass(ray.exceptions.RayTimeoutError, TimeoutError)
    # The seed's (older) spelling works as written.
    obj_id = long_running_function.remote()
    caught = False
    try:
        ray.get(obj_id, timeout=0.2)
    except RayTimeoutError:
        caught = True
    assert caught
    ray.cancel(obj_id, force=True)


def test_get_bad_timeout(ray_start_regular_shared):
    with pytest.raises(ValueError):
        ray.get(ray.put(1), timeout=-1)


# ---- wait ------------------------------------------------------------------------------------------


def test_wait_returns_ready_in_input_order(ray_start_regular_shared):
    refs = [ray.put(i) for i in range(5)]
    ready, not_ready = ray.wait(refs, num_returns=5)
    assert ready == refs and not_ready == []
    ready, not_ready = ray.wait(refs, num_returns=2)
    assert ready == refs[:2] and not_ready == refs[2:]


def test_wait_preserves_order_in_both_lists(ray_start_regular_shared):
    slow = [long_running_function.remote() for _ in range(2)]
    fast = [ray.put(i) for i in range(3)]
    mixed = [slow[0], fast[0], slow[1], fast[1], fast[2]]
    ready, not_ready = ray.wait(mixed, num_returns=3, timeout=10)
    assert ready == [fast[0], fast[1], fast[2]]
    assert not_ready == [slow[0], slow[1]]
    for r in slow:
        ray.cancel(r, force=True)


def test_wait_default_num_returns_is_one(ray_start_regular_shared):
    refs = [ray.put(1), ray.put(2)]
    ready, not_ready = ray.wait(refs)
    assert ready == [refs[0]] and not_ready == [refs[1]]


def test_wait_timeout_returns_early(ray_start_regular_shared):
    slow = long_running_function.remote()
    done = ray.put("done")
    start = time.monotonic()
    ready, not_ready = ray.wait([slow, done], num_returns=2, timeout=0.5)
    elapsed = time.monotonic() - start
    assert ready == [done] and not_ready == [slow]
    assert 0.4 < elapsed < 5
    start = time.monotonic()
    ready, not_ready = ray.wait([slow], timeout=0)
    assert ready == [] and not_ready == [slow]
    assert time.monotonic() - start < 2
    ray.cancel(slow, force=True)


def test_wait_returns_when_enough_are_ready(ray_start_regular_shared):
    quick = sleep_then.remote("quick", 0.1)
    slow = long_running_function.remote()
    start = time.monotonic()
    ready, not_ready = ray.wait([slow, quick], num_returns=1, timeout=20)
    assert time.monotonic() - start < 10
    assert ready == [quick] and not_ready == [slow]
    ray.cancel(slow, force=True)


def test_wait_on_task_results(ray_start_regular_shared):
    refs = [sleep_then.remote(i, 0.05 * i) for i in range(4)]
    ready, not_ready = ray.wait(refs, num_returns=4, timeout=30)
    assert ready == refs and not_ready == []
    assert ray.get(ready) == [0, 1, 2, 3]


def test_wait_errors(ray_start_regular_shared):
    ref = ray.put(1)
    with pytest.raises(ValueError):
        ray.wait([ref, ref])
    with pytest.raises(ValueError):
        ray.wait([ref], num_returns=2)
    with pytest.raises(ValueError):
        ray.wait([ref], num_returns=0)
    with pytest.raises(TypeError):
        ray.wait(ref)
    with pytest.raises(TypeError):
        ray.wait([ref, 1])


def test_wait_empty_list(ray_start_regular_shared):
    with pytest.raises(ValueError):
        ray.wait([], num_returns=1)


def test_wait_on_failed_task_counts_as_ready(ray_start_regular_shared):
    @ray.remote
    def fail():
        raise ValueError("boom")

    ref = fail.remote()
    ready, not_ready = ray.wait([ref], timeout=30)
    assert ready == [ref] and not_ready == []


# ---- zero-copy numpy ----------------------------------------------------------------------------


def _backed_by_shared_memory(arr: np.ndarray) -> bool:
    """True if the array's base chain ends in a mapping of the store (not a bytes copy)."""
    base = arr
    while isinstance(base, np.ndarray):
        base = base.base
    while isinstance(base, memoryview):
        base = base.obj
    return isinstance(base, mmap.mmap)


def _assert_zero_copy(arr: np.ndarray) -> None:
    assert arr.flags.writeable is False
    assert _backed_by_shared_memory(arr), f"array base chain ends in {type(arr.base)!r}"
    with pytest.raises(ValueError):
        arr[0] = 1


def test_large_numpy_put_is_zero_copy_and_read_only(ray_start_regular_shared):
    src = np.arange(BIG, dtype=np.float64)
    ref = ray.put(src)
    arr = ray.get(ref)
    assert arr.dtype == np.float64 and arr.shape == (BIG,)
    assert arr[0] == 0 and arr[-1] == BIG - 1
    assert np.array_equal(arr, src)
    _assert_zero_copy(arr)
    again = ray.get(ref)
    _assert_zero_copy(again)


def test_large_numpy_task_result_is_zero_copy(ray_start_regular_shared):
    @ray.remote
    def make(n):
        return np.ones(n, dtype=np.float64)

    arr = ray.get(make.remote(BIG))
    assert arr.shape == (BIG,) and arr.sum() == BIG
    _assert_zero_copy(arr)


def test_numpy_inside_containers_is_zero_copy(ray_start_regular_shared):
    a = np.arange(2_000_000, dtype=np.int64)
    b = np.full((1000, 1000), 7, dtype=np.int32)
    value = {"list": [a, b], "dict": {"a": a}, "scalar": 3}
    got = ray.get(ray.put(value))
    assert got["scalar"] == 3
    for arr, src in ((got["list"][0], a), (got["list"][1], b), (got["dict"]["a"], a)):
        assert np.array_equal(arr, src)
        _assert_zero_copy(arr)


def test_numpy_arg_to_task_is_read_only(ray_start_regular_shared):
    @ray.remote
    def describe(arr):
        return arr.flags.writeable, int(arr.sum())

    src = np.ones(2_000_000, dtype=np.int64)
    writeable, total = ray.get(describe.remote(ray.put(src)))
    assert writeable is False and total == 2_000_000


def test_writable_copy_of_zero_copy_array(ray_start_regular_shared):
    arr = ray.get(ray.put(np.zeros(1_000_000)))
    copy = arr.copy()
    copy[0] = 5
    assert copy.flags.writeable and copy[0] == 5 and arr[0] == 0


# ---- ObjectRef --------------------------------------------------------------------------------


def test_object_ref_hex_and_binary(ray_start_regular_shared):
    ref = ray.put(1)
    assert isinstance(ref.hex(), str)
    assert len(ref.binary()) == 28
    assert bytes.fromhex(ref.hex()) == ref.binary()
    assert ref.hex() in repr(ref)


def test_object_ref_equality_and_hashing(ray_start_regular_shared):
    a = ray.put(1)
    b = ray.put(1)
    assert a != b and a.hex() != b.hex()
    same = ray.ObjectRef(a.binary())
    assert same == a and hash(same) == hash(a)
    assert {a: "x"}[same] == "x"
    assert len({a, b, same}) == 2
    assert a != a.hex()


def test_object_id_alias(ray_start_regular_shared):
    assert ray.ObjectID is ray.ObjectRef


def test_task_return_refs_are_distinct(ray_start_regular_shared):
    refs = [sleep_then.remote(i, 0) for i in range(5)]
    assert len(set(refs)) == 5
    assert ray.get(refs) == list(range(5))


def test_pickling_object_ref_inside_value_passes_the_reference(ray_start_regular_shared):
    inner = ray.put("payload")
    data = pickle.dumps({"ref": inner})
    restored = pickle.loads(data)["ref"]
    assert restored == inner
    assert ray.get(restored) == "payload"
    data = cloudpickle.dumps([inner])
    assert ray.get(cloudpickle.loads(data)[0]) == "payload"


def test_object_ref_inside_custom_object_goes_to_task(ray_start_regular_shared):
    class Holder:
        def __init__(self, ref):
            self.ref = ref

    @ray.remote
    def unwrap(holder):
        return isinstance(holder.ref, ray.ObjectRef), ray.get(holder.ref)

    assert ray.get(unwrap.remote(Holder(ray.put(42)))) == (True, 42)


def test_object_ref_future_and_await(ray_start_regular_shared):
    import asyncio

    ref = sleep_then.remote("later", 0.1)
    assert ref.future().result(timeout=30) == "later"

    async def main():
        return await sleep_then.remote("awaited", 0.1)

    assert asyncio.run(main()) == "awaited"
