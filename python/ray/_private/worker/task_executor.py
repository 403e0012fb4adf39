"""Runs the tasks pushed to a worker: normal tasks, and the calls of the actor it hosts.

Normal tasks and calls on a plain actor run one at a time on the main thread
(so `ray.cancel` can interrupt them). Calls from one caller run in the order
the caller made them (`CallOrder`). An actor with `max_concurrency > 1` runs
calls on a thread pool; an actor with `async def` methods runs them on an
asyncio loop, interleaving at `await`. An actor with concurrency groups runs
each group's calls on a pool (or under a semaphore) of the group's size, and the
calls of no group in the default one, sized by max_concurrency.

`ray.cancel` of an actor call that has not started drops it (TaskCancelledError);
of a running `async def` call, cancels its asyncio task (the method sees
CancelledError). A running sync call is not interrupted (actors have state).

The code itself runs in a runner chosen by the task's language (`runners/`):
the executor hands it argument frames and stores the result frames it returns.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ray import exceptions as rex
from ray._private import constants, serialization
from ray._private.generated import common_pb2, core_worker_pb2
from ray._private.object_ref import ObjectRef, collect_borrows
from ray._private.serialization import SerializedObject
from ray._private.worker import errors
from ray._private.worker.call_order import CallOrder
from ray._private.worker.generators import GeneratorCancelled, GeneratorDriver
from ray._private.worker.interfaces import Deferred, ExecutionContext
from ray._private.worker.pipeline import PipelinedTasks
from ray._private.worker.runners import ErrorResult, Runner, RunnerRegistry
from ray._private.worker.runners.python import ActorExit

logger = logging.getLogger(__name__)

CONTEXT_MARKER = "\x1eRAYCTX "

try:
    # PyDLL keeps the GIL across the call: releasing it after every task (as CDLL does)
    # hands it to a gRPC thread and costs a thread switch per task, a quarter of the rate.
    _libc_fflush = ctypes.PyDLL(None).fflush
except (OSError, AttributeError):
    _libc_fflush = None
_ORIGINAL_CUDA = os.environ.get("CUDA_VISIBLE_DEVICES")


def _flush_python_streams() -> None:
    # Runs once per task: a plain try costs a microsecond less than contextlib.suppress.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001, S110 - a closed or replaced stream fails no task
            pass


class _Job:
    __slots__ = ("request", "on_done", "reply", "waiting", "given_back", "queued_at")

    def __init__(
        self, request: core_worker_pb2.PushTaskRequest, on_done: Callable[[_Job], None]
    ) -> None:
        self.request = request
        self.on_done = on_done
        self.reply: core_worker_pb2.PushTaskReply | None = None
        # A normal task queued behind another one (see PipelinedTasks).
        self.waiting = False
        self.given_back = False
        self.queued_at = 0.0


class TaskExecutor:
    """Executes tasks for one worker process.

    Args:
        ctx: The core worker (arguments, returns, task context).
        runners: The runners, by language (`common_pb2.LANGUAGE_*`).
        loop: Runs the pipelining and sequence-gap timers.
    """

    def __init__(self, ctx: ExecutionContext, runners: RunnerRegistry, loop: Deferred) -> None:
        self._ctx = ctx
        self._runners = runners
        # Another language's code ran here: flush C stdio after each task.
        self._native_stdio = False
        self._loop = loop
        self._main_queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running: dict[bytes, int] = {}
        # Running generator tasks: a cancel stops them at their next yield.
        self._running_generators: set[bytes] = set()
        self._cancelled: set[bytes] = set()
        self._busy = 0
        # (job id, name) of the last output marker written.
        self._last_marker: tuple[bytes, str] = (b"", "")
        self.actor: Any = None
        self.actor_id = b""
        self._actor_runner: Runner | None = None
        self._actor_failed: BaseException | None = None
        # Thread pools (threaded actors) or semaphores (async actors) by concurrency group
        # ("" is the default group).
        self._pools: dict[str, ThreadPoolExecutor] = {}
        # Async actors: one event loop (on a thread of its own) per concurrency group.
        self._aio: dict[str, asyncio.AbstractEventLoop] = {}
        self._async_sems: dict[str, asyncio.Semaphore] = {}
        self._groups: dict[str, int] = {}
        self._method_groups: dict[str, str] = {}
        # Running or waiting calls of an async actor, for ray.cancel.
        self._async_tasks: dict[bytes, asyncio.Task] = {}
        self._order: CallOrder[_Job] = CallOrder(constants.SEQUENCE_GAP_TIMEOUT_S)
        self._gap_watch = False
        self._pipeline = PipelinedTasks(constants.PIPELINE_WAIT_S)
        self._watching = False
        self._exiting = False
        self._pid = os.getpid()
        self._calls: dict[bytes, int] = {}
        self._generators: GeneratorDriver | None = None

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
        if request.HasField("function_export") or request.HasField("job_config"):
            self._ctx.receive(request)  # at arrival: a task given back never runs here
        with self._lock:
            self._busy += 1
            if spec.type == common_pb2.TASK_TYPE_NORMAL and self._pipeline.arrive(job):
                if not self._watching:
                    self._watching = True
                    self._loop.call_later(constants.PIPELINE_WAIT_S, self._watch_waiting)
        if spec.type == common_pb2.TASK_TYPE_ACTOR:
            self._arrive_actor_call(job)
        else:
            self._main_queue.put(job)
        return job

    def _finish(self, job: _Job) -> None:
        # What the task printed goes down the pipes before its reply, so a driver that
        # drains the pipes after the reply (ray.shutdown) sees all of it.
        _flush_python_streams()
        if self._native_stdio:
            _libc_fflush(None)  # what native code (C++ tasks) wrote through stdio
        with self._lock:
            self._busy -= 1
            if job.request.task_spec.type == common_pb2.TASK_TYPE_NORMAL:
                self._pipeline.finished()
        job.on_done(job)

    def _watch_waiting(self) -> None:
        """Gives queued tasks back once the oldest has waited PIPELINE_WAIT_S."""
        with self._lock:
            self._watching = False
            expired, again = self._pipeline.expired()
            if again is not None:
                self._watching = True
                self._loop.call_later(again, self._watch_waiting)
        self._give_back(expired)

    def give_back_waiting(self) -> None:
        """Hands the normal tasks queued behind the running one back to their submitters.

        Called when the running task blocks in get/wait: a queued task must not wait on it
        (it may even be what the running task waits for).
        """
        with self._lock:
            jobs = self._pipeline.give_back_all()
        self._give_back(jobs)

    def _give_back(self, jobs: list[_Job]) -> None:
        for job in jobs:
            job.reply = core_worker_pb2.PushTaskReply(not_run=True)
            self._finish(job)

    def _arrive_actor_call(self, job: _Job) -> None:
        spec = job.request.task_spec
        caller = job.request.caller_worker_id or spec.caller_address.worker_id
        with self._lock:
            ready = self._order.arrive(caller, spec.sequence_number, job)
            if not self._gap_watch and self._order.has_gaps():
                self._gap_watch = True
                self._loop.call_later(1.0, self._watch_gaps)
        for j in ready:
            self._dispatch_actor_call(j)

    def _watch_gaps(self) -> None:
        """Nothing waits forever: a caller's later calls run if an earlier one never arrives."""
        with self._lock:
            ready = self._order.skip_gaps()
            self._gap_watch = self._order.has_gaps()
            if self._gap_watch:
                self._loop.call_later(1.0, self._watch_gaps)
        for j in ready:
            self._dispatch_actor_call(j)

    def _dispatch_actor_call(self, job: _Job) -> None:
        spec = job.request.task_spec
        try:
            group = self._group_of(spec)
        except _UnknownGroup as err:
            job.reply = self._user_error_reply(spec, err.error)
            self._finish(job)
            return
        if self._aio:
            asyncio.run_coroutine_threadsafe(self._run_async(job, group), self._aio[group])
        elif self._pools:
            self._pools[group].submit(self._run, job)
        else:
            self._main_queue.put(job)

    def _group_of(self, spec: common_pb2.TaskSpec) -> str:
        """The concurrency group a call runs in ("": the default): the one the call names,
        else its method's (`@ray.method(concurrency_group=...)`).

        Raises:
            _UnknownGroup: The actor has no such group.
        """
        name = spec.concurrency_group
        if not name:
            method = spec.function.function_name
            name = self._method_groups.get(method)
            if name is None:
                fn = getattr(type(self.actor), method, None) if self.actor is not None else None
                name = getattr(fn, "__ray_concurrency_group__", None) or ""
                self._method_groups[method] = name
        if not name or name in self._groups:
            return name
        spec_error = ValueError(
            f"{spec.name} asks for the concurrency group {name!r}, but the actor defines "
            f"{sorted(self._groups) or 'none'}; add it to @ray.remote(concurrency_groups=...) "
            "or call the method without concurrency_group"
        )
        raise _UnknownGroup(spec_error)

    def run_forever(self) -> None:
        """The main thread's loop."""
        signal.signal(signal.SIGINT, signal.default_int_handler)
        while True:
            try:
                job = self._main_queue.get()
                if job is None:
                    return
                if job.request.task_spec.type == common_pb2.TASK_TYPE_NORMAL:
                    with self._lock:
                        start = self._pipeline.start(job)
                    if not start:
                        continue
                self._run(job)
            except KeyboardInterrupt:
                continue  # a cancel that arrived after its task finished

    def stop(self) -> None:
        self._main_queue.put(None)

    # ---- execution -------------------------------------------------------------------

    def _begin(self, spec: common_pb2.TaskSpec, request: core_worker_pb2.PushTaskRequest) -> None:
        ctx = self._ctx.context
        self._ctx.begin_task(spec)
        ctx.task_id = spec.task_id
        ctx.task_name = spec.name
        ctx.is_normal_task = spec.type == common_pb2.TASK_TYPE_NORMAL
        if spec.type != common_pb2.TASK_TYPE_ACTOR:
            strategy = spec.scheduling_strategy
            ctx.placement_group = (
                strategy.placement_group if strategy.HasField("placement_group") else None
            )
            if spec.type == common_pb2.TASK_TYPE_ACTOR_CREATION:
                self._ctx.actor_placement_group = ctx.placement_group
            ids_map = {name: list(lst.ids) for name, lst in request.resource_ids.items()}
            ctx.resource_ids = ids_map
            ctx.assigned_resources = dict(spec.required_resources)
            gpus = ids_map.get("GPU")
            if gpus:
                os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in gpus)
            elif _ORIGINAL_CUDA is None:
                os.environ.pop("CUDA_VISIBLE_DEVICES", None)
            else:
                os.environ["CUDA_VISIBLE_DEVICES"] = _ORIGINAL_CUDA
        # Output is prefixed by the task's name, or for an actor by its class name, as in Ray.
        name = spec.name
        if spec.type != common_pb2.TASK_TYPE_NORMAL and spec.function.class_name:
            name = spec.function.class_name
        key = (spec.job_id, name)
        if key != self._last_marker:
            self._last_marker = key
            marker = f"{CONTEXT_MARKER}{key[0].hex()} {name}"
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
        shared = spec.type == common_pb2.TASK_TYPE_NORMAL and self._share_task_context(spec)
        try:
            job.reply = self._execute(spec)
        except SystemExit as err:
            if spec.type == common_pb2.TASK_TYPE_NORMAL:
                job.reply = self._user_error_reply(spec, err)
            else:
                self._user_exit(spec, err)
        except BaseException as err:  # noqa: BLE001 - every task gets a reply
            logger.exception("internal error executing %s", spec.name)
            job.reply = self._error_reply(
                spec, rex.RaySystemError(f"internal error: {err!r}"), True
            )
        finally:
            self._ctx.context.task_id = b""
            self._ctx.context.is_normal_task = False
            if shared:
                self._share_task_context(None)
            self._finish(job)
        if self._exiting and spec.type != common_pb2.TASK_TYPE_NORMAL:
            self._exit_soon()

    def _share_task_context(self, spec: common_pb2.TaskSpec | None) -> bool:
        """Lets the threads that serve another language's code see its normal task as theirs.

        Java and C++ code calls the Ray API through the gateway session this worker serves it,
        so its gets and waits arrive on gRPC threads. While such a task runs (one at a time, on
        the main thread), those threads see it as their task (the thread-local context's
        defaults), so blocking there lends the task's CPUs as a Python task's get does (a nested
        task then never waits for the CPU its parent holds) and nested tasks name their parent.
        `None` restores the defaults. Returns whether the context is shared.
        """
        cls = type(self._ctx.context)
        if spec is None:
            cls.task_id, cls.is_normal_task = b"", False
            return False
        language = spec.function.language
        if spec.type != common_pb2.TASK_TYPE_NORMAL or language in (
            common_pb2.LANGUAGE_UNSPECIFIED,
            common_pb2.LANGUAGE_PYTHON,
        ):
            return False
        cls.task_id, cls.is_normal_task = spec.task_id, True
        return True

    def _runner(self, spec: common_pb2.TaskSpec) -> Runner:
        if spec.type == common_pb2.TASK_TYPE_ACTOR:
            if self._actor_failed is not None:
                raise self._actor_failed
            assert self._actor_runner is not None
            return self._actor_runner
        language = spec.function.language or common_pb2.LANGUAGE_PYTHON
        runner = self._runners.get(language)
        if language != common_pb2.LANGUAGE_PYTHON and _libc_fflush is not None:
            # From now on each task's end also flushes C stdio (a quarter of a microsecond
            # that Python-only workers do not pay).
            self._native_stdio = True
        if runner is None:
            why = self._runners.failure(language) or "no runner for that language is installed"
            raise rex.RaySystemError(
                f"this worker cannot run {common_pb2.Language.Name(language)} code "
                f"({spec.name}): {why}"
            )
        return runner

    def _execute(self, spec: common_pb2.TaskSpec) -> core_worker_pb2.PushTaskReply:
        with self._lock:
            # Registered before arguments are fetched, so a cancel can interrupt that too.
            cancelled = spec.task_id in self._cancelled
            if not cancelled:
                self._running[spec.task_id] = threading.get_ident()
                if spec.generator_kind:
                    self._running_generators.add(spec.task_id)
        if cancelled:
            return self._error_reply(spec, rex.TaskCancelledError(spec.task_id.hex()), False)
        try:
            try:
                runner = self._runner(spec)
                args = self._arg_frames(spec)
                if spec.type == common_pb2.TASK_TYPE_ACTOR_CREATION:
                    return self._create_actor(spec, runner, args)
                actor = self.actor if spec.type == common_pb2.TASK_TYPE_ACTOR else None
                results = runner.run(spec, args, actor)
                if spec.generator_kind:
                    results = self._generator_driver().drive(spec, results)
            finally:
                with self._lock:
                    self._running.pop(spec.task_id, None)
                    self._running_generators.discard(spec.task_id)
        except KeyboardInterrupt:
            if spec.task_id in self._cancelled:
                return self._error_reply(spec, rex.TaskCancelledError(spec.task_id.hex()), False)
            raise
        except GeneratorCancelled:
            return self._cancelled_reply(spec)
        except ActorExit:
            self._exiting = True
            return self._make_reply(spec, _nulls(spec))
        except ErrorResult as err:  # another language's code failed; its runtime made the frame
            return self._not_created(spec, self._frame_reply(spec, err.frame, True), None)
        except Exception as exc:  # noqa: BLE001 - user code, or no runner, or a lost argument
            return self._not_created(spec, self._user_error_reply(spec, exc), exc)
        reply = self._make_reply(spec, results)
        if spec.max_calls > 0 and spec.type == common_pb2.TASK_TYPE_NORMAL:
            key = spec.function.function_hash or spec.function.SerializeToString()
            self._calls[key] = self._calls.get(key, 0) + 1
            if self._calls[key] >= spec.max_calls:
                # max_calls reached: the submitter returns the lease with disconnect, and the
                # node manager ends this process once the reply is out.
                reply.worker_exiting = True
                self.give_back_waiting()
        return reply

    async def _run_async(self, job: _Job, group: str) -> None:
        request = job.request
        spec = request.task_spec
        with self._lock:
            cancelled = spec.task_id in self._cancelled
            task = asyncio.current_task()
            if not cancelled and task is not None:
                self._async_tasks[spec.task_id] = task
        try:
            if cancelled:
                job.reply = self._cancelled_reply(spec)
                return
            async with self._async_sems[group]:
                await self._run_async_body(job)
        except asyncio.CancelledError:  # cancelled while it waited for its group
            job.reply = self._cancelled_reply(spec)
        finally:
            with self._lock:
                self._async_tasks.pop(spec.task_id, None)
            self._finish(job)
        if self._exiting:
            self._exit_soon()

    async def _run_async_body(self, job: _Job) -> None:
        request = job.request
        spec = request.task_spec
        self._begin(spec, request)
        try:
            runner = self._runner(spec)
            results = runner.run(spec, self._arg_frames(spec), self.actor)
            if spec.generator_kind:
                results = await self._generator_driver().drive_async(spec, results)
            elif asyncio.iscoroutine(results) or asyncio.isfuture(results):
                results = await results
            job.reply = self._make_reply(spec, results)
        except ActorExit:
            self._exiting = True
            job.reply = self._make_reply(spec, _nulls(spec))
        except ErrorResult as err:
            job.reply = self._frame_reply(spec, err.frame, True)
        except (asyncio.CancelledError, GeneratorCancelled):
            job.reply = self._cancelled_reply(spec)
        except Exception as exc:  # noqa: BLE001 - user code
            job.reply = self._user_error_reply(spec, exc)
        except SystemExit as err:
            self._user_exit(spec, err)
        except BaseException as err:  # noqa: BLE001
            job.reply = self._error_reply(
                spec, rex.RaySystemError(f"internal error: {err!r}"), True
            )

    def _generator_driver(self) -> GeneratorDriver:
        if self._generators is None:
            ctx = self._ctx
            self._generators = GeneratorDriver(
                ctx.store_return,
                ctx.report_generator_items,
                ctx.address,
                lambda task_id: task_id in self._cancelled,
            )
        return self._generators

    def _arg_frames(self, spec: common_pb2.TaskSpec) -> list[Any]:
        """The argument frames: inline ones as sent, referenced ones fetched (or mapped)."""
        if not spec.args:
            return []
        frames: list[Any] = [None] * len(spec.args)
        fetch: list[tuple[int, ObjectRef]] = []
        stored: list[tuple[int, common_pb2.ObjectReference]] = []
        with collect_borrows():
            for i, arg in enumerate(spec.args):
                if arg.HasField("object_ref"):
                    if arg.object_ref.store_node_id == self._ctx.address.node_id:
                        # The owner said it is in this node's store: mapped at once, not
                        # borrowed. (One on another node is borrowed, so that the owner
                        # counts the copy pulled here and frees it with the object.)
                        stored.append((i, arg.object_ref))
                        continue
                    owner = arg.object_ref.owner_address
                    ref = ObjectRef(
                        arg.object_ref.object_id, None if self._ctx.is_me(owner) else owner
                    )
                    fetch.append((i, ref))
                else:
                    frames[i] = arg.inline_data
        if stored:
            read = self._ctx.read_task_args([r for _, r in stored])
            for (i, _), frame in zip(stored, read, strict=True):
                frames[i] = frame
        if fetch:
            fetched = self._ctx.get_frames([r for _, r in fetch], None)
            for (i, _), frame in zip(fetch, fetched, strict=True):
                frames[i] = frame
        return frames

    def _not_created(
        self,
        spec: common_pb2.TaskSpec,
        reply: core_worker_pb2.PushTaskReply,
        cause: BaseException | None,
    ) -> core_worker_pb2.PushTaskReply:
        """A failure before an actor's constructor ran (no runner, an argument that could not
        be read) fails the actor's creation, as a constructor that raised does."""
        if spec.type != common_pb2.TASK_TYPE_ACTOR_CREATION:
            return reply
        creation = spec.actor_creation
        self._actor_failed = rex.ActorDiedError(
            creation.actor_id.hex(),
            f"The actor {creation.class_name} could not be created: {cause or 'its runtime failed'}",
            actor_init_failed=True,
            cause=cause,
        )
        reply.actor_creation_failed = True
        return reply

    def _create_actor(
        self, spec: common_pb2.TaskSpec, runner: Runner, args: list[Any]
    ) -> core_worker_pb2.PushTaskReply:
        creation = spec.actor_creation
        self.actor_id = creation.actor_id
        self._ctx.context.actor_id = creation.actor_id
        resource_ids = dict(self._ctx.context.resource_ids)
        # The GCS numbers a restarted actor's creation task by its restarts.
        self._ctx.set_actor(
            creation.actor_id,
            resource_ids,
            dict(spec.required_resources),
            spec.attempt_number > 0,
        )
        gpus = resource_ids.get("GPU")
        if gpus:
            os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in gpus)
        try:
            self.actor = runner.create_actor(spec, args)
        except Exception as exc:  # noqa: BLE001 - user code
            err = errors.task_error(
                f"{creation.class_name}.__init__", exc, self._pid, self._ctx.address.ip_address
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
        self._actor_runner = runner
        self._groups = dict(creation.concurrency_groups)
        if creation.is_async or runner.is_async(self.actor):
            self._start_asyncio(creation.max_concurrency or 1000)
        elif creation.max_concurrency > 1 or self._groups:
            sizes = {"": creation.max_concurrency or 1, **self._groups}
            self._pools = {
                name: ThreadPoolExecutor(size, thread_name_prefix=f"actor-{name or 'default'}")
                for name, size in sizes.items()
            }
        return self._make_reply(spec, [])

    def _start_asyncio(self, max_concurrency: int) -> None:
        """One event loop per concurrency group, each on a thread of its own (as in Ray: a
        call that blocks its loop does not stall the other groups)."""
        sizes = {"": max_concurrency, **self._groups}
        for name, size in sizes.items():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run(loop: asyncio.AbstractEventLoop = loop, ready: threading.Event = ready) -> None:
                asyncio.set_event_loop(loop)
                ready.set()
                loop.run_forever()

            thread = f"actor-loop-{name}" if name else "actor-loop"
            threading.Thread(target=run, name=thread, daemon=True).start()
            ready.wait()
            self._async_sems[name] = asyncio.Semaphore(size)
            self._aio[name] = loop

    # ---- replies ---------------------------------------------------------------------

    def _cancelled_reply(self, spec: common_pb2.TaskSpec) -> core_worker_pb2.PushTaskReply:
        return self._error_reply(spec, rex.TaskCancelledError(spec.task_id.hex()), False)

    def _make_reply(
        self, spec: common_pb2.TaskSpec, frames: list[Any]
    ) -> core_worker_pb2.PushTaskReply:
        reply = core_worker_pb2.PushTaskReply()
        # Actor creation has a return id (the handle object) but no value.
        for oid, frame in zip(spec.return_ids, frames, strict=False):
            try:
                self._ctx.store_return(oid, frame, spec.caller_address, reply.return_objects.add())
            except Exception as exc:  # noqa: BLE001 - store full
                return self._user_error_reply(spec, exc)
        if self._exiting:
            reply.worker_exiting = True
        return reply

    def _user_error_reply(
        self, spec: common_pb2.TaskSpec, exc: BaseException
    ) -> core_worker_pb2.PushTaskReply:
        if isinstance(exc, rex.RayError) and not isinstance(exc, rex.RaySerializationError):
            err: BaseException = exc
        else:
            err = errors.task_error(spec.name, exc, self._pid, self._ctx.address.ip_address)
        return self._error_reply(spec, err, True)

    def _error_reply(
        self, spec: common_pb2.TaskSpec, exc: BaseException, app_error: bool
    ) -> core_worker_pb2.PushTaskReply:
        return self._frame_reply(spec, errors.error_frame(exc, spec.task_id), app_error)

    def _frame_reply(
        self, spec: common_pb2.TaskSpec, frame: bytes, app_error: bool
    ) -> core_worker_pb2.PushTaskReply:
        """The reply storing one ERROR frame as every return value."""
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
            task = self._async_tasks.get(task_id)
        if recursive:
            self._ctx.cancel_children(task_id, force)
        if task is not None:
            task.get_loop().call_soon_threadsafe(task.cancel)
            return True
        if ident is None or self.actor_id:
            # Not running, or a running call of a sync actor: actors have state, so their
            # calls are not interrupted (as in Ray). A generator call stops at its next yield.
            return ident is not None and task_id in self._running_generators
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
        code = constants.WORKER_INTENDED_EXIT_CODE
        threading.Timer(0.05, lambda: os._exit(code)).start()

    def _user_exit(self, spec: common_pb2.TaskSpec, err: SystemExit) -> None:
        """`sys.exit()` in an actor's code is the actor dying, as in Ray: the process ends with
        the code given (1 if it is not a number), and the actor is restarted under
        `max_restarts` (its calls retried under `max_task_retries`), else its callers get
        RayActorError."""
        code = err.code if isinstance(err.code, int) else (0 if err.code is None else 1)
        logger.warning("%s called sys.exit(%r): the actor's process exits", spec.name, err.code)
        _flush_python_streams()
        os._exit(code)


class _UnknownGroup(Exception):
    """An actor call names a concurrency group its actor does not have."""

    def __init__(self, error: ValueError) -> None:
        super().__init__(str(error))
        self.error = error


def _nulls(spec: common_pb2.TaskSpec) -> list[SerializedObject]:
    """Null returns (every language reads XLANG null), for a call that ended the actor."""
    return [serialization.serialize(None) for _ in range(spec.num_returns)]
