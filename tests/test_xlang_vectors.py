"""Checks the Python serializer against the cross-language vectors in tests/xlang/.

For every vector: serializing the value rebuilt from the manifest gives exactly the .bin bytes,
deserializing the .bin gives the value back, and an independent encoder written from
tests/xlang/README.md alone (the way a Java or C++ implementation would be) gives the same bytes.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import struct
from pathlib import Path
from typing import Any

import pytest
from utils import assert_same

from ray._private.generated import common_pb2
from ray._private.serialization import (
    ErrorValue,
    deserialize,
    frame_format,
)

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
VECTOR_DIR = ROOT / "tests" / "xlang"


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "gen_xlang_vectors", ROOT / "scripts" / "gen_xlang_vectors.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
VECTORS = gen.load_manifest()
FORMATS = {"XLANG": 1, "PICKLE5": 2, "RAW": 3, "ERROR": 4}


# --- an independent writer, from the README only -------------------------------------------


def _value_pb(node: dict[str, Any], msg: Any, buffers: list[bytes]) -> None:
    ((kind, payload),) = node.items()
    if kind == "null":
        msg.null_value.SetInParent()
    elif kind == "bool":
        msg.bool_value = payload
    elif kind == "int":
        msg.int_value = int(payload)
    elif kind == "float":
        msg.float_value = float.fromhex(payload)
    elif kind == "str":
        msg.string_value = payload
    elif kind == "bytes_hex":
        msg.bytes_buffer = len(buffers)
        buffers.append(bytes.fromhex(payload))
    elif kind == "list":
        msg.list_value.SetInParent()
        for item in payload:
            _value_pb(item, msg.list_value.items.add(), buffers)
    elif kind == "map":
        msg.map_value.SetInParent()
        for key, item in payload:
            entry = msg.map_value.entries.add()
            _value_pb(key, entry.key, buffers)
            _value_pb(item, entry.value, buffers)
    elif kind == "array":
        msg.array_value.dtype = payload["dtype"]
        msg.array_value.shape.extend(payload["shape"])
        msg.array_value.data_buffer = len(buffers)
        buffers.append(bytes.fromhex(payload["data_hex"]))
    else:
        raise AssertionError(f"unknown kind {kind}")


def _frame(fmt: int, header: bytes, buffers: list[bytes]) -> bytes:
    out = bytearray(b"RXO1" + bytes([fmt, 0, 0, 0]))
    out += struct.pack("<IIQ", len(buffers), 0, len(header))
    table_at = len(out)
    out += bytes(16 * len(buffers))
    out += header
    for index, buf in enumerate(buffers):
        while len(out) % 64:
            out.append(0)
        struct.pack_into("<QQ", out, table_at + 16 * index, len(out), len(buf))
        out += buf
    return bytes(out)


def _independent_frame(vector: dict[str, Any]) -> bytes:
    fmt = vector["format"]
    if fmt == "RAW":
        return _frame(3, b"", [bytes.fromhex(vector["value"]["bytes_hex"])])
    if fmt == "ERROR":
        return _frame(4, gen.error_from_json(vector["value"]["error"]).SerializeToString(), [])
    msg = common_pb2.Value()
    buffers: list[bytes] = []
    _value_pb(vector["value"], msg, buffers)
    return _frame(1, msg.SerializeToString(), buffers)


# --- the checks -----------------------------------------------------------------------------


def _bin(vector: dict[str, Any]) -> bytes:
    return (VECTOR_DIR / f"{vector['name']}.bin").read_bytes()


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_serializing_gives_vector_bytes(vector: dict[str, Any]) -> None:
    expected = _bin(vector)
    obj = gen.serialize_vector(vector)
    assert obj.format == FORMATS[vector["format"]]
    assert obj.total_size == len(expected)
    assert obj.to_bytes() == expected
    dirty = bytearray(b"\xaa" * (len(expected) + 7))
    obj.write_to(memoryview(dirty))
    assert bytes(dirty[: len(expected)]) == expected


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_deserializing_vector_gives_value(vector: dict[str, Any]) -> None:
    data = _bin(vector)
    assert frame_format(data) == FORMATS[vector["format"]]
    result = deserialize(data)
    expected = gen.expected_value(vector)
    if vector["format"] == "ERROR":
        assert isinstance(result, ErrorValue)
        assert result.info == expected
    else:
        assert_same(result, expected)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_independent_writer_matches_vector(vector: dict[str, Any]) -> None:
    assert _independent_frame(vector) == _bin(vector)


def test_manifest_is_complete() -> None:
    with open(VECTOR_DIR / "vectors.json", encoding="utf-8") as f:
        manifest = json.load(f)
    assert manifest["format_version"] == 1
    names = [v["name"] for v in VECTORS]
    assert len(names) == len(set(names))
    assert 20 <= len(names) <= 40
    on_disk = {p.stem for p in VECTOR_DIR.glob("*.bin")}
    assert on_disk == set(names)
    kinds: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        ((kind, payload),) = node.items()
        kinds.add(kind)
        if kind == "list":
            for item in payload:
                walk(item)
        elif kind == "map":
            for key, item in payload:
                walk(key)
                walk(item)

    for vector in VECTORS:
        if vector["format"] == "XLANG":
            walk(vector["value"])
    assert kinds == {"null", "bool", "int", "float", "str", "bytes_hex", "list", "map", "array"}
    assert {v["format"] for v in VECTORS} == {"XLANG", "RAW", "ERROR"}
    dtypes = {v["value"]["array"]["dtype"] for v in VECTORS if "array" in v["value"]}
    assert {"int32", "float64", "uint8", "bool"} <= dtypes


def test_generator_check_passes() -> None:
    assert gen.main(["--check"]) == 0
