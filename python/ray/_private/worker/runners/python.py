"""The Python runner: functions by hash or by module and name, values through `serialization`."""

from __future__ import annotations

import inspect
import logging
import types
from collections.abc import Sequence
from typing import Any

from ray._private import serialization
from ray._private.generated import common_pb2
from ray._private.object_ref import collect_borrows
from ray._private.worker import errors
from ray._private.worker.function_manager import FunctionManager

logger = logging.getLogger(__name__)


class ActorExit(BaseException):
    """Raised by `ray.actor.exit_actor()` to end the actor after the current call."""


def _terminate() -> None:
    raise ActorExit()


class PythonRunner:
    """Runs Python tasks and actor methods; arguments and results are frames."""

    def __init__(self, functions: FunctionManager) -> None:
        self._functions = functions

    def create_actor(self, spec: common_pb2.TaskSpec, args: Sequence[Any]) -> Any:
        cls = self._functions.load(spec.function, spec.name)
        positional, keywords = _decode(spec, args)
        return cls(*positional, **keywords)

    def is_async(self, actor: Any) -> bool:
        return any(
            inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member)
            for _, member in inspect.getmembers(type(actor), inspect.isfunction)
        )

    def run(self, spec: common_pb2.TaskSpec, args: Sequence[Any], actor: Any) -> Any:
        fn = self._resolve(spec, actor)
        positional, keywords = _decode(spec, args)
        result = fn(*positional, **keywords)
        if spec.generator_kind:  # the executor drives it (worker/generators.py)
            return result
        if type(result) is types.CoroutineType:  # an async actor's `async def` method
            return _encode_later(spec, result)
        return encode_results(spec, result)

    def _resolve(self, spec: common_pb2.TaskSpec, actor: Any) -> Any:
        if actor is None:
            return self._functions.load(spec.function, spec.name)
        name = spec.function.function_name
        if name == "__ray_terminate__":
            return _terminate
        if name == "__ray_ready__":
            return lambda: True
        try:
            return getattr(actor, name)
        except AttributeError:
            raise AttributeError(
                f"the actor {type(actor).__name__} has no method {name!r}"
            ) from None


async def _encode_later(spec: common_pb2.TaskSpec, awaitable: Any) -> list:
    return encode_results(spec, await awaitable)


def _decode(spec: common_pb2.TaskSpec, frames: Sequence[Any]) -> tuple[list, dict]:
    """The call's arguments as Python values (refs inside them register as borrows)."""
    if not frames:
        return [], {}
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    with collect_borrows():
        for arg, frame in zip(spec.args, frames, strict=True):
            value = serialization.deserialize(frame)
            if isinstance(value, serialization.ErrorValue):
                raise errors.to_exception(value.info)
            if isinstance(value, serialization.ForeignValue):
                raise TypeError(
                    f"argument {len(positional) + len(keywords)} of {spec.name} is a "
                    f"{value.language_name} value of type {value.type_name}, which Python cannot "
                    "read; pass a cross-language value (numbers, strings, bytes, lists, maps, arrays)"
                )
            if arg.keyword:
                keywords[arg.keyword] = value
            else:
                positional.append(value)
    return positional, keywords


def encode_results(spec: common_pb2.TaskSpec, result: Any) -> list:
    """One serialized frame per return of the task."""
    n = spec.num_returns
    if spec.type == common_pb2.TASK_TYPE_ACTOR_CREATION or n == 0:
        return []
    if n == 1:
        values = [result]
    else:
        if not isinstance(result, (tuple, list)) or len(result) != n:
            got = (
                f"a {type(result).__name__} of length {len(result)}"
                if isinstance(result, (tuple, list))
                else type(result).__name__
            )
            raise ValueError(
                f"Task {spec.name} has num_returns={n} but returned {got}; return a tuple or "
                f"list of {n} values"
            )
        values = list(result)
    return [serialization.serialize(value, path="return value") for value in values]
