"""The core worker's gRPC servicer: a thin adapter over ownership and the executor.

It also holds the worker's end of the PushTaskStream (`serve_push_stream`); the
caller's end is `rpc/push_stream.py`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from ray._private import constants
from ray._private.generated import core_worker_pb2 as pb
from ray._private.generated import core_worker_pb2_grpc

logger = logging.getLogger(__name__)


class CoreWorkerServicer(core_worker_pb2_grpc.CoreWorkerServiceServicer):
    """Serves owner calls (object status, borrowers) and, in workers, task execution.

    Args:
        ownership: The process's objects (`worker.ownership.Ownership`).
        executor: Returns the task executor (None in a driver or client session).
    """

    def __init__(self, ownership: Any, executor: Callable[[], Any], generators: Any = None) -> None:
        self._ownership = ownership
        self._executor = executor
        self._generators = generators

    def _require_executor(self, context: grpc.ServicerContext) -> Any:
        executor = self._executor()
        if executor is None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "a driver does not execute tasks")
        return executor

    def PushTask(self, request, context):  # noqa: N802
        return self._require_executor(context).push_task(request)

    def PushTaskStream(self, request_iterator, context):  # noqa: N802
        return serve_push_stream(self._require_executor(context), request_iterator, context)

    def GetObjectStatus(self, request, context):  # noqa: N802
        wait_s = min(max(request.wait_timeout_ms, 0) / 1000, constants.LONG_POLL_S * 2)
        return self._ownership.object_status(list(request.object_ids), wait_s, request.num_ready)

    def AddBorrowers(self, request, context):  # noqa: N802
        reply = pb.AddBorrowersReply()
        refs = self._ownership.refs
        for oid in request.object_ids:
            if not refs.add_borrower(oid, request.borrower_address):
                reply.unknown_object_ids.append(oid)
        return reply

    def RemoveBorrowers(self, request, context):  # noqa: N802
        refs = self._ownership.refs
        for oid in request.object_ids:
            refs.remove_borrower(oid, request.borrower_address.worker_id)
        return pb.RemoveBorrowersReply()

    def CancelTask(self, request, context):  # noqa: N802
        executor = self._executor()
        attempted = (
            executor.cancel(request.task_id, request.force, request.recursive)
            if executor
            else False
        )
        return pb.CancelTaskReply(attempted=attempted)

    def KillActor(self, request, context):  # noqa: N802
        executor = self._executor()
        if executor is not None:
            executor.kill_actor(request.force, request.reason)
        return pb.KillActorReply()

    def Exit(self, request, context):  # noqa: N802
        executor = self._executor()
        return pb.ExitReply(will_exit=bool(executor and executor.exit_if_idle(request.force)))

    def ReportGeneratorItemReturns(self, request, context):  # noqa: N802
        if self._generators is None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "this process runs no generators")
        return self._generators.report(request)


def serve_push_stream(
    executor: Any,
    requests: Iterator[pb.PushTaskStreamRequest],
    context: grpc.ServicerContext,
) -> Iterator[pb.PushTaskStreamReply]:
    """The worker's end of one stream: runs the tasks that arrive, yields their replies.

    A reader thread hands each arriving task to the executor; this generator (on the
    gRPC thread of the call) sends replies as tasks finish, batching those finished
    together. It ends when the caller closed its side and every task was answered.
    """
    replies: queue.SimpleQueue = queue.SimpleQueue()
    end_of_requests = object()
    cancelled = object()
    submitted = 0

    def on_done(job: Any) -> None:
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
        batch = pb.PushTaskStreamReply()
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
