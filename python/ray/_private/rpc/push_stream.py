"""The caller's end of the task push stream (PushTaskStream in core_worker.proto).

A caller keeps one long-lived stream to each worker it pushes tasks or actor
calls to. Python gRPC pays far less per stream message than per unary call,
and a message carries every task queued when it goes out (replies likewise),
so a burst of calls costs a few messages while a lone call is not held back.

Caller side: `PushStreams` hands out one `PushStream` per worker; a stream with
nothing in flight for STREAM_IDLE_S is closed. When a stream breaks (the worker
died), every task on it without a reply gets the error, as a failed unary
PushTask would.

The worker's end is `worker/service.py`.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import grpc

from ray._private import constants
from ray._private.generated import common_pb2
from ray._private.generated import core_worker_pb2 as pb
from ray._private.rpc import errors
from ray._private.rpc.core_worker_client import CoreWorkerClient

if TYPE_CHECKING:
    from ray._private.event_loop import EventLoop

logger = logging.getLogger(__name__)

# Called with (reply, None) when the task finished, or (None, failure) when its stream broke.
ReplyCallback = Callable[[pb.PushTaskReply | None, errors.RpcFailure | None], None]


class StreamEnded(errors.Unavailable):
    """The stream ended before a task on it got its reply."""

    def __init__(self, details: str, target: str = "") -> None:
        super().__init__(grpc.StatusCode.UNAVAILABLE, details, "core worker", target)


class NotSent(StreamEnded):
    """The stream broke before this task was handed to it: the worker never saw it."""


_CLOSE = None


class PushStream:
    """One open PushTaskStream to one worker.

    Any thread may `push`. gRPC's request thread sends what was pushed; a
    reader thread runs the reply callbacks (they must not block for long).
    """

    def __init__(self, client: CoreWorkerClient) -> None:
        self.address = client.worker_address
        self.closed = False
        self.idle_since = time.monotonic()
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._waiting: dict[bytes, ReplyCallback] = {}
        # Requests pushed while the streams are corked (see PushStreams.corked).
        self._held: list[pb.PushTaskRequest] = []
        self._target = client.address
        call = client.open_push_stream(self._batches())
        threading.Thread(target=self._read, args=(call,), name="push-stream", daemon=True).start()

    def push(
        self, request: pb.PushTaskRequest, callback: ReplyCallback, hold: bool = False
    ) -> bool:
        """Queues a task (with `hold`, until `release_held`); False if the stream is closed."""
        with self._lock:
            if self.closed:
                return False
            self._waiting[request.task_spec.task_id] = callback
            if hold:
                self._held.append(request)
                return True
        self._outbox.put(request)
        return True

    def release_held(self) -> None:
        """Queues the held requests at once, so they go out in one message."""
        with self._lock:
            held, self._held = self._held, []
        for request in held:
            self._outbox.put(request)

    def close_if_idle(self, idle_s: float) -> bool:
        """Closes the stream if nothing was in flight for `idle_s`; True if closed."""
        with self._lock:  # checked and closed at once: a push in between would be lost
            if not self.closed and (self._waiting or time.monotonic() - self.idle_since < idle_s):
                return False
            self.closed = True
        self._outbox.put(_CLOSE)
        return True

    def close(self) -> None:
        with self._lock:
            self.closed = True
        self._outbox.put(_CLOSE)

    def _batches(self) -> Iterator[pb.PushTaskStreamRequest]:
        """What gRPC sends: each message takes every request queued by then."""
        outbox = self._outbox
        while True:
            request = outbox.get()
            if request is _CLOSE:
                return
            batch = pb.PushTaskStreamRequest()
            batch.requests.append(request)
            while True:
                try:
                    request = outbox.get_nowait()
                except queue.Empty:
                    break
                if request is _CLOSE:
                    yield batch
                    return
                batch.requests.append(request)
            yield batch

    def _read(self, call: Iterator[pb.PushTaskStreamReply]) -> None:
        error: errors.RpcFailure | None = None
        try:
            for batch in call:
                for reply in batch.replies:
                    with self._lock:
                        callback = self._waiting.pop(reply.task_id, None)
                        if not self._waiting:
                            self.idle_since = time.monotonic()
                    if callback is not None:
                        _run(callback, reply, None)
        except grpc.RpcError as err:
            error = errors.from_grpc(err, "core worker", self._target)
        with self._lock:
            self.closed = True
            waiting, self._waiting = self._waiting, {}
            held, self._held = self._held, []
        unsent = [request.task_spec.task_id for request in held]
        while True:
            try:
                request = self._outbox.get_nowait()
            except queue.Empty:
                break
            if request is not _CLOSE:
                unsent.append(request.task_spec.task_id)
        self._outbox.put(_CLOSE)  # ends the request iterator if gRPC still reads it
        not_sent = NotSent(
            f"the task stream broke before the task was sent ({_describe(error)})", self._target
        )
        for task_id in unsent:
            callback = waiting.pop(task_id, None)
            if callback is not None:
                _run(callback, None, not_sent)
        if waiting:
            error = error or StreamEnded("the worker ended the task stream", self._target)
            for callback in waiting.values():
                _run(callback, None, error)


def _describe(error: errors.RpcFailure | None) -> str:
    if error is None:
        return "the worker ended it"
    return f"{error.code.name}: {error.details}"


def _run(
    callback: ReplyCallback, reply: pb.PushTaskReply | None, error: errors.RpcFailure | None
) -> None:
    try:
        callback(reply, error)
    except Exception:  # noqa: BLE001 - one failing callback must not stop the stream
        logger.exception("push reply callback failed")


class PushStreams:
    """The process's open push streams, one per worker."""

    def __init__(
        self, client_for: Callable[[common_pb2.Address], CoreWorkerClient], loop: EventLoop
    ) -> None:
        self._client_for = client_for
        self._loop = loop
        self._lock = threading.Lock()
        self._streams: dict[bytes, PushStream] = {}
        self._reaping = False
        self._stopped = False
        self._cork_depth = 0
        self._corked: set[PushStream] = set()

    @contextlib.contextmanager
    def corked(self) -> Iterator[None]:
        """Holds pushes back while the block runs, then sends each stream's in one message.

        For code that submits many tasks in a row (a client's batch): without it the
        stream's sender wakes for the first task and sends the others a few at a time.
        """
        with self._lock:
            self._cork_depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._cork_depth -= 1
                streams = list(self._corked) if self._cork_depth == 0 else []
                if streams:
                    self._corked.clear()
            for stream in streams:
                stream.release_held()

    def push(
        self, address: common_pb2.Address, request: pb.PushTaskRequest, callback: ReplyCallback
    ) -> None:
        """Sends a task to the worker at `address` over its stream.

        Each open stream costs two threads here, so past MAX_PUSH_STREAMS workers at
        once the task goes as a unary PushTask call instead.
        """
        key = address.worker_id
        while True:
            with self._lock:
                stream = self._streams.get(key)
                if stream is None or stream.closed or stream.address.port != address.port:
                    if stream is None and len(self._streams) >= constants.MAX_PUSH_STREAMS:
                        break
                    stream = PushStream(self._client_for(address))
                    self._streams[key] = stream
                    if not self._reaping and not self._stopped:
                        self._reaping = True
                        self._loop.call_later(constants.STREAM_IDLE_S, self._reap)
                hold = self._cork_depth > 0
                if hold:
                    self._corked.add(stream)
            if stream.push(request, callback, hold):
                return
        self._push_unary(address, request, callback)

    def _push_unary(
        self, address: common_pb2.Address, request: pb.PushTaskRequest, callback: ReplyCallback
    ) -> None:
        self._client_for(address).push_task_async(request, callback)

    def _reap(self) -> None:
        with self._lock:
            for key, stream in list(self._streams.items()):
                if stream.close_if_idle(constants.STREAM_IDLE_S):
                    del self._streams[key]
            self._reaping = bool(self._streams) and not self._stopped
            if self._reaping:
                self._loop.call_later(constants.STREAM_IDLE_S, self._reap)

    def close_all(self) -> None:
        with self._lock:
            self._stopped = True
            streams = list(self._streams.values())
            self._streams.clear()
        for stream in streams:
            stream.close()
