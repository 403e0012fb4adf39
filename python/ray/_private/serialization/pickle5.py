"""PICKLE5: cloudpickle protocol 5 with out-of-band buffers (Python only).

The header is the pickle stream; the buffers are the ``PickleBuffer``s pickle handed out of band
(numpy arrays, among others), framed without copying. When pickling fails, the error names the
path of the offending sub-value, e.g. ``args[1]['conn']``.
"""

from __future__ import annotations

import logging
import pickle
import types
from collections.abc import Iterator
from typing import Any

from .contained_refs import ref_stack

logger = logging.getLogger(__name__)

HINT = (
    "pass a picklable description of it instead (e.g. a path, an address or the arguments "
    "that build it) or create it inside the task"
)
# How deep the search for the failing sub-value goes.
_MAX_SEARCH_DEPTH = 64
_REPR_LIMIT = 40


def dumps(value: Any, path: str = "value") -> tuple[bytes, list[memoryview], list[Any]]:
    """Pickles a value with cloudpickle protocol 5, keeping large buffers out of band.

    Args:
        value: The value to pickle.
        path: How error messages name the value (e.g. ``"args"``).

    Returns:
        ``(header, buffers, contained_refs)``: the pickle stream, the out-of-band buffers (views,
        not copies) and the refs recorded through ``record_contained_ref()`` meanwhile.

    Raises:
        TypeError: If some sub-value cannot be pickled. The message starts with its path and the
            original exception is the ``__cause__``.
    """
    import cloudpickle  # imported on first use: control-plane processes never pickle

    pickle_buffers: list[pickle.PickleBuffer] = []
    refs: list[Any] = []
    stack = ref_stack()
    stack.append(refs)
    try:
        header = cloudpickle.dumps(value, protocol=5, buffer_callback=pickle_buffers.append)
    except Exception as exc:
        raise _pickling_error(value, path, exc) from exc
    finally:
        stack.pop()
    return header, [_raw(buf) for buf in pickle_buffers], refs


def loads(header: Any, buffers: list[memoryview]) -> Any:
    """Unpickles a PICKLE5 header, serving out-of-band buffers from ``buffers`` without copies.

    Args:
        header: The pickle stream.
        buffers: The frame's buffers, in order.

    Returns:
        The value. Exceptions raised by unpickling (e.g. a missing module) propagate unchanged.
    """
    return pickle.loads(header, buffers=buffers)


def _raw(buf: pickle.PickleBuffer) -> memoryview:
    try:
        return buf.raw()
    except BufferError:  # not contiguous: the only case that needs a copy
        with memoryview(buf) as view:
            return memoryview(view.tobytes())


def _discard(_buf: pickle.PickleBuffer) -> None:
    return None  # falsy: keep the buffer out of band, so probing copies nothing


def _try_pickle(value: Any) -> Exception | None:
    import cloudpickle

    try:
        cloudpickle.dumps(value, protocol=5, buffer_callback=_discard)
    except Exception as exc:
        return exc
    return None


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    if len(text) > _REPR_LIMIT:
        text = text[: _REPR_LIMIT - 3] + "..."
    return text


def _function_children(func: types.FunctionType, path: str) -> Iterator[tuple[str, Any]]:
    code = func.__code__
    for name, cell in zip(code.co_freevars, func.__closure__ or (), strict=True):
        try:
            contents = cell.cell_contents
        except ValueError:  # empty cell
            continue
        yield f"{path}.<closure {name}>", contents
    names: set[str] = set()
    codes = [code]
    while codes:
        current = codes.pop()
        names.update(current.co_names)
        codes.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    module_globals = func.__globals__
    for name in sorted(names):
        if name in module_globals:
            yield f"{path}.<global {name}>", module_globals[name]


def _children(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Yields ``(path, sub-value)`` for the parts of ``value`` pickle would recurse into."""
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield f"{path}[{index}]", item
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}[{_short_repr(key)}]", item
        for key in value:
            yield f"{path}.<key {_short_repr(key)}>", key
    elif isinstance(value, (set, frozenset)):
        for item in value:
            yield f"{path}{{{_short_repr(item)}}}", item
    elif isinstance(value, types.FunctionType):
        yield from _function_children(value, path)
    elif not isinstance(value, (type, types.ModuleType)):
        attributes = getattr(value, "__dict__", None)
        if isinstance(attributes, dict):
            for name, item in attributes.items():
                yield f"{path}.{name}", item
        for klass in type(value).__mro__:
            slots = klass.__dict__.get("__slots__", ())
            for name in (slots,) if isinstance(slots, str) else slots:
                if name in ("__dict__", "__weakref__"):
                    continue
                try:
                    item = getattr(value, name)
                except AttributeError:
                    continue
                yield f"{path}.{name}", item


def _locate(value: Any, path: str, exc: Exception) -> tuple[str, Exception]:
    """Walks down to the deepest sub-value that fails to pickle on its own."""
    seen = {id(value)}
    for _ in range(_MAX_SEARCH_DEPTH):
        try:
            for child_path, child in _children(value, path):
                if id(child) in seen:
                    continue
                seen.add(id(child))
                error = _try_pickle(child)
                if error is not None:
                    value, path, exc = child, child_path, error
                    break
            else:
                break
        except Exception:  # a hostile __dict__, __repr__ or iterator: stop where we are
            logger.debug("stopped searching for the unpicklable part of %s", path, exc_info=True)
            break
    return path, exc


def _pickling_error(value: Any, path: str, exc: Exception) -> TypeError:
    bad_path, bad_exc = _locate(value, path, exc)
    reason = str(bad_exc) or type(bad_exc).__name__
    return TypeError(f"{bad_path}: {reason}; {HINT}")
