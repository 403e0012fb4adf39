"""Unit tests of object serialization: the frame, XLANG, PICKLE5, RAW and ERROR (no processes)."""

from __future__ import annotations

import collections
import importlib.abc
import logging
import mmap
import random
import struct
import sys
import threading
from typing import Any

import numpy as np
import pytest
from utils import assert_same

from ray._private.generated import common_pb2
from ray._private.serialization import (
    ErrorValue,
    FrameError,
    SerializedObject,
    deserialize,
    frame_format,
    record_contained_ref,
    serialize,
    serialize_error,
    serialize_raw,
)
from ray._private.serialization import xlang as xlang_module
from ray._private.serialization.frame import parse_frame

logger = logging.getLogger(__name__)

XLANG = common_pb2.OBJECT_FORMAT_XLANG
PICKLE5 = common_pb2.OBJECT_FORMAT_PICKLE5
RAW = common_pb2.OBJECT_FORMAT_RAW
ERROR = common_pb2.OBJECT_FORMAT_ERROR


def roundtrip(value: Any) -> tuple[int, Any]:
    obj = serialize(value)
    return obj.format, deserialize(obj.to_bytes())


# --- frame layout ---------------------------------------------------------------------------


def test_small_int_frame_bytes() -> None:
    obj = serialize(1)
    assert isinstance(obj, SerializedObject)
    assert obj.format == XLANG
    assert obj.buffers == [] and obj.contained_refs == []
    data = obj.to_bytes()
    assert data == b"RXO1\x01\x00\x00\x00" + bytes(8) + struct.pack("<Q", 2) + b"\x18\x02"
    assert obj.total_size == len(data) == 26


def test_buffers_are_aligned_and_padding_is_zero() -> None:
    value = [b"a" * 3, np.arange(5, dtype=np.int16), b"", b"z" * 100]
    obj = serialize(value)
    assert obj.format == XLANG
    data = obj.to_bytes()
    count, header_size = struct.unpack_from("<IxxxxQ", data, 8)
    assert count == 4
    end = 24 + 16 * count + header_size
    for index in range(count):
        offset, size = struct.unpack_from("<QQ", data, 24 + 16 * index)
        assert offset % 64 == 0
        assert offset == (end + 63) // 64 * 64
        assert data[end:offset] == bytes(offset - end)
        end = offset + size
    assert end == len(data) == obj.total_size
    fmt, header, buffers = parse_frame(data)
    assert fmt == XLANG and len(header) == header_size
    assert [bytes(b) for b in buffers] == [b"aaa", value[1].tobytes(), b"", b"z" * 100]


def test_write_to_dirty_memory_and_mmap() -> None:
    obj = serialize({"x": np.arange(10.0), "y": b"payload"})
    expected = obj.to_bytes()
    dirty = bytearray(b"\xff" * (obj.total_size + 100))
    obj.write_to(memoryview(dirty))
    assert bytes(dirty[: obj.total_size]) == expected
    assert dirty[obj.total_size :] == b"\xff" * 100
    with mmap.mmap(-1, obj.total_size) as mm:
        obj.write_to(mm)  # an mmap directly: write_to releases its own view
        assert mm[:] == expected
        view = memoryview(mm)
        obj.write_to(view)
        assert mm[:] == expected
        view.release()


def test_write_to_rejects_small_or_readonly_destination() -> None:
    obj = serialize(b"x" * 10)
    with pytest.raises(ValueError):
        obj.write_to(memoryview(bytearray(obj.total_size - 1)))
    with pytest.raises(ValueError):
        obj.write_to(memoryview(bytes(obj.total_size)))


def test_trailing_bytes_are_ignored() -> None:
    data = serialize([1, b"xy"]).to_bytes()
    assert deserialize(data + b"\x00garbage") == [1, b"xy"]


# --- XLANG ------------------------------------------------------------------------------------

XLANG_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    2**63 - 1,
    -(2**63),
    0.5,
    -0.0,
    float("inf"),
    1e300,
    "",
    "h\u00e9llo \U0001f680",
    b"",
    b"\x00\xff" * 50,
    [],
    {},
    [None, True, 1, 1.0, "s", b"b", [], {}],
    {"a": {"b": [1, {"c": None}]}, 1: "int key", 2.5: "float key", b"k": "bytes key"},
    {True: "bool key", None: "none key"},
    [[[[[[[[[[1]]]]]]]]]],
]


@pytest.mark.parametrize("value", XLANG_VALUES, ids=repr)
def test_xlang_roundtrip_is_exact(value: Any) -> None:
    fmt, result = roundtrip(value)
    assert fmt == XLANG
    assert_same(result, value)


def test_xlang_nan_roundtrip() -> None:
    fmt, result = roundtrip([float("nan")])
    assert fmt == XLANG
    assert result[0] != result[0]


def test_bool_and_int_stay_distinct() -> None:
    fmt, result = roundtrip([True, 1, False, 0, 1.0])
    assert fmt == XLANG
    assert [type(x) for x in result] == [bool, int, bool, int, float]


class _Point:
    def __init__(self, x: int) -> None:
        self.x = x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Point) and other.x == self.x


class _MyList(list):
    pass


def _closure_maker(n: int) -> Any:
    def add(x: int) -> int:
        return x + n

    return add


_shared = [1, 2]
_cyclic: list[Any] = [1]
_cyclic.append(_cyclic)

PICKLE5_VALUES = [
    (1, 2),
    {1, 2},
    frozenset({3}),
    bytearray(b"ab"),
    collections.OrderedDict(a=1),
    collections.defaultdict(int, a=1),
    _MyList([1]),
    2**63,
    -(2**63) - 1,
    [1, 2**64],
    {(1, 2): "tuple key"},
    np.int64(3),
    np.float32(1.5),
    [np.float64(2.0)],
    np.array([1, "a"], dtype=object),
    np.arange(3, dtype=">i4"),
    np.array([1 + 2j]),
    np.array(["ab"]),
    _Point(3),
    {"p": [_Point(4)]},
    [_shared, _shared],
    "\ud800",
    ["ok", "\udcff"],
    complex(1, 2),
]


@pytest.mark.parametrize("value", PICKLE5_VALUES, ids=lambda v: type(v).__name__)
def test_python_only_values_use_pickle5(value: Any) -> None:
    fmt, result = roundtrip(value)
    assert fmt == PICKLE5
    if isinstance(value, np.ndarray):
        assert result.dtype == value.dtype and (result == value).all()
    else:
        assert result == value
        assert type(result) is type(value)


def test_shared_list_identity_is_kept_by_pickle5() -> None:
    fmt, result = roundtrip([_shared, _shared])
    assert fmt == PICKLE5
    assert result[0] is result[1]


def test_cycle_uses_pickle5() -> None:
    fmt, result = roundtrip(_cyclic)
    assert fmt == PICKLE5
    assert result[1] is result


def test_functions_and_closures_use_pickle5() -> None:
    fmt, square = roundtrip(lambda x: x * x)
    assert fmt == PICKLE5 and square(7) == 49
    fmt, add = roundtrip(_closure_maker(10))
    assert fmt == PICKLE5 and add(1) == 11


def test_value_count_limit() -> None:
    limit = xlang_module.MAX_VALUES
    assert serialize(list(range(limit - 1))).format == XLANG  # the list itself counts 1
    assert serialize(list(range(limit))).format == PICKLE5
    assert serialize({i: i for i in range(limit // 2 + 1)}).format == PICKLE5


def test_depth_limit() -> None:
    def nested(depth: int) -> Any:
        value: Any = 1
        for _ in range(depth):
            value = [value]
        return value

    deepest = (xlang_module.MAX_MESSAGE_DEPTH - 1) // 2
    assert serialize(nested(deepest)).format == XLANG
    assert deserialize(serialize(nested(deepest)).to_bytes()) == nested(deepest)
    deeper = nested(deepest + 1)
    obj = serialize(deeper)
    assert obj.format == PICKLE5
    assert deserialize(obj.to_bytes()) == deeper


def test_plain_values_do_not_import_numpy_or_cloudpickle(monkeypatch: pytest.MonkeyPatch) -> None:
    class _Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
            if name.split(".")[0] in ("numpy", "cloudpickle"):
                raise ImportError(f"{name} must not be imported here")
            return None

    for name in list(sys.modules):
        if name.split(".")[0] in ("numpy", "cloudpickle"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_Blocker(), *sys.meta_path])
    value = {"a": [1, 2.5, "x", b"y", None, True], "b": {}}
    obj = serialize(value)
    assert obj.format == XLANG
    assert deserialize(obj.to_bytes()) == value
    assert deserialize(serialize_raw(b"r").to_bytes()) == b"r"
    assert "numpy" not in sys.modules and "cloudpickle" not in sys.modules


# --- numpy ------------------------------------------------------------------------------------

ARRAYS = [
    np.arange(12, dtype=np.int32),
    np.arange(6, dtype=np.float64).reshape(2, 3),
    np.zeros((0, 3), dtype=np.uint8),
    np.array([True, False]),
    np.array(7, dtype=np.int64),
    np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    np.array([-1, 2**63 - 1], dtype=np.int64),
    np.array([2**64 - 1], dtype=np.uint64),
    np.arange(4, dtype=np.int8),
    np.arange(4, dtype=np.int16),
    np.arange(4, dtype=np.uint16),
    np.arange(4, dtype=np.uint32),
]


@pytest.mark.parametrize("array", ARRAYS, ids=lambda a: f"{a.dtype}{list(a.shape)}")
def test_arrays_roundtrip_in_both_formats(array: np.ndarray) -> None:
    for container, fmt in (([array], XLANG), ({"k": array}, XLANG), ((array,), PICKLE5)):
        obj = serialize(container)
        assert obj.format == fmt
        result = deserialize(obj.to_bytes())
        inner = result["k"] if isinstance(result, dict) else result[0]
        assert_same(inner, array)


def test_non_contiguous_arrays_are_written_in_c_order() -> None:
    base = np.arange(20, dtype=np.float64).reshape(4, 5)
    for array in (base[:, ::2], base.T, np.asfortranarray(base)):
        obj = serialize({"a": array})
        assert obj.format == XLANG
        result = deserialize(obj.to_bytes())["a"]
        assert result.flags.c_contiguous
        assert_same(result, np.ascontiguousarray(array))


def test_serializing_does_not_copy_array_or_bytes_data() -> None:
    array = np.arange(1000, dtype=np.float64)
    payload = b"q" * 1000
    obj = serialize([array, payload])
    assert obj.format == XLANG
    assert np.shares_memory(np.frombuffer(obj.buffers[0], np.uint8), array)
    assert obj.buffers[1].obj is payload
    obj = serialize((array,))
    assert obj.format == PICKLE5
    assert np.shares_memory(np.frombuffer(obj.buffers[0], np.uint8), array)


def _source_view(data: Any) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)


@pytest.mark.parametrize("wrap", ["tuple", "list"])
def test_deserialized_arrays_are_zero_copy_views(wrap: str) -> None:
    array = np.arange(100, dtype=np.int64)
    value = (array,) if wrap == "tuple" else [array]
    frame = serialize(value).to_bytes()

    result = deserialize(frame)[0]  # bytes: read-only memory
    assert np.shares_memory(result, _source_view(frame))
    assert not result.flags.writeable

    writable = bytearray(frame)
    result = deserialize(writable)[0]
    assert np.shares_memory(result, _source_view(writable))
    assert result.flags.writeable

    readonly = memoryview(writable).toreadonly()
    result = deserialize(readonly)[0]
    assert np.shares_memory(result, _source_view(writable))
    assert not result.flags.writeable


def test_deserialized_arrays_view_a_read_only_mmap(tmp_path: Any) -> None:
    array = np.arange(64, dtype=np.float32).reshape(8, 8)
    path = tmp_path / "object"
    path.write_bytes(serialize({"a": array}).to_bytes())
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        result = deserialize(mm)["a"]
        assert_same(result, array)
        assert not result.flags.writeable
        base = result
        while not isinstance(base, memoryview):
            base = base.base
        assert base.obj is mm
        del result, base


def test_bytes_are_copied_on_read() -> None:
    frame = bytearray(serialize([b"abc"]).to_bytes())
    result = deserialize(frame)
    assert type(result[0]) is bytes
    frame[-1] = ord("z")
    assert result[0] == b"abc"


# --- RAW and ERROR ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"raw bytes", bytearray(b"ba"), memoryview(b"abcdef")[::2]], ids=repr
)
def test_raw(data: Any) -> None:
    obj = serialize_raw(data)
    assert obj.format == RAW and obj.header == b"" and len(obj.buffers) == 1
    frame = obj.to_bytes()
    assert frame_format(frame) == RAW
    result = deserialize(frame)
    assert type(result) is bytes and result == bytes(data)


def test_error() -> None:
    info = common_pb2.ErrorInfo(
        type=common_pb2.ERROR_TYPE_TASK_EXECUTION,
        message="boom",
        traceback="Traceback...",
        language=common_pb2.LANGUAGE_JAVA,
        exception_type="java.lang.IllegalStateException",
    )
    frame = serialize_error(info).to_bytes()
    assert frame_format(frame) == ERROR
    result = deserialize(frame)
    assert isinstance(result, ErrorValue)
    assert result.info == info


# --- robustness -------------------------------------------------------------------------------


def _sample_frames() -> list[bytes]:
    info = common_pb2.ErrorInfo(type=common_pb2.ERROR_TYPE_WORKER_DIED, message="died")
    return [
        serialize(42).to_bytes(),
        serialize({"a": [b"xyz", np.arange(5)], "b": "s"}).to_bytes(),
        serialize((1, np.arange(10))).to_bytes(),
        serialize_raw(b"raw").to_bytes(),
        serialize_raw(b"").to_bytes(),
        serialize_error(info).to_bytes(),
    ]


def test_every_truncation_is_a_frame_error() -> None:
    for frame in _sample_frames():
        for length in range(len(frame)):
            with pytest.raises(FrameError):
                deserialize(frame[:length])


def _frame(fmt: int, header: bytes, table: list[tuple[int, int]], body: bytes = b"") -> bytes:
    prefix = b"RXO1" + bytes([fmt, 0, 0, 0]) + struct.pack("<IIQ", len(table), 0, len(header))
    for offset, size in table:
        prefix += struct.pack("<QQ", offset, size)
    return prefix + header + body


def _value(**kwargs: Any) -> bytes:
    return common_pb2.Value(**kwargs).SerializeToString()


MALFORMED = {
    "empty": b"",
    "bad_magic": b"RXO2" + serialize(1).to_bytes()[4:],
    "format_0": _frame(0, b"", []),
    "format_7": _frame(7, b"", []),
    "java_no_buffer": _frame(5, b"", []),
    "cpp_garbage_header": _frame(6, b"\xff\xff", [(64, 0)], bytes(24)),
    "huge_num_buffers": b"RXO1\x01\x00\x00\x00\xff\xff\xff\xff" + bytes(12),
    "huge_header_size": b"RXO1\x01\x00\x00\x00" + bytes(8) + b"\xff" * 8,
    "buffer_past_end": _frame(3, b"", [(64, 10)], bytes(24 + 5)),
    "buffer_offset_overflow": _frame(3, b"", [(2**64 - 1, 2**64 - 1)]),
    "buffer_inside_header": _frame(1, _value(bytes_buffer=0), [(0, 4)]),
    "xlang_garbage_header": _frame(1, b"\xff\xff\xff", []),
    "xlang_empty_value": _frame(1, b"", []),
    "xlang_missing_buffer": _frame(1, _value(bytes_buffer=3), []),
    "xlang_invalid_utf8": _frame(1, b"\x2a\x02\xc3\x28", []),
    "xlang_unknown_dtype": _frame(
        1,
        _value(array_value=common_pb2.NDArray(dtype="complex64", shape=[0])),
        [(64, 0)],
        bytes(24),
    ),
    "xlang_negative_shape": _frame(
        1, _value(array_value=common_pb2.NDArray(dtype="uint8", shape=[-1])), [(64, 0)], bytes(24)
    ),
    "xlang_array_size_mismatch": _frame(
        1, _value(array_value=common_pb2.NDArray(dtype="int32", shape=[2])), [(64, 4)], bytes(28)
    ),
    "xlang_unhashable_key": _frame(
        1,
        _value(
            map_value=common_pb2.ValueMap(
                entries=[
                    common_pb2.ValueMapEntry(
                        key=common_pb2.Value(list_value=common_pb2.ValueList()),
                        value=common_pb2.Value(int_value=1),
                    )
                ]
            )
        ),
        [],
    ),
    "raw_no_buffer": _frame(3, b"", []),
    "raw_two_buffers": _frame(3, b"", [(64, 0), (64, 0)], bytes(24)),
    "error_garbage_header": _frame(4, b"\xff\xff", []),
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_frames_raise_frame_error(data: bytes) -> None:
    with pytest.raises(FrameError):
        deserialize(data)


def test_frame_format_checks() -> None:
    assert issubclass(FrameError, ValueError)
    assert frame_format(serialize(1).to_bytes()[:5]) == XLANG
    assert frame_format(memoryview(serialize((1,)).to_bytes())) == PICKLE5
    for bad in (b"", b"RXO1", b"XXXX\x01", b"RXO1\x09"):
        with pytest.raises(FrameError):
            frame_format(bad)
    with pytest.raises(FrameError):
        deserialize(12345)
    with pytest.raises(FrameError):
        deserialize(memoryview(serialize(1).to_bytes() * 2)[::2])  # not contiguous


def test_random_garbage_and_bit_flips_only_raise_frame_error() -> None:
    rng = random.Random(1234)
    for _ in range(300):
        garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(80)))
        with pytest.raises(FrameError):
            deserialize(garbage)
    frames = [
        serialize({"a": [1, -2.5, "str", b"bytes", None], "arr": np.arange(6).reshape(2, 3)}),
        serialize([{"k": np.array([True])}, b"x" * 70, {1: 2}]),
    ]
    for obj in frames:
        frame = obj.to_bytes()
        for _ in range(1500):
            corrupt = bytearray(frame)
            for _ in range(rng.randrange(1, 4)):
                corrupt[rng.randrange(len(corrupt))] = rng.randrange(256)
            try:
                deserialize(bytes(corrupt))
            except FrameError:
                pass


# --- pickling failures ------------------------------------------------------------------------


class _Holder:
    def __init__(self, inner: Any) -> None:
        self.name = "holder"
        self.inner = inner


class _Slotted:
    __slots__ = ("resource",)

    def __init__(self, resource: Any) -> None:
        self.resource = resource


def test_pickling_error_names_the_path() -> None:
    lock = threading.Lock()
    with pytest.raises(TypeError) as info:
        serialize((1, {"conn": lock}), path="args")
    message = str(info.value)
    assert message.startswith("args[1]['conn']: cannot pickle '_thread.lock' object; ")
    assert "create it inside the task" in message
    assert isinstance(info.value.__cause__, TypeError)
    assert "_thread.lock" in str(info.value.__cause__)


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda lock: lock, "value: "),
        (lambda lock: [0, [1, lock]], "value[1][1]: "),
        (lambda lock: _Holder(_Holder(lock)), "value.inner.inner: "),
        (lambda lock: {"h": _Slotted(lock)}, "value['h'].resource: "),
        (lambda lock: {1, (2, lock)}, "value{(2, <unlocked _thread.lock object"),
        (lambda lock: lambda: lock, "value.<closure lock>: "),
    ],
    ids=["root", "list", "attrs", "slots", "set", "closure"],
)
def test_pickling_error_paths(build: Any, expected: str) -> None:
    with pytest.raises(TypeError) as info:
        serialize(build(threading.Lock()))
    assert str(info.value).startswith(expected), str(info.value)
    assert "cannot pickle '_thread.lock' object" in str(info.value)


def test_failed_serialize_leaves_no_ref_scope_behind() -> None:
    with pytest.raises(TypeError):
        serialize([_FakeRef(1), threading.Lock()])
    record_contained_ref(_FakeRef(2))  # must be a no-op now
    assert serialize((_FakeRef(3),)).contained_refs == [_FakeRef(3)]


# --- contained refs ---------------------------------------------------------------------------


class _FakeRef:
    """Stands in for ObjectRef: records itself when pickled."""

    def __init__(self, ident: int) -> None:
        self.ident = ident

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _FakeRef) and other.ident == self.ident

    def __hash__(self) -> int:
        return hash(self.ident)

    def __repr__(self) -> str:
        return f"_FakeRef({self.ident})"

    def __reduce__(self) -> Any:
        record_contained_ref(self)
        return (_FakeRef, (self.ident,))


def test_contained_refs_are_recorded() -> None:
    refs = [_FakeRef(1), _FakeRef(2), _FakeRef(3)]
    obj = serialize({"a": refs[0], "b": [(refs[1],), {"c": refs[2]}]})
    assert obj.format == PICKLE5
    assert obj.contained_refs == refs
    assert deserialize(obj.to_bytes()) == {"a": refs[0], "b": [(refs[1],), {"c": refs[2]}]}
    assert serialize([1, 2]).contained_refs == []


def test_record_outside_serialize_is_a_no_op() -> None:
    record_contained_ref(_FakeRef(9))
    assert serialize((1,)).contained_refs == []


class _Nesting:
    """Serializes its payload with a nested serialize() call while being pickled."""

    def __init__(self, ident: int, payload: Any) -> None:
        self.ident = ident
        self.payload = payload

    def __reduce__(self) -> Any:
        inner = serialize(self.payload)
        _Nesting.inner_refs.append(inner.contained_refs)
        return (_rebuild_nesting, (self.ident, inner.to_bytes()))


def _rebuild_nesting(ident: int, frame: bytes) -> _Nesting:
    return _Nesting(ident, deserialize(frame))


def test_nested_serialize_calls_are_isolated() -> None:
    _Nesting.inner_refs = []
    value = [_FakeRef(1), _Nesting(0, (_FakeRef(2), _FakeRef(3))), _FakeRef(4)]
    obj = serialize(value)
    assert obj.contained_refs == [_FakeRef(1), _FakeRef(4)]
    assert _Nesting.inner_refs == [[_FakeRef(2), _FakeRef(3)]]
    result = deserialize(obj.to_bytes())
    assert result[1].payload == (_FakeRef(2), _FakeRef(3))


class _Rendezvous:
    """Pickles only once every thread is inside its own serialize() call."""

    barrier: threading.Barrier

    def __reduce__(self) -> Any:
        _Rendezvous.barrier.wait(timeout=10)
        return (_Rendezvous, ())


def test_concurrent_serialize_keeps_refs_per_thread() -> None:
    threads_count = 8
    _Rendezvous.barrier = threading.Barrier(threads_count)
    results: dict[int, list[Any]] = {}
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            value = (_FakeRef(index), _Rendezvous(), _FakeRef(100 + index))
            results[index] = serialize(value).contained_refs
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors
    assert results == {i: [_FakeRef(i), _FakeRef(100 + i)] for i in range(threads_count)}
