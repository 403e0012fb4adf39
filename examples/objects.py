"""Objects in Ray: put, get, timeouts, and passing objects by value or by reference.

Shows the object refs returned by `ray.put`, getting one or many values, a
`get` with a timeout (`GetTimeoutError`), top-level ref arguments that a task
sees as values, refs inside a data structure that stay refs, and nested
objects kept alive by reference counting. Run: `python examples/objects.py`.
"""

import time

import numpy as np

import ray
from ray.exceptions import GetTimeoutError

ray.init()

# Put an object in Ray's object store.
y = 1
object_ref = ray.put(y)

# Get the value of one object ref.
obj_ref = ray.put(1)
assert ray.get(obj_ref) == 1

# Get the values of multiple object refs in parallel.
assert ray.get([ray.put(i) for i in range(3)]) == [0, 1, 2]


# You can also set a timeout to return early from a ``get``
# that's blocking for too long.
@ray.remote
def long_running_function():
    time.sleep(8)


obj_ref = long_running_function.remote()
timed_out = False
try:
    ray.get(obj_ref, timeout=0.5)  # 4 s in the docs; shorter so the example is quick
except GetTimeoutError:
    print("`get` timed out.")
    timed_out = True
assert timed_out
ray.cancel(obj_ref, force=True)

# Numpy arrays come back zero-copy: read-only views of the shared-memory store.
array = ray.get(ray.put(np.arange(1_000_000)))
assert array[-1] == 999_999 and not array.flags.writeable


@ray.remote
def echo(x):
    print(f"current value of argument x: {x}")
    return x


# Put an object in Ray's object store.
object_ref = ray.put(1)

# Pass-by-value: send the object to a task as a top-level argument.
# The object will be de-referenced, so the task only sees its value.
assert ray.get(echo.remote(object_ref)) == 1  # -> prints "1"

# Pass-by-reference: when passed inside a Python list or other data structure,
# the object ref is preserved. The object data is not transferred to the worker
# when it is passed by reference, until ray.get() is called on the reference.
result = ray.get(echo.remote({"obj": object_ref}))  # -> prints "{"obj": ObjectRef(...)}"
assert isinstance(result["obj"], ray.ObjectRef) and result["obj"] == object_ref
assert ray.get(result["obj"]) == 1

# Objects can be nested within each other. Ray will keep the inner object
# alive via reference counting until all outer object references are deleted.
object_ref_2 = ray.put([object_ref])
del object_ref
[inner] = ray.get(object_ref_2)
assert ray.get(inner) == 1

ray.shutdown()
print("objects: all steps passed")
