"""Python functions and an actor that the Java cluster tests call by name (PyFunction, PyActorClass)."""

import ray


@ray.remote
def add(a, b):
    return a + b


@ray.remote
def echo(value):
    return value


@ray.remote
def fail(message):
    raise ValueError(message)


@ray.remote
def python_only():
    return (1, 2)


@ray.remote
class Counter:
    def __init__(self, start):
        self.value = start

    def increment(self):
        self.value += 1
        return self.value

    def get(self):
        return self.value

    def pid(self):
        import os

        return os.getpid()


# ---- values across languages (CrossLanguageTest) ----------------------------------------


@ray.remote
def describe(value):
    """What Python sees of a value Java made: its Python type and contents."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): describe_plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return f"ndarray {value.dtype} {list(value.shape)} sum={int(value.sum())}"
    return describe_plain(value)


def describe_plain(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return f"ndarray {value.dtype} {list(value.shape)} sum={int(value.sum())}"
    if isinstance(value, list):
        return "list " + ",".join(describe_plain(v) for v in value)
    return f"{type(value).__name__} {value!r}"


@ray.remote
def python_object():
    """Plain Python data that Java reads."""
    import numpy as np

    return {
        "name": "python",
        "ints": [1, 2, 3],
        "ratio": 0.25,
        "flag": True,
        "nothing": None,
        "blob": b"\x00\x01\x02",
        "nested": {"a": [1.5, "x"]},
        "array": np.arange(4, dtype=np.int64),
    }


@ray.remote
def get_inner(refs):
    """Gets the objects whose refs arrive inside a list (passed by reference)."""
    return [ray.get(r) for r in refs]


@ray.remote
def put_and_return_ref(value):
    """Returns a ref to an object this task put (the caller gets a ref inside a value)."""
    return [ray.put(value)]


@ray.remote
def times_two(x):
    return x * 2


# ---- Java called from Python (CrossLanguageTest) ------------------------------------------


def _java_task(class_name, method, *args):
    """Submits a Java static method as a task from this Python process, through the public API
    upstream has for it (`ray.cross_language.java_function`)."""
    return ray.cross_language.java_function(class_name, method).remote(*args)


@ray.remote
def call_java(class_name, method, *args):
    """A Python task that calls a Java task and returns what Python read of its result."""
    value = ray.get(_java_task(class_name, method, *args), timeout=120)
    return describe_plain(value)


@ray.remote
def call_java_failing(class_name, method, *args):
    """A Python task that calls a Java task that throws; returns the Python exception's text."""
    try:
        ray.get(_java_task(class_name, method, *args), timeout=120)
    except Exception as err:  # noqa: BLE001 - the test reads what Python saw
        return f"{type(err).__name__}: {err}"
    return "no exception"


@ray.remote
def exit_worker():
    """Ends this worker's process as a crash would (the task's caller sees the worker die)."""
    import os

    os._exit(1)
