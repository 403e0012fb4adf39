"""Shared fixtures, named and shaped as in Ray's test suite.

- `ray_start_regular`: a fresh single-node cluster per test (`num_cpus=2` unless the test
  passes other `ray.init` kwargs with `@pytest.mark.parametrize(..., indirect=True)`).
- `ray_start_regular_shared`: the same, one cluster per module.
- `shutdown_only`: the test calls `ray.init` itself; the fixture shuts it down.
- `ray_start_cluster`: a `Cluster` of real local nodes (`add_node`, `remove_node`,
  `wait_for_nodes`, `address`).

Every teardown checks that no process started by the test survived and that no
/dev/shm entry it made remains.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from utils import Cluster, assert_no_leaks, child_processes, shm_entries, wait_for_condition

import ray

__all__ = ["wait_for_condition"]

DEFAULT_INIT_KWARGS: dict[str, Any] = {"num_cpus": 2}


@contextlib.contextmanager
def _leak_checked() -> Iterator[list]:
    """Yields a list the body appends processes to; after it, nothing may be left behind."""
    shm_before = shm_entries()
    seen: list = []
    try:
        yield seen
    finally:
        seen.extend(child_processes())
        if ray.is_initialized():
            ray.shutdown()
    assert_no_leaks(shm_before, seen)


def _init_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    param = getattr(request, "param", None) or {}
    return {**DEFAULT_INIT_KWARGS, **param}


@pytest.fixture
def ray_start_regular(request: pytest.FixtureRequest) -> Iterator[Any]:
    with _leak_checked() as seen:
        info = ray.init(**_init_kwargs(request))
        try:
            yield info
        finally:
            seen.extend(child_processes())
            ray.shutdown()


@pytest.fixture(scope="module")
def ray_start_regular_shared(request: pytest.FixtureRequest) -> Iterator[Any]:
    with _leak_checked() as seen:
        info = ray.init(**_init_kwargs(request))
        try:
            yield info
        finally:
            seen.extend(child_processes())
            ray.shutdown()


@pytest.fixture
def shutdown_only() -> Iterator[None]:
    with _leak_checked() as seen:
        try:
            yield None
        finally:
            seen.extend(child_processes())
            ray.shutdown()


@pytest.fixture
def ray_start_cluster() -> Iterator[Cluster]:
    with _leak_checked() as seen:
        cluster = Cluster()
        try:
            yield cluster
        finally:
            cluster.shutdown()
            seen.extend(cluster.seen_processes)
