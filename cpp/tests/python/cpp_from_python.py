"""A Python driver calling C++ code: RAY_REMOTE functions and a C++ actor of the library on its
job's code search path (started_cluster_test.cc runs it against its cluster).

    python cpp_from_python.py GCS_ADDRESS LIBRARY

Prints "key value" lines that the test checks, then "done".
"""

import sys
import types

import cpp_check_mod as mod

import ray


def main() -> None:
    address, library = sys.argv[1], sys.argv[2]
    ray.init(address=address, job_config=types.SimpleNamespace(code_search_path=[library]))
    try:
        print("plus", mod.call_cpp("Plus", 20, 22), flush=True)
        print("sum_of", mod.call_cpp("SumOf", [1, 1 << 40]), flush=True)
        print("describe", mod.call_cpp("Describe", {"a": [1, 2], "b": []}), flush=True)
        print("nested", mod.call_cpp("NestedPlus", 2, 3), flush=True)  # C++ using the API
        print("error", mod.call_cpp_error("Fail", 4), flush=True)
        print("counter", mod.use_cpp_counter(10, [1, 2, 3]), flush=True)
    finally:
        ray.shutdown()
    print("done", flush=True)


if __name__ == "__main__":
    main()
