"""The serialization entry points: pick a format, build a frame, read one back.

``serialize()`` writes XLANG when the value's round trip is exact, PICKLE5 otherwise;
``deserialize()`` reads any of the four formats (DESIGN.md section 5).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError

from ray._private.generated import common_pb2

from . import pickle5, xlang
from .frame import (
    FORMAT_CPP,
    FORMAT_ERROR,
    FORMAT_JAVA,
    FORMAT_PICKLE5,
    FORMAT_RAW,
    FORMAT_XLANG,
    FrameError,
    SerializedObject,
    make_raw,
    parse_frame,
)

logger = logging.getLogger(__name__)

_xlang_encode = xlang.encode
_xlang_decode = xlang.decode


@dataclass
class ErrorValue:
    """The value of an ERROR object; ``deserialize()`` returns it instead of raising.

    Attributes:
        info: The error as written by the process that failed.
    """

    info: common_pb2.ErrorInfo


@dataclass
class ForeignValue:
    """A value in another language's own format (JAVA, CPP), which Python cannot read.

    Attributes:
        format: ``FORMAT_JAVA`` or ``FORMAT_CPP``.
        type_name: The value's type in its language.
        payload: The language's bytes (a view of the frame).
    """

    format: int
    type_name: str
    payload: memoryview

    @property
    def language_name(self) -> str:
        return "Java" if self.format == FORMAT_JAVA else "C++"


_FOREIGN_FORMATS = (FORMAT_JAVA, FORMAT_CPP)


def serialize(value: Any, path: str = "value") -> SerializedObject:
    """Serializes a value as XLANG when its round trip is exact, else as PICKLE5.

    Bytes payloads and array data are referenced, not copied, until the frame is written.

    Args:
        value: Any picklable value.
        path: How error messages name the value (e.g. ``"args"`` or ``"return value"``).

    Returns:
        The serialized object; ``contained_refs`` lists the refs recorded while pickling.

    Raises:
        TypeError: If the value cannot be pickled; the message starts with the path of the
            offending sub-value, e.g. ``args[1]['conn']``.
    """
    encoded = _xlang_encode(value)
    if encoded is not None:
        return SerializedObject(FORMAT_XLANG, encoded[0], encoded[1])
    header, buffers, refs = pickle5.dumps(value, path)
    return SerializedObject(FORMAT_PICKLE5, header, buffers, refs)


def serialize_raw(data: bytes) -> SerializedObject:
    """Wraps bytes as a RAW object (one buffer, no copy).

    Args:
        data: Any contiguous bytes-like object.

    Returns:
        The RAW serialized object.
    """
    return make_raw(data)


def serialize_error(info: common_pb2.ErrorInfo) -> SerializedObject:
    """Builds an ERROR object whose header is ``info``.

    Args:
        info: The error to store.

    Returns:
        The ERROR serialized object.
    """
    return SerializedObject(FORMAT_ERROR, info.SerializeToString())


def serialize_foreign(fmt: int, type_name: str, payload: Any) -> SerializedObject:
    """Builds a JAVA or CPP object: a ``LanguageValueHeader`` and the payload as its one buffer.

    Args:
        fmt: ``FORMAT_JAVA`` or ``FORMAT_CPP``.
        type_name: The value's type in its language.
        payload: The language's own bytes.

    Returns:
        The serialized object.
    """
    if fmt not in _FOREIGN_FORMATS:
        raise ValueError(f"not a language format: {fmt}")
    header = common_pb2.LanguageValueHeader(type_name=type_name).SerializeToString()
    return SerializedObject(fmt, header, [memoryview(payload).cast("B")])


def check_frame(data: Any, deep: bool = True) -> int:
    """Checks that ``data`` is a well-formed frame; returns its format.

    Args:
        data: The frame.
        deep: Also decode the header (XLANG values, ERROR and language headers; PICKLE5 is
            never unpickled here). Without it only the layout is checked (cheap for large
            frames: the buffers are not read).

    Raises:
        FrameError: It is not.
    """
    fmt, header, buffers = parse_frame(data)
    if not deep:
        return fmt
    if fmt == FORMAT_XLANG:
        _xlang_decode(header, buffers)
    elif fmt == FORMAT_RAW and len(buffers) != 1:
        raise FrameError(f"RAW frame must have exactly 1 buffer, has {len(buffers)}")
    elif fmt == FORMAT_ERROR:
        try:
            common_pb2.ErrorInfo.FromString(header)
        except DecodeError as exc:
            raise FrameError(f"invalid ERROR header: {exc}") from exc
    elif fmt in _FOREIGN_FORMATS:
        deserialize(data)
    return fmt


def deserialize(data: Any) -> Any:
    """Decodes a frame of any format.

    XLANG numpy arrays and PICKLE5 out-of-band buffers are zero-copy views of ``data`` (read-only
    when ``data`` is); RAW gives a bytes copy; ERROR gives an ``ErrorValue`` (nothing is raised).

    Args:
        data: The frame (bytes, bytearray, memoryview or mmap); trailing bytes are ignored.

    Returns:
        The decoded value.

    Raises:
        FrameError: If the frame or an XLANG/ERROR header is malformed. Exceptions raised while
            unpickling a PICKLE5 value (e.g. a missing module) propagate unchanged.
    """
    fmt, header, buffers = parse_frame(data)
    if fmt == FORMAT_XLANG:
        return _xlang_decode(header, buffers)
    if fmt == FORMAT_PICKLE5:
        return pickle5.loads(header, buffers)
    if fmt == FORMAT_RAW:
        if len(buffers) != 1:
            raise FrameError(f"RAW frame must have exactly 1 buffer, has {len(buffers)}")
        return bytes(buffers[0])
    if fmt in _FOREIGN_FORMATS:
        if len(buffers) != 1:
            raise FrameError(
                f"a language-format frame must have exactly 1 buffer, has {len(buffers)}"
            )
        try:
            foreign = common_pb2.LanguageValueHeader.FromString(header)
        except DecodeError as exc:
            raise FrameError(f"invalid language value header: {exc}") from exc
        return ForeignValue(fmt, foreign.type_name, buffers[0])
    try:
        info = common_pb2.ErrorInfo.FromString(header)
    except DecodeError as exc:
        raise FrameError(f"invalid ERROR header: {exc}") from exc
    return ErrorValue(info)
