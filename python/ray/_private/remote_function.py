"""`@ray.remote` on functions."""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any

from ray._private import constants, runtime, values
from ray._private import object_ref_generator as gens
from ray._private import options as opts
from ray._private import placement_group as pg_options
from ray._private.generated import common_pb2
from ray._private.runtime_env.process_env import submission_env
from ray._private.worker.function_manager import FunctionManager
from ray._private.worker.task_spec import TaskOptions, python_function

logger = logging.getLogger(__name__)


class RemoteFunction:
    """A function that runs as a task: call `.remote(*args)` to get ObjectRef(s)."""

    def __init__(self, function: Any, options: dict[str, Any]) -> None:
        opts.validate(options, opts.TASK_OPTIONS, "a remote function")
        self._function = function
        self._options = options
        self._name = getattr(function, "__qualname__", getattr(function, "__name__", "function"))
        self._descriptor: common_pb2.FunctionDescriptor | None = None
        self._pickled: bytes | None = None
        # The options as the core takes them, built at the first call.
        self._task_options: TaskOptions | None = None
        # The process env the cached options were resolved against.
        self._task_options_env: Any = None
        functools.update_wrapper(self, function)
        # What a worker runs when a descriptor names this module attribute.
        self.__ray_remote_target__ = function

    def __getstate__(self) -> dict[str, Any]:
        # A task that calls another remote function captures it: pickle the function and its
        # options, not the per-process export cache (a protobuf message is not picklable).
        state = dict(self.__dict__)
        state["_descriptor"] = None
        state["_pickled"] = None
        state["_task_options"] = None
        state["_task_options_env"] = None
        return state

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Remote functions cannot be called directly. Instead of running '{self._name}()', "
            f"try '{self._name}.remote()'."
        )

    def options(self, **options: Any) -> _Bound:
        """Returns a handle whose `.remote()` uses these options on top of the decorator's."""
        merged = {**self._options, **options}
        opts.validate(merged, opts.TASK_OPTIONS, "a remote function")
        return _Bound(self, merged)

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        cw = runtime.core_worker()
        if pg_options.is_capturing(cw):
            # The running task's group takes its children: options differ per caller.
            return self._remote(args, kwargs, self._make_task_options(self._options))
        if self._task_options is None or self._task_options_env is not cw.runtime_env:
            self._task_options = self._make_task_options(self._options)
            self._task_options_env = cw.runtime_env
        return self._remote(args, kwargs, self._task_options)

    def _make_task_options(self, options: dict[str, Any]) -> TaskOptions:
        cw = runtime.core_worker()
        runtime_env = submission_env(cw, options.get("runtime_env"))
        max_retries = options.get("max_retries")
        if max_retries is None:
            max_retries = constants.DEFAULT_TASK_MAX_RETRIES
        retry = options.get("retry_exceptions", False)
        num_returns = options.get("num_returns")
        if num_returns is None:
            # A generator function streams its values by default, as in Ray.
            is_gen = inspect.isgeneratorfunction(self._function) or inspect.isasyncgenfunction(
                self._function
            )
            num_returns = gens.STREAMING if is_gen else 1
        kind = gens.generator_kind(num_returns)
        backpressure = options.get("_generator_backpressure_num_objects") or 0
        resources, _, strategy = pg_options.resolve(
            options,
            opts.resource_request(options, 1),
            None,
            opts.scheduling_strategy(options.get("scheduling_strategy")),
            f"task {self._name}",
        )
        return TaskOptions(
            name=options.get("name") or self._name,
            num_returns=1 if kind else num_returns,
            generator_kind=kind,
            generator_backpressure=max(backpressure, 0),
            resources=resources,
            max_retries=max_retries,
            retry_exceptions=tuple(retry) if isinstance(retry, (list, tuple)) else bool(retry),
            strategy=strategy,
            max_calls=options.get("max_calls") or 0,
            runtime_env=runtime_env,
        )

    def _remote(self, args: tuple, kwargs: dict, task_options: TaskOptions) -> Any:
        cw = runtime.core_worker()
        if self._descriptor is None:
            function_hash, self._pickled = FunctionManager.pickle(
                self._function, f"remote function {self._name}"
            )
            self._descriptor = python_function(
                getattr(self._function, "__module__", "") or "", self._name, function_hash
            )
        assert self._pickled is not None
        cw.functions.export(
            self._descriptor.function_hash,
            self._pickled,
            f"remote function {self._name}",
            self._descriptor.module_name,
            self._name,
        )
        refs = cw.submit_task(self._descriptor, values.task_args(args, kwargs), task_options)
        num_returns = task_options.num_returns
        if task_options.generator_kind == common_pb2.GENERATOR_KIND_STREAMING:
            return gens.ObjectRefGenerator(refs[0], cw)
        if num_returns == 1:
            return refs[0]
        if num_returns == 0:
            return None
        return refs


class _Bound:
    def __init__(self, fn: RemoteFunction, options: dict[str, Any]) -> None:
        self._fn = fn
        self._options = options
        # A bad strategy fails here, at .options(), as before.
        opts.scheduling_strategy(options.get("scheduling_strategy"))
        # Built at the first call (its runtime_env needs the cluster).
        self._task_options: TaskOptions | None = None
        self._task_options_env: Any = None

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        cw = runtime.core_worker()
        if self._task_options is None or self._task_options_env is not cw.runtime_env:
            self._task_options = self._fn._make_task_options(self._options)
            self._task_options_env = cw.runtime_env
        return self._fn._remote(args, kwargs, self._task_options)
