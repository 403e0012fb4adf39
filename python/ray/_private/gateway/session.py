"""One client session: what a Java, C++ or other gRPC client owns on the cluster (DESIGN.md section 8).

A `Session` lives in its own process, the session owner, whose core worker owns
everything the client puts and submits: borrowing, reference counting and
lineage work as for a Python driver. The session holds one count per reference
the client holds; the client adds and releases counts, and everything goes
when the session ends (the owner process exits: its objects are freed and its
job's non-detached actors die).

Everything here works on frames; the only Python values the session makes are
those it needs to say what a client cannot read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from ray import exceptions as rex
from ray._private import constants, ids, serialization
from ray._private.generated import client_gateway_pb2 as pb
from ray._private.generated import common_pb2, gcs_pb2
from ray._private.object_ref import ObjectRef
from ray._private.serialization import FrameError
from ray._private.worker.task_spec import ActorOptions, Arg, RefArg, TaskOptions, ValueArg

logger = logging.getLogger(__name__)

# Most bytes of frames in one GetReply message (chunks of larger frames are this size).
CHUNK_BYTES = 1 << 20
# Released ids remembered (so asking for one fails at once rather than waiting for it).
MAX_REMEMBERED_RELEASES = 100_000
# Task ids of Submit items accepted most recently, per session: a client resends the items it
# saw no acknowledgement for on its next stream, and those already accepted must not run twice.
MAX_REMEMBERED_SUBMITS = 65_536
# How long a request naming a client-made id waits for its submission to arrive.
ARRIVAL_WAIT_S = 10.0
# Longest id or name echoed back in an error message.
_SHOWN = 64

_READERS = {
    # Formats each client language reads (every language reads XLANG, RAW and ERROR).
    common_pb2.LANGUAGE_PYTHON: {common_pb2.OBJECT_FORMAT_PICKLE5},
    common_pb2.LANGUAGE_JAVA: {common_pb2.OBJECT_FORMAT_JAVA},
    common_pb2.LANGUAGE_CPP: {common_pb2.OBJECT_FORMAT_CPP},
}
_COMMON_FORMATS = {
    common_pb2.OBJECT_FORMAT_XLANG,
    common_pb2.OBJECT_FORMAT_RAW,
    common_pb2.OBJECT_FORMAT_ERROR,
}
_FORMAT_OWNER = {
    common_pb2.OBJECT_FORMAT_PICKLE5: "Python",
    common_pb2.OBJECT_FORMAT_JAVA: "Java",
    common_pb2.OBJECT_FORMAT_CPP: "C++",
}


class GatewayError(Exception):
    """A request the session refuses: becomes a gRPC status with this message."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _bad(message: str) -> GatewayError:
    return GatewayError(grpc.StatusCode.INVALID_ARGUMENT, message)


def _short(data: bytes | str) -> str:
    text = data.hex() if isinstance(data, bytes) else data
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}... ({len(text)} chars)"


@dataclass
class _Held:
    ref: ObjectRef
    count: int


@dataclass
class _Actor:
    """What the session knows of an actor it calls."""

    actor_class: common_pb2.FunctionDescriptor
    max_task_retries: int
    max_concurrency: int


class Session:
    """The state and rules of one client session.

    Args:
        cw: The session owner's core worker (frames-level API).
        session_id: The id the client sends with every request.
        language: The client's language (decides which frames it can read).
        reconnect_grace_s: How long the session outlives its last KeepAlive stream.
    """

    def __init__(self, cw: Any, session_id: bytes, language: int, reconnect_grace_s: float) -> None:
        self.cw = cw
        self.session_id = session_id
        self.language = language
        self.reconnect_grace_s = reconnect_grace_s
        self._lock = threading.Lock()
        # Woken when a reference is added: a Get may overtake the submission it names.
        self._added = threading.Condition(self._lock)
        self._held: dict[bytes, _Held] = {}
        # Ids released recently: asking for one again fails at once instead of waiting.
        self._released: OrderedDict[bytes, None] = OrderedDict()
        self._actors: dict[bytes, _Actor] = {}
        self._options_cache: dict[bytes, TaskOptions] = {}
        # Submit items accepted (task id -> return ids); one stream's items at a time.
        self._submitted: OrderedDict[bytes, list[bytes]] = OrderedDict()
        self._submit_lock = threading.Lock()
        self._job_id = b""
        self._namespace = ""
        self.closed = threading.Event()
        self._streams = 0
        self._last_stream_end = time.monotonic()

    # ---- session life ----------------------------------------------------------------

    def check(self, session_id: bytes) -> None:
        if session_id != self.session_id:
            raise GatewayError(
                grpc.StatusCode.NOT_FOUND,
                f"unknown session {_short(session_id)}: this address serves another session "
                "(open one with OpenSession at the cluster address)",
            )
        if self.closed.is_set():
            raise GatewayError(grpc.StatusCode.NOT_FOUND, "the session has ended")

    def keep_alive(self, context: grpc.ServicerContext) -> Iterator[pb.KeepAliveReply]:
        """Yields a reply every few seconds while the client holds the stream."""
        with self._lock:
            self._streams += 1
        try:
            while context.is_active() and not self.closed.is_set():
                yield pb.KeepAliveReply(num_references=len(self._held))
                self.closed.wait(constants.SESSION_KEEPALIVE_S)
        finally:
            with self._lock:
                self._streams -= 1
                self._last_stream_end = time.monotonic()

    @property
    def job_id(self) -> bytes:
        return self._job_id or self.cw.job_id

    @property
    def namespace(self) -> str:
        return self._namespace or self.cw.namespace

    def bind_job(self, job_id: bytes, namespace: str) -> None:
        """Makes the session work for this job (a worker's embedded session)."""
        self._job_id = job_id
        self._namespace = namespace

    def expired(self) -> bool:
        """True when no KeepAlive stream has been open for the grace period."""
        if self.reconnect_grace_s is None:
            return False
        with self._lock:
            return (
                self._streams == 0
                and time.monotonic() - self._last_stream_end > self.reconnect_grace_s
            )

    def close(self) -> None:
        """Releases every reference; the owner process then exits (and its job ends)."""
        self.closed.set()
        with self._lock:
            held, self._held = self._held, {}
        held.clear()

    # ---- references ------------------------------------------------------------------

    def _hold(self, ref: ObjectRef) -> None:
        with self._lock:
            entry = self._held.get(ref._id)
            if entry is None:
                self._held[ref._id] = _Held(ref, 1)
                self._released.pop(ref._id, None)
                self._added.notify_all()
            else:
                entry.count += 1

    def _ref(self, object_id: bytes, wait_s: float = 0.0) -> ObjectRef:
        """The session's reference to an object.

        An id made by the client for a task or put still on its way here (on the Submit
        stream, say) is waited for, up to `wait_s`.
        """
        entry = self._held.get(object_id)
        if entry is None and wait_s > 0 and self._ours(object_id):
            deadline = time.monotonic() + wait_s
            with self._lock:
                while object_id not in self._held and object_id not in self._released:
                    left = deadline - time.monotonic()
                    if left <= 0 or self.closed.is_set():
                        break
                    self._added.wait(left)
                entry = self._held.get(object_id)
        if entry is None:
            raise GatewayError(
                grpc.StatusCode.NOT_FOUND,
                f"object {_short(object_id)} is not held by this session (released, or never "
                "put or returned here)",
            )
        return entry.ref

    def _ours(self, object_id: bytes) -> bool:
        return (
            len(object_id) == ids.OBJECT_ID_SIZE
            and ids.job_id_of_task(ids.task_id_of_object(object_id)) == self.job_id
        )

    def add_references(self, object_ids: Sequence[bytes]) -> None:
        with self._lock:
            missing = [oid for oid in object_ids if oid not in self._held]
            if missing:
                raise GatewayError(
                    grpc.StatusCode.NOT_FOUND,
                    f"{len(missing)} object(s) not held by this session (first: "
                    f"{_short(missing[0])}); nothing was added",
                )
            for oid in object_ids:
                self._held[oid].count += 1

    def release_references(self, object_ids: Sequence[bytes]) -> None:
        dropped = []
        with self._lock:
            for oid in object_ids:
                entry = self._held.get(oid)
                if entry is None:
                    continue
                entry.count -= 1
                if entry.count <= 0:
                    dropped.append(self._held.pop(oid))
                    self._released[oid] = None
                    if len(self._released) > MAX_REMEMBERED_RELEASES:
                        self._released.popitem(last=False)
        dropped.clear()  # the ObjectRefs go here, outside the lock

    def held_refs(self, object_ids: Sequence[bytes]) -> list[ObjectRef]:
        """The session's refs for these ids (those it holds)."""
        with self._lock:
            return [self._held[oid].ref for oid in object_ids if oid in self._held]

    def num_references(self) -> int:
        return len(self._held)

    # ---- put -------------------------------------------------------------------------

    def _put_id(self, object_id: bytes) -> bytes:
        if not object_id:
            return ids.new_put_object_id(self.job_id)
        if (
            len(object_id) != ids.OBJECT_ID_SIZE
            or ids.job_id_of_task(ids.task_id_of_object(object_id)) != self.job_id
            or object_id[ids.TASK_ID_SIZE :] != b"\0\0\0\0"
        ):
            raise _bad(
                f"object id {_short(object_id)} is not a put id of this session's job "
                f"{self.job_id.hex()}: 20 unique bytes, the job id, then index 0"
            )
        return object_id

    def _nested(self, object_ids: Iterable[bytes]) -> list[ObjectRef]:
        return [self._ref(oid) for oid in object_ids]

    def put(self, request: pb.PutRequest) -> bytes:
        try:
            serialization.check_frame(request.frame)
        except FrameError as err:
            raise _bad(f"malformed frame: {err}") from None
        object_id = self._put_id(request.object_id)
        if object_id in self._held:
            return object_id  # a retry of the same put
        nested = self._nested(request.nested_object_ids)
        ref = self._store(lambda: self.cw.put_frame(request.frame, nested, object_id))
        self._hold(ref)
        return object_id

    def put_stream(
        self, first: pb.PutStreamRequest, requests: Iterator[pb.PutStreamRequest]
    ) -> bytes:
        object_id = self._put_id(first.object_id)
        size = first.total_size_bytes
        if size < 0 or size > constants.MAX_CLIENT_OBJECT_BYTES:
            raise _bad(f"total_size_bytes {size} out of range")
        nested = self._nested(first.nested_object_ids)

        def chunks() -> Iterator[bytes]:
            expected = 0
            request = first
            while request is not None:
                if request.offset != expected:
                    raise _bad(f"chunk at offset {request.offset}, expected {expected}")
                expected += len(request.data)
                yield request.data
                request = next(requests, None)

        try:
            ref = self._store(
                lambda: self.cw.ownership.put_chunks(object_id, size, chunks(), nested)
            )
        except ValueError as err:
            raise _bad(str(err)) from None
        self._hold(ref)
        return object_id

    def _store(self, put: Any) -> ObjectRef:
        try:
            return put()
        except rex.ObjectStoreFullError as err:
            raise GatewayError(grpc.StatusCode.RESOURCE_EXHAUSTED, str(err)) from None
        except FrameError as err:
            raise _bad(f"malformed frame: {err}") from None

    # ---- get and wait ----------------------------------------------------------------

    def get(self, request: pb.GetRequest, context: grpc.ServicerContext) -> Iterator[pb.GetReply]:
        wait_s = (
            ARRIVAL_WAIT_S
            if request.timeout_ms < 0
            else min(request.timeout_ms / 1000, ARRIVAL_WAIT_S)
        )
        refs = [self._ref(oid, wait_s) for oid in request.object_ids]
        frames = self._wait_frames(refs, request.timeout_ms, context)
        self._hold_contained(refs)
        reply = pb.GetReply()
        size = 0
        for index, frame in enumerate(frames):
            frame = self._readable(frame)
            total = len(frame)
            view = memoryview(frame)
            offset = 0
            while offset < total:
                take = min(total - offset, CHUNK_BYTES - size)
                reply.chunks.add(
                    index=index,
                    total_size_bytes=total,
                    offset=offset,
                    data=bytes(view[offset : offset + take]),
                )
                size += take
                offset += take
                if size >= CHUNK_BYTES:
                    yield reply
                    reply = pb.GetReply()
                    size = 0
        if reply.chunks:
            yield reply

    def _hold_contained(self, refs: Sequence[ObjectRef]) -> None:
        """The client now holds the refs inside the values it gets (C++ values may carry
        them): the session counts one for each, released with ReleaseReferences."""
        for ref in refs:
            stored = self.cw.memory_store.get(ref._id)
            for inner in stored.nested_refs if stored is not None else ():
                owner = inner.owner_address
                self._hold(ObjectRef(inner.object_id, None if self.cw.is_me(owner) else owner))

    def _wait_frames(
        self, refs: list[ObjectRef], timeout_ms: int, context: grpc.ServicerContext
    ) -> list[Any]:
        """The frames once all are ready; waits in slices so a vanished client is noticed."""
        deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        while True:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            step = 1.0 if left is None else min(left, 1.0)
            try:
                return self.cw.get_frames(refs, step)
            except rex.GetTimeoutError as err:
                if not context.is_active() or self.closed.is_set():
                    raise GatewayError(grpc.StatusCode.CANCELLED, "the client went away") from None
                if left is not None and left <= step:
                    raise GatewayError(grpc.StatusCode.DEADLINE_EXCEEDED, str(err)) from None

    def fill_result(self, out: pb.SubmitResult, object_id: bytes, stored: Any) -> None:
        """A ready value as the Submit stream sends it (see `ResultSink`)."""
        out.object_id = object_id
        if not (stored.in_store or stored.nested_refs or stored.data is None):
            frame = self._readable(stored.data)
            if frame is stored.data:  # readable by the client as it is
                out.frame = bytes(frame)
                return
        out.fetch = True

    def _readable(self, frame: Any) -> Any:
        """The frame, or an ERROR frame saying why this client's language cannot read it."""
        fmt = serialization.frame_format(frame)
        if fmt in _COMMON_FORMATS or fmt in _READERS.get(self.language, ()):
            return frame
        writer = _FORMAT_OWNER.get(fmt, "another language")
        type_name = _type_name(frame)
        reader = common_pb2.Language.Name(self.language).removeprefix("LANGUAGE_").title()
        info = common_pb2.ErrorInfo(
            type=common_pb2.ERROR_TYPE_SERIALIZATION,
            message=(
                f"The object is a {writer} value of type {type_name}, which has no "
                f"cross-language form, so {reader} cannot read it. Have the task return plain "
                "data (numbers, strings, bytes, lists, maps, numeric arrays)."
            ),
            language=common_pb2.LANGUAGE_PYTHON,
            exception_type="builtins.TypeError",
        )
        return serialization.serialize_error(info).to_bytes()

    def wait(self, request: pb.WaitRequest, context: grpc.ServicerContext) -> list[int]:
        oids = list(request.object_ids)
        if len(set(oids)) != len(oids):
            raise _bad("Wait requires distinct object ids")
        if not 0 < request.num_returns <= len(oids):
            raise _bad(f"num_returns must be in 1..{len(oids)}, got {request.num_returns}")
        wait_s = (
            ARRIVAL_WAIT_S
            if request.timeout_ms < 0
            else min(request.timeout_ms / 1000, ARRIVAL_WAIT_S)
        )
        refs = [self._ref(oid, wait_s) for oid in oids]
        timeout = None if request.timeout_ms < 0 else request.timeout_ms / 1000
        remaining = context.time_remaining()
        if remaining is not None:
            timeout = remaining if timeout is None else min(timeout, remaining)
        ready, _ = self.cw.wait(refs, request.num_returns, timeout, request.fetch_local)
        ready_ids = {r._id for r in ready}
        return [i for i, oid in enumerate(oids) if oid in ready_ids]

    # ---- tasks and actors ------------------------------------------------------------

    def _task_id(self, task_id: bytes, required: bool) -> bytes:
        if not task_id:
            if required:
                raise _bad("items on the Submit stream need a task_id made by the client")
            return ids.new_task_id(self.job_id)
        if len(task_id) != ids.TASK_ID_SIZE or ids.job_id_of_task(task_id) != self.job_id:
            raise _bad(
                f"task id {_short(task_id)} is not a task id of this session's job "
                f"{self.job_id.hex()}: 20 unique bytes, then the job id"
            )
        return task_id

    def _args(self, args: Sequence[common_pb2.TaskArg]) -> list[Arg]:
        out: list[Arg] = []
        for i, arg in enumerate(args):
            if arg.HasField("object_ref"):
                ref = self._ref(arg.object_ref.object_id, ARRIVAL_WAIT_S)
                out.append(RefArg(ref._id, ref._owner))
            elif arg.HasField("inline_data"):
                try:
                    # The layout only: the worker that decodes it reports a bad value as the
                    # task's error.
                    serialization.check_frame(arg.inline_data, deep=False)
                except FrameError as err:
                    raise _bad(f"argument {i}: malformed frame: {err}") from None
                nested = tuple(self._ref(r.object_id) for r in arg.nested_refs)
                out.append(ValueArg(arg.inline_data, "", nested))
            else:
                raise _bad(f"argument {i} is neither a frame nor an object reference")
        return out

    def submit_task(
        self, request: pb.SubmitTaskRequest, required_id: bool = False
    ) -> tuple[bytes, list[bytes]]:
        _check_function(request.function, actor=False)
        task_id = self._task_id(request.task_id, required_id)
        options = self._task_options(request)
        refs = self.cw.submit_task(request.function, self._args(request.args), options, task_id)
        for ref in refs:
            self._hold(ref)
        return task_id, [r._id for r in refs]

    def _task_options(self, request: pb.SubmitTaskRequest) -> TaskOptions:
        key = request.options.SerializeToString() + request.function.SerializeToString()
        cached = self._options_cache.get(key)
        if cached is not None:
            return cached
        opts = request.options
        resources = _resources(opts.resources)
        resources.setdefault("CPU", 1.0)
        num_returns = opts.num_returns if opts.HasField("num_returns") else 1
        if not 0 <= num_returns <= 1000:
            raise _bad(f"num_returns must be in 0..1000, got {num_returns}")
        max_retries = (
            opts.max_retries if opts.HasField("max_retries") else constants.DEFAULT_TASK_MAX_RETRIES
        )
        if max_retries < -1:
            raise _bad(f"max_retries must be >= -1, got {max_retries}")
        options = TaskOptions(
            name=opts.name or _display_name(request.function),
            num_returns=num_returns,
            resources={k: v for k, v in resources.items() if v},
            max_retries=max_retries,
            retry_exceptions=opts.retry_exceptions,
        )
        if len(self._options_cache) < 1000:
            self._options_cache[key] = options
        return options

    def start_actor(self, request: pb.StartActorRequest) -> pb.StartActorReply:
        _check_function(request.actor_class, actor=True)
        opts = request.options
        held = {k: v for k, v in _resources(opts.resources).items() if v}
        placement = dict(held)
        placement.setdefault("CPU", 1.0)
        if opts.max_restarts < -1 or opts.max_task_retries < -1 or opts.max_concurrency < 0:
            raise _bad("max_restarts and max_task_retries must be >= -1, max_concurrency >= 0")
        if request.actor_id and (
            len(request.actor_id) != ids.UNIQUE_ID_SIZE
            or request.actor_id[-ids.JOB_ID_SIZE :] != self.job_id
        ):
            raise _bad(f"actor id {_short(request.actor_id)} is not an actor id of this job")
        descriptor = request.actor_class
        options = ActorOptions(
            class_name=descriptor.class_name or descriptor.function_name,
            name=opts.name,
            namespace=opts.ray_namespace or self.namespace,
            detached=opts.detached,
            resources=held,
            placement_resources=placement,
            max_restarts=opts.max_restarts,
            max_task_retries=opts.max_task_retries,
            max_concurrency=opts.max_concurrency,
            get_if_exists=opts.get_if_exists,
        )
        try:
            created = self.cw.create_actor(
                descriptor, self._args(request.args), options, request.actor_id
            )
        except ValueError as err:
            raise GatewayError(grpc.StatusCode.ALREADY_EXISTS, str(err)) from None
        if created.existing is not None:
            info = created.existing
            self._remember(info)
            return pb.StartActorReply(
                actor_id=info.actor_id,
                already_existed=True,
                actor_class=info.creation_spec.function,
            )
        self._actors[created.actor_id] = _Actor(
            descriptor, opts.max_task_retries, opts.max_concurrency or 1
        )
        if created.handle_ref is not None:
            # The session keeps the actor's handle (and so the actor) until it ends.
            self._hold(created.handle_ref)
        return pb.StartActorReply(actor_id=created.actor_id, actor_class=descriptor)

    def _remember(self, info: gcs_pb2.ActorInfo) -> _Actor:
        creation = info.creation_spec.actor_creation
        actor = _Actor(
            info.creation_spec.function, creation.max_task_retries, creation.max_concurrency or 1
        )
        self._actors[info.actor_id] = actor
        return actor

    def _actor(self, actor_id: bytes) -> _Actor:
        actor = self._actors.get(actor_id)
        if actor is not None:
            return actor
        info = self.cw.gcs.get_actor_info(actor_id)
        if info is None:
            raise GatewayError(grpc.StatusCode.NOT_FOUND, f"unknown actor {_short(actor_id)}")
        return self._remember(info)

    def call_actor(
        self, request: pb.CallActorRequest, required_id: bool = False
    ) -> tuple[bytes, list[bytes]]:
        actor = self._actor(request.actor_id)
        method = common_pb2.FunctionDescriptor()
        method.CopyFrom(request.method)
        if not method.function_name:
            raise _bad("the method's function_name is empty")
        method.language = actor.actor_class.language
        if not method.class_name:
            method.class_name = actor.actor_class.class_name
        task_id = self._task_id(request.task_id, required_id)
        num_returns = request.num_returns if request.HasField("num_returns") else 1
        if not 0 <= num_returns <= 1000:
            raise _bad(f"num_returns must be in 0..1000, got {num_returns}")
        refs = self.cw.submit_actor_call(
            request.actor_id,
            method,
            self._args(request.args),
            num_returns,
            actor.max_task_retries,
            actor.max_concurrency,
            request.name or f"{method.class_name}.{method.function_name}",
            task_id,
        )
        for ref in refs:
            self._hold(ref)
        return task_id, [r._id for r in refs]

    def lookup_actor(self, request: pb.LookupActorRequest) -> pb.LookupActorReply:
        if not request.name:
            raise _bad("LookupActor needs a name")
        namespace = request.ray_namespace or self.namespace
        info = self.cw.gcs.get_named_actor(request.name, namespace)
        if info is None:
            raise GatewayError(
                grpc.StatusCode.NOT_FOUND,
                f"no live actor named {_short(request.name)!r} in namespace {_short(namespace)!r}",
            )
        self._remember(info)
        return pb.LookupActorReply(
            actor_id=info.actor_id,
            actor_class=info.creation_spec.function,
            method_num_returns=dict(info.creation_spec.actor_creation.method_num_returns),
        )

    def stop_actor(self, request: pb.StopActorRequest) -> None:
        try:
            self.cw.kill_actor(request.actor_id, request.no_restart)
        except ValueError:
            raise GatewayError(
                grpc.StatusCode.NOT_FOUND, f"unknown actor {_short(request.actor_id)}"
            ) from None

    def submit_items(
        self, items: Iterable[pb.SubmitItem], results: ResultSink | None = None
    ) -> int:
        """Submits the items of one Submit message; returns how many.

        Their pushes go out together once all are submitted (fewer, larger messages). The
        returns of items with `return_results` go to `results` as they become ready.
        """
        with self.cw.push_streams.corked():
            return self._submit_items(items, results)

    def _submit_items(self, items: Iterable[pb.SubmitItem], results: ResultSink | None) -> int:
        n = 0
        with self._submit_lock:  # an old stream may still deliver what a new one resends
            for item in items:
                self._submit_item(item, results)
                n += 1
        return n

    def _submit_item(self, item: pb.SubmitItem, results: ResultSink | None) -> None:
        """Submits one item, unless an earlier stream already did (then only its results
        are watched again, for this stream)."""
        kind = item.WhichOneof("kind")
        request = getattr(item, kind) if kind is not None else None
        return_ids = self._submitted.get(request.task_id) if request is not None else None
        if return_ids is None:
            if kind == "task":
                task_id, return_ids = self.submit_task(request, required_id=True)
            elif kind == "actor_call":
                task_id, return_ids = self.call_actor(request, required_id=True)
            else:
                raise _bad("a Submit item is neither a task nor an actor call")
            self._submitted[task_id] = return_ids
            if len(self._submitted) > MAX_REMEMBERED_SUBMITS:
                self._submitted.popitem(last=False)
        else:  # values the client released since will not be asked for
            return_ids = [oid for oid in return_ids if oid in self._held]
        if item.return_results and results is not None:
            for oid in return_ids:
                results.watch(oid)


class ResultSink:
    """The return values one Submit stream sends back (items with `return_results`).

    A value goes out once it is ready: its frame when the client can read it as it is,
    else a `fetch` mark (in the object store, holding references, or in another language's
    format) and the client reads it with Get. `emit((object_id, stored))` runs on the thread
    that stored the value; it only queues it for the stream's sender (`Session.fill_result`).
    """

    def __init__(self, session: Session, emit: Callable[[tuple[bytes, Any]], None]) -> None:
        self.session = session
        self._emit = emit
        self._lock = threading.Lock()
        self._watched: dict[bytes, Callable[[Any], None]] = {}
        self._closed = False

    def watch(self, object_id: bytes) -> None:
        def ready(stored: Any) -> None:
            with self._lock:
                if self._watched.pop(object_id, None) is None:
                    return  # the stream ended
            self._emit((object_id, stored))

        with self._lock:
            if self._closed:
                return
            self._watched[object_id] = ready
        self.session.cw.memory_store.on_ready(object_id, ready, inline=True)

    def watching(self) -> bool:
        """Whether some asked-for value is not ready yet."""
        return bool(self._watched)

    def close(self) -> None:
        """The stream ended: values not sent yet are no longer watched."""
        with self._lock:
            self._closed = True
            watched, self._watched = self._watched, {}
        store = self.session.cw.memory_store
        for object_id, ready in watched.items():
            store.remove_callback(object_id, ready)


def _resources(amounts: Any) -> dict[str, float]:
    out = {}
    for name, value in amounts.items():
        if not name:
            raise _bad("a resource name is empty")
        if not (value == value) or value in (float("inf"), float("-inf")) or value < 0:
            raise _bad(f"resource {_short(name)!r} must be a finite number >= 0, got {value}")
        out[name] = float(value)
    return out


def _check_function(descriptor: common_pb2.FunctionDescriptor, actor: bool) -> None:
    language = descriptor.language
    what = "actor class" if actor else "function"
    if language == common_pb2.LANGUAGE_PYTHON:
        name = descriptor.class_name if actor else descriptor.function_name
        if not descriptor.module_name or not name:
            raise _bad(
                f"a Python {what} needs module_name and {'class_name' if actor else 'function_name'}"
            )
    elif language == common_pb2.LANGUAGE_JAVA:
        if not descriptor.class_name or (not actor and not descriptor.function_name):
            raise _bad(f"a Java {what} needs class_name{'' if actor else ' and function_name'}")
    elif language == common_pb2.LANGUAGE_CPP:
        if not descriptor.function_name:
            raise _bad(f"a C++ {what} needs function_name (the name it was registered with)")
    else:
        raise _bad(f"the {what}'s language is unspecified or unknown ({language})")


def _display_name(descriptor: common_pb2.FunctionDescriptor) -> str:
    if descriptor.class_name and descriptor.function_name:
        return f"{descriptor.class_name}.{descriptor.function_name}"
    return descriptor.function_name or descriptor.class_name or "task"


def _type_name(frame: Any) -> str:
    """What a frame's value is, for messages (never fails)."""
    try:
        value = serialization.deserialize(frame)
    except Exception:  # noqa: BLE001 - e.g. a class not importable here
        return "unknown (it could not be loaded here)"
    if isinstance(value, serialization.ForeignValue):
        return value.type_name
    cls = type(value)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
