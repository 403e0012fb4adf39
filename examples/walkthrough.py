"""The Ray core walkthrough for tasks and objects, end to end.

Shows: starting Ray, remote functions (tasks) and how they differ from regular
functions, parallel invocations, passing object refs into tasks (chaining),
several return values, `ray.put`/`ray.get`, a `get` that times out, and
`ray.wait`. Every step asserts its result. Run: `python examples/walkthrough.py`.
"""

import time

import ray
from ray.exceptions import RayTimeoutError

# Start Ray. If you're connecting to an existing cluster, you would use
# ray.init(address=<cluster-address>) instead.
ray.init()


# A regular Python function.
def regular_function():
    return 1


# A Ray remote function.
@ray.remote
def remote_function():
    return 1


assert regular_function() == 1

object_id = remote_function.remote()

# The value of the original `regular_function`
assert ray.get(object_id) == 1

# These happen serially.
for _ in range(4):
    regular_function()

# These happen in parallel.
refs = []
for _ in range(4):
    refs.append(remote_function.remote())
assert ray.get(refs) == [1, 1, 1, 1]


# Object refs can be passed into remote functions: the task sees the value.
@ray.remote
def remote_chain_function(value):
    return value + 1


y1_id = remote_function.remote()
assert ray.get(y1_id) == 1

chained_id = remote_chain_function.remote(y1_id)
assert ray.get(chained_id) == 2


# Remote functions can return multiple object refs.
@ray.remote(num_returns=3)
def return_multiple():
    return 1, 2, 3


a_id, b_id, c_id = return_multiple.remote()
assert ray.get([a_id, b_id, c_id]) == [1, 2, 3]

# Objects created with ray.put.
y = 1
object_id = ray.put(y)
obj_id = ray.put(y)
assert ray.get(obj_id) == 1


# A timeout returns early from a get that blocks too long (the walkthrough waits
# 4 s for an 8 s task; the times are shorter here so the example runs quickly).
@ray.remote
def long_running_function():
    time.sleep(8)


obj_id = long_running_function.remote()
timed_out = False
try:
    ray.get(obj_id, timeout=0.5)
except RayTimeoutError:
    print("`get` timed out.")
    timed_out = True
assert timed_out
ray.cancel(obj_id, force=True)


# ray.wait returns the refs that are ready and those that are not, in input order.
@ray.remote
def sleep_then_return(seconds, value):
    time.sleep(seconds)
    return value


object_ids = [sleep_then_return.remote(0.1, "fast"), sleep_then_return.remote(30, "slow")]
ready_ids, remaining_ids = ray.wait(object_ids, num_returns=1, timeout=None)
assert ready_ids == [object_ids[0]] and remaining_ids == [object_ids[1]]
assert ray.get(ready_ids) == ["fast"]
ready_ids, remaining_ids = ray.wait(object_ids, num_returns=2, timeout=0.2)
assert ready_ids == [object_ids[0]] and remaining_ids == [object_ids[1]]

ray.shutdown()
print("walkthrough: all steps passed")
