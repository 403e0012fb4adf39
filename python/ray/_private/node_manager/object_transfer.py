"""Objects moving between nodes: pulled by the node that needs them, in chunks (DESIGN.md section 4).

A driver or worker asks its node manager for objects (`GetObjects`). Those the node's store
lacks, but for which the request names nodes holding a copy, are pulled here, node manager to
node manager:

- `NodeAddresses` turns a node id into its node manager's address (a small cache of the
  cluster's node table, refreshed on a miss). The transfer only sees the callable.
- `ObjectTransfer.get_objects` answers a request: what is local at once, the rest through one
  pull per object. Concurrent requests for an object wait on the same pull (`PullTable`).
- A pull tries the given nodes in order. From each it streams `ReadObject` replies straight
  into a store allocation: each chunk is written at its offset into the file the store hands
  out (`os.pwrite`: no page fault per page, and the GIL is free meanwhile), and
  `ChunkAssembler` checks that the chunks tile their range exactly. The first stream asks for
  the object's first `parallel_min_bytes`; its first chunk tells the size, and the rest of a
  larger object is split into ranges read on `streams` streams at once (the first stream
  takes one more range once its own part is in). A range stream that breaks (UNAVAILABLE, an
  internal error) is resumed where it stopped, `range_retries` times per range. The copy is
  sealed unpinned (a secondary copy, evictable) under the object's owner, so the node frees it
  when the owner frees the object or dies. A source that is gone, lacks the object, sends a
  malformed stream, sends nothing for `stall_s` or keeps breaking is given up for the next
  one; when none is left, the object is reported not found (`found = False`), nothing else.
- `ObjectTransfer.serve` is the source's side: the chunks of a local object or of one range
  of it (restored first if it was spilled), each a slice of its mapping, so the object is
  never read into memory whole.

Whatever the object's size, a transfer holds about one chunk per stream (plus gRPC's
flow-control window) in memory at each end; the only full-size cost is the destination's
store allocation.

Failure results, as the node manager's servicer maps them:
- no copy could be read: the location says `found = False` (the worker raises ObjectLostError);
- the caller's wait ended first: `PullTimeoutError` (DEADLINE_EXCEEDED); the pull goes on;
- this node's store has no room: `ObjectStoreFullError` (RESOURCE_EXHAUSTED).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Protocol

from ray._private import constants
from ray._private.generated import common_pb2, node_manager_pb2
from ray._private.node_manager.node_objects import NodeObjects
from ray._private.object_store import (
    ObjectExistsError,
    map_object,
    write_object_fd,
)
from ray._private.rpc import errors as rpc_errors
from ray._private.rpc.chunk_codec import ObjectChunk
from ray._private.rpc.node_manager_client import NodeManagerClient

logger = logging.getLogger(__name__)

# Chunks are kept this far below the gRPC message limit (room for the reply's other fields).
_MESSAGE_HEADROOM_BYTES = 64 * 1024
MIN_CHUNK_BYTES = 64 * 1024
MAX_CHUNK_BYTES = min(64 * 1024**2, constants.GRPC_MAX_MESSAGE_BYTES - _MESSAGE_HEADROOM_BYTES)


def clamp_chunk_bytes(requested: int) -> int:
    """The chunk size actually used for a requested one (0 or less: the default)."""
    if requested <= 0:
        requested = constants.OBJECT_TRANSFER_CHUNK_BYTES
    return max(MIN_CHUNK_BYTES, min(requested, MAX_CHUNK_BYTES))


class TransferError(Exception):
    """A source sent a stream that does not describe the object (gap, overlap, overflow, short)."""


class RangeError(ValueError):
    """A ReadObject range that starts outside the object."""


class PullTimeoutError(Exception):
    """A caller's wait for pulls ended before they did (the pulls themselves go on).

    Args:
        object_ids: The objects still being pulled.
        timeout_s: How long the caller waited.
    """

    def __init__(self, object_ids: Sequence[bytes], timeout_s: float) -> None:
        self.object_ids = list(object_ids)
        self.timeout_s = timeout_s
        first = ", ".join(oid.hex() for oid in self.object_ids[:3])
        super().__init__(
            f"{len(self.object_ids)} object(s) still arriving from other nodes after "
            f"{timeout_s:.1f}s (first: {first}); ask again with a longer timeout"
        )


# ---- sans-IO parts -------------------------------------------------------------------------


class ChunkAssembler:
    """Checks that a stream's chunks tile one range of an object exactly, in order.

    The range starts at `start` and is `length` bytes long (0: to the object's end; a range
    past the end stops at it). The first chunk gives the object's size unless `size` is known;
    every chunk must carry that size, start where the previous one ended, and stay inside the
    range. Only an empty range (an object of size 0, or a range at its end) may have an empty
    chunk (its only one). After a broken stream, a new stream may go on where `next` is.
    """

    def __init__(self, start: int = 0, length: int = 0, size: int | None = None) -> None:
        self.start = start
        self.length = length
        self.size: int | None = None
        self.end: int | None = None
        # The offset the next chunk must start at.
        self.next = start
        if size is not None:
            self._set_size(size)

    def _set_size(self, size: int) -> None:
        if size < 0:
            raise TransferError(f"negative object size {size}")
        if self.start > size:
            raise TransferError(f"a range at {self.start} starts past the {size}-byte object")
        self.size = size
        self.end = size if not self.length else min(self.start + self.length, size)

    @property
    def received(self) -> int:
        """Bytes of the range received so far."""
        return self.next - self.start

    def accept(self, total_size: int, offset: int, length: int) -> None:
        """Takes the next chunk's header.

        Raises:
            TransferError: The chunk does not continue the range.
        """
        if self.size is None:
            self._set_size(total_size)
        elif total_size != self.size:
            raise TransferError(f"object size changed from {self.size} to {total_size} mid-stream")
        assert self.end is not None
        if offset != self.next:
            raise TransferError(f"chunk at offset {offset}, expected {self.next}")
        if length == 0 and self.end != self.start:
            raise TransferError(f"empty chunk at offset {offset} of a {self.size}-byte object")
        if offset + length > self.end:
            where = (
                f"the {self.size}-byte object"
                if self.end == self.size
                else f"its range ending at {self.end} of the {self.size}-byte object"
            )
            raise TransferError(f"chunk of {length} bytes at {offset} overflows {where}")
        self.next += length

    @property
    def complete(self) -> bool:
        return self.end is not None and self.next == self.end

    def finish(self) -> None:
        """The stream ended.

        Raises:
            TransferError: It ended before the whole range arrived.
        """
        if self.size is None:
            raise TransferError("the stream ended before its first chunk")
        if not self.complete:
            assert self.end is not None
            raise TransferError(
                f"the stream ended after {self.received} of {self.end - self.start} bytes"
            )


def split_range(start: int, end: int, parts: int, min_bytes: int) -> list[tuple[int, int]]:
    """`[start, end)` cut into at most `parts` ranges of nearly equal size, none (but a lone
    one) smaller than `min_bytes`; empty when the range is."""
    if end <= start:
        return []
    count = max(1, min(parts, (end - start) // max(1, min_bytes)))
    bounds = [start + (end - start) * i // count for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(count)]


def _write_at(fd: int, data: bytes | memoryview, offset: int) -> None:
    """Writes all of `data` at `offset` of the file (the GIL is released while it copies)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        if written <= 0:
            raise OSError(f"wrote nothing at offset {offset} of the object's file")
        view = view[written:]
        offset += written


def _resumable(err: BaseException) -> bool:
    """A broken stream worth resuming from the same source: the connection dropped, or the
    call failed inside gRPC (not: no copy, a deadline, a cancel, a malformed stream)."""
    return isinstance(err, rpc_errors.Unavailable) or type(err) is rpc_errors.RpcFailure


class PullTable:
    """The pulls in flight, one per object: the first request starts it, later ones join it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pulls: dict[bytes, Future] = {}

    def start_or_join(self, object_id: bytes) -> tuple[Future, bool]:
        """The object's pull, and whether this call created it (then the caller runs it)."""
        with self._lock:
            fut = self._pulls.get(object_id)
            if fut is not None:
                return fut, False
            fut = self._pulls[object_id] = Future()
            return fut, True

    def finish(self, object_id: bytes, fut: Future) -> None:
        """Forgets a finished pull (later requests find the object in the store, or start anew)."""
        with self._lock:
            if self._pulls.get(object_id) is fut:
                del self._pulls[object_id]

    def __len__(self) -> int:
        return len(self._pulls)


# ---- node addresses ------------------------------------------------------------------------


class NodeAddresses:
    """Node id -> HOST:PORT of its node manager, from the cluster's node table.

    Alive nodes are cached; a miss refreshes the table (at most once per `min_refresh_s`: a
    miss soon after a refresh waits for the rest of the period, then refreshes). A node id
    seen dead is remembered as dead (ids are never reused).

    Args:
        fetch_nodes: Returns every node the cluster knows (e.g. `GcsClient.get_all_nodes`).
        min_refresh_s: Shortest time between two fetches.
    """

    def __init__(
        self,
        fetch_nodes: Callable[[], Iterable[common_pb2.NodeInfo]],
        min_refresh_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._fetch = fetch_nodes
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._alive: dict[bytes, str] = {}
        self._dead: set[bytes] = set()
        self._last_refresh: float | None = None
        self.num_fetches = 0

    def resolve(self, node_id: bytes) -> str | None:
        """The node manager address of an alive node; None if the node is dead or unknown."""
        address = self._alive.get(node_id)
        if address is not None:
            return address
        with self._lock:
            address = self._alive.get(node_id)
            if address is not None or node_id in self._dead:
                return address
            if self._last_refresh is not None:
                wait = self._last_refresh + self._min_refresh_s - self._clock()
                if wait > 0:
                    self._sleep(wait)
            self._refresh()
            return self._alive.get(node_id)

    def forget(self, node_id: bytes) -> None:
        """Drops a cached address (its node did not answer); the next lookup asks again."""
        self._alive.pop(node_id, None)

    def _refresh(self) -> None:
        self._last_refresh = self._clock()
        self.num_fetches += 1
        try:
            nodes = list(self._fetch())
        except Exception as err:  # noqa: BLE001 - the cache stays as it was
            logger.warning("could not read the cluster's nodes to find a copy: %s", err)
            return
        alive: dict[bytes, str] = {}
        for node in nodes:
            if node.state == common_pb2.NODE_STATE_ALIVE:
                alive[node.node_id] = f"{node.node_manager_address}:{node.node_manager_port}"
            else:
                self._dead.add(node.node_id)
        self._alive = alive


# ---- the transfer --------------------------------------------------------------------------


class ChunkStream(Protocol):
    """The replies of one ReadObject call (`rpc.node_manager_client.ObjectChunks`)."""

    def __iter__(self) -> Iterator[ObjectChunk]: ...

    def __next__(self) -> ObjectChunk: ...

    def cancel(self) -> None: ...


class ObjectSource(Protocol):
    """Another node's node manager, as a pull reads from it (`NodeManagerClient`)."""

    def read_object(
        self,
        object_id: bytes,
        chunk_bytes: int,
        timeout_s: float,
        offset_bytes: int = 0,
        length_bytes: int = 0,
    ) -> ChunkStream: ...


@dataclass(frozen=True)
class TransferStats:
    """Counts since the node started.

    Attributes:
        pulls_started: Pulls run (one per object however many requests wanted it at once).
        pulls_joined: Requests that waited on a pull another request had started.
        pulls_succeeded: Pulls that left a copy here.
        pulls_failed: Pulls that found no readable copy (reported not found).
        bytes_pulled: Bytes of the copies pulled here.
        source_failures: Sources given up during pulls (gone, no copy, stalled, bad stream).
        objects_served: ReadObject streams served to other nodes.
        bytes_served: Bytes sent in them.
        streams_resumed: Range streams that broke and were resumed where they stopped.
        pulls_in_flight: Pulls running now.
    """

    pulls_started: int
    pulls_joined: int
    pulls_succeeded: int
    pulls_failed: int
    bytes_pulled: int
    source_failures: int
    objects_served: int
    bytes_served: int
    streams_resumed: int
    pulls_in_flight: int


class _StallWatch:
    """Cancels a stream that has not made progress for `stall_s` (a daemon thread per pull)."""

    def __init__(
        self, cancel: Callable[[], None], stall_s: float, clock: Callable[[], float]
    ) -> None:
        self._cancel = cancel
        self._stall_s = stall_s
        self._clock = clock
        self._last = clock()
        self._done = threading.Event()
        self.stalled = False
        threading.Thread(target=self._run, name="pull-watch", daemon=True).start()

    def progress(self) -> None:
        self._last = self._clock()

    def close(self) -> None:
        self._done.set()

    def _run(self) -> None:
        period = max(0.01, min(self._stall_s / 4, 1.0))
        while not self._done.wait(period):
            if self._clock() - self._last > self._stall_s:
                self.stalled = True
                self._cancel()
                return


class _Freed(Exception):
    """The object was freed here while it was being pulled (its owner let it go)."""


class ObjectTransfer:
    """Pulls objects into this node's store from other nodes, and serves local ones to them.

    Args:
        node_id: This node.
        objects: This node's objects (store and owner tracking).
        resolve_node: Node id -> HOST:PORT of its node manager, None if it is not alive
            (e.g. `NodeAddresses.resolve`; later it may be fed from the node's cluster view).
        token: The cluster token (for the default `connect`).
        connect: HOST:PORT -> a client of that node manager (default `NodeManagerClient`).
        forget_node: Called with a node that did not answer (e.g. `NodeAddresses.forget`).
        chunk_bytes: Chunk size asked of sources.
        stall_s: A source that sends nothing for this long is given up.
        pull_timeout_s: The longest one pull may take over all its sources, and how long a
            request without a timeout waits.
        max_pulls: Pulls run at once; more wait for a slot.
        streams: ReadObject streams one pull of a large object reads on at once.
        parallel_min_bytes: What the first stream asks for; only the rest of a larger
            object is read on several streams.
        range_retries: How often a broken range stream is resumed before the source is
            given up.
    """

    def __init__(
        self,
        node_id: bytes,
        objects: NodeObjects,
        resolve_node: Callable[[bytes], str | None],
        token: str = "",
        connect: Callable[[str], ObjectSource] | None = None,
        forget_node: Callable[[bytes], None] | None = None,
        chunk_bytes: int = 0,
        stall_s: float = constants.OBJECT_TRANSFER_STALL_S,
        pull_timeout_s: float = constants.OBJECT_PULL_TIMEOUT_S,
        max_pulls: int = constants.MAX_CONCURRENT_PULLS,
        clock: Callable[[], float] = time.monotonic,
        streams: int = constants.OBJECT_TRANSFER_STREAMS,
        parallel_min_bytes: int = constants.OBJECT_TRANSFER_PARALLEL_MIN_BYTES,
        range_retries: int = constants.OBJECT_TRANSFER_RANGE_RETRIES,
    ) -> None:
        self._node_id = node_id
        self._objects = objects
        self._resolve = resolve_node
        self._connect = connect or (lambda address: NodeManagerClient(address, token))
        self._forget = forget_node
        self._chunk_bytes = clamp_chunk_bytes(chunk_bytes)
        self._stall_s = stall_s
        self._pull_timeout_s = pull_timeout_s
        self._slots = threading.BoundedSemaphore(max(1, max_pulls))
        self._clock = clock
        self._streams = max(1, streams)
        self._parallel_min_bytes = max(self._chunk_bytes, parallel_min_bytes)
        self._range_retries = max(0, range_retries)
        self._pulls = PullTable()
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(
            (
                "pulls_started",
                "pulls_joined",
                "pulls_succeeded",
                "pulls_failed",
                "bytes_pulled",
                "source_failures",
                "objects_served",
                "bytes_served",
                "streams_resumed",
            ),
            0,
        )

    def stats(self) -> TransferStats:
        with self._lock:
            return TransferStats(**self._counts, pulls_in_flight=len(self._pulls))

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    # ---- destination side ------------------------------------------------------------

    def get_objects(
        self,
        object_ids: Sequence[bytes],
        owners: Sequence[common_pb2.Address] = (),
        locations: Sequence[bytes] = (),
        timeout_s: float | None = None,
    ) -> list[node_manager_pb2.ObjectLocation]:
        """Answers GetObjects: local objects at once, the others pulled from `locations`.

        Args:
            object_ids: The objects; an id may repeat, each entry naming one more node to try.
            owners: Each entry's owner (same order, may be empty).
            locations: Each entry's node with a copy (same order, may be empty).
            timeout_s: How long to wait for pulls (None: `pull_timeout_s`).

        Returns:
            One location per entry, in order (`found = False`: no copy could be read).

        Raises:
            PullTimeoutError: Pulls were still running when the wait ended.
            ObjectStoreFullError: This store has no room for a pulled copy (or to restore a
                spilled object).
        """
        candidates: dict[bytes, list[bytes]] = {}
        owner_of: dict[bytes, common_pb2.Address] = {}
        for i, oid in enumerate(object_ids):
            nodes = candidates.setdefault(oid, [])
            if i < len(locations) and locations[i] and locations[i] not in nodes:
                nodes.append(locations[i])
            if i < len(owners) and owners[i].worker_id and oid not in owner_of:
                owner_of[oid] = owners[i]
        found = {loc.object_id: loc for loc in self._objects.locations(list(candidates))}
        waiting: dict[bytes, Future] = {}
        for oid, nodes in candidates.items():
            if found[oid].found or not any(n != self._node_id for n in nodes):
                continue
            waiting[oid] = self._start_or_join(oid, owner_of.get(oid), nodes)
        if waiting:
            wait_s = self._pull_timeout_s if timeout_s is None else timeout_s
            deadline = self._clock() + wait_s
            for oid, fut in waiting.items():
                try:
                    found[oid] = fut.result(timeout=max(0.0, deadline - self._clock()))
                except FutureTimeout:
                    late = [o for o, f in waiting.items() if not f.done()]
                    raise PullTimeoutError(late, wait_s) from None
        return [found[oid] for oid in object_ids]

    def _start_or_join(
        self, object_id: bytes, owner: common_pb2.Address | None, nodes: list[bytes]
    ) -> Future:
        fut, started = self._pulls.start_or_join(object_id)
        if not started:
            self._count("pulls_joined")
            return fut
        self._count("pulls_started")
        threading.Thread(
            target=self._run_pull, args=(object_id, owner, nodes, fut), name="pull", daemon=True
        ).start()
        return fut

    def _run_pull(
        self, object_id: bytes, owner: common_pb2.Address | None, nodes: list[bytes], fut: Future
    ) -> None:
        try:
            with self._slots:
                result = self._pull(object_id, owner, nodes)
        except BaseException as err:  # noqa: BLE001 - handed to every waiter
            self._pulls.finish(object_id, fut)
            fut.set_exception(err)
            return
        self._pulls.finish(object_id, fut)
        fut.set_result(result)

    def _pull(
        self, object_id: bytes, owner: common_pb2.Address | None, nodes: list[bytes]
    ) -> node_manager_pb2.ObjectLocation:
        """Tries each node in order; the location of the copy made here, or not found."""
        local = self._objects.locations([object_id])[0]
        if local.found:  # an earlier pull finished after this request looked
            return local
        deadline = self._clock() + self._pull_timeout_s
        failures: list[str] = []
        for node in nodes:
            if node == self._node_id:
                continue
            where = node.hex()[:12]
            left = deadline - self._clock()
            if left <= 0:
                failures.append(f"{where}: no time left")
                break
            address = self._resolve(node)
            if address is None:
                failures.append(f"{where}: not an alive node")
                self._count("source_failures")
                continue
            started = self._clock()
            try:
                size = self._pull_from(object_id, owner, address, left)
            except _Freed:
                failures.append(f"{where}: freed here while it was pulled")
                break
            except ObjectExistsError:
                # Someone else is creating it here: use that copy if it is sealed by now.
                local = self._objects.locations([object_id])[0]
                if local.found:
                    return local
                failures.append(f"{where}: a copy is being created here")
                break
            except (rpc_errors.RpcFailure, TransferError, OSError) as err:
                self._count("source_failures")
                if isinstance(err, rpc_errors.Unavailable) and self._forget is not None:
                    self._forget(node)
                failures.append(f"{where} ({address}): {_describe(err)}")
                logger.info("pulling %s from node %s failed: %s", object_id.hex(), where, err)
                continue
            self._count("pulls_succeeded")
            self._count("bytes_pulled", size)
            logger.debug(
                "pulled %s (%d bytes) from node %s in %.3fs",
                object_id.hex(),
                size,
                where,
                self._clock() - started,
            )
            local = self._objects.locations([object_id])[0]
            if local.found:
                return local
            failures.append(f"{where}: evicted right after the pull")
            break
        self._count("pulls_failed")
        logger.info(
            "object %s not found on any of %d node(s): %s",
            object_id.hex(),
            len(nodes),
            "; ".join(failures) or "no other node named",
        )
        return node_manager_pb2.ObjectLocation(object_id=object_id, found=False)

    def _pull_from(
        self,
        object_id: bytes,
        owner: common_pb2.Address | None,
        address: str,
        timeout_s: float,
    ) -> int:
        """Streams the object from one source into a sealed secondary copy; returns its size.

        Raises:
            RpcFailure: The source failed (NotFound: it has no copy; Cancelled: it stalled).
            TransferError: The source's stream does not describe the object.
            ObjectStoreFullError: No room here (not retried at other sources).
            ObjectExistsError: The object is being created here already.
            _Freed: The object was freed here during the pull.
        """
        source = self._connect(address)
        deadline = self._clock() + timeout_s
        head_bytes = self._parallel_min_bytes if self._streams > 1 else 0
        stream = source.read_object(
            object_id, self._chunk_bytes, timeout_s, offset_bytes=0, length_bytes=head_bytes
        )
        watch = _StallWatch(stream.cancel, self._stall_s, self._clock)
        try:
            try:
                first = next(stream)
            except StopIteration:
                raise TransferError("the source sent no chunk") from None
            except rpc_errors.Cancelled:
                if watch.stalled:
                    raise TransferError(f"no data for {self._stall_s:.0f}s") from None
                raise
            watch.progress()
            head = ChunkAssembler(0, head_bytes)
            head.accept(first.total_size, first.offset, len(first.data))
            size = first.total_size
            path = self._objects.create_copy(object_id, size, owner)
            lanes = _Lanes(self, source, object_id, deadline)
            try:
                write_object_fd(path, lambda fd: lanes.fill(fd, first, head, stream, watch))
            except BaseException:
                self._objects.abort(object_id)
                raise
            if not self._objects.seal_copy(object_id, owner):
                with contextlib.suppress(OSError):
                    os.unlink(path)
                raise _Freed()
            return size
        finally:
            watch.close()
            stream.cancel()

    # ---- source side -----------------------------------------------------------------

    def serve(
        self, object_id: bytes, chunk_bytes: int = 0, offset_bytes: int = 0, length_bytes: int = 0
    ) -> Iterator[ObjectChunk]:
        """The chunks of a local sealed object, or of one range of it, in order (restored
        first if it was spilled).

        Each chunk's data is a view of one slice of the object's mapping, copied only when
        gRPC serializes it (`chunk_codec.encode_reply`); the object is never read whole. Every
        chunk carries the total size; an empty range (an empty object) is one empty chunk.

        Args:
            object_id: The object.
            chunk_bytes: The chunk size asked for (clamped; 0: the default).
            offset_bytes: Where the range starts.
            length_bytes: Its length (0: to the end; a range past the end stops at it).

        Raises:
            KeyError: The object is not sealed here.
            RangeError: The range starts past the object's end (or is negative).
            ObjectStoreFullError: It is spilled and there is no room to restore it.
        """
        view = self._map_local(object_id)
        if view is None:
            raise KeyError(object_id)
        size = len(view)
        if offset_bytes < 0 or length_bytes < 0 or offset_bytes > size:
            with contextlib.suppress(BufferError):
                view.release()
            raise RangeError(
                f"the range of {length_bytes} bytes at {offset_bytes} is outside the "
                f"{size}-byte object"
            )
        end = size if length_bytes == 0 else min(size, offset_bytes + length_bytes)
        return self._chunks(object_id, view, clamp_chunk_bytes(chunk_bytes), offset_bytes, end)

    def _map_local(self, object_id: bytes) -> memoryview | None:
        for _attempt in range(3):
            loc = self._objects.locations([object_id])[0]
            if not loc.found:
                return None
            try:
                return map_object(loc.path, loc.size_bytes)
            except FileNotFoundError:
                continue  # evicted or spilled between the lookup and the map: look again
        return None

    def _chunks(
        self, object_id: bytes, view: memoryview, chunk: int, start: int, end: int
    ) -> Iterator[ObjectChunk]:
        size = len(view)
        sent = 0
        try:
            if start == end:
                yield ObjectChunk(total_size=size, offset=start)
            for offset in range(start, end, chunk):
                data = view[offset : min(offset + chunk, end)]
                sent += len(data)
                yield ObjectChunk(total_size=size, offset=offset, data=data)
            self._count("objects_served")
        finally:
            self._count("bytes_served", sent)
            with contextlib.suppress(BufferError):
                view.release()
        logger.debug("served %s (%d bytes)", object_id.hex(), size)


class _Lanes:
    """The streams of one pull from one source, each writing its ranges into the copy's file.

    Lane 0 reads the first stream to its end, then one more range; each other lane reads one
    range on a thread of its own. The first failure of any lane cancels the others' streams and
    is raised by `fill` once every lane has stopped.
    """

    def __init__(
        self, transfer: ObjectTransfer, source: ObjectSource, object_id: bytes, deadline: float
    ) -> None:
        self._transfer = transfer
        self._source = source
        self._object_id = object_id
        self._deadline = deadline
        self._lock = threading.Lock()
        self._open: set[ChunkStream] = set()
        self._error: BaseException | None = None

    def fill(
        self,
        fd: int,
        first: ObjectChunk,
        head: ChunkAssembler,
        stream: ChunkStream,
        watch: _StallWatch,
    ) -> None:
        """Writes the whole object into `fd`: `first` (already checked by `head`), the rest
        of the first stream, and the ranges after it.

        Raises:
            The first lane's failure (RpcFailure, TransferError, OSError).
        """
        t = self._transfer
        size, head_end = head.size, head.end
        assert size is not None and head_end is not None
        if size:
            os.ftruncate(fd, size)
        _write_at(fd, first.data, first.offset)
        ranges = split_range(head_end, size, t._streams, t._chunk_bytes)
        threads = []
        for start, end in ranges[1:]:
            chunks = ChunkAssembler(start, end - start, size)
            thread = threading.Thread(
                target=self._lane, args=(fd, [(chunks, None, None)]), name="pull-range", daemon=True
            )
            thread.start()
            threads.append(thread)
        own = [(head, stream, watch)]
        if ranges:
            start, end = ranges[0]
            own.append((ChunkAssembler(start, end - start, size), None, None))
        self._lane(fd, own)
        for thread in threads:
            thread.join()
        if self._error is not None:
            raise self._error

    def _lane(
        self,
        fd: int,
        work: list[tuple[ChunkAssembler, ChunkStream | None, _StallWatch | None]],
    ) -> None:
        try:
            for chunks, stream, watch in work:
                self._read_range(fd, chunks, stream, watch)
        except BaseException as err:  # noqa: BLE001 - raised by fill
            self._fail(err)

    def _fail(self, err: BaseException) -> None:
        with self._lock:
            if self._error is not None:
                return
            self._error = err
            streams = list(self._open)
        for stream in streams:
            stream.cancel()

    def _read_range(
        self,
        fd: int,
        chunks: ChunkAssembler,
        stream: ChunkStream | None,
        watch: _StallWatch | None,
    ) -> None:
        """Reads one range (on `stream` if it is open already), resuming a broken stream."""
        t = self._transfer
        resumed = 0
        while True:
            if stream is None:
                left = self._deadline - t._clock()
                if left <= 0:
                    raise rpc_errors.DeadlineExceeded(
                        rpc_errors.grpc.StatusCode.DEADLINE_EXCEEDED, "no time left for the pull"
                    )
                assert chunks.end is not None
                stream = self._source.read_object(
                    self._object_id,
                    t._chunk_bytes,
                    left,
                    offset_bytes=chunks.next,
                    length_bytes=chunks.end - chunks.next,
                )
                watch = _StallWatch(stream.cancel, t._stall_s, t._clock)
            assert watch is not None
            with self._lock:
                if self._error is not None:
                    stream.cancel()
                self._open.add(stream)
            try:
                self._drain(fd, chunks, stream, watch)
                return
            except rpc_errors.Cancelled:
                if watch.stalled:
                    raise TransferError(f"no data for {t._stall_s:.0f}s") from None
                raise
            except rpc_errors.RpcFailure as err:
                if self._error is not None or resumed >= t._range_retries or not _resumable(err):
                    raise
                resumed += 1
                t._count("streams_resumed")
                logger.info(
                    "a stream of %s broke at byte %d (%s); resuming it",
                    self._object_id.hex(),
                    chunks.next,
                    err,
                )
            finally:
                watch.close()
                stream.cancel()
                with self._lock:
                    self._open.discard(stream)
            stream = watch = None

    @staticmethod
    def _drain(fd: int, chunks: ChunkAssembler, stream: ChunkStream, watch: _StallWatch) -> None:
        while not chunks.complete:
            try:
                reply = next(stream)
            except StopIteration:
                break
            watch.progress()
            data = reply.data
            chunks.accept(reply.total_size, reply.offset, len(data))
            _write_at(fd, data, reply.offset)
        chunks.finish()


def _describe(err: BaseException) -> str:
    if isinstance(err, rpc_errors.NotFound):
        return "no copy there"
    if isinstance(err, rpc_errors.Unavailable):
        return "unreachable"
    if isinstance(err, rpc_errors.DeadlineExceeded):
        return "timed out"
    return str(err)
