"""XLANG: the cross-language ``Value`` format (DESIGN.md section 5, tests/xlang/README.md).

The header is a serialized ``ray.rpc.Value``. Every bytes payload and every array's element data
is an out-of-band buffer of the frame, referenced by index in depth-first order of appearance.

Python writes XLANG only when the round trip is exact: the value is built from exactly (no
subclasses) None, bool, int in int64 range, float, str, bytes, list, dict and numpy.ndarray of a
numeric little-endian dtype, with no shared or cyclic containers, at most ``MAX_VALUES`` values
and at most ``MAX_MESSAGE_DEPTH`` levels of protobuf message nesting.
"""

from __future__ import annotations

import logging
import math
import sys
from typing import Any

from google.protobuf.message import DecodeError

from ray._private.generated import common_pb2

from .frame import FrameError

logger = logging.getLogger(__name__)

# Values (map keys included) above which a Python value is written as PICKLE5 instead.
MAX_VALUES = 100_000
# Protobuf message nesting (the top Value counts 1, a list adds 2, a map 3, an array 1) above which
# a Python value is written as PICKLE5. Protobuf readers refuse more than 100 by default.
MAX_MESSAGE_DEPTH = 64

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

# numpy dtype.str -> XLANG dtype name. Only these (little endian) dtypes are XLANG.
DTYPE_NAMES: dict[str, str] = {
    "|b1": "bool",
    "|i1": "int8",
    "<i2": "int16",
    "<i4": "int32",
    "<i8": "int64",
    "|u1": "uint8",
    "<u2": "uint16",
    "<u4": "uint32",
    "<u8": "uint64",
    "<f4": "float32",
    "<f8": "float64",
}
_DTYPE_CODES = {name: code for code, name in DTYPE_NAMES.items()}
_numpy_dtypes: dict[str, Any] = {}

_Value = common_pb2.Value
_EMPTY = memoryview(b"")
_NULL_HEADER = _Value(null_value=common_pb2.NullValue()).SerializeToString()
_TRUE_HEADER = _Value(bool_value=True).SerializeToString()
_FALSE_HEADER = _Value(bool_value=False).SerializeToString()


class _NotXlang(Exception):
    """Internal signal: the value has no exact XLANG form."""


class _NoNdarray:
    """Stands in for numpy.ndarray when numpy is not loaded: no value has this type."""


class _Encoder:
    """Fills a ``Value`` message from a Python value, collecting out-of-band buffers."""

    __slots__ = ("buffers", "count", "seen", "ndarray")

    def __init__(self) -> None:
        self.buffers: list[memoryview] = []
        self.count = 1
        self.seen: set[int] = set()
        numpy = sys.modules.get("numpy")
        self.ndarray: type = numpy.ndarray if numpy is not None else _NoNdarray

    def fill(self, msg: Any, value: Any, depth: int) -> None:
        t = type(value)
        if t is str:
            try:
                msg.string_value = value
            except ValueError:  # lone surrogates are not UTF-8
                raise _NotXlang from None
        elif t is int:
            if not INT64_MIN <= value <= INT64_MAX:
                raise _NotXlang
            msg.int_value = value
        elif t is float:
            msg.float_value = value
        elif t is bool:
            msg.bool_value = value
        elif value is None:
            msg.null_value.SetInParent()
        elif t is bytes:
            msg.bytes_buffer = len(self.buffers)
            self.buffers.append(memoryview(value))
        elif t is list:
            self._fill_list(msg.list_value, value, depth + 2)
        elif t is dict:
            self._fill_map(msg.map_value, value, depth + 3)
        elif t is self.ndarray:
            self._fill_array(msg.array_value, value, depth + 1)
        else:
            raise _NotXlang

    def _enter(self, container: Any, depth: int, values: int) -> None:
        if depth > MAX_MESSAGE_DEPTH:
            raise _NotXlang
        key = id(container)
        if key in self.seen:  # shared or cyclic: XLANG would not keep the identity
            raise _NotXlang
        self.seen.add(key)
        self.count += values
        if self.count > MAX_VALUES:
            raise _NotXlang

    def _fill_list(self, msg: Any, value: list, depth: int) -> None:
        self._enter(value, depth, len(value))
        msg.SetInParent()
        add = msg.items.add
        fill = self.fill
        for item in value:
            t = type(item)
            if t is int and INT64_MIN <= item <= INT64_MAX:
                add(int_value=item)
            elif t is float:
                add(float_value=item)
            elif t is str:
                try:
                    add(string_value=item)
                except ValueError:  # lone surrogates are not UTF-8
                    raise _NotXlang from None
            else:
                fill(add(), item, depth)

    def _fill_map(self, msg: Any, value: dict, depth: int) -> None:
        self._enter(value, depth, 2 * len(value))
        msg.SetInParent()
        add = msg.entries.add
        fill = self.fill
        for key, item in value.items():
            entry = add()
            fill(entry.key, key, depth)
            fill(entry.value, item, depth)

    def _fill_array(self, msg: Any, value: Any, depth: int) -> None:
        name = DTYPE_NAMES.get(value.dtype.str)
        if name is None:
            raise _NotXlang
        self._enter(value, depth, 0)
        if not value.flags.c_contiguous:
            value = sys.modules["numpy"].ascontiguousarray(value)
        msg.dtype = name
        msg.shape.extend(value.shape)
        msg.data_buffer = len(self.buffers)
        self.buffers.append(memoryview(value).cast("B") if value.size else _EMPTY)


def encode(value: Any) -> tuple[bytes, list[memoryview]] | None:
    """Encodes a value as an XLANG header and buffers, if its round trip is exact.

    Bytes payloads and array data are not copied: the buffers are views of them.

    Args:
        value: The Python value.

    Returns:
        ``(header, buffers)``, or None when the value must be pickled instead.
    """
    t = type(value)
    if t is int:
        if INT64_MIN <= value <= INT64_MAX:
            return _Value(int_value=value).SerializeToString(), []
        return None
    if t is str:
        try:
            return _Value(string_value=value).SerializeToString(), []
        except ValueError:
            return None
    if t is float:
        return _Value(float_value=value).SerializeToString(), []
    if value is None:
        return _NULL_HEADER, []
    if t is bool:
        return (_TRUE_HEADER if value else _FALSE_HEADER), []
    encoder = _Encoder()
    msg = _Value()
    try:
        encoder.fill(msg, value, 1)
    except _NotXlang:
        return None
    return msg.SerializeToString(), encoder.buffers


def decode(header: Any, buffers: list[memoryview]) -> Any:
    """Decodes an XLANG header and its buffers into a Python value.

    Arrays are read-only-if-the-source-is ``numpy.frombuffer`` views of their buffers (no copy);
    bytes payloads are copied.

    Args:
        header: The serialized ``Value``.
        buffers: The frame's buffers.

    Returns:
        The Python value.

    Raises:
        FrameError: If the header is not a valid ``Value`` or references a missing buffer.
    """
    try:
        msg = _Value.FromString(header)
    except DecodeError as exc:
        raise FrameError(f"invalid XLANG header: {exc}") from exc
    return _to_python(msg, buffers)


def _buffer(buffers: list[memoryview], index: int) -> memoryview:
    if index >= len(buffers):
        raise FrameError(f"XLANG value references buffer {index}, the frame has {len(buffers)}")
    return buffers[index]


def _to_python(msg: Any, buffers: list[memoryview]) -> Any:
    kind = msg.WhichOneof("kind")
    if kind == "int_value":
        return msg.int_value
    if kind == "string_value":
        return msg.string_value
    if kind == "float_value":
        return msg.float_value
    if kind == "list_value":
        return _to_list(msg.list_value.items, buffers)
    if kind == "map_value":
        result = {}
        for entry in msg.map_value.entries:
            key = _to_python(entry.key, buffers)
            item = _to_python(entry.value, buffers)
            try:
                result[key] = item
            except TypeError as exc:
                raise FrameError(f"XLANG map key {key!r} has no Python equivalent: {exc}") from exc
        return result
    if kind == "bool_value":
        return msg.bool_value
    if kind == "null_value":
        return None
    if kind == "bytes_buffer":
        return bytes(_buffer(buffers, msg.bytes_buffer))
    if kind == "array_value":
        return _to_array(msg.array_value, buffers)
    raise FrameError("XLANG Value has no kind set")


def _to_list(items: Any, buffers: list[memoryview]) -> list[Any]:
    result: list[Any] = []
    append = result.append
    for item in items:  # scalars inline: long lists are mostly numbers and strings
        kind = item.WhichOneof("kind")
        if kind == "int_value":
            append(item.int_value)
        elif kind == "float_value":
            append(item.float_value)
        elif kind == "string_value":
            append(item.string_value)
        else:
            append(_to_python(item, buffers))
    return result


def _numpy_dtype(name: str) -> Any:
    dtype = _numpy_dtypes.get(name)
    if dtype is None:
        code = _DTYPE_CODES.get(name)
        if code is None:
            raise FrameError(f"unknown XLANG array dtype {name!r}")
        import numpy

        dtype = _numpy_dtypes[name] = numpy.dtype(code)
    return dtype


def _to_array(msg: Any, buffers: list[memoryview]) -> Any:
    import numpy

    dtype = _numpy_dtype(msg.dtype)
    shape = tuple(msg.shape)
    if any(dim < 0 for dim in shape):
        raise FrameError(f"XLANG array has a negative dimension: {shape}")
    data = _buffer(buffers, msg.data_buffer)
    expected = math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        raise FrameError(
            f"XLANG array {msg.dtype}{list(shape)} needs {expected} bytes, its buffer has {len(data)}"
        )
    array = numpy.frombuffer(data, dtype=dtype)
    if len(shape) != 1:
        array = array.reshape(shape)
    return array
