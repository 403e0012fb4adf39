"""The Python function the C++ benchmark (cpp_bench.cc) calls."""


def add(a, b):
    return a + b
