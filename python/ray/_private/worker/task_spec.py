"""Builds every TaskSpec this process sends: normal tasks, actor creations and actor calls.

The builder works on frames, not Python values: an argument is a `ValueArg`
(a serialized frame, with the refs it contains) or a `RefArg` (an object id and
its owner). Small frames go inline; large ones are put into the store first and
passed by reference, as Ray does. Python's `values.py`, the client gateway and
the Java/C++ runners all build their tasks here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ray._private import constants, ids
from ray._private.generated import common_pb2, core_worker_pb2
from ray._private.serialization import SerializedObject

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ValueArg:
    """An argument passed by value: its frame and the refs it contains (ObjectRefs)."""

    frame: SerializedObject | bytes
    keyword: str = ""
    contained: tuple = ()


@dataclass(slots=True)
class RefArg:
    """An argument passed by reference: the executor fetches the object first."""

    object_id: bytes
    # None: the object is owned by this process.
    owner: common_pb2.Address | None = None
    keyword: str = ""


Arg = ValueArg | RefArg


@dataclass(frozen=True)
class TaskOptions:
    """How a normal task runs (the options of `@ray.remote` on a function)."""

    name: str
    num_returns: int = 1
    resources: dict[str, float] = field(default_factory=lambda: {"CPU": 1.0})
    max_retries: int = constants.DEFAULT_TASK_MAX_RETRIES
    retry_exceptions: bool | tuple[type, ...] = False
    strategy: common_pb2.SchedulingStrategy | None = None
    max_calls: int = 0
    # Generator tasks (`common_pb2.GENERATOR_KIND_*`, 0 for none) and their backpressure.
    generator_kind: int = 0
    generator_backpressure: int = 0
    # The resolved runtime env as JSON ("" for none).
    runtime_env: str = ""


@dataclass(frozen=True)
class ActorOptions:
    """How an actor is placed and kept alive (the options of `@ray.remote` on a class)."""

    class_name: str
    name: str = ""
    namespace: str = ""
    detached: bool = False
    # Held while the actor lives.
    resources: dict[str, float] = field(default_factory=dict)
    # Needed free to place it.
    placement_resources: dict[str, float] = field(default_factory=lambda: {"CPU": 1.0})
    max_restarts: int = 0
    max_task_retries: int = 0
    max_concurrency: int = 1
    is_async: bool = False
    method_num_returns: dict[str, int] = field(default_factory=dict)
    get_if_exists: bool = False
    strategy: common_pb2.SchedulingStrategy | None = None
    # Named concurrency groups and their sizes (the default group is max_concurrency).
    concurrency_groups: dict[str, int] = field(default_factory=dict)
    # The resolved runtime env as JSON ("" for none).
    runtime_env: str = ""


@dataclass
class BuiltArgs:
    """TaskArgs, the ids they reference and refs of arguments put into the store for them."""

    args: list[common_pb2.TaskArg]
    arg_ids: list[bytes]
    keep: list[Any]


class TaskSpecBuilder:
    """Makes the specs of one process (driver, worker or client session).

    Args:
        job_id: The job, read at each build (a worker runs tasks of several jobs).
        caller: This process's address (owner of the returns).
        parent_task_id: The task running on the calling thread ("" on a driver).
        put_frame: Stores a large argument frame; returns an ObjectRef owned here.
    """

    def __init__(
        self,
        job_id: Callable[[], bytes],
        caller: common_pb2.Address,
        parent_task_id: Callable[[], bytes],
        put_frame: Callable[[SerializedObject | bytes, Sequence[Any]], Any],
    ) -> None:
        self._job_id = job_id
        self._caller = caller
        self._parent = parent_task_id
        self._put_frame = put_frame

    # ---- arguments -------------------------------------------------------------------

    def build_args(self, args: Sequence[Arg]) -> BuiltArgs:
        out = BuiltArgs([], [], [])
        for arg in args:
            task_arg = common_pb2.TaskArg(keyword=arg.keyword)
            if isinstance(arg, RefArg):
                task_arg.object_ref.object_id = arg.object_id
                task_arg.object_ref.owner_address.CopyFrom(arg.owner or self._caller)
                out.arg_ids.append(arg.object_id)
            else:
                frame = arg.frame
                size = frame.total_size if isinstance(frame, SerializedObject) else len(frame)
                if size <= constants.MAX_INLINE_OBJECT_BYTES:
                    task_arg.inline_data = (
                        frame.to_bytes() if isinstance(frame, SerializedObject) else frame
                    )
                    for ref in arg.contained:
                        task_arg.nested_refs.append(self._ref_proto(ref))
                        out.arg_ids.append(ref._id)
                else:  # large arguments go to the object store, as Ray does
                    ref = self._put_frame(frame, arg.contained)
                    out.keep.append(ref)
                    task_arg.object_ref.object_id = ref._id
                    task_arg.object_ref.owner_address.CopyFrom(self._caller)
                    out.arg_ids.append(ref._id)
            out.args.append(task_arg)
        return out

    def _ref_proto(self, ref: Any) -> common_pb2.ObjectReference:
        return common_pb2.ObjectReference(
            object_id=ref._id, owner_address=ref._owner or self._caller
        )

    def _job(self, fallback: bytes = b"") -> bytes:
        return self._job_id() or fallback or b"\0\0\0\0"

    # ---- specs -----------------------------------------------------------------------

    def normal_task(
        self,
        function: common_pb2.FunctionDescriptor,
        built: BuiltArgs,
        options: TaskOptions,
        task_id: bytes = b"",
    ) -> common_pb2.TaskSpec:
        job_id = self._job()
        spec = common_pb2.TaskSpec(
            task_id=task_id or ids.new_task_id(job_id),
            job_id=job_id,
            type=common_pb2.TASK_TYPE_NORMAL,
            name=options.name,
            function=function,
            args=built.args,
            num_returns=options.num_returns,
            required_resources=options.resources,
            caller_address=self._caller,
            max_retries=options.max_retries,
            retry_exceptions=bool(options.retry_exceptions),
            parent_task_id=self._parent(),
            max_calls=options.max_calls,
            serialized_runtime_env=options.runtime_env,
        )
        if options.strategy is not None:
            spec.scheduling_strategy.CopyFrom(options.strategy)
        if options.generator_kind:
            spec.generator_kind = options.generator_kind
            spec.generator_backpressure_num_objects = options.generator_backpressure
        _add_return_ids(spec)
        return spec

    def actor_creation(
        self,
        actor_class: common_pb2.FunctionDescriptor,
        built: BuiltArgs,
        options: ActorOptions,
        actor_id: bytes = b"",
    ) -> common_pb2.TaskSpec:
        """The creation task; its one return id is the actor handle's object."""
        job_id = self._job(self._parent()[-4:])
        spec = common_pb2.TaskSpec(
            task_id=ids.new_task_id(job_id),
            job_id=job_id,
            type=common_pb2.TASK_TYPE_ACTOR_CREATION,
            name=f"{options.class_name}.__init__",
            function=actor_class,
            args=built.args,
            num_returns=1,
            required_resources=options.resources,
            caller_address=self._caller,
            parent_task_id=self._parent(),
            serialized_runtime_env=options.runtime_env,
        )
        if options.strategy is not None:
            spec.scheduling_strategy.CopyFrom(options.strategy)
        creation = spec.actor_creation
        creation.actor_id = actor_id or ids.new_actor_id(job_id)
        creation.max_restarts = options.max_restarts
        creation.max_task_retries = options.max_task_retries
        creation.max_concurrency = options.max_concurrency
        creation.is_async = options.is_async
        creation.name = options.name
        creation.ray_namespace = options.namespace if options.name else ""
        creation.is_detached = options.detached
        creation.placement_resources.update(options.placement_resources)
        creation.method_num_returns.update(options.method_num_returns)
        creation.class_name = options.class_name
        creation.concurrency_groups.update(options.concurrency_groups)
        _add_return_ids(spec)
        return spec

    def actor_call(
        self,
        actor_id: bytes,
        method: common_pb2.FunctionDescriptor,
        built: BuiltArgs,
        num_returns: int,
        max_retries: int,
        name: str,
        task_id: bytes = b"",
        concurrency_group: str = "",
        retry_exceptions: bool = False,
        generator_kind: int = 0,
        generator_backpressure: int = 0,
    ) -> core_worker_pb2.PushTaskRequest:
        """The call's first request, with its spec built inside it.

        The spec's fields are given as a dict, so protobuf builds the spec in place: a
        TaskSpec message given here would be copied (a third of the cost of a call). Fields
        left at their defaults are not set at all.
        """
        job_id = self._job(actor_id[-4:])
        task_id = task_id or ids.new_task_id(job_id)
        spec: dict[str, Any] = {
            "task_id": task_id,
            "job_id": job_id,
            "type": common_pb2.TASK_TYPE_ACTOR,
            "name": name,
            "function": method,
            "num_returns": num_returns,
            "caller_address": self._caller,
            "actor_id": actor_id,
            "return_ids": return_ids(task_id, num_returns),
        }
        if built.args:
            spec["args"] = built.args
        if max_retries:
            spec["max_retries"] = max_retries
        parent = self._parent()
        if parent:
            spec["parent_task_id"] = parent
        if concurrency_group:
            spec["concurrency_group"] = concurrency_group
        if retry_exceptions:
            spec["retry_exceptions"] = True
        if generator_kind:
            spec["generator_kind"] = generator_kind
            spec["generator_backpressure_num_objects"] = generator_backpressure
        return core_worker_pb2.PushTaskRequest(
            task_spec=spec, caller_worker_id=self._caller.worker_id
        )


def return_ids(task_id: bytes, num_returns: int) -> list[bytes]:
    """The object ids of a task's returns."""
    if num_returns == 1:
        return [task_id + _FIRST_RETURN]
    return [ids.object_id_for_return(task_id, i + 1) for i in range(num_returns)]


def _add_return_ids(spec: common_pb2.TaskSpec) -> None:
    if spec.num_returns:
        spec.return_ids.extend(return_ids(spec.task_id, spec.num_returns))


_FIRST_RETURN = ids.object_id_for_return(b"", 1)


def python_function(
    module: str, name: str, function_hash: bytes = b""
) -> common_pb2.FunctionDescriptor:
    """The descriptor of a Python function (by content hash when exported by a driver)."""
    return common_pb2.FunctionDescriptor(
        language=common_pb2.LANGUAGE_PYTHON,
        module_name=module,
        function_name=name,
        function_hash=function_hash,
    )
