"""Actors: `@ray.remote` on classes, handles, named actors, `ray.kill`, `ray.method`."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from ray._private import object_ref_generator as gens
from ray._private import options as opts
from ray._private import placement_group as pg_options
from ray._private import runtime, values
from ray._private.generated import common_pb2, gcs_pb2
from ray._private.object_ref import ObjectRef
from ray._private.runtime_env.process_env import submission_env
from ray._private.worker.function_manager import FunctionManager
from ray._private.worker.runners.python import ActorExit
from ray._private.worker.task_spec import ActorOptions

logger = logging.getLogger(__name__)

__all__ = ["ActorClass", "ActorHandle", "ActorMethod", "exit_actor", "get_actor", "kill", "method"]

_DEFAULT_ACTOR_OPTIONS = {"max_restarts": 0, "max_task_retries": 0}


# The options of `@ray.method(...)` and of `.options(...)` on an actor method call.
METHOD_OPTIONS = (
    "num_returns",
    "concurrency_group",
    "max_task_retries",
    "retry_exceptions",
    "enable_task_events",
    "_generator_backpressure_num_objects",
)
_CALL_OPTIONS = ("name", *METHOD_OPTIONS)


def _validate_method_options(options: dict[str, Any], what: str) -> None:
    """Raises ValueError/TypeError for unknown or malformed actor method options."""
    opts.validate(
        {k: v for k, v in options.items() if k in ("num_returns", "retry_exceptions")},
        opts.TASK_OPTIONS,
        what,
    )
    group = options.get("concurrency_group")
    if group is not None and not isinstance(group, str):
        raise TypeError(f"concurrency_group must be a str, got {group!r}")
    retries = options.get("max_task_retries")
    if retries is not None and (
        not isinstance(retries, int) or isinstance(retries, bool) or retries < -1
    ):
        raise ValueError(f"max_task_retries must be an integer >= -1, got {retries!r}")
    events = options.get("enable_task_events")
    if events is not None and not isinstance(events, bool):
        raise TypeError(f"enable_task_events must be a bool, got {events!r}")
    backpressure = options.get("_generator_backpressure_num_objects")
    if backpressure is not None and (
        not isinstance(backpressure, int) or isinstance(backpressure, bool)
    ):
        raise TypeError(f"_generator_backpressure_num_objects must be an int, got {backpressure!r}")


def method(*args: Any, **kwargs: Any) -> Any:
    """Annotates an actor method with options for its calls.

    Used as `@ray.method(num_returns=2)`, `@ray.method(concurrency_group="io")`, ... with the
    keyword options `num_returns`, `concurrency_group`, `max_task_retries`,
    `retry_exceptions`, `enable_task_events` and `_generator_backpressure_num_objects`; a
    call's `.options(...)` overrides them.

    Raises:
        ValueError: Positional arguments, or an unknown option.
    """
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]  # a bare @ray.method: nothing to record
    if args:
        raise ValueError(
            "The @ray.method decorator takes keyword options only, e.g. "
            f"@ray.method(num_returns=2); valid options: {list(METHOD_OPTIONS)}"
        )
    unknown = sorted(set(kwargs) - set(METHOD_OPTIONS))
    if unknown:
        raise ValueError(
            f"Invalid option(s) for @ray.method: {unknown}. Valid options: {list(METHOD_OPTIONS)}"
        )
    _validate_method_options(kwargs, "@ray.method")

    def annotate(fn: Any) -> Any:
        if "num_returns" in kwargs:
            fn.__ray_num_returns__ = kwargs["num_returns"]
        if "concurrency_group" in kwargs:
            fn.__ray_concurrency_group__ = kwargs["concurrency_group"]
        fn.__ray_method_options__ = {
            **getattr(fn, "__ray_method_options__", {}),
            **{k: v for k, v in kwargs.items() if k != "num_returns"},
        }
        return fn

    return annotate


def exit_actor() -> None:
    """Ends the current actor after the running call returns; later calls raise ActorDiedError."""
    cw = runtime.core_worker()
    if not cw.actor_id:
        raise TypeError("exit_actor() is only allowed inside an actor method")
    raise ActorExit()


def _method_meta(cls: type) -> tuple[dict[str, int], bool, dict[str, dict[str, Any]]]:
    """Each method's num_returns, whether the class is async, and each method's other
    `@ray.method` options (only methods that have some)."""
    meta: dict[str, int] = {}
    method_options: dict[str, dict[str, Any]] = {}
    is_async = False
    for name, member in inspect.getmembers(cls):
        if not (inspect.isfunction(member) or inspect.ismethod(member)):
            continue
        is_gen = inspect.isgeneratorfunction(member) or inspect.isasyncgenfunction(member)
        meta[name] = getattr(member, "__ray_num_returns__", gens.STREAMING if is_gen else 1)
        options = getattr(member, "__ray_method_options__", None)
        if options:
            method_options[name] = dict(options)
        if inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member):
            is_async = True
    return meta, is_async, method_options


def _concurrency_groups(value: Any, cls_name: str) -> dict[str, int]:
    """The `concurrency_groups=` option checked: names to positive sizes.

    Raises:
        TypeError, ValueError: It is not such a dict.
    """
    if value is None:
        return {}
    if isinstance(value, (list, tuple)):
        raise TypeError(
            f"concurrency_groups of {cls_name} must be a dict of group name -> max concurrency, "
            f'e.g. {{"io": 2}}; got {value!r}'
        )
    if not isinstance(value, dict):
        raise TypeError(f"concurrency_groups of {cls_name} must be a dict, got {value!r}")
    for name, size in value.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"concurrency group names must be non-empty strings, got {name!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(
                f"concurrency group {name!r} of {cls_name} must have a max concurrency >= 1, "
                f"got {size!r}"
            )
    return dict(value)


def _check_method_groups(
    method_options: dict[str, dict[str, Any]], groups: dict[str, int], cls_name: str
) -> None:
    for name, options in method_options.items():
        group = options.get("concurrency_group")
        if group and group not in groups:
            raise ValueError(
                f"{cls_name}.{name} is in the concurrency group {group!r}, which {cls_name} does "
                f"not define (its groups: {sorted(groups) or 'none'}); add it to "
                "@ray.remote(concurrency_groups={...})"
            )


class ActorClass:
    """A class made remote: `Cls.remote(*args)` creates an actor and returns its handle."""

    def __init__(self, cls: type, options: dict[str, Any]) -> None:
        opts.validate(options, opts.ACTOR_OPTIONS, f"actor class {cls.__name__}")
        self._cls = cls
        self._options = options
        self._name = cls.__name__
        self._meta, self._is_async, self._method_options = _method_meta(cls)
        _concurrency_groups(options.get("concurrency_groups"), cls.__name__)
        self._hash: bytes | None = None
        self._pickled: bytes | None = None
        self.__doc__ = cls.__doc__
        # What a worker instantiates when a descriptor names this module attribute.
        self.__ray_remote_target__ = cls

    @classmethod
    def _from_class(cls, target: type, options: dict[str, Any]) -> ActorClass:
        return cls(target, options)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Actors cannot be instantiated directly. Instead of '{self._name}()', use '{self._name}.remote()'."
        )

    def options(self, **options: Any) -> _BoundActorClass:
        merged = {**self._options, **options}
        opts.validate(merged, opts.ACTOR_OPTIONS, f"actor class {self._name}")
        _concurrency_groups(merged.get("concurrency_groups"), self._name)
        return _BoundActorClass(self, merged)

    def remote(self, *args: Any, **kwargs: Any) -> ActorHandle:
        return self._remote(args, kwargs, self._options)

    def _remote(self, args: tuple, kwargs: dict, options: dict[str, Any]) -> ActorHandle:
        groups = _concurrency_groups(options.get("concurrency_groups"), self._name)
        # Checked at creation: the groups may come with .options(concurrency_groups=...).
        _check_method_groups(self._method_options, groups, self._name)
        cw = runtime.core_worker()
        if self._hash is None:
            self._hash, self._pickled = FunctionManager.pickle(
                self._cls, f"actor class {self._name}"
            )
        assert self._pickled is not None
        module = getattr(self._cls, "__module__", "") or ""
        cw.functions.export(
            self._hash, self._pickled, f"actor class {self._name}", module, self._name
        )
        options = {**_DEFAULT_ACTOR_OPTIONS, **options}
        namespace = options.get("namespace")
        max_concurrency = options.get("max_concurrency") or (1000 if self._is_async else 1)
        resources, placement, strategy = pg_options.resolve(
            options,
            opts.resource_request(options, 0),
            opts.resource_request(options, 1),
            opts.scheduling_strategy(options.get("scheduling_strategy")),
            f"actor {self._name}",
        )
        actor_options = ActorOptions(
            class_name=self._name,
            name=options.get("name") or "",
            namespace=cw.namespace if namespace is None else namespace,
            detached=options.get("lifetime") == "detached",
            resources=resources,
            placement_resources=placement,
            max_restarts=options["max_restarts"],
            max_task_retries=options["max_task_retries"],
            max_concurrency=max_concurrency,
            is_async=self._is_async,
            method_num_returns={k: gens.num_returns_to_wire(v) for k, v in self._meta.items()},
            get_if_exists=bool(options.get("get_if_exists")),
            strategy=strategy,
            concurrency_groups=groups,
            runtime_env=submission_env(cw, options.get("runtime_env")),
        )
        descriptor = common_pb2.FunctionDescriptor(
            language=common_pb2.LANGUAGE_PYTHON,
            module_name=module,
            class_name=self._name,
            function_name="__init__",
            function_hash=self._hash,
        )
        created = cw.create_actor(descriptor, values.task_args(args, kwargs), actor_options)
        if created.existing is not None:
            return ActorHandle._from_info(created.existing)
        return ActorHandle(
            created.actor_id,
            self._name,
            self._meta,
            self._is_async,
            created.handle_ref,
            options["max_task_retries"],
            max_concurrency + sum(groups.values()),
            self._method_options,
        )


class _BoundActorClass:
    def __init__(self, actor_class: ActorClass, options: dict[str, Any]) -> None:
        self._actor_class = actor_class
        self._options = options

    def remote(self, *args: Any, **kwargs: Any) -> ActorHandle:
        return self._actor_class._remote(args, kwargs, self._options)


class ActorHandle:
    """A reference to an actor; pass it to tasks and other actors like any value."""

    def __init__(
        self,
        actor_id: bytes,
        class_name: str,
        meta: dict[str, int],
        is_async: bool,
        handle_ref: ObjectRef | None,
        max_task_retries: int,
        max_concurrency: int = 1,
        method_options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self._ray_actor_id = actor_id
        self._ray_class_name = class_name
        self._ray_meta = meta
        self._ray_is_async = is_async
        self._ray_handle_ref = handle_ref
        self._ray_max_task_retries = max_task_retries
        # Calls in flight at once: every concurrency group's, the default one's included.
        self._ray_max_concurrency = max_concurrency
        self._ray_method_options = method_options or {}

    @classmethod
    def _from_info(cls, info: gcs_pb2.ActorInfo) -> ActorHandle:
        creation = info.creation_spec.actor_creation
        handle_ref = None
        if info.creation_spec.return_ids:
            cw = runtime.core_worker()
            owner = info.owner_address
            handle_ref = ObjectRef(
                info.creation_spec.return_ids[0], None if cw.is_me(owner) else owner
            )
        return cls(
            info.actor_id,
            creation.class_name,
            {k: gens.num_returns_from_wire(v) for k, v in creation.method_num_returns.items()},
            creation.is_async,
            handle_ref,
            creation.max_task_retries,
            (creation.max_concurrency or 1) + sum(creation.concurrency_groups.values()),
        )

    @classmethod
    def _from_actor_id(cls, actor_id: bytes) -> ActorHandle:
        info = runtime.core_worker().gcs.get_actor_info(actor_id)
        if info is None:
            raise ValueError(f"unknown actor {actor_id.hex()}")
        return cls._from_info(info)

    @property
    def _actor_id(self) -> Any:
        return _ActorID(self._ray_actor_id)

    def _ray_method(self, name: str) -> tuple[common_pb2.FunctionDescriptor, str]:
        """The descriptor and default task name of a method (made once per handle)."""
        cache = self.__dict__.setdefault("_ray_methods", {})
        found = cache.get(name)
        if found is None:
            descriptor = common_pb2.FunctionDescriptor(
                language=common_pb2.LANGUAGE_PYTHON,
                class_name=self._ray_class_name,
                function_name=name,
            )
            found = cache[name] = (descriptor, f"{self._ray_class_name}.{name}")
        return found

    def __getattr__(self, name: str) -> ActorMethod:
        if name.startswith("_ray_"):
            raise AttributeError(name)
        if name in self._ray_meta or name in ("__ray_terminate__", "__ray_ready__"):
            return ActorMethod(
                self, name, self._ray_meta.get(name, 1), None, self._ray_method_options.get(name)
            )
        if not self._ray_meta and not name.startswith("__"):
            # An actor made from a descriptor (the client gateway, another language): its
            # methods are not known here; calls name them and return one value.
            return ActorMethod(self, name, 1)
        raise AttributeError(
            f"'ActorHandle' object for {self._ray_class_name} has no method '{name}'"
        )

    def __reduce__(self) -> tuple:
        return (
            ActorHandle,
            (
                self._ray_actor_id,
                self._ray_class_name,
                self._ray_meta,
                self._ray_is_async,
                self._ray_handle_ref,
                self._ray_max_task_retries,
                self._ray_max_concurrency,
                self._ray_method_options,
            ),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActorHandle) and other._ray_actor_id == self._ray_actor_id

    def __hash__(self) -> int:
        return hash(self._ray_actor_id)

    def __repr__(self) -> str:
        return f"Actor({self._ray_class_name}, {self._ray_actor_id.hex()})"


class _ActorID:
    def __init__(self, binary: bytes) -> None:
        self._binary = binary

    def hex(self) -> str:
        return self._binary.hex()

    def binary(self) -> bytes:
        return self._binary

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ActorID) and other._binary == self._binary

    def __hash__(self) -> int:
        return hash(self._binary)

    def __repr__(self) -> str:
        return f"ActorID({self._binary.hex()})"


class ActorMethod:
    """`handle.method`: call `.remote(*args)` to run it on the actor."""

    def __init__(
        self,
        handle: ActorHandle,
        name: str,
        num_returns: Any,
        task_name: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._handle = handle
        self._name = name
        self._num_returns = num_returns
        self._task_name = task_name
        # The call's options beside num_returns and name (from @ray.method and .options).
        self._call_options = options or {}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Actor methods cannot be called directly. Instead of running 'object.{self._name}()', "
            f"try 'object.{self._name}.remote()'."
        )

    def options(self, **options: Any) -> ActorMethod:
        """This method with other call options (`num_returns`, `name`, `concurrency_group`,
        `max_task_retries`, `retry_exceptions`, `enable_task_events`,
        `_generator_backpressure_num_objects`).

        Raises:
            ValueError: An unknown option.
        """
        unknown = sorted(set(options) - set(_CALL_OPTIONS))
        if unknown:
            raise ValueError(
                f"Invalid option(s) for the actor method {self._name}: {unknown}. "
                f"Valid options: {list(_CALL_OPTIONS)}"
            )
        _validate_method_options(options, f"actor method {self._name}")
        rest = {k: v for k, v in options.items() if k not in ("num_returns", "name")}
        return ActorMethod(
            self._handle,
            self._name,
            options.get("num_returns", self._num_returns),
            options.get("name", self._task_name),
            {**self._call_options, **rest},
        )

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        h = self._handle
        method, default_name = h._ray_method(self._name)
        options = self._call_options
        retries = options.get("max_task_retries")
        cw = runtime.core_worker()
        num_returns = self._num_returns
        kind = gens.generator_kind(num_returns) if isinstance(num_returns, str) else 0
        refs = cw.submit_actor_call(
            h._ray_actor_id,
            method,
            values.task_args(args, kwargs),
            1 if kind else num_returns,
            h._ray_max_task_retries if retries is None else retries,
            h._ray_max_concurrency,
            self._task_name or default_name,
            concurrency_group=options.get("concurrency_group") or "",
            retry_exceptions=options.get("retry_exceptions", False),
            generator_kind=kind,
            generator_backpressure=max(options.get("_generator_backpressure_num_objects") or 0, 0),
        )
        if kind == common_pb2.GENERATOR_KIND_STREAMING:
            return gens.ObjectRefGenerator(refs[0], cw)
        if kind or self._num_returns == 1:
            return refs[0]
        if self._num_returns == 0:
            return None
        return refs


def get_actor(name: str, namespace: str | None = None) -> ActorHandle:
    """Returns a handle to the live actor named `name` (in `namespace`, default: the job's).

    Raises:
        ValueError: No live actor has that name.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("Please supply a non-empty name to get_actor")
    cw = runtime.core_worker()
    ns = cw.namespace if namespace is None else namespace
    info = cw.gcs.get_named_actor(name, ns)
    if info is None:
        raise ValueError(
            f"Failed to look up actor with name '{name}' in namespace '{ns}'. It may have died, never "
            "existed, or live in another namespace (pass namespace=)."
        )
    return ActorHandle._from_info(info)


def kill(actor: ActorHandle, *, no_restart: bool = True) -> None:
    """Kills an actor at once; calls in flight fail with RayActorError.

    With `no_restart=False` the actor is restarted if its max_restarts allows.
    """
    if not isinstance(actor, ActorHandle):
        raise ValueError(f"ray.kill() only supports actors. Got: {type(actor)}.")
    runtime.core_worker().kill_actor(actor._ray_actor_id, no_restart)
