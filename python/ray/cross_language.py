"""Calling Java and C++ functions from Python, as upstream's `ray.cross_language` does.

    add = ray.cross_language.java_function("io.ray.demo.MathFunctions", "add")
    assert ray.get(add.remote(1, 2)) == 3
    twice = ray.cross_language.cpp_function("Twice")   # a RAY_REMOTE function
    assert ray.get(twice.remote(21)) == 42

The function runs on a worker of the cluster in its own language: the job's code search path
(`ray.init(job_config=JobConfig(code_search_path=[...]))`) names the jars or shared libraries
to load it from. Arguments and results cross as XLANG values (None, bool, int, float, str,
bytes, lists, dicts, numpy arrays), or as ObjectRefs to such values.
"""

from __future__ import annotations

from typing import Any

from ray._private import options as opts
from ray._private import placement_group as pg_options
from ray._private import runtime, values
from ray._private.generated import common_pb2
from ray._private.worker.task_spec import TaskOptions

__all__ = ["cpp_function", "java_function"]

# The options a task in another language takes (its workers run what the library defines).
_OPTIONS = {
    "name",
    "num_cpus",
    "num_gpus",
    "resources",
    "memory",
    "max_retries",
    "scheduling_strategy",
}


class CrossLanguageFunction:
    """A function of another language: `.remote(*args)` returns an ObjectRef to its result."""

    def __init__(self, descriptor: common_pb2.FunctionDescriptor, options: dict[str, Any]) -> None:
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise ValueError(
                f"option(s) {', '.join(unknown)} are not supported for a function of another "
                f"language; supported: {', '.join(sorted(_OPTIONS))}"
            )
        self._descriptor = descriptor
        self._options = options
        self._name = descriptor.function_name
        if descriptor.class_name:
            self._name = f"{descriptor.class_name}.{descriptor.function_name}"

    def options(self, **options: Any) -> CrossLanguageFunction:
        """The same function with these options on top (`num_cpus`, `resources`, `name`...)."""
        return CrossLanguageFunction(self._descriptor, {**self._options, **options})

    def remote(self, *args: Any) -> Any:
        max_retries = self._options.get("max_retries")
        resources, _, strategy = pg_options.resolve(
            self._options,
            opts.resource_request(self._options, 1),
            None,
            opts.scheduling_strategy(self._options.get("scheduling_strategy")),
            f"function {self._name}",
        )
        task_options = TaskOptions(
            name=self._options.get("name") or self._name,
            num_returns=1,
            resources=resources,
            max_retries=3 if max_retries is None else max_retries,
            retry_exceptions=False,
            strategy=strategy,
        )
        cw = runtime.core_worker()
        (ref,) = cw.submit_task(self._descriptor, values.task_args(args, {}), task_options)
        return ref

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{self._name} runs on the cluster: call {self._name}.remote(...)")

    def __repr__(self) -> str:
        return f"CrossLanguageFunction({self._name})"


def java_function(class_name: str, function_name: str) -> CrossLanguageFunction:
    """A public static method of a Java class on the code search path, as a remote function."""
    if not class_name or not function_name:
        raise ValueError("java_function needs a class name and a method name")
    return CrossLanguageFunction(
        common_pb2.FunctionDescriptor(
            language=common_pb2.LANGUAGE_JAVA, class_name=class_name, function_name=function_name
        ),
        {},
    )


def cpp_function(function_name: str) -> CrossLanguageFunction:
    """A C++ function registered with RAY_REMOTE in a library on the code search path."""
    if not function_name:
        raise ValueError("cpp_function needs the name the function was registered under")
    return CrossLanguageFunction(
        common_pb2.FunctionDescriptor(
            language=common_pb2.LANGUAGE_CPP, function_name=function_name
        ),
        {},
    )
