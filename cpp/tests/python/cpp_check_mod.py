"""Python functions and actors that the C++ cluster tests (cpp/tests/*cluster_test.cc) call."""

import numpy as np

import ray


def add(a, b):
    return a + b


def fail(x):
    raise ValueError(f"bad value {x}")


def make_blob(n):
    return bytes(range(256)) * (n // 256)


def describe(value):
    """What Python read: the exact type and value of a C++ object (cross-language check)."""
    if isinstance(value, dict):
        items = ", ".join(f"{k!r}: {describe(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    if isinstance(value, bytes):
        return f"bytes({len(value)}, sum={sum(value)})"
    return f"{type(value).__name__}:{value!r}"


def put_and_read(values):
    """Puts the values from Python (inside the task), reads them back from the store."""
    refs = [ray.put(v) for v in values]
    return ray.get(refs)


def py_array(n):
    """A numpy array (XLANG array; in shared memory when large)."""
    return np.arange(n, dtype=np.int64) * 3


def py_table():
    return {"big": [1 << 40, -7], "empty": [], "one": [1]}


def py_text():
    return "héllo wörld ✓"


class Counter:
    def __init__(self, start):
        self.value = start

    def incr(self, by):
        self.value += by
        return self.value


class Store:
    """Keeps objects it put from Python (`ray.put`); hands out their values."""

    def __init__(self):
        self.refs = {}

    def put(self, key, value):
        self.refs[key] = ray.put(value)
        return len(self.refs)

    def put_array(self, key, n):
        self.refs[key] = ray.put(np.arange(n, dtype=np.int64) * 3)
        return len(self.refs)

    def get(self, key):
        return ray.get(self.refs[key])


def record_pid_and_sleep(path, seconds):
    """Writes this worker's pid to `path`, then sleeps (a task still running when its driver
    dies)."""
    import os
    import time

    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(str(os.getpid()))
    os.replace(tmp, path)
    time.sleep(seconds)
    return 0


def task_info():
    """The name and resources of the running task (or actor method), as the cluster sees them."""
    context = ray.get_runtime_context()
    held = context.get_assigned_resources()
    return f"{context.get_task_name()}|" + ",".join(f"{k}={v:g}" for k, v in sorted(held.items()))


class ResourceProbe:
    """An actor that says what it holds."""

    def held(self):
        return task_info().partition("|")[2]


# ---- C++ code called from Python ----------------------------------------------------------
# From a Python driver whose job's code search path names the C++ library
# (cpp_from_python.py): functions through `ray.cross_language.cpp_function`, as upstream; the
# C++ actor through the core worker with LANGUAGE_CPP descriptors (Python has no public API for
# C++ actor classes yet, upstream's `ray.cross_language.cpp_actor_class`).


def _cpp(name, class_name=""):
    from ray._private.generated import common_pb2

    return common_pb2.FunctionDescriptor(
        language=common_pb2.LANGUAGE_CPP, function_name=name, class_name=class_name
    )


def call_cpp(name, *args):
    """Runs the C++ RAY_REMOTE function `name` with Python values; returns what Python reads."""
    import ray.cross_language

    return ray.get(ray.cross_language.cpp_function(name).remote(*args))


def call_cpp_error(name, *args):
    """The type and text of the exception Python sees when the C++ function throws."""
    try:
        call_cpp(name, *args)
    except Exception as err:  # noqa: BLE001 - what Python sees is the result
        return f"{type(err).__name__}|{err}"
    return "no exception"


def use_cpp_counter(start, adds):
    """Creates the C++ actor Counter (RAY_REMOTE factory), calls &Counter::Add once per entry of
    `adds` (pipelined), then &Counter::Get; returns the results and kills the actor."""
    from ray._private import runtime, values
    from ray._private.worker.task_spec import ActorOptions

    cw = runtime.core_worker()
    created = cw.create_actor(
        _cpp("Counter::FactoryCreate", "Counter"),
        values.task_args((start,), {}),
        ActorOptions(class_name="Counter"),
    )

    def call(method, *args):
        (ref,) = cw.submit_actor_call(
            created.actor_id, _cpp(method, "Counter"), values.task_args(args, {}), 1, 0, 1, method
        )
        return ref

    refs = [call("&Counter::Add", x) for x in adds]
    refs.append(call("&Counter::Get"))
    out = ray.get(refs)
    cw.kill_actor(created.actor_id, True)
    return out
