"""`ReadObjectReply` on the wire without protobuf's copies (the object transfer's hot path).

A chunk is a few bytes of header and megabytes of object data. Building the message with
protobuf copies the data into the message, again into the serialized bytes, and once more out
of the parsed message on the other side; on one stream that halves the transfer rate. This
codec writes and reads the same protobuf wire format by hand (so a peer using the generated
classes reads and writes it unchanged):

- `encode_reply` joins the header and the data (a memoryview of the sender's mapping) in one
  copy, into the bytes gRPC sends;
- `decode_reply` reads the header and gives the data as a memoryview into the bytes gRPC
  received, with no copy; the receiver then writes it once, into its store allocation.

Only the node managers' Python client and servicer use it (`channels.add_servicer`, the
`codecs` argument; `NodeManagerClient.read_object`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# ReadObjectReply's fields (proto/node_manager.proto): numbers and wire types.
_TOTAL_SIZE = 1
_OFFSET = 2
_DATA = 3
_VARINT = 0
_I64 = 1
_LEN = 2
_I32 = 5
_UINT64 = 1 << 64


class ChunkDecodeError(ValueError):
    """The bytes are not a well-formed ReadObjectReply."""


@dataclass(frozen=True, slots=True)
class ObjectChunk:
    """One ReadObjectReply: the object's whole size, where `data` starts in it, and the data."""

    total_size: int
    offset: int
    data: bytes | memoryview = b""


def _varint(value: int) -> bytes:
    if value < 0:
        value += _UINT64  # int64 as protobuf writes it: ten bytes, two's complement
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def encode_reply(chunk: ObjectChunk) -> bytes:
    """The serialized ReadObjectReply (fields at their defaults are left out, as protobuf does)."""
    head = bytearray()
    if chunk.total_size:
        head += _varint(_TOTAL_SIZE << 3 | _VARINT) + _varint(chunk.total_size)
    if chunk.offset:
        head += _varint(_OFFSET << 3 | _VARINT) + _varint(chunk.offset)
    size = len(chunk.data)
    if not size:
        return bytes(head)
    head += _varint(_DATA << 3 | _LEN) + _varint(size)
    return b"".join((head, chunk.data))


def _read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    value = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end or shift > 63:
            raise ChunkDecodeError("truncated or overlong varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _signed(value: int) -> int:
    value &= _UINT64 - 1
    return value - _UINT64 if value >> 63 else value


def decode_reply(raw: bytes) -> ObjectChunk:
    """Parses a serialized ReadObjectReply; `data` is a view into `raw` (no copy).

    Unknown fields are skipped and a repeated field's last value wins, as protobuf parses.

    Raises:
        ChunkDecodeError: The bytes are not a well-formed message.
    """
    buf = memoryview(raw)
    end = len(buf)
    total_size = offset = 0
    data: memoryview = buf[0:0]
    pos = 0
    while pos < end:
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos)
            if field == _TOTAL_SIZE:
                total_size = _signed(value)
            elif field == _OFFSET:
                offset = _signed(value)
        elif wire == _LEN:
            length, pos = _read_varint(buf, pos)
            if pos + length > end:
                raise ChunkDecodeError(f"field {field} runs past the message's end")
            if field == _DATA:
                data = buf[pos : pos + length]
            pos += length
        elif wire == _I64:
            pos += 8
        elif wire == _I32:
            pos += 4
        else:
            raise ChunkDecodeError(f"unsupported wire type {wire} for field {field}")
        if pos > end:
            raise ChunkDecodeError("truncated message")
    return ObjectChunk(total_size, offset, data)
