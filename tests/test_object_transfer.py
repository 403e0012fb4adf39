"""Objects moving between nodes: the pull path (node_manager/object_transfer.py).

Unit tests of the transfer's parts run without processes or sockets (a real store in a
temporary directory, sources that are plain iterators). The cluster tests use real nodes:
tasks run on the driver's node, so objects are made and read on the other node by actors
that need its custom resource.
"""

from __future__ import annotations

import inspect
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from utils import wait_for_condition

import ray
from ray._private import runtime
from ray._private.generated import common_pb2
from ray._private.generated import node_manager_pb2 as pb
from ray._private.node_manager.node_objects import NodeObjects
from ray._private.node_manager.object_transfer import (
    ChunkAssembler,
    NodeAddresses,
    ObjectTransfer,
    PullTable,
    PullTimeoutError,
    RangeError,
    TransferError,
    clamp_chunk_bytes,
    split_range,
)
from ray._private.object_store import (
    ObjectStore,
    ObjectStoreFullError,
    map_object,
    write_object,
    written_path,
)
from ray._private.rpc import errors as rpc_errors
from ray._private.rpc.gcs_client import GcsClient
from ray._private.rpc.node_manager_client import NodeManagerClient

MiB = 1024**2

# ---- unit: chunk checks ----------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_chunk_assembler_accepts_an_exact_tiling():
    chunks = ChunkAssembler()
    for offset in range(0, 10, 4):
        assert not chunks.complete
        chunks.accept(10, offset, min(4, 10 - offset))
    assert chunks.complete
    chunks.finish()

    empty = ChunkAssembler()
    empty.accept(0, 0, 0)
    assert empty.complete
    empty.finish()


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "headers, message",
    [
        ([(10, 0, 4), (10, 5, 4)], "offset 5, expected 4"),  # gap
        ([(10, 0, 4), (10, 2, 4)], "offset 2, expected 4"),  # overlap
        ([(10, 0, 4), (10, 4, 7)], "overflows"),
        ([(10, 0, 4), (12, 4, 4)], "size changed"),
        ([(10, 0, 0)], "empty chunk"),
        ([(-1, 0, 0)], "negative"),
    ],
)
def test_chunk_assembler_rejects_a_bad_stream(headers, message):
    chunks = ChunkAssembler()
    with pytest.raises(TransferError, match=message):
        for header in headers:
            chunks.accept(*header)


@pytest.mark.timeout(30)
def test_chunk_assembler_rejects_a_short_stream():
    chunks = ChunkAssembler()
    with pytest.raises(TransferError, match="before its first chunk"):
        chunks.finish()
    chunks.accept(10, 0, 4)
    with pytest.raises(TransferError, match="after 4 of 10 bytes"):
        chunks.finish()


@pytest.mark.timeout(30)
def test_chunk_size_stays_below_the_message_limit():
    from ray._private import constants

    assert clamp_chunk_bytes(0) == constants.OBJECT_TRANSFER_CHUNK_BYTES
    assert clamp_chunk_bytes(1) >= 64 * 1024
    assert clamp_chunk_bytes(2**40) < constants.GRPC_MAX_MESSAGE_BYTES


@pytest.mark.timeout(30)
def test_pull_table_runs_one_pull_per_object():
    table = PullTable()
    first, started = table.start_or_join(b"a")
    again, started_again = table.start_or_join(b"a")
    other, started_other = table.start_or_join(b"b")
    assert started and not started_again and started_other
    assert again is first and other is not first
    table.finish(b"a", first)
    assert len(table) == 1
    fresh, started_fresh = table.start_or_join(b"a")
    assert started_fresh and fresh is not first


# ---- unit: node addresses --------------------------------------------------------------------


def _node(node_id: bytes, port: int, alive: bool = True) -> common_pb2.NodeInfo:
    return common_pb2.NodeInfo(
        node_id=node_id,
        node_manager_address="127.0.0.1",
        node_manager_port=port,
        state=common_pb2.NODE_STATE_ALIVE if alive else common_pb2.NODE_STATE_DEAD,
    )


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.timeout(30)
def test_node_addresses_cache_and_refresh_on_a_miss():
    table = [_node(b"A", 1000), _node(b"D", 1001, alive=False)]
    clock = _Clock()
    nodes = NodeAddresses(lambda: list(table), min_refresh_s=0.5, clock=clock, sleep=clock.sleep)
    assert nodes.resolve(b"A") == "127.0.0.1:1000"
    assert nodes.num_fetches == 1
    assert nodes.resolve(b"A") == "127.0.0.1:1000"  # cached
    assert nodes.resolve(b"D") is None  # dead: known from the same fetch
    assert nodes.num_fetches == 1

    # A node that joined since: the miss refreshes, after the rest of the period.
    table.append(_node(b"B", 1002))
    clock.now += 0.1
    assert nodes.resolve(b"B") == "127.0.0.1:1002"
    assert nodes.num_fetches == 2
    assert clock.slept == [pytest.approx(0.4)]

    # Unknown ids ask each time (rate limited); dead ones never again.
    clock.now += 10
    assert nodes.resolve(b"X") is None
    assert nodes.num_fetches == 3
    assert nodes.resolve(b"D") is None
    assert nodes.num_fetches == 3

    # A node that stopped answering is looked up again, and found dead.
    table[0] = _node(b"A", 1000, alive=False)
    nodes.forget(b"A")
    clock.now += 10
    assert nodes.resolve(b"A") is None
    assert nodes.num_fetches == 4


@pytest.mark.timeout(30)
def test_node_addresses_survive_a_failing_table():
    calls = []

    def fetch() -> list[common_pb2.NodeInfo]:
        calls.append(1)
        if len(calls) == 2:
            raise rpc_errors.Unavailable(rpc_errors.grpc.StatusCode.UNAVAILABLE, "gone")
        return [_node(b"A", 1000)] + ([_node(b"B", 1001)] if len(calls) > 2 else [])

    clock = _Clock()
    nodes = NodeAddresses(fetch, clock=clock, sleep=clock.sleep)
    assert nodes.resolve(b"A") == "127.0.0.1:1000"
    clock.now += 10
    assert nodes.resolve(b"B") is None  # the fetch failed: a miss, the cache kept
    assert nodes.resolve(b"A") == "127.0.0.1:1000"
    clock.now += 10
    assert nodes.resolve(b"B") == "127.0.0.1:1001"


# ---- unit: the transfer with in-memory sources -----------------------------------------------

OWNER = common_pb2.Address(
    node_id=b"n" * 28, ip_address="127.0.0.1", port=1, worker_id=b"owner".ljust(28, b"\0")
)


def oid(n: int) -> bytes:
    return n.to_bytes(4, "big") * 7


def payload(size: int, seed: int = 1) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


def make_objects(root: Path, name: str, capacity: int) -> NodeObjects:
    store = ObjectStore(str(root / name / "shm"), str(root / name / "spill"), capacity)
    return NodeObjects(store, lambda worker_id: True, lambda address: False)


def seal_local(objects: NodeObjects, object_id: bytes, data: bytes) -> None:
    path = objects.create(object_id, len(data), OWNER, OWNER)

    def fill(view: memoryview) -> None:
        view[:] = data

    write_object(path, len(data), fill)
    objects.seal(object_id, True, OWNER)


def read_local(objects: NodeObjects, object_id: bytes) -> bytes:
    loc = objects.locations([object_id])[0]
    assert loc.found
    return bytes(map_object(loc.path, loc.size_bytes))


def _cancelled() -> rpc_errors.Cancelled:
    return rpc_errors.Cancelled(rpc_errors.grpc.StatusCode.CANCELLED, "cancelled")


class _Stream:
    """A ReadObject call: replies from an iterator; `cancel` ends it like gRPC does."""

    def __init__(self, replies: Iterator[pb.ReadObjectReply], on_cancel: threading.Event) -> None:
        self._replies = replies
        self._on_cancel = on_cancel
        self.cancelled = threading.Event()

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> pb.ReadObjectReply:
        if self.cancelled.is_set():
            raise _cancelled()
        reply = next(self._replies)
        if self.cancelled.is_set():
            raise _cancelled()
        return reply

    def cancel(self) -> None:
        self.cancelled.set()
        self._on_cancel.set()


class _Source:
    """A node manager as a pull sees it: `read_object` from a function of the object id.

    `cancelled` is set when any of its streams is cancelled (a stalled fake source waits
    on it, as a real call's iterator wakes up when cancelled).
    """

    def __init__(self, replies: Callable[..., Iterator[pb.ReadObjectReply]]) -> None:
        self._replies = replies
        # A function of (object id, chunk size, offset, length) serves ranges (as
        # `ObjectTransfer.serve` does); one of the first two serves the whole object.
        self._ranged = len(inspect.signature(replies).parameters) >= 4
        self.reads = 0
        self.ranges: list[tuple[int, int]] = []
        self.streams: list[_Stream] = []
        # The last stream of each range (a reply function may look up its own stream).
        self.by_range: dict[tuple[int, int], _Stream] = {}
        self.cancelled = threading.Event()
        self._lock = threading.Lock()

    def read_object(
        self,
        object_id: bytes,
        chunk_bytes: int,
        timeout_s: float,
        offset_bytes: int = 0,
        length_bytes: int = 0,
    ) -> _Stream:
        with self._lock:
            self.reads += 1
            self.ranges.append((offset_bytes, length_bytes))
        if self._ranged:
            replies = self._replies(object_id, chunk_bytes, offset_bytes, length_bytes)
        else:
            replies = self._replies(object_id, chunk_bytes)
        stream = _Stream(replies, self.cancelled)
        with self._lock:
            self.streams.append(stream)
            self.by_range[(offset_bytes, length_bytes)] = stream
        return stream


def _not_found(object_id: bytes, chunk_bytes: int) -> Iterator[pb.ReadObjectReply]:
    raise rpc_errors.NotFound(rpc_errors.grpc.StatusCode.NOT_FOUND, "no copy")
    yield  # pragma: no cover


def _transfer(
    objects: NodeObjects, sources: dict[str, _Source], **kwargs: object
) -> ObjectTransfer:
    return ObjectTransfer(
        b"dest",
        objects,
        lambda node_id: node_id.decode() if node_id.decode() in sources else None,
        connect=lambda address: sources[address],
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def source_node(tmp_path: Path) -> Iterator[tuple[NodeObjects, ObjectTransfer]]:
    objects = make_objects(tmp_path, "src", 64 * MiB)
    yield objects, ObjectTransfer(b"src", objects, lambda node_id: None)
    objects.shutdown()


@pytest.fixture
def dest_objects(tmp_path: Path) -> Iterator[NodeObjects]:
    objects = make_objects(tmp_path, "dst", 64 * MiB)
    yield objects
    objects.shutdown()


@pytest.mark.timeout(30)
def test_serve_sends_bounded_slices_that_tile_the_object(source_node):
    objects, transfer = source_node
    data = payload(5 * MiB + 123)
    seal_local(objects, oid(1), data)
    chunk = clamp_chunk_bytes(1 * MiB)
    replies = list(transfer.serve(oid(1), chunk))
    assert len(replies) == 6
    assert all(len(r.data) <= chunk and r.total_size == len(data) for r in replies)
    assert [r.offset for r in replies] == [i * chunk for i in range(6)]
    assert b"".join(r.data for r in replies) == data
    assert transfer.stats().objects_served == 1
    assert transfer.stats().bytes_served == len(data)

    seal_local(objects, oid(2), b"")
    assert [(r.total_size, r.offset, r.data) for r in transfer.serve(oid(2))] == [(0, 0, b"")]
    with pytest.raises(KeyError):
        transfer.serve(oid(3))


@pytest.mark.timeout(30)
def test_serve_restores_a_spilled_object(tmp_path):
    objects = make_objects(tmp_path, "small", 3 * MiB)
    try:
        transfer = ObjectTransfer(b"src", objects, lambda node_id: None)
        first, second = payload(2 * MiB, 1), payload(2 * MiB, 2)
        seal_local(objects, oid(1), first)
        seal_local(objects, oid(2), second)  # spills the first
        assert objects.stats().num_spilled == 1
        assert b"".join(r.data for r in transfer.serve(oid(1), MiB)) == first
        assert objects.stats().num_spilled == 1  # now the second one is on disk
    finally:
        objects.shutdown()


@pytest.mark.timeout(30)
def test_pull_writes_a_secondary_copy_owned_by_the_owner(source_node, dest_objects):
    src_objects, src = source_node
    data = payload(3 * MiB + 7)
    seal_local(src_objects, oid(1), data)
    source = _Source(src.serve)
    transfer = _transfer(dest_objects, {"B": source}, chunk_bytes=MiB)
    [loc] = transfer.get_objects([oid(1)], [OWNER], [b"B"])
    assert loc.found and loc.size_bytes == len(data)
    assert read_local(dest_objects, oid(1)) == data
    stats = transfer.stats()
    assert (stats.pulls_started, stats.pulls_succeeded, stats.bytes_pulled) == (1, 1, len(data))

    # Asking again is local: no second read.
    assert transfer.get_objects([oid(1)], [OWNER], [b"B"])[0].found
    assert source.reads == 1

    # The copy is the owner's: it goes when the owner dies.
    dest_objects.process_died(OWNER.worker_id)
    assert dest_objects.stats().num_objects == 0


@pytest.mark.timeout(30)
def test_pulled_copy_is_evictable(tmp_path, source_node):
    src_objects, src = source_node
    dest = make_objects(tmp_path, "dst-small", 4 * MiB)
    try:
        seal_local(src_objects, oid(1), payload(3 * MiB))
        transfer = _transfer(dest, {"B": _Source(src.serve)})
        assert transfer.get_objects([oid(1)], [OWNER], [b"B"])[0].found
        seal_local(dest, oid(2), payload(3 * MiB, 2))  # a primary copy needs the room
        assert dest.stats().num_evicted == 1
        assert not dest.locations([oid(1)])[0].found
    finally:
        dest.shutdown()


@pytest.mark.timeout(30)
def test_failed_sources_are_skipped_then_not_found(source_node, dest_objects):
    src_objects, src = source_node
    data = payload(2 * MiB)
    seal_local(src_objects, oid(1), data)

    def bad_stream(object_id: bytes, chunk_bytes: int) -> Iterator[pb.ReadObjectReply]:
        yield pb.ReadObjectReply(total_size=len(data), offset=0, data=data[:1000])
        yield pb.ReadObjectReply(total_size=len(data), offset=2000, data=data[2000:3000])

    def unavailable(object_id: bytes, chunk_bytes: int) -> Iterator[pb.ReadObjectReply]:
        raise rpc_errors.Unavailable(rpc_errors.grpc.StatusCode.UNAVAILABLE, "refused")
        yield  # pragma: no cover

    forgotten: list[bytes] = []
    sources = {
        "gone": _Source(unavailable),
        "empty": _Source(_not_found),
        "bad": _Source(bad_stream),
        "good": _Source(src.serve),
    }
    transfer = _transfer(dest_objects, sources, forget_node=forgotten.append)
    ids = [oid(1)] * 5
    nodes = [b"gone", b"dead", b"empty", b"bad", b"good"]
    locs = transfer.get_objects(ids, [OWNER] * 5, nodes)
    assert all(loc.found for loc in locs) and len(locs) == 5
    assert read_local(dest_objects, oid(1)) == data
    assert forgotten == [b"gone"]
    stats = transfer.stats()
    assert (stats.pulls_started, stats.source_failures, stats.pulls_failed) == (1, 4, 0)
    assert all(s.reads == 1 for s in sources.values())

    # No source left: not found, and nothing left behind in the store.
    [missing] = transfer.get_objects([oid(9)], [OWNER], [b"bad"])
    assert not missing.found
    [missing] = transfer.get_objects([oid(9)], [OWNER], [b"empty"])
    assert not missing.found
    assert transfer.stats().pulls_failed == 2
    assert dest_objects.stats().num_objects == 1
    assert sorted(os.listdir(Path(dest_objects.locations([oid(1)])[0].path).parent)) == [
        oid(1).hex()
    ]

    # Without a location (or only this node), nothing is pulled.
    assert not transfer.get_objects([oid(9)])[0].found
    assert not transfer.get_objects([oid(9)], [OWNER], [b"dest"])[0].found
    assert transfer.stats().pulls_started == 3


@pytest.mark.timeout(30)
def test_a_stalled_source_is_given_up(source_node, dest_objects):
    src_objects, src = source_node
    data = payload(2 * MiB)
    seal_local(src_objects, oid(1), data)

    def stalls(object_id: bytes, chunk_bytes: int) -> Iterator[pb.ReadObjectReply]:
        yield pb.ReadObjectReply(total_size=len(data), offset=0, data=data[:1000])
        slow.cancelled.wait(20)  # a node that stopped sending, until the call is cancelled
        yield pb.ReadObjectReply(total_size=len(data), offset=1000, data=data[1000:])

    slow = _Source(stalls)
    sources = {"slow": slow, "good": _Source(src.serve)}
    transfer = _transfer(dest_objects, sources, stall_s=0.3)
    start = time.monotonic()
    locs = transfer.get_objects([oid(1), oid(1)], [OWNER, OWNER], [b"slow", b"good"])
    elapsed = time.monotonic() - start
    assert all(loc.found for loc in locs)
    assert read_local(dest_objects, oid(1)) == data
    assert sources["slow"].streams[0].cancelled.is_set()
    assert elapsed < 15
    assert transfer.stats().source_failures == 1


@pytest.mark.timeout(30)
def test_concurrent_requests_share_one_pull_and_may_stop_waiting(source_node, dest_objects):
    src_objects, src = source_node
    data = payload(2 * MiB)
    seal_local(src_objects, oid(1), data)
    release = threading.Event()

    def gated(object_id: bytes, chunk_bytes: int) -> Iterator[pb.ReadObjectReply]:
        release.wait(20)
        yield from src.serve(object_id, chunk_bytes)

    source = _Source(gated)
    transfer = _transfer(dest_objects, {"B": source})

    # A caller whose wait ends first gets a timeout; the pull goes on.
    with pytest.raises(PullTimeoutError, match="still arriving"):
        transfer.get_objects([oid(1)], [OWNER], [b"B"], timeout_s=0.2)
    assert transfer.stats().pulls_in_flight == 1

    results: list[pb.ObjectLocation] = []
    barrier = threading.Barrier(6)

    def get() -> None:
        barrier.wait()
        results.extend(transfer.get_objects([oid(1)], [OWNER], [b"B"], timeout_s=20))

    threads = [threading.Thread(target=get) for _ in range(5)]
    for t in threads:
        t.start()
    barrier.wait()
    wait_for_condition(lambda: transfer.stats().pulls_joined == 5, timeout=10)
    release.set()
    for t in threads:
        t.join(20)
    assert len(results) == 5 and all(loc.found for loc in results)
    assert source.reads == 1
    stats = transfer.stats()
    assert (stats.pulls_started, stats.pulls_joined, stats.pulls_in_flight) == (1, 5, 0)
    assert read_local(dest_objects, oid(1)) == data


@pytest.mark.timeout(30)
def test_no_room_is_an_error_not_a_lost_object(tmp_path, source_node):
    src_objects, src = source_node
    seal_local(src_objects, oid(1), payload(3 * MiB))
    dest = make_objects(tmp_path, "tiny", 1 * MiB)
    try:
        transfer = _transfer(dest, {"B": _Source(src.serve)})
        with pytest.raises(ObjectStoreFullError):
            transfer.get_objects([oid(1)], [OWNER], [b"B"])
        assert dest.stats().num_objects == 0
    finally:
        dest.shutdown()


@pytest.mark.timeout(30)
def test_an_object_freed_during_its_pull_is_not_found(tmp_path, source_node, dest_objects):
    src_objects, src = source_node
    data = payload(2 * MiB)
    seal_local(src_objects, oid(1), data)

    def freed_midway(object_id: bytes, chunk_bytes: int) -> Iterator[pb.ReadObjectReply]:
        for i, reply in enumerate(src.serve(object_id, 256 * 1024)):
            if i == 2:
                dest_objects.free([object_id])  # the owner let it go
            yield reply

    transfer = _transfer(dest_objects, {"B": _Source(freed_midway)})
    assert not transfer.get_objects([oid(1)], [OWNER], [b"B"])[0].found
    assert dest_objects.stats().num_objects == 0
    assert os.listdir(tmp_path / "dst" / "shm") == []


# ---- unit: ranges and parallel streams --------------------------------------------------------


@pytest.mark.timeout(30)
def test_chunk_assembler_checks_a_range():
    chunks = ChunkAssembler(4, 4)
    chunks.accept(10, 4, 3)
    chunks.accept(10, 7, 1)
    assert chunks.complete and chunks.received == 4
    chunks.finish()

    tail = ChunkAssembler(8, 100, size=10)  # a range past the end stops at it
    tail.accept(10, 8, 2)
    assert tail.complete

    with pytest.raises(TransferError, match="overflows its range ending at 8"):
        ChunkAssembler(4, 4).accept(10, 4, 5)
    with pytest.raises(TransferError, match="offset 0, expected 4"):
        ChunkAssembler(4, 4).accept(10, 0, 4)
    with pytest.raises(TransferError, match="size changed"):
        ChunkAssembler(4, 4, size=10).accept(12, 4, 4)
    with pytest.raises(TransferError, match="starts past"):
        ChunkAssembler(11, 0).accept(10, 11, 0)
    empty_range = ChunkAssembler(10, 0)
    empty_range.accept(10, 10, 0)
    assert empty_range.complete
    short = ChunkAssembler(4, 4)
    short.accept(10, 4, 1)
    with pytest.raises(TransferError, match="after 1 of 4 bytes"):
        short.finish()


@pytest.mark.timeout(30)
def test_split_range_makes_near_equal_parts_of_at_least_the_minimum():
    assert split_range(8, 8, 2, 4) == []
    assert split_range(8, 108, 2, 4) == [(8, 58), (58, 108)]
    assert split_range(0, 10, 3, 4) == [(0, 5), (5, 10)]  # not three parts under 4 bytes
    assert split_range(0, 3, 3, 4) == [(0, 3)]  # a lone part may be small
    parts = split_range(5, 1000, 7, 1)
    assert len(parts) == 7 and parts[0][0] == 5 and parts[-1][1] == 1000
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))


@pytest.mark.timeout(30)
def test_serve_sends_one_range(source_node):
    objects, transfer = source_node
    data = payload(3 * MiB + 5)
    seal_local(objects, oid(1), data)
    chunk = clamp_chunk_bytes(MiB)
    replies = list(transfer.serve(oid(1), chunk, MiB + 1, 2 * MiB))
    assert [r.offset for r in replies] == [MiB + 1, 2 * MiB + 1]
    assert all(r.total_size == len(data) for r in replies)
    assert b"".join(r.data for r in replies) == data[MiB + 1 : 3 * MiB + 1]
    # To the end, past the end, and an empty range at the end (it still tells the size).
    assert b"".join(r.data for r in transfer.serve(oid(1), chunk, 3 * MiB)) == data[3 * MiB :]
    assert b"".join(r.data for r in transfer.serve(oid(1), chunk, 3 * MiB, MiB)) == data[3 * MiB :]
    [end] = transfer.serve(oid(1), chunk, len(data))
    assert (end.total_size, end.offset, bytes(end.data)) == (len(data), len(data), b"")
    with pytest.raises(RangeError):
        transfer.serve(oid(1), chunk, len(data) + 1)
    with pytest.raises(RangeError):
        transfer.serve(oid(1), chunk, 0, -1)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("size", [0, 1, 2 * MiB, 2 * MiB + 1, 9 * MiB + 4321])
def test_a_parallel_pull_is_byte_exact(source_node, dest_objects, size):
    src_objects, src = source_node
    data = payload(size, seed=size)
    seal_local(src_objects, oid(1), data)
    source = _Source(src.serve)
    transfer = _transfer(
        dest_objects, {"B": source}, chunk_bytes=MiB, streams=3, parallel_min_bytes=2 * MiB
    )
    [loc] = transfer.get_objects([oid(1)], [OWNER], [b"B"])
    assert loc.found and loc.size_bytes == size
    assert read_local(dest_objects, oid(1)) == data
    # The first stream asks for the first 2 MiB; the rest goes on up to three more streams,
    # ranges of at least a chunk that tile it.
    assert source.ranges[0] == (0, 2 * MiB)
    rest = sorted(source.ranges[1:])
    if size <= 2 * MiB:
        assert rest == []
    else:
        assert 1 <= len(rest) <= 3
        assert rest[0][0] == 2 * MiB
        assert sum(length for _, length in rest) == size - 2 * MiB
        for (a, la), (b, _) in zip(rest, rest[1:], strict=False):
            assert a + la == b
    assert transfer.stats().bytes_pulled == size


@pytest.mark.timeout(30)
def test_a_broken_range_stream_is_resumed_where_it_stopped(source_node, dest_objects):
    src_objects, src = source_node
    data = payload(6 * MiB + 99)
    seal_local(src_objects, oid(1), data)
    broken: list[int] = []

    def breaks_once(
        object_id: bytes, chunk_bytes: int, offset: int, length: int
    ) -> Iterator[pb.ReadObjectReply]:
        for i, reply in enumerate(src.serve(object_id, chunk_bytes, offset, length)):
            if offset > 0 and i == 1 and not broken:
                broken.append(reply.offset)  # the connection drops before this chunk
                raise rpc_errors.Unavailable(rpc_errors.grpc.StatusCode.UNAVAILABLE, "reset")
            yield reply

    source = _Source(breaks_once)
    transfer = _transfer(
        dest_objects, {"B": source}, chunk_bytes=MiB, streams=2, parallel_min_bytes=MiB
    )
    [loc] = transfer.get_objects([oid(1)], [OWNER], [b"B"])
    assert loc.found
    assert read_local(dest_objects, oid(1)) == data
    # One more stream than ranges: the broken one went on from its first missing byte, to the
    # end of its range.
    assert broken and source.reads == 4
    resumed = [r for r in source.ranges if r[0] == broken[0]]
    assert len(resumed) == 1
    stats = transfer.stats()
    assert (stats.streams_resumed, stats.source_failures, stats.pulls_succeeded) == (1, 0, 1)


@pytest.mark.timeout(30)
def test_a_range_stream_that_keeps_breaking_gives_up_the_source(source_node, dest_objects):
    src_objects, src = source_node
    data = payload(5 * MiB)
    seal_local(src_objects, oid(1), data)

    def tail_breaks(
        object_id: bytes, chunk_bytes: int, offset: int, length: int
    ) -> Iterator[pb.ReadObjectReply]:
        if offset >= 3 * MiB:
            raise rpc_errors.Unavailable(rpc_errors.grpc.StatusCode.UNAVAILABLE, "reset")
        yield from src.serve(object_id, chunk_bytes, offset, length)

    flaky, good = _Source(tail_breaks), _Source(src.serve)
    transfer = _transfer(
        dest_objects,
        {"flaky": flaky, "good": good},
        chunk_bytes=MiB,
        streams=2,
        parallel_min_bytes=MiB,
        range_retries=2,
    )
    locs = transfer.get_objects([oid(1), oid(1)], [OWNER, OWNER], [b"flaky", b"good"])
    assert all(loc.found for loc in locs)
    assert read_local(dest_objects, oid(1)) == data
    # The range from 3 MiB was asked for three times (two resumes), then the source was given
    # up and every stream to it cancelled; the good source made the copy.
    assert sum(1 for offset, _ in flaky.ranges if offset == 3 * MiB) == 3
    assert all(stream.cancelled.is_set() for stream in flaky.streams)
    stats = transfer.stats()
    assert (stats.streams_resumed, stats.source_failures, stats.pulls_succeeded) == (2, 1, 1)
    assert dest_objects.stats().num_objects == 1


@pytest.mark.timeout(30)
def test_a_malformed_range_stops_the_other_streams(tmp_path, source_node, dest_objects):
    src_objects, src = source_node
    data = payload(8 * MiB)
    seal_local(src_objects, oid(1), data)
    other_started = threading.Event()

    def one_lies(
        object_id: bytes, chunk_bytes: int, offset: int, length: int
    ) -> Iterator[pb.ReadObjectReply]:
        if offset == 0:
            yield from src.serve(object_id, chunk_bytes, offset, length)
            return
        if offset < 4 * MiB:
            other_started.set()
            own = bad.by_range[(offset, length)]
            for reply in src.serve(object_id, chunk_bytes, offset, length):
                yield reply
                own.cancelled.wait(20)  # a slow stream: only its cancel ends it early
            return
        other_started.wait(20)
        yield pb.ReadObjectReply(total_size=len(data), offset=offset + 1, data=b"x")

    bad = _Source(one_lies)
    transfer = _transfer(
        dest_objects, {"bad": bad}, chunk_bytes=MiB, streams=3, parallel_min_bytes=MiB
    )
    start = time.monotonic()
    [loc] = transfer.get_objects([oid(1)], [OWNER], [b"bad"])
    assert not loc.found
    assert time.monotonic() - start < 15
    assert len(bad.streams) == 4  # the first, then one per range
    assert all(stream.cancelled.is_set() for stream in bad.streams)
    assert transfer.stats().source_failures == 1
    assert dest_objects.stats().num_objects == 0
    assert os.listdir(tmp_path / "dst" / "shm") == []


# ---- cluster tests ---------------------------------------------------------------------------

STORE_BYTES = 700 * MiB


@ray.remote(num_cpus=0, resources={"nodeB": 1}, max_concurrency=16)
class OnB:
    """Makes and reads objects on node B."""

    def node_id(self) -> str:
        return ray.get_runtime_context().get_node_id()

    def make(self, nbytes: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).integers(0, 2**62, nbytes // 8, dtype=np.int64)

    def checksum_arg(self, array: np.ndarray) -> tuple[int, bool]:
        """The array arrives as a task argument (pulled to this node)."""
        return zlib.crc32(array), bool(array.flags.writeable)

    def checksum_nested(self, refs: list) -> int:
        return zlib.crc32(ray.get(refs[0], timeout=120))

    def get_in_threads(self, refs: list, n: int) -> list[int]:
        out: list[int] = []
        barrier = threading.Barrier(n)

        def get() -> None:
            barrier.wait()
            out.append(zlib.crc32(ray.get(refs[0], timeout=120)))

        threads = [threading.Thread(target=get) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        return out


def _two_nodes(cluster, store_bytes: int = STORE_BYTES):
    head = cluster.add_node(num_cpus=1, object_store_memory=store_bytes)
    node_b = cluster.add_node(num_cpus=1, resources={"nodeB": 1}, object_store_memory=store_bytes)
    cluster.wait_for_nodes()
    cluster.connect()
    return head, node_b


def _node_manager(cluster, node_id: bytes) -> NodeManagerClient:
    for node in GcsClient(cluster.address, cluster.token).get_all_nodes():
        if node.node_id == node_id:
            return NodeManagerClient(
                f"{node.node_manager_address}:{node.node_manager_port}", cluster.token
            )
    raise AssertionError(f"no node {node_id.hex()}")


def _store_counts(client) -> tuple[int, int]:
    stats = client.stats()
    return stats.num_objects, stats.object_store_used_bytes


@pytest.mark.timeout(300)
@pytest.mark.slow
def test_200mb_array_crosses_nodes_both_ways(ray_start_cluster):
    cluster = ray_start_cluster
    _, node_b = _two_nodes(cluster)
    actor = OnB.remote()
    assert ray.get(actor.node_id.remote(), timeout=60) == node_b.node_id.hex()

    # Made on B, read in the driver on the head.
    nbytes = 200 * MiB
    expected = np.random.default_rng(7).integers(0, 2**62, nbytes // 8, dtype=np.int64)
    ref = actor.make.remote(nbytes, 7)
    array = ray.get(ref, timeout=120)
    assert array.nbytes == nbytes and not array.flags.writeable  # mapped from the store
    assert zlib.crc32(array) == zlib.crc32(expected)
    again = ray.get(ref, timeout=120)
    assert zlib.crc32(again) == zlib.crc32(expected)

    # Put on the head, read on B as a task argument and inside a value.
    mine = np.random.default_rng(8).integers(0, 2**62, nbytes // 8, dtype=np.int64)
    mine_ref = ray.put(mine)
    crc, writeable = ray.get(actor.checksum_arg.remote(mine_ref), timeout=120)
    assert crc == zlib.crc32(mine) and not writeable
    assert ray.get(actor.checksum_nested.remote([mine_ref]), timeout=120) == zlib.crc32(mine)

    # Each node holds its primary copy and a pulled copy of the other's.
    for client in (runtime.core_worker().nm, _node_manager(cluster, node_b.node_id)):
        count, used = _store_counts(client)
        assert count == 2 and 2 * nbytes <= used < 2 * nbytes + MiB


def _rss_anon(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no RssAnon for {pid}")


@pytest.mark.timeout(300)
@pytest.mark.slow
def test_pull_memory_is_bounded_whatever_the_size(ray_start_cluster):
    """A pull holds a bounded amount in the node manager's heap, not a share of the object:
    the store's page faults make its writes slower than loopback, and gRPC's own window
    growth once let most of a large object pile up in the receiving node manager."""
    cluster = ray_start_cluster
    head, node_b = _two_nodes(cluster)
    [nm] = [
        p for p in head.processes() if "ray._private.node_manager" in " ".join(p.cmdline())
    ]
    actor = OnB.remote()
    nbytes = 600 * MiB
    ref = actor.make.remote(nbytes, 11)
    ready, _ = ray.wait([ref], timeout=120, fetch_local=False)
    assert ready
    start = peak = _rss_anon(nm.pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.002):
            peak = max(peak, _rss_anon(nm.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        array = ray.get(ref, timeout=120)
    finally:
        done.set()
        sampler.join(10)
    expected = np.random.default_rng(11).integers(0, 2**62, nbytes // 8, dtype=np.int64)
    assert zlib.crc32(array) == zlib.crc32(expected)
    growth = peak - start
    # About 60 MB here (chunks on their way and the allocator's arenas); 200 MB and more
    # before the window was bounded.
    assert growth < 150 * 10**6, f"the pull grew the node manager's heap by {growth / 1e6:.0f} MB"


@pytest.mark.timeout(300)
def test_concurrent_gets_on_one_node_pull_once(ray_start_cluster, tmp_path):
    cluster = ray_start_cluster
    head, node_b = _two_nodes(cluster, 400 * MiB)
    array = np.random.default_rng(3).integers(0, 2**62, 40 * MiB // 8, dtype=np.int64)
    ref = ray.put(array)
    actor = OnB.remote()
    b_nm = _node_manager(cluster, node_b.node_id)
    assert _store_counts(b_nm)[0] == 0
    crcs = ray.get(actor.get_in_threads.remote([ref], 8), timeout=180)
    assert crcs == [zlib.crc32(array)] * 8
    count, used = _store_counts(b_nm)
    assert count == 1 and 40 * MiB <= used < 41 * MiB

    # The same, with the transfer module itself: eight requests for one object, one pull.
    other = actor.make.remote(20 * MiB, 4)
    ray.wait([other], timeout=120)
    addresses = {
        head.node_id: _node_manager(cluster, head.node_id).address,  # has no copy
        node_b.node_id: b_nm.address,
        b"closed": _closed_port_address(),
    }
    objects = make_objects(tmp_path, "here", 100 * MiB)
    try:
        transfer = ObjectTransfer(b"here", objects, addresses.get, cluster.token)
        owner = runtime.core_worker().address
        results: list[pb.ObjectLocation] = []
        barrier = threading.Barrier(8)

        def get() -> None:
            barrier.wait()
            results.extend(
                transfer.get_objects(
                    [other.binary()] * 4,
                    [owner] * 4,
                    [b"closed", b"unknown", head.node_id, node_b.node_id],
                    timeout_s=120,
                )
            )

        threads = [threading.Thread(target=get) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(150)
        assert len(results) == 32 and all(loc.found for loc in results)
        stats = transfer.stats()
        assert (stats.pulls_started, stats.pulls_succeeded, stats.pulls_failed) == (1, 1, 0)
        assert stats.source_failures == 3  # refused, not a node, no copy: then B
        assert stats.bytes_pulled == results[0].size_bytes
        expected = np.random.default_rng(4).integers(0, 2**62, 20 * MiB // 8, dtype=np.int64)
        copy = map_object(results[0].path, results[0].size_bytes)
        assert expected.tobytes() in bytes(copy)  # the frame's data, after its header
        del copy
    finally:
        objects.shutdown()


def _closed_port_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.timeout(180)
def test_pull_from_a_removed_node_is_object_lost(ray_start_cluster):
    cluster = ray_start_cluster
    head, node_b = _two_nodes(cluster, 300 * MiB)
    actor = OnB.remote()
    seen = actor.make.remote(5 * MiB, 1)
    lost = actor.make.remote(5 * MiB, 2)
    also_lost = actor.make.remote(5 * MiB, 3)
    assert ray.get(seen, timeout=60).nbytes == 5 * MiB  # the head now knows B's address
    ray.wait([lost, also_lost], num_returns=2, timeout=60)
    cluster.remove_node(node_b)

    # Whether the head still has B's address (refused) or learned that B is dead: lost.
    for ref in (lost, also_lost):
        start = time.monotonic()
        with pytest.raises(ray.exceptions.ObjectLostError) as info:
            ray.get(ref, timeout=60)
        # An actor call's result cannot be rebuilt (only normal tasks' outputs are).
        assert isinstance(info.value, ray.exceptions.ObjectReconstructionFailedError)
        assert ref.hex() in str(info.value) and "actor call" in str(info.value)
        assert time.monotonic() - start < 45
    head_nm = runtime.core_worker().nm
    wait_for_condition(lambda: _store_counts(head_nm)[0] == 1, timeout=10)  # only `seen`
    assert ray.get(seen, timeout=60).nbytes == 5 * MiB  # the local copy still serves


@pytest.mark.timeout(300)
def test_freeing_frees_every_copy_on_every_node(ray_start_cluster):
    cluster = ray_start_cluster
    head, node_b = _two_nodes(cluster, 300 * MiB)
    actor = OnB.remote()
    head_nm = runtime.core_worker().nm
    b_nm = _node_manager(cluster, node_b.node_id)

    def both(count: int) -> Callable[[], object]:
        def check() -> object:
            got = (_store_counts(head_nm), _store_counts(b_nm))
            return got if all(c[0] == count for c in got) else None

        return check

    # Made on B (owned by the driver), pulled by the owner to the head.
    ref = actor.make.remote(30 * MiB, 5)
    array = ray.get(ref, timeout=60)
    assert array.nbytes == 30 * MiB
    copies = wait_for_condition(both(1), timeout=10)
    assert all(used >= 30 * MiB for _, used in copies)
    del array, ref
    wait_for_condition(both(0), timeout=30)
    assert _store_counts(head_nm) == (0, 0) and _store_counts(b_nm) == (0, 0)

    # Put on the head, pulled to B by a borrower (a task argument, then inside a value).
    ref = ray.put(np.ones(30 * MiB // 8))
    assert ray.get(actor.checksum_arg.remote(ref), timeout=60)[0] == zlib.crc32(
        np.ones(30 * MiB // 8)
    )
    wait_for_condition(both(1), timeout=10)
    del ref
    wait_for_condition(both(0), timeout=30)

    nested = ray.put(np.zeros(30 * MiB // 8))
    assert ray.get(actor.checksum_nested.remote([nested]), timeout=60) == zlib.crc32(
        np.zeros(30 * MiB // 8)
    )
    wait_for_condition(both(1), timeout=10)
    del nested
    wait_for_condition(both(0), timeout=30)
    assert _store_counts(head_nm) == (0, 0) and _store_counts(b_nm) == (0, 0)


@pytest.mark.timeout(30)
def test_put_written_object_is_its_owners_and_a_dead_writers_files_go(tmp_path, dest_objects):
    """PutObject's node side: the object is tracked under its owner; a writer that died
    between writing and handing in leaves no file behind."""
    store_dir = str(tmp_path / "dst" / "shm")
    writer = b"writer".ljust(28, b"\0")
    Path(written_path(store_dir, writer, oid(1))).write_bytes(b"a" * 100)
    dest_objects.put_written(oid(1), 100, True, OWNER, writer)
    assert read_local(dest_objects, oid(1)) == b"a" * 100
    stray = Path(written_path(store_dir, writer, oid(2)))
    stray.write_bytes(b"b" * 10)
    dest_objects.process_died(writer)
    assert not stray.exists() and read_local(dest_objects, oid(1)) == b"a" * 100
    dest_objects.process_died(OWNER.worker_id)
    assert dest_objects.stats().num_objects == 0 and os.listdir(store_dir) == []
