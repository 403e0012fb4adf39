"""Generator tasks: values a task yields reach its caller one by one, as they are made.

A task whose function (or actor method) yields runs as a *generator task*
(`TaskSpec.generator_kind`). It has one ordinary return, the *end object*,
which becomes ready when the task ends (None, or the error that ended it).
Item `i` (from 0) of the stream is the object `object_id_for_return(task, i + 2)`,
owned by the caller like any return.

- Executor side (`GeneratorDriver`): drives the generator; each yielded value is
  stored (inline, or in the shared-memory store when large) and reported to the
  caller with `ReportGeneratorItemReturns`. A sender thread batches the items
  produced while a report is in flight, so a fast generator costs one rpc per
  batch. With backpressure (`_generator_backpressure_num_objects=N`) the
  generator is not resumed while N reported items are unconsumed. An exception
  from a streaming generator fails the task (so `retry_exceptions` applies) once
  the items before it reached the caller; in a dynamic one it is the last item.
- Caller side (`GeneratorStreams`): one `_Stream` per generator task this
  process submitted: the reported items (held until consumed), the consumer's
  position, and the end. Items reported twice (a retried attempt) are ignored,
  so the consumer never sees one twice. When the end object holds an error (the
  worker died out of retries, the task was cancelled), that error becomes the
  next item.

The hot path of ordinary tasks does not come here: only specs with a generator
kind are registered and driven.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ray import exceptions as rex
from ray._private import ids, serialization
from ray._private.generated import common_pb2, core_worker_pb2
from ray._private.object_ref import ObjectRef, collect_borrows
from ray._private.worker import errors
from ray._private.worker.memory_store import StoredObject

logger = logging.getLogger(__name__)

STREAMING = common_pb2.GENERATOR_KIND_STREAMING
DYNAMIC = common_pb2.GENERATOR_KIND_DYNAMIC

# How long one backpressure report waits at the caller for consumption (then it asks again).
BACKPRESSURE_POLL_S = 5.0
# How long the executor waits for its reports to reach the caller when the generator ends.
FLUSH_TIMEOUT_S = 60.0
REPORT_TIMEOUT_S = 30.0


def item_id(task_id: bytes, index: int) -> bytes:
    """The object id of item `index` (from 0) of a generator task."""
    return ids.object_id_for_return(task_id, index + 2)


# ---- caller side -------------------------------------------------------------------------


class _Stream:
    """What the caller knows of one generator task's items."""

    __slots__ = (
        "task_id",
        "end_id",
        "kind",
        "items",
        "num_reported",
        "next_index",
        "total",
        "dropped",
        "on_end",
    )

    def __init__(self, task_id: bytes, end_id: bytes, kind: int) -> None:
        self.task_id = task_id
        self.end_id = end_id
        self.kind = kind
        # Reported and not yet consumed: index -> the ref that holds it.
        self.items: dict[int, ObjectRef] = {}
        self.num_reported = 0
        # The consumer's position: items before it were handed out.
        self.next_index = 0
        # Set once the task ended: the number of items (an ending error counted).
        self.total: int | None = None
        self.dropped = False
        # The end object's ready callback (removed if the stream goes first).
        self.on_end: Callable[[StoredObject], None] | None = None


class GeneratorStreams:
    """The generator tasks this process submitted (the owner side of their items).

    Args:
        ownership: This process's objects (`ownership.Ownership`): items are stored there.
        on_blocked: Called with True before a consumer blocks and False after (a leased
            worker lends its CPUs meanwhile); returns whether it told anyone.
    """

    def __init__(self, ownership: Any, on_blocked: Callable[[bool], bool]) -> None:
        self._ownership = ownership
        self._on_blocked = on_blocked
        self._cond = threading.Condition()
        self._streams: dict[bytes, _Stream] = {}
        self._by_end: dict[bytes, _Stream] = {}

    def register(self, spec: common_pb2.TaskSpec) -> None:
        """A generator task is being submitted: its items will be reported here."""
        stream = _Stream(spec.task_id, spec.return_ids[0], spec.generator_kind)
        stream.on_end = lambda obj: self._ended(stream, obj)
        with self._cond:
            self._streams[spec.task_id] = stream
            self._by_end[stream.end_id] = stream
        self._ownership.memory_store.on_ready(stream.end_id, stream.on_end)

    # ---- the owner rpc -------------------------------------------------------------------

    def report(
        self, request: core_worker_pb2.ReportGeneratorItemReturnsRequest
    ) -> core_worker_pb2.ReportGeneratorItemReturnsReply:
        """Records reported items (ignoring ones seen before); may wait for consumption."""
        ownership = self._ownership
        with self._cond:
            stream = self._streams.get(request.task_id)
            if stream is None or stream.dropped or stream.total is not None:
                stream = None
            else:
                index = request.item_index
                for ret in request.returns:
                    if index >= stream.num_reported:
                        ownership.refs.add_owned(ret.object_id)
                        ref = ObjectRef(ret.object_id, None)
                        ownership.store_returned_object(ret)
                        stream.items[index] = ref
                        stream.num_reported = index + 1
                    index += 1
                if request.returns:
                    self._cond.notify_all()
                below = request.wait_consumed_below
                if request.wait_timeout_ms > 0 and stream.next_index < below:
                    timeout = min(request.wait_timeout_ms / 1000, BACKPRESSURE_POLL_S * 2)
                    self._cond.wait_for(
                        lambda s=stream: s.next_index >= below or s.dropped or s.total is not None,
                        timeout,
                    )
                reply = core_worker_pb2.ReportGeneratorItemReturnsReply(
                    num_consumed=stream.next_index, stop=stream.dropped
                )
        if stream is None:
            # Nobody reads these any more: free them (a stored copy goes from its node).
            for ret in request.returns:
                ownership.store_returned_object(ret)
            return core_worker_pb2.ReportGeneratorItemReturnsReply(stop=True)
        return reply

    def _ended(self, stream: _Stream, obj: StoredObject) -> None:
        """The end object is ready: no more items; an error there is the next item."""
        error_ref = None
        with self._cond:
            if stream.total is not None:
                return
            total = stream.num_reported
            if obj.is_error and not stream.dropped and stream.kind == STREAMING:
                oid = item_id(stream.task_id, total)
                self._ownership.refs.add_owned(oid)
                error_ref = ObjectRef(oid, None)
                self._ownership.memory_store.put(oid, obj)
                stream.items[total] = error_ref
                total += 1
            stream.total = total
            if stream.kind == DYNAMIC:
                # The end value (a DynamicObjectRefGenerator) holds the items from now on.
                self._forget(stream)
            self._cond.notify_all()

    def _forget(self, stream: _Stream) -> list[ObjectRef]:
        """Removes a stream; returns the refs it held (released by the caller, unlocked)."""
        self._streams.pop(stream.task_id, None)
        self._by_end.pop(stream.end_id, None)
        if stream.total is None and stream.on_end is not None:
            self._ownership.memory_store.remove_callback(stream.end_id, stream.on_end)
        stream.on_end = None
        held = list(stream.items.values())
        stream.items.clear()
        return held

    def on_objects_freed(self, object_ids: list[bytes]) -> None:
        """A dynamic generator's end object went before the task ended: drop its items."""
        if not self._by_end:
            return
        held: list[ObjectRef] = []
        with self._cond:
            for oid in object_ids:
                stream = self._by_end.get(oid)
                if stream is not None and stream.kind == DYNAMIC:
                    stream.dropped = True
                    held += self._forget(stream)
            self._cond.notify_all()
        del held  # released here, outside the lock

    # ---- the consumer --------------------------------------------------------------------

    def next_ref(self, task_id: bytes, timeout_s: float | None) -> ObjectRef | None:
        """The next item's ref, once reported; None at the end of the stream.

        Raises:
            GetTimeoutError: Nothing came within `timeout_s` seconds.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        blocked = False
        try:
            with self._cond:
                stream = self._streams.get(task_id)
                if stream is None:
                    return None
                while True:
                    index = stream.next_index
                    ref = stream.items.pop(index, None)
                    if ref is not None:
                        stream.next_index = index + 1
                        self._cond.notify_all()  # a report waiting on backpressure
                        if stream.total is not None and stream.next_index >= stream.total:
                            self._forget(stream)
                        return ref
                    if stream.total is not None and index >= stream.total:
                        self._forget(stream)
                        return None
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise rex.GetTimeoutError(
                            f"The next value of the generator task {task_id.hex()} (item "
                            f"{index}) was not reported within {timeout_s}s; {index} value(s) "
                            "were read so far."
                        )
                    if not blocked:
                        self._cond.release()
                        try:
                            blocked = self._on_blocked(True)
                        finally:
                            self._cond.acquire()
                        continue
                    self._cond.wait(left if left is not None else 1.0)
        finally:
            if blocked:
                self._on_blocked(False)

    def has_next(self, task_id: bytes) -> bool:
        """True if `next_ref` would not block: the next item is reported, or the stream ended."""
        stream = self._streams.get(task_id)
        if stream is None:
            return True
        return stream.next_index in stream.items or stream.total is not None

    def probe_ids(self, task_id: bytes) -> list[bytes]:
        """Objects one of which becomes ready when `has_next` turns true (for `wait`)."""
        stream = self._streams.get(task_id)
        if stream is None:
            return []
        return [item_id(task_id, stream.next_index), stream.end_id]

    def is_finished(self, task_id: bytes) -> bool:
        stream = self._streams.get(task_id)
        return stream is None or (stream.total is not None and stream.next_index >= stream.total)

    def drop(self, task_id: bytes) -> None:
        """The consumer went (its ObjectRefGenerator was collected): unconsumed items go."""
        with self._cond:
            stream = self._streams.get(task_id)
            if stream is None:
                return
            stream.dropped = True
            held = self._forget(stream)
            self._cond.notify_all()
        del held

    def wait(
        self,
        entries: Sequence[Any],
        probes: Callable[[Any], list[bytes] | None],
        num_returns: int,
        timeout_s: float | None,
    ) -> tuple[list[Any], list[Any]]:
        """`ray.wait` over refs and generators: (ready, not_ready), in input order.

        `probes(entry)` gives an entry's objects (one ready is enough), or None if it is ready.
        """
        store = self._ownership.memory_store
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            ready, waiting = [], []
            for entry in entries:
                ids_ = probes(entry)
                if ids_ is None or store.ready_among(ids_):
                    ready.append(entry)
                else:
                    waiting.append(ids_)
            left = None if deadline is None else deadline - time.monotonic()
            if len(ready) >= num_returns or not waiting or (left is not None and left <= 0):
                break
            flat = list(dict.fromkeys(oid for ids_ in waiting for oid in ids_))
            store.wait(flat, 1, left if left is not None else 1.0)
        chosen = {id(e) for e in ready[:num_returns]}
        return (
            [e for e in entries if id(e) in chosen],
            [e for e in entries if id(e) not in chosen],
        )


# ---- executor side -----------------------------------------------------------------------


class _Sender:
    """Reports one task's items to its caller from its own thread, batching what piles up."""

    def __init__(
        self,
        spec: common_pb2.TaskSpec,
        report: Callable[[common_pb2.Address, Any, float], Any],
    ) -> None:
        self._spec = spec
        self._report = report
        self._backpressure = spec.generator_backpressure_num_objects
        self._cond = threading.Condition()
        self._pending: list[common_pb2.ReturnObject] = []
        self._sent = 0  # items handed to an rpc
        self._acked = 0  # items the caller has
        self.produced = 0
        self.consumed = 0
        self.stop = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="generator-report", daemon=True)
        self._thread.start()

    def add(self, ret: common_pb2.ReturnObject) -> None:
        with self._cond:
            self._pending.append(ret)
            self.produced += 1
            self._cond.notify_all()

    def must_pause(self) -> bool:
        n = self._backpressure
        return n > 0 and not self.stop and self.produced - self.consumed >= n

    def wait_room(self) -> None:
        """Blocks while backpressure holds the generator."""
        with self._cond:
            while self.must_pause():
                self._cond.wait(0.5)

    def close(self) -> None:
        """Waits until every item reached the caller (or the caller is gone)."""
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            while self._acked < self.produced and not self.stop:
                left = deadline - time.monotonic()
                if left <= 0:
                    logger.warning(
                        "%s: %d yielded value(s) did not reach the caller in %.0fs",
                        self._spec.name,
                        self.produced - self._acked,
                        FLUSH_TIMEOUT_S,
                    )
                    break
                self._cond.wait(min(left, 0.5))
            self.stop = True
            self._cond.notify_all()

    def _run(self) -> None:
        spec = self._spec
        while True:
            with self._cond:
                while not self._pending and not self.stop and not self._closing:
                    if self.must_pause():
                        break
                    self._cond.wait(1.0)
                if self.stop or (self._closing and not self._pending):
                    return
                batch, self._pending = self._pending, []
                start = self._sent
                self._sent += len(batch)
                wait_below = 0
                if not batch and self.must_pause():
                    wait_below = self.produced - self._backpressure + 1
            request = core_worker_pb2.ReportGeneratorItemReturnsRequest(
                task_id=spec.task_id,
                attempt_number=spec.attempt_number,
                item_index=start,
                returns=batch,
                wait_timeout_ms=int(BACKPRESSURE_POLL_S * 1000) if wait_below else 0,
                wait_consumed_below=wait_below,
            )
            try:
                reply = self._report(spec.caller_address, request, REPORT_TIMEOUT_S)
            except Exception as err:  # noqa: BLE001 - the caller is gone: nobody reads on
                logger.info("%s: could not report yielded values (%s); stopping", spec.name, err)
                with self._cond:
                    self.stop = True
                    self._cond.notify_all()
                return
            with self._cond:
                self._acked += len(batch)
                self.consumed = max(self.consumed, reply.num_consumed)
                if reply.stop:
                    self.stop = True
                self._cond.notify_all()


class GeneratorCancelled(Exception):
    """The generator task was cancelled (`ray.cancel`); it stopped before its next value."""


class GeneratorDriver:
    """Runs generator tasks on a worker: stores and reports each yielded value.

    A cancelled sync generator stops at its next `yield` (`GeneratorCancelled`): the code
    between two yields is never interrupted, so an actor's state stays whole.

    Args:
        store_return: Stores one value for the caller (`CoreWorker.store_return`).
        report: Sends a ReportGeneratorItemReturns request to an address, with a timeout.
        address: This worker's address (for error values).
        is_cancelled: Whether a task id was cancelled.
    """

    def __init__(
        self,
        store_return: Callable[[bytes, Any, common_pb2.Address], common_pb2.ReturnObject],
        report: Callable[[common_pb2.Address, Any, float], Any],
        address: common_pb2.Address,
        is_cancelled: Callable[[bytes], bool] = lambda task_id: False,
    ) -> None:
        self._store_return = store_return
        self._report = report
        self._address = address
        self._is_cancelled = is_cancelled

    def drive(self, spec: common_pb2.TaskSpec, gen: Any) -> list[Any]:
        """Runs a (sync) generator to its end; returns the end object's frame."""
        if not inspect.isgenerator(gen):
            raise _not_a_generator(spec, gen)
        sender = _Sender(spec, self._report)
        index = 0
        try:
            while True:
                sender.wait_room()
                if sender.stop:
                    gen.close()
                    break
                if self._is_cancelled(spec.task_id):
                    gen.close()
                    raise GeneratorCancelled()
                try:
                    value = next(gen)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - user code: the error is the next item
                    self._failed(spec, sender, index, exc)
                    index += 1
                    break
                index += 1
                if not self._put(spec, sender, index - 1, value):
                    break  # its error took its place
        finally:
            sender.close()
        return self._end(spec, index)

    async def drive_async(self, spec: common_pb2.TaskSpec, gen: Any) -> list[Any]:
        """Runs an async (or sync) generator of an async actor to its end."""
        if inspect.isgenerator(gen):
            return await asyncio.to_thread(self.drive, spec, gen)
        if not inspect.isasyncgen(gen):
            raise _not_a_generator(spec, gen)
        sender = _Sender(spec, self._report)
        index = 0
        try:
            while True:
                if sender.must_pause():
                    await asyncio.to_thread(sender.wait_room)
                if sender.stop:
                    await gen.aclose()
                    break
                try:
                    value = await gen.__anext__()
                except StopAsyncIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - user code
                    self._failed(spec, sender, index, exc)
                    index += 1
                    break
                index += 1
                if not self._put(spec, sender, index - 1, value):
                    break  # its error took its place
        finally:
            await asyncio.to_thread(sender.close)
        return self._end(spec, index)

    def _put(self, spec: common_pb2.TaskSpec, sender: _Sender, index: int, value: Any) -> bool:
        """Stores and queues one value; False if it failed (its error is the item instead)."""
        try:
            frame = serialization.serialize(value, path=f"value {index} yielded by {spec.name}")
            ret = self._store_return(item_id(spec.task_id, index), frame, spec.caller_address)
        except Exception as exc:  # noqa: BLE001 - not serializable, or the store is full
            self._failed(spec, sender, index, exc)
            return False
        sender.add(ret)
        return True

    def _failed(
        self, spec: common_pb2.TaskSpec, sender: _Sender, index: int, exc: BaseException
    ) -> None:
        """The generator raised (or a value could not be stored) at item `index`.

        Streaming: the task fails with it, so the end object holds the error (and
        `retry_exceptions` may retry the task); the caller makes it the next item once the
        items before it (flushed first) are in. Dynamic: the error is the last item.
        """
        if spec.generator_kind == STREAMING:
            sender.close()
            raise exc
        self._put_error(spec, sender, index, exc)

    def _put_error(
        self, spec: common_pb2.TaskSpec, sender: _Sender, index: int, exc: BaseException
    ) -> None:
        if isinstance(exc, rex.RayError) and not isinstance(exc, rex.RaySerializationError):
            err: BaseException = exc
        else:
            err = errors.task_error(spec.name, exc, os.getpid(), self._address.ip_address)
        frame = errors.error_frame(err, spec.task_id)
        sender.add(
            common_pb2.ReturnObject(
                object_id=item_id(spec.task_id, index), data=frame, size_bytes=len(frame)
            )
        )

    def _end(self, spec: common_pb2.TaskSpec, count: int) -> list[Any]:
        if spec.generator_kind != DYNAMIC:
            return [serialization.serialize(None)]
        from ray._private.object_ref_generator import DynamicObjectRefGenerator

        with collect_borrows():
            refs = [ObjectRef(item_id(spec.task_id, i), spec.caller_address) for i in range(count)]
        return [serialization.serialize(DynamicObjectRefGenerator(refs))]


def _not_a_generator(spec: common_pb2.TaskSpec, value: Any) -> TypeError:
    kind = "streaming" if spec.generator_kind == STREAMING else "dynamic"
    return TypeError(
        f"{spec.name} was called with num_returns={kind!r} but returned a "
        f"{type(value).__name__}, not a generator; use `yield` in its body, or an integer "
        "num_returns"
    )
