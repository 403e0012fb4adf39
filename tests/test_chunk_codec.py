"""The hand-written ReadObjectReply codec writes and reads exactly protobuf's wire format."""

from __future__ import annotations

import pytest

from ray._private.generated import node_manager_pb2 as pb
from ray._private.rpc.chunk_codec import ChunkDecodeError, ObjectChunk, decode_reply, encode_reply

CASES = [
    (0, 0, b""),
    (5, 0, b"hello"),
    (1 << 40, (1 << 40) - 3, b"abc"),
    (300, 128, bytes(range(256)) * 3),
    (-1, 0, b""),  # malformed on purpose: protobuf carries it, the assembler refuses it
    (7, 2, b"\x00" * (1 << 20)),
]


@pytest.mark.parametrize(("total", "offset", "data"), CASES)
def test_encode_is_protobufs_bytes(total: int, offset: int, data: bytes):
    ours = encode_reply(ObjectChunk(total, offset, memoryview(data)))
    assert (
        ours == pb.ReadObjectReply(total_size=total, offset=offset, data=data).SerializeToString()
    )


@pytest.mark.parametrize(("total", "offset", "data"), CASES)
def test_decode_reads_protobufs_bytes(total: int, offset: int, data: bytes):
    raw = pb.ReadObjectReply(total_size=total, offset=offset, data=data).SerializeToString()
    chunk = decode_reply(raw)
    assert (chunk.total_size, chunk.offset, bytes(chunk.data)) == (total, offset, data)


def test_decode_does_not_copy_the_data():
    raw = encode_reply(ObjectChunk(10, 0, b"x" * 10))
    chunk = decode_reply(raw)
    assert isinstance(chunk.data, memoryview) and chunk.data.obj is raw


def test_decode_skips_unknown_fields_and_keeps_the_last_value():
    known = pb.ReadObjectReply(total_size=9, offset=1, data=b"old").SerializeToString()
    # field 7 as varint, field 8 as bytes, field 9 as fixed64, then data again.
    extra = b"\x38\x05" + b"\x42\x02zz" + b"\x49" + b"\x00" * 8 + b"\x1a\x03new"
    chunk = decode_reply(known + extra)
    assert (chunk.total_size, chunk.offset, bytes(chunk.data)) == (9, 1, b"new")


@pytest.mark.parametrize(
    "raw",
    [b"\x08", b"\x1a\x05abc", b"\x08" + b"\xff" * 11, b"\x0b\x00", b"\x49\x00"],
    ids=["cut-varint", "data-past-end", "overlong-varint", "group-wire-type", "cut-fixed64"],
)
def test_decode_refuses_malformed_bytes(raw: bytes):
    with pytest.raises(ChunkDecodeError):
        decode_reply(raw)
