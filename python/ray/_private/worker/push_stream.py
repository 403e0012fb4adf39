"""The task push stream (PushTaskStream in core_worker.proto), both ends.

A caller keeps one long-lived stream to each worker it pushes tasks or actor
calls to. Python gRPC pays far less per stream message than per unary call,
and a message carries every task queued when it goes out (replies likewise),
so a burst of calls costs a few messages while a lone call is not held back.

Caller side: `PushStreams` hands out one `PushStream` per worker; a stream with
nothing in flight for STREAM_IDLE_S is closed. When a stream breaks (the worker
died), every task on it without a reply gets the error, as a failed unary
PushTask would.

Worker side: `serve` reads the caller's batches on a thread, hands each task
to the executor, and sends replies back as tasks finish.
"""

from __future__ import annotations

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

if TYPE_CHECKING:
    from ray._private.worker.client import CoreWorkerClient
    from ray._private.worker.task_executor import TaskExecutor
    from ray._private.worker.timers import Timers

logger = logging.getLogger(__name__)

# Called with (reply, None) when the task finished, or (None, error) when its stream broke.
ReplyCallback = Callable[[pb.PushTaskReply | None, grpc.RpcError | None], None]


class StreamEnded(grpc.RpcError):
    """The stream ended before a task on it got its reply."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self._details = details

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return self._details


class NotSent(StreamEnded):
    """The stream broke before this task was handed to it: the worker never saw it."""


_CLOSE = None


class PushStream:
    """One open PushTaskStream to one worker.

    Any thread may `push`. gRPC's request thread sends what was pushed; a
    reader thread runs the reply callbacks (they must not block for long).
    """

    def __init__(self, client: CoreWorkerClient) -> None:
        self.address = client.address
        self.closed = False
        self.idle_since = time.monotonic()
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._waiting: dict[bytes, ReplyCallback] = {}
        call = client.push_task_stream(self._batches())
        threading.Thread(target=self._read, args=(call,), name="push-stream", daemon=True).start()

    def push(self, request: pb.PushTaskRequest, callback: ReplyCallback) -> bool:
        """Queues a task; False if the stream is closed (use a new one)."""
        with self._lock:
            if self.closed:
                return False
            self._waiting[request.task_spec.task_id] = callback
        self._outbox.put(request)
        return True

    def close_if_idle(self, idle_s: float) -> bool:
        """Closes the stream if nothing was in flight for `idle_s`; True if closed."""
        with self._lock:
            if not self.closed and (self._waiting or time.monotonic() - self.idle_since < idle_s):
                return False
        self.close()
        return True

    def close(self) -> None:
        with self._lock:
            self.closed = True
        self._outbox.put(_CLOSE)

    def _batches(self) -> Iterator[pb.PushTaskBatch]:
        """What gRPC sends: each message takes every request queued by then."""
        outbox = self._outbox
        while True:
            request = outbox.get()
            if request is _CLOSE:
                return
            batch = pb.PushTaskBatch()
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

    def _read(self, call: Iterator[pb.PushTaskReplyBatch]) -> None:
        error: grpc.RpcError | None = None
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
            error = err
        with self._lock:
            self.closed = True
            waiting, self._waiting = self._waiting, {}
        unsent = []
        while True:
            try:
                request = self._outbox.get_nowait()
            except queue.Empty:
                break
            if request is not _CLOSE:
                unsent.append(request.task_spec.task_id)
        self._outbox.put(_CLOSE)  # ends the request iterator if gRPC still reads it
        not_sent = NotSent(f"the task stream broke before the task was sent ({_describe(error)})")
        for task_id in unsent:
            callback = waiting.pop(task_id, None)
            if callback is not None:
                _run(callback, None, not_sent)
        if waiting:
            error = error or StreamEnded("the worker ended the task stream")
            for callback in waiting.values():
                _run(callback, None, error)


def _describe(error: grpc.RpcError | None) -> str:
    if error is None:
        return "the worker ended it"
    return f"{error.code()}: {error.details()}"


def _run(
    callback: ReplyCallback, reply: pb.PushTaskReply | None, error: grpc.RpcError | None
) -> None:
    try:
        callback(reply, error)
    except Exception:  # noqa: BLE001 - one failing callback must not stop the stream
        logger.exception("push reply callback failed")


class PushStreams:
    """The process's open push streams, one per worker."""

    def __init__(
        self, client_for: Callable[[common_pb2.Address], CoreWorkerClient], timers: Timers
    ) -> None:
        self._client_for = client_for
        self._timers = timers
        self._lock = threading.Lock()
        self._streams: dict[bytes, PushStream] = {}
        self._reaping = False
        self._stopped = False

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
                        self._timers.call_later(constants.STREAM_IDLE_S, self._reap)
            if stream.push(request, callback):
                return
        self._push_unary(address, request, callback)

    def _push_unary(
        self, address: common_pb2.Address, request: pb.PushTaskRequest, callback: ReplyCallback
    ) -> None:
        def done(fut: grpc.Future) -> None:
            try:
                reply = fut.result()
            except grpc.RpcError as err:
                _run(callback, None, err)
                return
            _run(callback, reply, None)

        self._client_for(address).push_task_future(request).add_done_callback(done)

    def _reap(self) -> None:
        with self._lock:
            for key, stream in list(self._streams.items()):
                if stream.close_if_idle(constants.STREAM_IDLE_S):
                    del self._streams[key]
            self._reaping = bool(self._streams) and not self._stopped
            if self._reaping:
                self._timers.call_later(constants.STREAM_IDLE_S, self._reap)

    def close_all(self) -> None:
        with self._lock:
            self._stopped = True
            streams = list(self._streams.values())
            self._streams.clear()
        for stream in streams:
            stream.close()


def serve(
    executor: TaskExecutor,
    requests: Iterator[pb.PushTaskBatch],
    context: grpc.ServicerContext,
) -> Iterator[pb.PushTaskReplyBatch]:
    """The worker's end of one stream: runs the tasks that arrive, yields their replies."""
    replies: queue.SimpleQueue = queue.SimpleQueue()
    end_of_requests = object()
    cancelled = object()
    submitted = 0

    def on_done(job) -> None:
        job.reply.task_id = job.request.task_spec.task_id
        replies.put(job.reply)

    def read() -> None:
        nonlocal submitted
        try:
            for batch in requests:
                for request in batch.requests:
                    submitted += 1
                    executor.submit(request, on_done)
        except grpc.RpcError:
            pass  # the caller went away; its tasks still finish
        except Exception:  # noqa: BLE001
            logger.exception("reading the task stream failed")
        replies.put(end_of_requests)

    context.add_callback(lambda: replies.put(cancelled))
    threading.Thread(target=read, name="push-stream-in", daemon=True).start()
    answered = 0
    reading = True
    while True:
        item = replies.get()
        batch = pb.PushTaskReplyBatch()
        while True:
            if item is cancelled:
                return
            if item is end_of_requests:
                reading = False
            else:
                batch.replies.append(item)
            try:
                item = replies.get_nowait()
            except queue.Empty:
                break
        if batch.replies:
            answered += len(batch.replies)
            yield batch
        if not reading and answered >= submitted:
            return
