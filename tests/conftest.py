"""Shared fixtures, named and shaped as in Ray's test suite.

- `ray_start_regular`: a fresh single-node cluster per test (`num_cpus=2` unless the test
  passes other `ray.init` kwargs with `@pytest.mark.parametrize(..., indirect=True)`).
- `ray_start_regular_shared`: the same, one cluster per module.
- `shutdown_only`: the test calls `ray.init` itself; the fixture shuts it down.
- `cli`: runs `ray ...` and drivers against a RAY_TMPDIR of its own; `ray stop` at the end.
- `ray_start_cluster`: a `Cluster` of real nodes on this machine, each started with
  `ray start ... --block` on its own loopback address (127.0.0.1 for the head, then
  127.0.0.2, ...) with its own session folder (`add_node`, `remove_node`, `kill_node`,
  `wait_for_nodes`, `connect`, `address`). A param `{"num_nodes": N, "do_init": bool,
  **add_node_kwargs}` starts N nodes first (and connects, as in Ray).

Every teardown checks that no process started by the test survived and that no
/dev/shm entry it made remains; the cluster's also that none of its addresses is still
listened on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from utils import (
    Cli,
    Cluster,
    alive,
    assert_no_leaks,
    child_processes,
    describe,
    shm_entries,
    wait_for_condition,
)

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
def ray_start_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    param = dict(getattr(request, "param", None) or {})
    num_nodes = param.pop("num_nodes", 0)
    do_init = param.pop("do_init", num_nodes > 0)
    with _leak_checked() as seen:
        cluster = Cluster(tmp_path / "cluster")
        try:
            for _ in range(num_nodes):
                cluster.add_node(**param)
            if do_init:
                cluster.connect()
            yield cluster
        finally:
            if ray.is_initialized():
                ray.shutdown()
            cluster.shutdown()
            seen.extend(cluster.seen_processes)
        problems = cluster.leftovers()
        assert not problems, "the cluster left things behind:\n" + "\n".join(problems)


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    """Runs `ray` commands and drivers with a RAY_TMPDIR of their own (never a developer's
    cluster). At the end it runs `ray stop` and checks that every process the clusters
    recorded (and everything those spawned) is gone, with their shared memory and the
    addresses they listened on."""
    c = Cli(tmp_path / "ray")
    try:
        yield c
    finally:
        c.remember_processes()
        shm_dirs = set(c.node_shm_dirs())
        stop = c.run("stop", check=False)
        survivors = alive(c.seen.values())
        deadline = time.monotonic() + 30
        while survivors and time.monotonic() < deadline:
            time.sleep(0.05)
            survivors = alive(survivors)
        for p in survivors:  # clean up by pid before failing
            with contextlib.suppress(psutil.Error):
                p.kill()
        assert not survivors, (
            f"processes survived `ray stop`: {describe(survivors)}\n{stop.stdout}\n{stop.stderr}"
        )
        assert stop.returncode == 0, f"ray stop failed:\n{stop.stdout}\n{stop.stderr}"
        assert c.recorded() == []
        assert c.current_cluster() is None
        leaked = [d for d in shm_dirs if d.exists()]
        assert not leaked, f"shared memory left behind: {leaked}"
        listening = c.still_listening()
        assert not listening, f"addresses still listened on (address -> pid): {listening}"
