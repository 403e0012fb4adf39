"""Serialization seen through the API: values keep their exact type and content through
`ray.put`/`ray.get` and through task arguments and returns, whichever wire format the
runtime picks (XLANG for plain data, PICKLE5 otherwise).

Every test here shares one 2-CPU cluster (`ray_start_regular_shared`).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import fractions
import math
import uuid

import numpy as np
import pytest

import ray

pytestmark = pytest.mark.timeout(60)


@ray.remote
def identity(x):
    return x


@ray.remote
def type_name(x):
    return type(x).__name__


def _roundtrips(value):
    """The value after ray.put/get, as a task argument, and as a task return."""
    return [
        ray.get(ray.put(value)),
        ray.get(identity.remote(value)),
        ray.get(identity.remote(ray.put(value))),
    ]


def _same(a, b) -> bool:
    """Equal, with the same type all the way down (True is not 1, a tuple is not a list)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return (
            a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(_same(a[k], b[k]) for k in a)
    return a == b


class Color(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Record:
    name: str
    values: list


Pair = collections.namedtuple("Pair", "left right")


EXACT_VALUES = [
    True,
    False,
    0,
    1,
    -1,
    2**63 - 1,
    -(2**63),
    2**64,
    -(2**100),
    0.0,
    -0.0,
    1e300,
    float("inf"),
    float("nan"),
    "",
    "plain",
    "ünïcödé ✓",
    b"",
    b"\x00\xff" * 10,
    None,
    [],
    (),
    {},
    [True, 1, 1.0, "1", b"1", None],
    (1, [2, (3,)]),
    {"a": [1, {"b": (2, 3)}]},
    {1: "int key", "1": "str key"},
    {(1, 2): "tuple key"},
    {True: "bool key"},
    [[[]]],
    set(),
    {1, 2},
    frozenset({"a"}),
    bytearray(b"ba"),
    complex(1, -2),
    decimal.Decimal("1.10"),
    fractions.Fraction(1, 3),
    datetime.datetime(2024, 1, 2, 3, 4, 5),
    datetime.timedelta(seconds=5),
    uuid.UUID(int=7),
    Color.RED,
    Record("r", [1, 2]),
    Pair(1, 2),
    collections.OrderedDict([("z", 1), ("a", 2)]),
    collections.Counter("hello"),
    range(3, 9, 2),
    slice(1, 5),
    np.int8(-3),
    np.uint64(2**64 - 1),
    np.float32(1.5),
    np.bool_(True),
    np.str_("numpy string"),
]


@pytest.mark.parametrize("value", EXACT_VALUES, ids=lambda v: f"{type(v).__name__}:{v!r}"[:60])
def test_exact_roundtrip(ray_start_regular_shared, value):
    for got in _roundtrips(value):
        assert _same(got, value), (
            f"{value!r} ({type(value).__name__}) came back as {got!r} ({type(got).__name__})"
        )


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.int32).reshape(3, 4),
        np.array([], dtype=np.uint8),
        np.array(5, dtype=np.int64),
        np.array([1.5, np.nan], dtype=np.float64),
        np.array([True, False]),
        np.array([1 + 2j], dtype=np.complex128),
        np.array(["a", "bc"]),
        np.array([b"x", b"yz"]),
        np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
        np.array([1, "mixed", None], dtype=object),
        np.arange(24, dtype=np.float32).reshape(2, 3, 4)[:, ::2, 1:],  # not contiguous
        np.asfortranarray(np.arange(6).reshape(2, 3)),
        np.arange(10, dtype=">i4"),  # big-endian
        np.zeros(300_000, dtype=np.float16),  # large: in the shared store
        np.array(["2024-01-01"], dtype="datetime64[D]"),
    ],
    ids=lambda a: f"{a.dtype}{a.shape}",
)
def test_numpy_roundtrip(ray_start_regular_shared, array):
    for got in _roundtrips(array):
        assert _same(got, array), f"{array!r} came back as {got!r}"


def test_recursive_structure(ray_start_regular_shared):
    value = [1]
    value.append(value)
    for got in _roundtrips(value):
        assert got[0] == 1 and got[1] is got


def test_shared_references_preserved(ray_start_regular_shared):
    shared = [1, 2]
    value = {"a": shared, "b": shared}
    for got in _roundtrips(value):
        assert got["a"] is got["b"]


def test_functions_and_lambdas_as_values(ray_start_regular_shared):
    offset = 10
    got = ray.get(ray.put(lambda x: x + offset))
    assert got(1) == 11

    @ray.remote
    def apply(fn, x):
        return fn(x)

    assert ray.get(apply.remote(lambda x: x * offset, 3)) == 30


def test_class_defined_in_test_goes_to_worker(ray_start_regular_shared):
    class Local:
        def __init__(self, v):
            self.v = v

        def double(self):
            return self.v * 2

    @ray.remote
    def call(obj):
        return obj.double()

    assert ray.get(call.remote(Local(21))) == 42


def test_custom_reduce(ray_start_regular_shared):
    class Reduced:
        def __init__(self, a, b):
            self.a, self.b = a, b

        def __reduce__(self):
            return (Reduced, (self.b, self.a))  # swaps on purpose

    got = ray.get(ray.put(Reduced(1, 2)))
    assert (got.a, got.b) == (2, 1)


def test_types_seen_by_task(ray_start_regular_shared):
    assert ray.get(type_name.remote((1, 2))) == "tuple"
    assert ray.get(type_name.remote([1, 2])) == "list"
    assert ray.get(type_name.remote(True)) == "bool"
    assert ray.get(type_name.remote(1)) == "int"
    assert ray.get(type_name.remote({1, 2})) == "set"
    assert ray.get(type_name.remote(b"x")) == "bytes"
    assert ray.get(type_name.remote(bytearray(b"x"))) == "bytearray"


def test_large_bytes_and_str(ray_start_regular_shared):
    blob = np.random.default_rng(0).bytes(5_000_000)
    for got in _roundtrips(blob):
        assert type(got) is bytes and got == blob
    text = "é" * 1_000_000
    for got in _roundtrips(text):
        assert got == text


def test_many_refs_inside_a_value(ray_start_regular_shared):
    refs = [ray.put(i) for i in range(100)]

    @ray.remote
    def total(container):
        return sum(ray.get(container["refs"]))

    assert ray.get(total.remote({"refs": refs})) == sum(range(100))
