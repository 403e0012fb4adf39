"""Unit tests of the node's object store (no processes, no sockets)."""

from __future__ import annotations

import os
import pickle
import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ray._private.object_store import (
    ObjectExistsError,
    ObjectStore,
    ObjectStoreFullError,
    StoreStats,
    map_object,
    write_object,
    written_path,
)

pytestmark = pytest.mark.timeout(60)


def oid(n: int) -> bytes:
    return n.to_bytes(4, "big") * 7  # 28 bytes, like an ObjectID


def payload(n: int, size: int) -> bytes:
    return bytes((n + i) % 251 for i in range(size))


def put(store: ObjectStore, object_id: bytes, data: bytes, pin: bool = True) -> str:
    path = store.create(object_id, len(data))

    def fill(view: memoryview) -> None:
        view[:] = data

    write_object(path, len(data), fill)
    store.seal(object_id, pin=pin)
    return path


def read(store: ObjectStore, object_id: bytes) -> bytes:
    found = store.get(object_id)
    assert found is not None
    path, size = found
    return bytes(map_object(path, size))


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[str, str]:
    return str(tmp_path / "shm"), str(tmp_path / "spill")


@pytest.fixture
def store(dirs: tuple[str, str]) -> Iterator[ObjectStore]:
    s = ObjectStore(dirs[0], dirs[1], capacity_bytes=1000)
    yield s
    s.shutdown()


def shm_files(dirs: tuple[str, str]) -> set[str]:
    return set(os.listdir(dirs[0]))


def spill_files(dirs: tuple[str, str]) -> set[str]:
    return set(os.listdir(dirs[1]))


# ---- basics ------------------------------------------------------------------


def test_round_trip(store: ObjectStore, dirs: tuple[str, str]) -> None:
    data = payload(1, 300)
    path = store.create(oid(1), 300)
    assert path == os.path.join(dirs[0], oid(1).hex())
    assert not store.contains(oid(1))
    assert store.get(oid(1)) is None  # not sealed yet

    write_object(path, 300, lambda view: view.__setitem__(slice(None), data))
    store.seal(oid(1), pin=True)
    assert store.contains(oid(1))
    assert store.get(oid(1)) == (path, 300)
    assert read(store, oid(1)) == data

    store.free([oid(1)])
    assert not store.contains(oid(1))
    assert store.get(oid(1)) is None
    assert not os.path.exists(path)
    assert store.stats().used_bytes == 0


def test_view_is_read_only(store: ObjectStore) -> None:
    put(store, oid(1), payload(1, 64))
    path, size = store.get(oid(1))
    view = map_object(path, size)
    assert view.readonly
    assert len(view) == 64
    with pytest.raises(TypeError):
        view[0] = 1
    array = np.frombuffer(view, dtype=np.uint8)
    assert not array.flags.writeable
    with pytest.raises(ValueError):
        array[0] = 1


def test_data_valid_after_unlink_while_mapped(store: ObjectStore) -> None:
    data = np.arange(100, dtype=np.int64)
    put(store, oid(1), data.tobytes())
    path, size = store.get(oid(1))
    array = np.frombuffer(map_object(path, size), dtype=np.int64)
    store.free([oid(1)])
    assert not os.path.exists(path)
    np.testing.assert_array_equal(array, data)
    # The array alone keeps the mapping alive.
    tail = array[50:]
    del array
    np.testing.assert_array_equal(tail, data[50:])


def test_zero_copy_numpy_view(store: ObjectStore) -> None:
    data = np.arange(64, dtype=np.float64)
    put(store, oid(1), data.tobytes())
    path, size = store.get(oid(1))
    view = map_object(path, size)
    a = np.frombuffer(view, dtype=np.float64)
    b = np.frombuffer(view, dtype=np.float64)
    assert np.shares_memory(a, b)
    np.testing.assert_array_equal(a, data)


def test_write_object_is_exclusive_and_cleans_up_on_error(tmp_path: Path) -> None:
    path = str(tmp_path / "obj")
    write_object(path, 4, lambda view: view.__setitem__(slice(None), b"abcd"))
    with pytest.raises(FileExistsError):
        write_object(path, 4, lambda view: None)
    assert Path(path).read_bytes() == b"abcd"

    failed = str(tmp_path / "failed")

    def boom(view: memoryview) -> None:
        view[:2] = b"xy"
        raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError, match="writer failed"):
        write_object(failed, 8, boom)
    assert not os.path.exists(failed)


def test_write_object_tolerates_writer_keeping_a_view(tmp_path: Path) -> None:
    kept: list[np.ndarray] = []

    def fill(view: memoryview) -> None:
        array = np.frombuffer(view, dtype=np.uint8)
        array[:] = 7
        kept.append(array)

    path = str(tmp_path / "obj")
    write_object(path, 16, fill)
    assert Path(path).read_bytes() == b"\x07" * 16


def test_map_object_of_missing_or_short_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        map_object(str(tmp_path / "missing"), 10)
    path = str(tmp_path / "short")
    write_object(path, 4, lambda view: None)
    with pytest.raises(ValueError):
        map_object(path, 100)


def test_zero_size_objects(store: ObjectStore, dirs: tuple[str, str]) -> None:
    calls: list[int] = []
    path = store.create(oid(1), 0)
    write_object(path, 0, lambda view: calls.append(len(view)))
    assert calls == [0]
    assert os.path.getsize(path) == 0
    store.seal(oid(1), pin=True)
    assert store.get(oid(1)) == (path, 0)
    view = map_object(path, 0)
    assert bytes(view) == b""
    assert len(np.frombuffer(view, dtype=np.uint8)) == 0
    assert store.stats().used_bytes == 0

    # A zero-size object fits in a full store and survives spilling.
    put(store, oid(2), payload(2, 1000))
    store.create(oid(3), 0)
    store.abort(oid(3))
    put(store, oid(4), payload(4, 500))  # spills oid(1) and oid(2), the LRU pinned ones
    assert store.stats().num_spilled == 2
    assert read(store, oid(1)) == b""
    store.free([oid(1), oid(2), oid(4)])
    assert shm_files(dirs) == set()
    assert spill_files(dirs) == set()


def test_exists_error(store: ObjectStore) -> None:
    store.create(oid(1), 10)
    with pytest.raises(ObjectExistsError) as info:
        store.create(oid(1), 10)
    assert info.value.object_id == oid(1)
    assert oid(1).hex() in str(info.value)

    put(store, oid(2), payload(2, 10))
    with pytest.raises(ObjectExistsError):
        store.create(oid(2), 10)

    # Spilled objects exist too.
    put(store, oid(3), payload(3, 985))
    assert store.stats().num_spilled == 1  # oid(2) went to disk
    with pytest.raises(ObjectExistsError):
        store.create(oid(2), 10)
    assert store.stats().used_bytes == 995


def test_abort(store: ObjectStore) -> None:
    def failing_writer(view: memoryview) -> None:
        raise RuntimeError("serialization failed")

    path = store.create(oid(1), 100)
    with pytest.raises(RuntimeError):
        write_object(path, 100, failing_writer)
    store.abort(oid(1))
    assert store.stats().used_bytes == 0
    assert store.stats().num_objects == 0
    assert not os.path.exists(path)

    # A partial file left behind is unlinked too.
    path = store.create(oid(2), 100)
    with open(path, "wb") as f:
        f.write(b"partial")
    store.abort(oid(2))
    assert not os.path.exists(path)
    store.abort(oid(3))  # unknown: ignored

    # The id can be created again.
    put(store, oid(1), payload(1, 100))
    assert read(store, oid(1)) == payload(1, 100)
    store.abort(oid(1))  # sealed: left alone
    assert read(store, oid(1)) == payload(1, 100)

    with pytest.raises(KeyError):
        store.seal(oid(2), pin=True)


def test_seal_again_is_idempotent_and_can_pin(store: ObjectStore) -> None:
    put(store, oid(1), payload(1, 400), pin=False)
    store.seal(oid(1), pin=False)
    store.seal(oid(1), pin=True)  # now a primary copy: spilled, not evicted
    put(store, oid(2), payload(2, 800))
    stats = store.stats()
    assert (stats.num_evicted, stats.num_spilled) == (0, 1)
    assert read(store, oid(1)) == payload(1, 400)


# ---- eviction and spilling ------------------------------------------------------


def test_lru_eviction_of_unpinned_objects(store: ObjectStore, dirs: tuple[str, str]) -> None:
    for i in range(1, 5):
        put(store, oid(i), payload(i, 250), pin=False)
    assert store.stats().used_bytes == 1000
    store.get(oid(1))  # touch: oid(2) is now the least recently used

    put(store, oid(5), payload(5, 250), pin=False)
    assert not store.contains(oid(2))
    assert all(store.contains(oid(i)) for i in (1, 3, 4, 5))

    put(store, oid(6), payload(6, 500), pin=False)  # evicts 3 then 4
    assert not store.contains(oid(3))
    assert not store.contains(oid(4))
    assert {i for i in range(1, 7) if store.contains(oid(i))} == {1, 5, 6}
    assert shm_files(dirs) == {oid(i).hex() for i in (1, 5, 6)}
    assert spill_files(dirs) == set()
    stats = store.stats()
    assert (stats.num_evicted, stats.num_spilled, stats.used_bytes) == (3, 0, 1000)


def test_eviction_comes_before_spilling(store: ObjectStore, dirs: tuple[str, str]) -> None:
    put(store, oid(1), payload(1, 400), pin=True)  # oldest, but pinned
    put(store, oid(2), payload(2, 300), pin=False)
    put(store, oid(3), payload(3, 300), pin=False)
    put(store, oid(4), payload(4, 300), pin=True)
    assert not store.contains(oid(2))  # evicted: enough room without spilling
    assert store.contains(oid(3))
    assert spill_files(dirs) == set()

    put(store, oid(5), payload(5, 600), pin=True)  # evicts 3, then spills 1
    stats = store.stats()
    assert (stats.num_evicted, stats.num_spilled, stats.spilled_bytes) == (2, 1, 400)
    assert spill_files(dirs) == {oid(1).hex()}
    assert shm_files(dirs) == {oid(4).hex(), oid(5).hex()}


def test_spill_and_restore(store: ObjectStore, dirs: tuple[str, str]) -> None:
    first = payload(1, 600)
    path1 = put(store, oid(1), first)
    put(store, oid(2), payload(2, 600))
    assert not os.path.exists(path1)
    assert spill_files(dirs) == {oid(1).hex()}
    assert store.contains(oid(1))
    stats = store.stats()
    assert (stats.used_bytes, stats.num_spilled, stats.spilled_bytes) == (600, 1, 600)

    # Restoring oid(1) needs room: oid(2) goes to disk.
    assert read(store, oid(1)) == first
    assert read(store, oid(2)) == payload(2, 600)
    assert read(store, oid(1)) == first
    stats = store.stats()
    assert stats.num_restored == 3
    assert (stats.used_bytes, stats.num_spilled, stats.spilled_bytes) == (600, 1, 600)
    assert spill_files(dirs) == {oid(1).hex(), oid(2).hex()}  # kept after restore
    assert shm_files(dirs) == {oid(1).hex()}


def test_spilling_a_restored_object_again_reuses_its_spill_file(
    store: ObjectStore, dirs: tuple[str, str]
) -> None:
    put(store, oid(1), payload(1, 600))
    put(store, oid(2), payload(2, 600))
    spill1 = os.path.join(dirs[1], oid(1).hex())
    inode = os.stat(spill1).st_ino
    os.chmod(spill1, 0o400)  # a second copy would fail to open it for writing
    assert read(store, oid(1)) == payload(1, 600)  # spills oid(2)
    assert read(store, oid(2)) == payload(2, 600)  # spills oid(1) again: no copy
    assert os.stat(spill1).st_ino == inode
    assert store.stats().num_spilled == 1
    assert read(store, oid(1)) == payload(1, 600)


def test_restore_never_evicts_the_object_being_restored(store: ObjectStore) -> None:
    put(store, oid(1), payload(1, 700))
    put(store, oid(2), payload(2, 300), pin=False)
    put(store, oid(3), payload(3, 700))  # evicts oid(2), spills oid(1)
    assert not store.contains(oid(2))
    put(store, oid(4), payload(4, 200), pin=False)
    # Restoring oid(1) evicts oid(4) first, then spills oid(3).
    assert read(store, oid(1)) == payload(1, 700)
    assert not store.contains(oid(4))
    stats = store.stats()
    assert (stats.num_evicted, stats.num_spilled, stats.num_restored) == (2, 1, 1)
    assert stats.used_bytes == 700


def test_unsealed_objects_are_never_evicted_or_spilled(
    store: ObjectStore, dirs: tuple[str, str]
) -> None:
    store.create(oid(1), 500)
    store.create(oid(2), 500)
    with pytest.raises(ObjectStoreFullError) as info:
        store.create(oid(3), 1)
    err = info.value
    assert (err.object_id, err.size_bytes, err.capacity_bytes, err.used_bytes) == (
        oid(3),
        1,
        1000,
        1000,
    )
    assert "object_store_memory" in str(err)
    assert "free references" in str(err).lower()
    stats = store.stats()
    assert (stats.num_evicted, stats.num_spilled, stats.num_objects) == (0, 0, 2)


def test_full_error_when_larger_than_capacity(store: ObjectStore) -> None:
    with pytest.raises(ObjectStoreFullError) as info:
        store.create(oid(1), 1001)
    assert info.value.size_bytes == 1001
    assert info.value.capacity_bytes == 1000
    assert "object_store_memory" in str(info.value)
    assert store.stats().num_objects == 0
    store.create(oid(1), 1000)  # exactly the capacity fits


def test_nothing_is_evicted_when_room_cannot_be_made(store: ObjectStore) -> None:
    put(store, oid(1), payload(1, 300), pin=False)
    put(store, oid(2), payload(2, 300), pin=True)
    store.create(oid(3), 400)
    with pytest.raises(ObjectStoreFullError):
        store.create(oid(4), 700)
    assert store.contains(oid(1))
    stats = store.stats()
    assert (stats.num_evicted, stats.num_spilled, stats.used_bytes) == (0, 0, 1000)


def test_failed_spill_keeps_the_object(store: ObjectStore, dirs: tuple[str, str]) -> None:
    put(store, oid(1), payload(1, 600))
    shutil.rmtree(dirs[1])  # spilling can no longer write
    with pytest.raises(ObjectStoreFullError):
        store.create(oid(2), 600)
    assert read(store, oid(1)) == payload(1, 600)
    assert store.stats().num_spilled == 0


def test_restore_fails_when_no_room(store: ObjectStore) -> None:
    put(store, oid(1), payload(1, 600))
    put(store, oid(2), payload(2, 600))  # spills oid(1)
    store.free([oid(2)])
    store.create(oid(3), 500)  # being written: cannot make room for oid(1)
    with pytest.raises(ObjectStoreFullError):
        store.get(oid(1))
    assert store.contains(oid(1))
    store.abort(oid(3))
    assert read(store, oid(1)) == payload(1, 600)


def test_error_pickles() -> None:
    err = pickle.loads(pickle.dumps(ObjectStoreFullError(oid(1), 10, 5, 3, 1)))
    assert (err.object_id, err.size_bytes, err.capacity_bytes, err.used_bytes) == (
        oid(1),
        10,
        5,
        3,
    )
    assert pickle.loads(pickle.dumps(ObjectExistsError(oid(2)))).object_id == oid(2)


# ---- freeing and shutting down ---------------------------------------------------


def test_free_removes_both_files(store: ObjectStore, dirs: tuple[str, str]) -> None:
    put(store, oid(1), payload(1, 600))
    put(store, oid(2), payload(2, 600))  # oid(1) spilled
    read(store, oid(1))  # restored, spill file kept; oid(2) spilled
    assert spill_files(dirs) == {oid(1).hex(), oid(2).hex()}
    store.free([oid(1), oid(2), oid(99)])
    assert shm_files(dirs) == set()
    assert spill_files(dirs) == set()
    stats = store.stats()
    assert (stats.used_bytes, stats.num_objects, stats.num_spilled, stats.spilled_bytes) == (
        0,
        0,
        0,
        0,
    )
    store.free([oid(1)])  # already gone: ignored


def test_free_of_unsealed_object_drops_the_reservation(store: ObjectStore) -> None:
    path = store.create(oid(1), 400)
    store.free([oid(1)])
    assert store.stats().used_bytes == 0
    with pytest.raises(KeyError):
        store.seal(oid(1), pin=True)
    # A writer that finishes late leaves a stale file; re-creating the id still works.
    write_object(path, 400, lambda view: None)
    put(store, oid(1), payload(1, 400))
    assert read(store, oid(1)) == payload(1, 400)


def test_shutdown_removes_directories(dirs: tuple[str, str]) -> None:
    s = ObjectStore(dirs[0], dirs[1], capacity_bytes=1000)
    assert os.path.isdir(dirs[0]) and os.path.isdir(dirs[1])
    put(s, oid(1), payload(1, 600))
    put(s, oid(2), payload(2, 600))
    s.create(oid(3), 100)
    s.shutdown()
    assert not os.path.exists(dirs[0])
    assert not os.path.exists(dirs[1])
    assert s.stats().num_objects == 0
    s.shutdown()  # idempotent


def test_stats(store: ObjectStore) -> None:
    assert store.stats() == StoreStats(
        used_bytes=0,
        capacity_bytes=1000,
        num_objects=0,
        num_spilled=0,
        spilled_bytes=0,
        num_evicted=0,
        num_restored=0,
    )
    put(store, oid(1), payload(1, 300), pin=False)
    put(store, oid(2), payload(2, 300), pin=True)
    path = store.create(oid(3), 200)
    assert store.stats() == StoreStats(800, 1000, 3, 0, 0, 0, 0)
    write_object(path, 200, lambda view: None)
    store.seal(oid(3), pin=True)
    put(store, oid(4), payload(4, 600))  # evicts 1, spills 2
    assert store.stats() == StoreStats(800, 1000, 3, 1, 300, 1, 0)
    read(store, oid(2))  # spills 3
    assert store.stats() == StoreStats(900, 1000, 3, 1, 200, 1, 1)
    store.free([oid(3)])
    assert store.stats() == StoreStats(900, 1000, 2, 0, 0, 1, 1)


# ---- /dev/shm -------------------------------------------------------------------


@pytest.fixture
def shm_store(tmp_path: Path) -> Iterator[tuple[ObjectStore, str]]:
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm")
    shm_dir = f"/dev/shm/ray_test_{uuid.uuid4().hex}"
    s = ObjectStore(shm_dir, str(tmp_path / "spill"), capacity_bytes=1 << 20)
    try:
        yield s, shm_dir
    finally:
        s.shutdown()
        shutil.rmtree(shm_dir, ignore_errors=True)
    assert not os.path.exists(shm_dir)


def test_dev_shm_permissions_and_zero_copy(shm_store: tuple[ObjectStore, str]) -> None:
    s, shm_dir = shm_store
    assert stat.S_IMODE(os.stat(shm_dir).st_mode) == 0o700
    data = np.random.default_rng(0).random(1000)
    path = put(s, oid(1), data.tobytes())
    assert os.path.dirname(path) == shm_dir
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    path, size = s.get(oid(1))
    array = np.frombuffer(map_object(path, size), dtype=np.float64)
    np.testing.assert_array_equal(array, data)
    s.free([oid(1)])
    assert os.listdir(shm_dir) == []
    np.testing.assert_array_equal(array, data)


# ---- objects their writer wrote first (PutObject) -----------------------------------------

WRITER = b"w" * 28


def write_first(dirs: tuple[str, str], object_id: bytes, data: bytes) -> str:
    path = written_path(dirs[0], WRITER, object_id)
    Path(path).write_bytes(data)
    return path


def test_put_written_moves_the_file_in_sealed(store: ObjectStore, dirs: tuple[str, str]) -> None:
    data = payload(1, 300)
    written = write_first(dirs, oid(1), data)
    path = store.put_written(oid(1), len(data), written, pin=True)
    assert not os.path.exists(written) and read(store, oid(1)) == data
    assert shm_files(dirs) == {os.path.basename(path)}
    stats = store.stats()
    assert (stats.used_bytes, stats.num_objects) == (300, 1)
    # Pinned: spilled, never evicted, when room is needed.
    put(store, oid(2), payload(2, 900))
    assert store.get(oid(1)) is not None and read(store, oid(1)) == data


def test_put_written_makes_room_like_create(store: ObjectStore, dirs: tuple[str, str]) -> None:
    put(store, oid(1), payload(1, 800), pin=False)
    written = write_first(dirs, oid(2), payload(2, 500))
    store.put_written(oid(2), 500, written, pin=True)
    assert store.get(oid(1)) is None  # the unpinned copy was evicted for it
    assert read(store, oid(2)) == payload(2, 500)


@pytest.mark.parametrize("case", ["too-big", "exists", "wrong-size", "missing"])
def test_put_written_failures_remove_the_file(
    store: ObjectStore, dirs: tuple[str, str], case: str
) -> None:
    put(store, oid(9), b"x" * 10)
    size = {"too-big": 2000, "wrong-size": 20}.get(case, 10)
    object_id = oid(9) if case == "exists" else oid(1)
    written = written_path(dirs[0], WRITER, object_id)
    if case != "missing":
        Path(written).write_bytes(b"y" * (10 if case == "wrong-size" else size))
    error = {
        "too-big": ObjectStoreFullError,
        "exists": ObjectExistsError,
        "wrong-size": FileNotFoundError,
        "missing": FileNotFoundError,
    }[case]
    with pytest.raises(error):
        store.put_written(object_id, size, written, pin=True)
    assert not os.path.exists(written)
    assert store.stats().used_bytes == 10 and read(store, oid(9)) == b"x" * 10


def test_drop_written_removes_only_that_writers_files(
    store: ObjectStore, dirs: tuple[str, str]
) -> None:
    mine = write_first(dirs, oid(1), b"a")
    other = written_path(dirs[0], b"o" * 28, oid(2))
    Path(other).write_bytes(b"b")
    put(store, oid(3), b"c")
    assert store.drop_written(WRITER) == 1
    assert not os.path.exists(mine) and os.path.exists(other) and read(store, oid(3)) == b"c"
