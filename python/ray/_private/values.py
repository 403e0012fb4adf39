"""Python values over the frames-level core: serialize on the way in, deserialize on the way out.

The core worker stores, sends and fetches frames; this module is where the
Python API turns values into frames (`task_args`, `put`) and frames back into
values (`get`), raising ERROR frames as exceptions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ray._private import object_ref, serialization
from ray._private.object_ref import ObjectRef, collect_borrows
from ray._private.worker import errors
from ray._private.worker.task_spec import Arg, RefArg, ValueArg

logger = logging.getLogger(__name__)


def task_args(args: tuple, kwargs: dict) -> list[Arg]:
    """The arguments of a call as frames (by value) or references (a top-level ObjectRef).

    Raises:
        TypeError: An argument cannot be serialized (the message names its path).
    """
    if not args and not kwargs:
        return []
    out: list[Arg] = []
    items = [(f"args[{i}]", "", a) for i, a in enumerate(args)]
    if kwargs:
        items += [(f"kwargs[{k!r}]", k, v) for k, v in kwargs.items()]
    for path, keyword, value in items:
        if type(value) is ObjectRef:
            out.append(RefArg(value._id, value._owner, keyword))
        else:
            ser = serialization.serialize(value, path=path)
            out.append(ValueArg(ser, keyword, tuple(ser.contained_refs)))
    return out


def put(cw: Any, value: Any) -> ObjectRef:
    """Stores a value; returns a reference this process owns (pinned while it lives)."""
    if isinstance(value, ObjectRef):
        raise TypeError(
            "ray.put() of an ObjectRef is not allowed: pass the ref itself, or wrap it "
            "in a list to store a reference to it"
        )
    ser = serialization.serialize(value, path="ray.put() value")
    return cw.put_frame(ser, ser.contained_refs)


def get(cw: Any, refs: Sequence[ObjectRef], timeout: float | None) -> list[Any]:
    """Values of `refs`, in order; raises the first error among them, or GetTimeoutError."""
    return [value_of(frame) for frame in cw.get_frames(refs, timeout)]


def value_of(frame: Any) -> Any:
    """The Python value of a frame; an ERROR frame raises its exception."""
    with collect_borrows():
        value = serialization.deserialize(frame)
    if isinstance(value, serialization.ErrorValue):
        raise errors.to_exception(value.info)
    if isinstance(value, serialization.ForeignValue):
        raise TypeError(
            f"the object is a {value.language_name} value of type {value.type_name}, which "
            "Python cannot read; have the other language return a cross-language value "
            "(numbers, strings, bytes, lists, maps, arrays)"
        )
    return value


object_ref.set_value_reader(get)
