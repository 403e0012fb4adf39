"""The object frame: the byte layout every stored object has (DESIGN.md section 5).

Layout (all integers little endian)::

    offset 0   4 bytes  magic b"RXO1"
    offset 4   u8       format (ObjectFormat: 1 XLANG, 2 PICKLE5, 3 RAW, 4 ERROR)
    offset 5   3 bytes  reserved, zero
    offset 8   u32      num_buffers
    offset 12  u32      reserved, zero
    offset 16  u64      header_size
    offset 24  buffer table: num_buffers x (u64 offset, u64 size), offsets from the frame start
    then       header bytes
    then       buffers, each starting at the next multiple of 64; padding bytes are zero

This module knows nothing about what the header means; see ``xlang.py`` and
``pickle5.py`` for the formats and ``tests/xlang/README.md`` for the full spec.
"""

from __future__ import annotations

import logging
import os
import struct
from typing import Any

logger = logging.getLogger(__name__)

MAGIC = b"RXO1"
ALIGNMENT = 64
FIXED_SIZE = 24
TABLE_ENTRY_SIZE = 16

FORMAT_XLANG = 1
FORMAT_PICKLE5 = 2
FORMAT_RAW = 3
FORMAT_ERROR = 4
FORMAT_JAVA = 5
FORMAT_CPP = 6
_KNOWN_FORMATS = frozenset(
    (FORMAT_XLANG, FORMAT_PICKLE5, FORMAT_RAW, FORMAT_ERROR, FORMAT_JAVA, FORMAT_CPP)
)

_FIXED = struct.Struct("<4sB3xIIQ")
_MAGIC_AND_FORMAT = struct.Struct("<4sB")
_ZEROS = bytes(ALIGNMENT)


class FrameError(ValueError):
    """A byte string is not a well-formed object frame (bad magic, truncated, out of range)."""


def _align(offset: int) -> int:
    return (offset + ALIGNMENT - 1) & ~(ALIGNMENT - 1)


def as_byte_view(data: Any) -> memoryview:
    """Returns a flat unsigned-byte memoryview over ``data`` without copying.

    Args:
        data: Any object exporting a C-contiguous buffer (bytes, bytearray, memoryview, mmap, ...).

    Returns:
        A one-dimensional memoryview of format ``"B"``.

    Raises:
        FrameError: If ``data`` does not export a contiguous buffer.
    """
    try:
        view = data if type(data) is memoryview else memoryview(data)
        if view.format != "B" or view.ndim != 1 or not view.c_contiguous:
            view = view.cast("B")
    except TypeError as exc:
        raise FrameError(
            f"expected a contiguous bytes-like object, got {type(data).__name__}"
        ) from exc
    return view


class SerializedObject:
    """A value turned into a header and out-of-band buffers, ready to be framed.

    Attributes:
        format: The ``common_pb2.OBJECT_FORMAT_*`` value of the frame.
        header: The header bytes (a ``Value``, a pickle, an ``ErrorInfo``, or empty).
        buffers: The out-of-band buffers, each a contiguous memoryview of format ``"B"``.
        contained_refs: Objects passed to ``record_contained_ref()`` while the value was serialized.
    """

    __slots__ = ("format", "header", "buffers", "contained_refs", "_layout")

    def __init__(
        self,
        format: int,
        header: bytes,
        buffers: list[memoryview] | None = None,
        contained_refs: list | None = None,
    ) -> None:
        self.format = format
        self.header = header
        self.buffers = [] if buffers is None else buffers
        self.contained_refs = [] if contained_refs is None else contained_refs
        self._layout: tuple[bytes, int, list[int], int] | None = None

    def _compute_layout(self) -> tuple[bytes, int, list[int], int]:
        buffers = self.buffers
        count = len(buffers)
        header_size = len(self.header)
        header_start = FIXED_SIZE + TABLE_ENTRY_SIZE * count
        end = header_start + header_size
        if count == 0:
            prefix = _FIXED.pack(MAGIC, self.format, 0, 0, header_size)
            layout = (prefix, header_start, [], end)
        else:
            offsets = []
            table = []
            for buf in buffers:
                offset = _align(end)
                size = buf.nbytes
                offsets.append(offset)
                table.append(offset)
                table.append(size)
                end = offset + size
            prefix = _FIXED.pack(MAGIC, self.format, count, 0, header_size) + struct.pack(
                f"<{2 * count}Q", *table
            )
            layout = (prefix, header_start, offsets, end)
        self._layout = layout
        return layout

    @property
    def total_size(self) -> int:
        """The size in bytes of the whole frame."""
        layout = self._layout or self._compute_layout()
        return layout[3]

    def write_to(self, dest: Any) -> None:
        """Writes the whole frame into ``dest[:total_size]``, copying each buffer once.

        Padding is written explicitly, so ``dest`` may hold stale bytes (e.g. a reused mmap).

        Args:
            dest: A writable buffer (memoryview, bytearray, mmap) of at least ``total_size`` bytes.

        Raises:
            ValueError: If ``dest`` is too small or read-only.
        """
        prefix, header_start, offsets, total = self._layout or self._compute_layout()
        own_view = type(dest) is not memoryview
        view = dest if not own_view else memoryview(dest)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
            own_view = True
        try:
            if view.readonly:
                raise ValueError("write_to: destination buffer is read-only")
            if len(view) < total:
                raise ValueError(
                    f"write_to: destination has {len(view)} bytes, frame needs {total}"
                )
            header = self.header
            view[0 : len(prefix)] = prefix
            pos = header_start + len(header)
            view[header_start:pos] = header
            for buf, offset in zip(self.buffers, offsets, strict=True):
                if offset > pos:
                    view[pos:offset] = _ZEROS[: offset - pos]
                pos = offset + buf.nbytes
                view[offset:pos] = buf
        finally:
            if own_view:
                view.release()

    def write_to_fd(self, fd: int) -> None:
        """Writes the whole frame to a new (empty or zero-filled) file with pwrite.

        On tmpfs this is about twice as fast as copying into a fresh mapping,
        which pays a page fault per page. Padding is left as the file's zeros.

        Args:
            fd: A file descriptor open for writing; the file is sized to the frame.
        """
        prefix, header_start, offsets, total = self._layout or self._compute_layout()
        os.ftruncate(fd, total)
        head = prefix + self.header
        _pwrite_all(fd, memoryview(head), 0)
        for buf, offset in zip(self.buffers, offsets, strict=True):
            _pwrite_all(fd, buf, offset)

    def to_bytes(self) -> bytes:
        """Returns the whole frame as one bytes object (each buffer copied once).

        Returns:
            The frame bytes, ``total_size`` of them.
        """
        prefix, header_start, offsets, _total = self._layout or self._compute_layout()
        if not offsets:
            return prefix + self.header
        parts: list[Any] = [prefix, self.header]
        pos = header_start + len(self.header)
        for buf, offset in zip(self.buffers, offsets, strict=True):
            if offset > pos:
                parts.append(_ZEROS[: offset - pos])
            parts.append(buf)
            pos = offset + buf.nbytes
        return b"".join(parts)

    def __repr__(self) -> str:
        return (
            f"SerializedObject(format={self.format}, header_size={len(self.header)}, "
            f"buffers={[b.nbytes for b in self.buffers]}, "
            f"contained_refs={len(self.contained_refs)})"
        )


_PWRITE_CHUNK = 64 << 20


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    pos = 0
    size = data.nbytes
    while pos < size:
        pos += os.pwrite(fd, data[pos : pos + _PWRITE_CHUNK], offset + pos)


def parse_frame(data: Any) -> tuple[int, memoryview, list[memoryview]]:
    """Splits a frame into its format, header and buffers without copying.

    Bytes after the end of the frame are ignored, so ``data`` may be a larger region.

    Args:
        data: The frame (bytes, bytearray, memoryview or mmap).

    Returns:
        ``(format, header, buffers)``; the header and buffers are memoryviews into ``data``.

    Raises:
        FrameError: If the magic, the format or any size or offset is invalid.
    """
    view = as_byte_view(data)
    length = len(view)
    if length < FIXED_SIZE:
        raise FrameError(f"frame too short: {length} bytes, the fixed header alone is {FIXED_SIZE}")
    magic, fmt, count, _reserved, header_size = _FIXED.unpack_from(view, 0)
    if magic != MAGIC:
        raise FrameError(f"bad frame magic {magic!r}, expected {MAGIC!r}")
    if fmt not in _KNOWN_FORMATS:
        raise FrameError(f"unknown object format {fmt}")
    header_start = FIXED_SIZE + TABLE_ENTRY_SIZE * count
    header_end = header_start + header_size
    if header_end > length:
        raise FrameError(
            f"frame truncated: {count} buffer entries and a {header_size}-byte header "
            f"need {header_end} bytes, got {length}"
        )
    buffers: list[memoryview] = []
    if count:
        table = struct.unpack_from(f"<{2 * count}Q", view, FIXED_SIZE)
        for index in range(count):
            offset = table[2 * index]
            end = offset + table[2 * index + 1]
            if offset < header_end or end > length:
                raise FrameError(
                    f"buffer {index} [{offset}, {end}) lies outside the frame body "
                    f"[{header_end}, {length})"
                )
            buffers.append(view[offset:end])
    return fmt, view[header_start:header_end], buffers


def frame_format(data: Any) -> int:
    """Returns the format of a frame, reading only the magic and the format byte.

    Args:
        data: The frame, or at least its first 5 bytes.

    Returns:
        The ``common_pb2.OBJECT_FORMAT_*`` value.

    Raises:
        FrameError: If ``data`` is too short, has a bad magic or an unknown format.
    """
    view = as_byte_view(data)
    if len(view) < _MAGIC_AND_FORMAT.size:
        raise FrameError(f"frame too short: {len(view)} bytes")
    magic, fmt = _MAGIC_AND_FORMAT.unpack_from(view, 0)
    if magic != MAGIC:
        raise FrameError(f"bad frame magic {magic!r}, expected {MAGIC!r}")
    if fmt not in _KNOWN_FORMATS:
        raise FrameError(f"unknown object format {fmt}")
    return fmt


def make_raw(data: Any) -> SerializedObject:
    """Builds a RAW object: an empty header and one buffer holding ``data`` (not copied).

    Args:
        data: A contiguous bytes-like object.

    Returns:
        The RAW ``SerializedObject``.
    """
    try:
        view = data if type(data) is memoryview else memoryview(data)
        if view.format != "B" or view.ndim != 1 or not view.c_contiguous:
            view = view.cast("B")
    except TypeError:  # not contiguous: the only case that copies
        view = memoryview(bytes(data))
    return SerializedObject(FORMAT_RAW, b"", [view])
