"""Runs the tasks pushed to a worker: normal tasks, and the calls of the actor it hosts.

Normal tasks and calls on a plain actor run one at a time on the main thread
(so `ray.cancel` can interrupt them). Calls from one caller run in the order
the caller made them (sequence numbers). An actor with `max_concurrency > 1`
runs calls on a thread pool; an actor with `async def` methods runs them on an
asyncio loop, interleaving at `await`.
"""

from __future__ import annotations

import asyncio
import ctypes
import inspect
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ray import exceptions as rex
from ray._private import constants, serialization
from ray._private.generated import common_pb2, core_worker_pb2
from ray._private.object_ref import ObjectRef, collect_borrows
from ray._private.worker import errors

if TYPE_CHECKING:
    from ray._private.worker.core_worker import CoreWorker

logger = logging.getLogger(__name__)

CONTEXT_MARKER = "\x1eRAYCTX "
_ORIGINAL_CUDA = os.environ.get("CUDA_VISIBLE_DEVICES")


class _Job:
    __slots__ = ("request", "on_done", "reply", "waiting", "given_back", "queued_at")

    def __init__(
        self, request: core_worker_pb2.PushTaskRequest, on_done: Callable[[_Job], None]
    ) -> None:
        self.request = request
        self.on_done = on_done
        self.reply: core_worker_pb2.PushTaskReply | None = None
        # A normal task queued behind another one (see give_back_waiting).
        self.waiting = False
        self.given_back = False
        self.queued_at = 0.0


class ActorExit(BaseException):
    """Raised by `ray.actor.exit_actor()` to end the actor after the current call."""


class TaskExecutor:
    """Executes tasks for one worker process."""

    def __init__(self, cw: CoreWorker) -> None:
        self.cw = cw
        self._main_queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running: dict[bytes, int] = {}
        self._cancelled: set[bytes] = set()
        self._busy = 0
        self._last_marker = ""
        self.actor: Any = None
        self.actor_id = b""
        self.actor_spec: common_pb2.ActorCreationSpec | None = None
        self._actor_failed: BaseException | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._async_sem: asyncio.Semaphore | None = None
        self._next_seq: dict[bytes, int] = {}
        self._waiting: dict[bytes, dict[int, _Job]] = {}
        self._gap_since: dict[bytes, float] = {}
        self._gap_watch = False
        self._exiting = False
        self._pid = os.getpid()
        self._calls: dict[bytes, int] = {}
        # Normal tasks pushed and not finished, and those of them not started yet.
        self._normal_active = 0
        self._normal_waiting: list[_Job] = []
        self._watching = False

    # ---- intake ----------------------------------------------------------------------

    def push_task(self, request: core_worker_pb2.PushTaskRequest) -> core_worker_pb2.PushTaskReply:
        """Runs a task and returns its reply (blocks the calling gRPC thread)."""
        done = threading.Event()
        job = self.submit(request, lambda _: done.set())
        done.wait()
        assert job.reply is not None
        return job.reply

    def submit(
        self, request: core_worker_pb2.PushTaskRequest, on_done: Callable[[_Job], None]
    ) -> _Job:
        """Queues a task; `on_done(job)` is called with `job.reply` set when it finished."""
        job = _Job(request, on_done)
        spec = request.task_spec
        with self._lock:
            self._busy += 1
            behind = False
            if spec.type == common_pb2.TASK_TYPE_NORMAL:
                behind = self._normal_active > 0
                self._normal_active += 1
                if behind:
                    job.waiting = True
                    job.queued_at = time.monotonic()
                    self._normal_waiting.append(job)
                    if not self._watching:
                        self._watching = True
                        self.cw.timers.call_later(constants.PIPELINE_WAIT_S, self._watch_waiting)
        if spec.type == common_pb2.TASK_TYPE_ACTOR:
            self._order(job)
        else:
            self._main_queue.put(job)
        return job

    def _finish(self, job: _Job) -> None:
        with self._lock:
            self._busy -= 1
            if job.request.task_spec.type == common_pb2.TASK_TYPE_NORMAL:
                self._normal_active -= 1
        job.on_done(job)

    def _watch_waiting(self) -> None:
        """Gives queued tasks back once the oldest has waited PIPELINE_WAIT_S."""
        with self._lock:
            self._watching = False
            if not self._normal_waiting:
                return
            left = self._normal_waiting[0].queued_at + constants.PIPELINE_WAIT_S - time.monotonic()
            if left > 0:
                self._watching = True
                self.cw.timers.call_later(left, self._watch_waiting)
                return
        self.give_back_waiting()

    def give_back_waiting(self) -> None:
        """Hands the normal tasks queued behind the running one back to their submitters.

        Called when the running task blocks in get/wait or has run PIPELINE_WAIT_S: a
        queued task must not wait on it (it may even be what the running task waits for).
        """
        with self._lock:
            jobs, self._normal_waiting = self._normal_waiting, []
            for job in jobs:
                job.waiting = False
                job.given_back = True
        for job in jobs:
            job.reply = core_worker_pb2.PushTaskReply(not_run=True)
            self._finish(job)

    def _start(self, job: _Job) -> bool:
        """The main thread takes a job; False if it was given back meanwhile."""
        if job.request.task_spec.type != common_pb2.TASK_TYPE_NORMAL:
            return True
        with self._lock:
            if job.given_back:
                return False
            if job.waiting:
                job.waiting = False
                self._normal_waiting.remove(job)
        return True

    def _order(self, job: _Job) -> None:
        """Dispatches actor calls in per-caller sequence order."""
        spec = job.request.task_spec
        caller = job.request.caller_worker_id or spec.caller_address.worker_id
        with self._lock:
            expected = self._next_seq.get(caller, 0)
            if spec.sequence_number < expected:
                ready = [job]  # a resend of an earlier call
            else:
                self._waiting.setdefault(caller, {})[spec.sequence_number] = job
                ready = self._take_ready(caller, expected)
                if self._waiting.get(caller):
                    self._gap_since.setdefault(caller, time.monotonic())
                    self._start_gap_watch()
        for j in ready:
            self._dispatch_actor_call(j)

    def _take_ready(self, caller: bytes, expected: int) -> list[_Job]:
        """Pops the caller's calls that are next in sequence. Lock held."""
        waiting = self._waiting.get(caller, {})
        ready = []
        while expected in waiting:
            ready.append(waiting.pop(expected))
            expected += 1
        self._next_seq[caller] = expected
        if not waiting:
            self._waiting.pop(caller, None)
            self._gap_since.pop(caller, None)
        return ready

    def _start_gap_watch(self) -> None:
        if not self._gap_watch:
            self._gap_watch = True
            threading.Thread(target=self._watch_gaps, name="actor-gaps", daemon=True).start()

    def _watch_gaps(self) -> None:
        """Nothing waits forever: a call that never arrives (its sender's push failed) is
        skipped after SEQUENCE_GAP_TIMEOUT_S, so the caller's later calls still run."""
        while True:
            time.sleep(1.0)
            ready: list[_Job] = []
            now = time.monotonic()
            with self._lock:
                for caller, since in list(self._gap_since.items()):
                    waiting = self._waiting.get(caller)
                    if not waiting or now - since < constants.SEQUENCE_GAP_TIMEOUT_S:
                        continue
                    skip_to = min(waiting)
                    logger.warning(
                        "actor calls %d..%d from one caller never arrived; running its later calls",
                        self._next_seq.get(caller, 0),
                        skip_to - 1,
                    )
                    self._gap_since.pop(caller, None)
                    ready.extend(self._take_ready(caller, skip_to))
                    if self._waiting.get(caller):
                        self._gap_since[caller] = now
            for j in ready:
                self._dispatch_actor_call(j)

    def _dispatch_actor_call(self, job: _Job) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._run_async(job), self._loop)
        elif self._pool is not None:
            self._pool.submit(self._run, job)
        else:
            self._main_queue.put(job)

    def run_forever(self) -> None:
        """The main thread's loop."""
        signal.signal(signal.SIGINT, signal.default_int_handler)
        while True:
            try:
                job = self._main_queue.get()
                if job is None:
                    return
                if self._start(job):
                    self._run(job)
            except KeyboardInterrupt:
                continue  # a cancel that arrived after its task finished

    def stop(self) -> None:
        self._main_queue.put(None)

    # ---- execution -------------------------------------------------------------------

    def _begin(self, spec: common_pb2.TaskSpec, request: core_worker_pb2.PushTaskRequest) -> None:
        ctx = self.cw.context
        self.cw.job_id = spec.job_id
        ctx.task_id = spec.task_id
        ctx.task_name = spec.name
        ctx.is_normal_task = spec.type == common_pb2.TASK_TYPE_NORMAL
        if spec.type != common_pb2.TASK_TYPE_ACTOR:
            ids_map = {name: list(lst.ids) for name, lst in request.resource_ids.items()}
            ctx.resource_ids = ids_map
            gpus = ids_map.get("GPU")
            if gpus:
                os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in gpus)
            elif _ORIGINAL_CUDA is None:
                os.environ.pop("CUDA_VISIBLE_DEVICES", None)
            else:
                os.environ["CUDA_VISIBLE_DEVICES"] = _ORIGINAL_CUDA
        marker = f"{CONTEXT_MARKER}{spec.job_id.hex()} {spec.name}"
        if marker != self._last_marker:
            self._last_marker = marker
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.write(marker + "\n")
                    stream.flush()
                except (OSError, ValueError):
                    pass

    def _run(self, job: _Job) -> None:
        request = job.request
        spec = request.task_spec
        self._begin(spec, request)
        try:
            job.reply = self._execute(spec)
        except BaseException as err:  # noqa: BLE001 - every task gets a reply
            logger.exception("internal error executing %s", spec.name)
            job.reply = self._error_reply(
                spec, rex.RaySystemError(f"internal error: {err!r}"), True
            )
        finally:
            self.cw.context.task_id = b""
            self.cw.context.is_normal_task = False
            self._finish(job)
        if self._exiting and spec.type != common_pb2.TASK_TYPE_NORMAL:
            self._exit_soon()

    def _execute(self, spec: common_pb2.TaskSpec) -> core_worker_pb2.PushTaskReply:
        with self._lock:
            # Registered before arguments are fetched, so a cancel can interrupt that too.
            cancelled = spec.task_id in self._cancelled
            if not cancelled:
                self._running[spec.task_id] = threading.get_ident()
        if cancelled:
            return self._error_reply(spec, rex.TaskCancelledError(spec.task_id.hex()), False)
        try:
            try:
                fn = self._resolve_function(spec)
                args, kwargs = self._resolve_args(spec)
                if spec.type == common_pb2.TASK_TYPE_ACTOR_CREATION:
                    return self._create_actor(spec, fn, args, kwargs)
                result = fn(*args, **kwargs)
            finally:
                with self._lock:
                    self._running.pop(spec.task_id, None)
        except KeyboardInterrupt:
            if spec.task_id in self._cancelled:
                return self._error_reply(spec, rex.TaskCancelledError(spec.task_id.hex()), False)
            raise
        except ActorExit:
            self._exiting = True
            return self._make_reply(spec, None)
        except Exception as exc:  # noqa: BLE001 - user code
            return self._user_error_reply(spec, exc)
        reply = self._make_reply(spec, result)
        if spec.max_calls > 0 and spec.type == common_pb2.TASK_TYPE_NORMAL:
            key = spec.function.function_hash
            self._calls[key] = self._calls.get(key, 0) + 1
            if self._calls[key] >= spec.max_calls:
                # max_calls reached: the submitter returns the lease with disconnect, and the
                # node manager ends this process once the reply is out.
                reply.worker_exiting = True
                self.give_back_waiting()
        return reply

    async def _run_async(self, job: _Job) -> None:
        request = job.request
        spec = request.task_spec
        assert self._async_sem is not None
        async with self._async_sem:
            self._begin(spec, request)
            try:
                if spec.task_id in self._cancelled:
                    job.reply = self._error_reply(
                        spec, rex.TaskCancelledError(spec.task_id.hex()), False
                    )
                    return
                fn = self._resolve_function(spec)
                args, kwargs = self._resolve_args(spec)
                result = fn(*args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
                job.reply = self._make_reply(spec, result)
            except ActorExit:
                self._exiting = True
                job.reply = self._make_reply(spec, None)
            except asyncio.CancelledError:
                job.reply = self._error_reply(
                    spec, rex.TaskCancelledError(spec.task_id.hex()), False
                )
            except Exception as exc:  # noqa: BLE001 - user code
                job.reply = self._user_error_reply(spec, exc)
            except BaseException as err:  # noqa: BLE001
                job.reply = self._error_reply(
                    spec, rex.RaySystemError(f"internal error: {err!r}"), True
                )
            finally:
                self._finish(job)
        if self._exiting:
            self._exit_soon()

    def _resolve_function(self, spec: common_pb2.TaskSpec) -> Any:
        if spec.type == common_pb2.TASK_TYPE_ACTOR:
            if self._actor_failed is not None:
                raise self._actor_failed
            name = spec.function.function_name
            if name == "__ray_terminate__":
                return _terminate
            if name == "__ray_ready__":
                return lambda: True
            return getattr(self.actor, name)
        return self.cw.functions.load(spec.function.function_hash, spec.name)

    def _resolve_args(self, spec: common_pb2.TaskSpec) -> tuple[list, dict]:
        """Decodes inline arguments and fetches referenced ones (failed ones raise)."""
        if not spec.args:
            return [], {}
        values: list[Any] = [None] * len(spec.args)
        fetch: list[tuple[int, ObjectRef]] = []
        with collect_borrows():
            for i, arg in enumerate(spec.args):
                if arg.HasField("object_ref"):
                    owner = arg.object_ref.owner_address
                    ref = ObjectRef(
                        arg.object_ref.object_id, None if self.cw.is_me(owner) else owner
                    )
                    fetch.append((i, ref))
                else:
                    values[i] = serialization.deserialize(arg.inline_data)
        for i, _ in enumerate(spec.args):
            if isinstance(values[i], serialization.ErrorValue):
                raise errors.to_exception(values[i].info)
        if fetch:
            fetched = self.cw.get_objects([r for _, r in fetch], None)
            for (i, _), value in zip(fetch, fetched, strict=True):
                values[i] = value
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for arg, value in zip(spec.args, values, strict=True):
            if arg.keyword:
                kwargs[arg.keyword] = value
            else:
                args.append(value)
        return args, kwargs

    def _create_actor(
        self, spec: common_pb2.TaskSpec, cls: Any, args: list, kwargs: dict
    ) -> core_worker_pb2.PushTaskReply:
        creation = spec.actor_creation
        self.actor_id = creation.actor_id
        self.actor_spec = creation
        self.cw.context.actor_id = creation.actor_id
        self.cw.actor_id = creation.actor_id
        gpus = self.cw.context.resource_ids.get("GPU")
        if gpus:
            os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in gpus)
        self.actor_resource_ids = dict(self.cw.context.resource_ids)
        try:
            self.actor = cls(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - user code
            err = errors.task_error(
                f"{creation.class_name}.__init__", exc, self._pid, self.cw.address.ip_address
            )
            self._actor_failed = rex.ActorDiedError(
                creation.actor_id.hex(),
                f"The actor {creation.class_name} died because its __init__ raised:\n{err}",
                actor_init_failed=True,
                cause=exc,
            )
            reply = self._error_reply(spec, err, True)
            reply.actor_creation_failed = True
            return reply
        if creation.is_async:
            self._start_loop(creation.max_concurrency or 1000)
        elif creation.max_concurrency > 1:
            self._pool = ThreadPoolExecutor(creation.max_concurrency, thread_name_prefix="actor")
        return self._make_reply(spec, None)

    def _start_loop(self, max_concurrency: int) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            self._async_sem = asyncio.Semaphore(max_concurrency)
            ready.set()
            loop.run_forever()

        threading.Thread(target=run, name="actor-loop", daemon=True).start()
        ready.wait()
        self._loop = loop

    # ---- replies ---------------------------------------------------------------------

    def _make_reply(self, spec: common_pb2.TaskSpec, result: Any) -> core_worker_pb2.PushTaskReply:
        reply = core_worker_pb2.PushTaskReply()
        n = spec.num_returns
        if spec.type == common_pb2.TASK_TYPE_ACTOR_CREATION or n == 0:
            values: list[Any] = []
        elif n == 1:
            values = [result]
        else:
            if not isinstance(result, (tuple, list)) or len(result) != n:
                got = (
                    f"a {type(result).__name__} of length {len(result)}"
                    if isinstance(result, (tuple, list))
                    else type(result).__name__
                )
                return self._user_error_reply(
                    spec,
                    ValueError(
                        f"Task {spec.name} has num_returns={n} but returned {got}; return a tuple or list of {n} values"
                    ),
                )
            values = list(result)
        cw = self.cw
        # Actor creation has a return id (the handle object) but no value.
        for oid, value in zip(spec.return_ids, values, strict=False):
            try:
                ser = serialization.serialize(value, path="return value")
                stored = cw._store_serialized(oid, ser, owner=spec.caller_address)
            except Exception as exc:  # noqa: BLE001 - unserializable or store full
                return self._user_error_reply(spec, exc)
            ret = stored.to_proto(oid)
            if ser.contained_refs:
                cw.add_borrowers_for(list(ret.nested_refs), spec.caller_address)
            reply.return_objects.append(ret)
        if self._exiting:
            reply.worker_exiting = True
        return reply

    def _user_error_reply(
        self, spec: common_pb2.TaskSpec, exc: BaseException
    ) -> core_worker_pb2.PushTaskReply:
        if isinstance(exc, rex.RayError) and not isinstance(exc, rex.RaySerializationError):
            err: BaseException = exc
        else:
            err = errors.task_error(spec.name, exc, self._pid, self.cw.address.ip_address)
        return self._error_reply(spec, err, True)

    def _error_reply(
        self, spec: common_pb2.TaskSpec, exc: BaseException, app_error: bool
    ) -> core_worker_pb2.PushTaskReply:
        frame = errors.error_frame(exc, spec.task_id)
        reply = core_worker_pb2.PushTaskReply(is_application_error=app_error)
        for oid in spec.return_ids:
            reply.return_objects.add(object_id=oid, data=frame, size_bytes=len(frame))
        if self._exiting:
            reply.worker_exiting = True
        return reply

    # ---- control ---------------------------------------------------------------------

    def cancel(self, task_id: bytes, force: bool, recursive: bool = True) -> bool:
        with self._lock:
            self._cancelled.add(task_id)
            ident = self._running.get(task_id)
        if recursive:
            self.cw.cancel_children(task_id, force)
        if ident is None:
            return False
        if force:
            logger.info("force-cancelling task: exiting")
            os._exit(1)
        if ident == threading.main_thread().ident:
            signal.pthread_kill(ident, signal.SIGINT)
        else:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(ident), ctypes.py_object(KeyboardInterrupt)
            )
        return True

    def kill_actor(self, force: bool, reason: str) -> None:
        logger.info("actor killed: %s", reason or "ray.kill")
        if force:
            os._exit(1)
        self._exiting = True
        self._exit_soon()

    def exit_if_idle(self, force: bool) -> bool:
        with self._lock:
            if self._busy and not force:
                return False
        self._exit_soon()
        return True

    def _exit_soon(self) -> None:
        threading.Timer(0.05, lambda: os._exit(0)).start()


def _terminate() -> None:
    raise ActorExit()
