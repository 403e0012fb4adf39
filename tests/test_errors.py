"""Failures of tasks on one node: exceptions, dying workers, retries, cancellation and
arguments that cannot be serialized.

Every test here shares one 2-CPU cluster (`ray_start_regular_shared`); tests that kill
workers leave it usable for the next ones (asserted by `_cluster_still_works`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest
from utils import wait_for_condition

import ray
from ray.exceptions import RayError, RayTaskError, TaskCancelledError, WorkerCrashedError

pytestmark = pytest.mark.timeout(90)


def _attempt(path: str) -> int:
    """Records one attempt in `path` (a line per attempt) and returns its number (1-based)."""
    with open(path, "a") as f:
        f.write("x\n")
    with open(path) as f:
        return len(f.readlines())


def _attempts(path) -> int:
    try:
        return len(open(path).readlines())
    except FileNotFoundError:
        return 0


@ray.remote
def fails(message="boom"):
    raise ValueError(message)


@ray.remote
def plus_one(x):
    return x + 1


@ray.remote
def started_then_sleep(path, seconds=60):
    open(path, "w").close()
    deadline = time.time() + seconds
    while time.time() < deadline:
        time.sleep(0.05)
    return "finished"


def _cluster_still_works():
    assert ray.get(plus_one.remote(1), timeout=60) == 2


# ---- exceptions in tasks -----------------------------------------------------------------------


def test_exception_is_ray_task_error_and_original_type(ray_start_regular_shared):
    ref = fails.remote("boom 7e1")
    with pytest.raises(RayTaskError) as info:
        ray.get(ref)
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, RayError)
    assert isinstance(err.cause, ValueError)
    assert str(err.cause) == "boom 7e1"
    with pytest.raises(ValueError):
        ray.get(ref)


def test_remote_traceback_in_message(ray_start_regular_shared):
    @ray.remote
    def deep_failure():
        def helper_that_raises():
            raise KeyError("missing-key-3f")

        helper_that_raises()

    with pytest.raises(KeyError) as info:
        ray.get(deep_failure.remote())
    text = str(info.value)
    assert "Traceback (most recent call last)" in text
    assert "helper_that_raises" in text
    assert "deep_failure" in text
    assert "missing-key-3f" in text
    assert isinstance(info.value.pid, int) and info.value.pid != os.getpid()


def test_custom_exception_type(ray_start_regular_shared):
    class MyError(Exception):
        def __init__(self, code):
            super().__init__(f"code {code}")
            self.code = code

    @ray.remote
    def raise_mine():
        raise MyError(42)

    with pytest.raises(MyError) as info:
        ray.get(raise_mine.remote())
    assert isinstance(info.value, RayTaskError)
    assert info.value.cause.code == 42


def test_unpicklable_exception_still_reported(ray_start_regular_shared):
    @ray.remote
    def raise_unpicklable():
        class Unpicklable(Exception):
            def __reduce__(self):
                raise TypeError("no pickling")

        raise Unpicklable("cannot travel 91ab")

    with pytest.raises(RayTaskError) as info:
        ray.get(raise_unpicklable.remote())
    assert "cannot travel 91ab" in str(info.value)


def test_error_propagates_through_dependent_tasks(ray_start_regular_shared, tmp_path):
    marker = tmp_path / "dependent_ran"

    @ray.remote
    def dependent(x, path):
        open(path, "w").close()
        return x

    first = fails.remote("root cause 5d2")
    second = dependent.remote(first, str(marker))
    third = plus_one.remote(second)
    for ref in (first, second, third):
        with pytest.raises(ValueError) as info:
            ray.get(ref)
        assert "root cause 5d2" in str(info.value)
    assert not marker.exists(), "a task whose argument failed must not run"


def test_error_propagates_from_nested_task(ray_start_regular_shared):
    @ray.remote
    def parent():
        return ray.get(fails.remote("from the child 0c4"))

    with pytest.raises(ValueError) as info:
        ray.get(parent.remote())
    assert "from the child 0c4" in str(info.value)


def test_get_list_raises_first_error(ray_start_regular_shared):
    with pytest.raises(ValueError):
        ray.get([plus_one.remote(1), fails.remote()])


def test_returned_exception_is_a_value(ray_start_regular_shared):
    @ray.remote
    def give_exception():
        return ValueError("just a value")

    value = ray.get(give_exception.remote())
    assert type(value) is ValueError and str(value) == "just a value"


def test_system_exit_in_task(ray_start_regular_shared):
    @ray.remote(max_retries=0)
    def exits():
        sys.exit(3)

    with pytest.raises(RayError):
        ray.get(exits.remote(), timeout=60)
    _cluster_still_works()


# ---- workers dying -------------------------------------------------------------------------------


def test_worker_killed_is_retried_then_crashed_error(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "attempts")

    @ray.remote
    def kill_self(path):
        _attempt(path)
        sys.stderr.write("last words of the worker 8e3\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(WorkerCrashedError) as info:
        ray.get(kill_self.remote(path), timeout=80)
    err = info.value
    assert _attempts(path) == 4, "max_retries defaults to 3: one run and three retries"
    assert err.signal == signal.SIGKILL
    assert "SIGKILL" in str(err) or "signal 9" in str(err)
    assert "last words of the worker 8e3" in str(err)
    assert "last words of the worker 8e3" in err.stderr_tail
    _cluster_still_works()


def test_worker_exit_code_reported(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "attempts")

    @ray.remote(max_retries=1)
    def exit_hard(path):
        _attempt(path)
        print("exiting with 17", file=sys.stderr, flush=True)
        os._exit(17)

    with pytest.raises(WorkerCrashedError) as info:
        ray.get(exit_hard.remote(path), timeout=60)
    assert _attempts(path) == 2
    assert info.value.exit_code == 17
    assert "17" in str(info.value)
    assert "exiting with 17" in str(info.value)


def test_max_retries_zero(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "attempts")

    @ray.remote(max_retries=0)
    def die(path):
        _attempt(path)
        os._exit(1)

    with pytest.raises(WorkerCrashedError):
        ray.get(die.remote(path), timeout=60)
    assert _attempts(path) == 1


def test_crash_then_success_on_retry(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "attempts")

    @ray.remote(max_retries=2)
    def flaky(path):
        if _attempt(path) < 2:
            os._exit(1)
        return "recovered"

    assert ray.get(flaky.remote(path), timeout=60) == "recovered"
    assert _attempts(path) == 2


def test_max_retries_via_options(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "attempts")

    @ray.remote
    def die(path):
        _attempt(path)
        os._exit(1)

    with pytest.raises(WorkerCrashedError):
        ray.get(die.options(max_retries=1).remote(path), timeout=60)
    assert _attempts(path) == 2


# ---- application errors and retries ---------------------------------------------------------------


def test_exceptions_not_retried_by_default(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "attempts")

    @ray.remote(max_retries=3)
    def raises(path):
        _attempt(path)
        raise ValueError("no retry")

    with pytest.raises(ValueError):
        ray.get(raises.remote(path))
    assert _attempts(path) == 1


def test_retry_exceptions(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "attempts")

    @ray.remote(max_retries=3, retry_exceptions=True)
    def flaky(path):
        n = _attempt(path)
        if n < 3:
            raise ValueError(f"attempt {n}")
        return n

    assert ray.get(flaky.remote(path), timeout=60) == 3
    assert _attempts(path) == 3


def test_retry_exceptions_gives_up(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "attempts")

    @ray.remote(max_retries=2, retry_exceptions=True)
    def always(path):
        n = _attempt(path)
        raise ValueError(f"attempt {n}")

    with pytest.raises(ValueError, match="attempt 3"):
        ray.get(always.remote(path), timeout=60)
    assert _attempts(path) == 3


def test_retry_exceptions_only_listed_types(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "attempts")

    @ray.remote(max_retries=3, retry_exceptions=[KeyError])
    def flaky(path, error):
        n = _attempt(path)
        if n < 3:
            raise error(f"attempt {n}")
        return n

    assert ray.get(flaky.remote(path, KeyError), timeout=60) == 3
    other = str(tmp_path / "other")
    with pytest.raises(ValueError, match="attempt 1"):
        ray.get(flaky.remote(other, ValueError), timeout=60)
    assert _attempts(other) == 1
    with pytest.raises(TypeError, match="retry_exceptions"):
        ray.remote(retry_exceptions=["not a type"])(lambda: None)


# ---- cancellation ----------------------------------------------------------------------------------


def test_cancel_task_waiting_for_dependency(ray_start_regular_shared, tmp_path):
    blocker = started_then_sleep.remote(str(tmp_path / "blocker"), 10)
    waiting = plus_one.remote(blocker)
    ray.cancel(waiting)
    with pytest.raises(TaskCancelledError):
        ray.get(waiting, timeout=10)
    ray.cancel(blocker, force=True)
    with pytest.raises((TaskCancelledError, WorkerCrashedError)):
        ray.get(blocker, timeout=20)


def test_cancel_queued_task(ray_start_regular_shared, tmp_path):
    # Occupy both CPUs so the third task stays queued.
    paths = [str(tmp_path / f"busy{i}") for i in range(2)]
    busy = [started_then_sleep.remote(p, 30) for p in paths]
    wait_for_condition(lambda: all(os.path.exists(p) for p in paths), timeout=30)
    queued = started_then_sleep.remote(str(tmp_path / "queued"), 30)
    ray.cancel(queued)
    with pytest.raises(TaskCancelledError):
        ray.get(queued, timeout=10)
    assert not os.path.exists(tmp_path / "queued")
    for ref in busy:
        ray.cancel(ref, force=True)
    _cluster_still_works()


def test_cancel_running_task(ray_start_regular_shared, tmp_path):
    started = str(tmp_path / "started")
    ref = started_then_sleep.remote(started, 60)
    wait_for_condition(lambda: os.path.exists(started), timeout=30)
    start = time.monotonic()
    ray.cancel(ref)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=20)
    assert time.monotonic() - start < 10
    _cluster_still_works()


def test_force_cancel_running_task(ray_start_regular_shared, tmp_path):
    started = str(tmp_path / "started")

    @ray.remote
    def uninterruptible(path):
        open(path, "w").close()
        # Ignores KeyboardInterrupt: only force=True can stop it.
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                time.sleep(0.05)
            except KeyboardInterrupt:
                pass
        return os.getpid()

    ref = uninterruptible.remote(started)
    wait_for_condition(lambda: os.path.exists(started), timeout=30)
    ray.cancel(ref, force=True)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=20)
    _cluster_still_works()


def test_cancel_finished_task_is_a_no_op(ray_start_regular_shared):
    ref = plus_one.remote(1)
    assert ray.get(ref) == 2
    ray.cancel(ref)
    assert ray.get(ref) == 2


def test_cancelled_task_is_not_retried(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "attempts")

    @ray.remote(max_retries=3)
    def slow(path):
        _attempt(path)
        time.sleep(60)

    ref = slow.remote(path)
    wait_for_condition(lambda: _attempts(path) == 1, timeout=30)
    ray.cancel(ref, force=True)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=20)
    assert _attempts(path) == 1


def test_cancel_rejects_non_refs(ray_start_regular_shared):
    with pytest.raises(TypeError):
        ray.cancel("not a ref")


# ---- arguments that cannot be serialized --------------------------------------------------------


def test_unpicklable_argument_names_its_path(ray_start_regular_shared):
    @ray.remote
    def connect(host, config):
        return host

    with pytest.raises(TypeError) as info:
        connect.remote("db", {"conn": threading.Lock(), "port": 5432})
    assert "args[1]['conn']" in str(info.value)


def test_unpicklable_keyword_argument(ray_start_regular_shared):
    @ray.remote
    def connect(host, config=None):
        return host

    with pytest.raises(TypeError) as info:
        connect.remote("db", config=[1, threading.Lock()])
    assert "config" in str(info.value)
    assert "[1]" in str(info.value)


def test_unpicklable_put(ray_start_regular_shared):
    with pytest.raises(TypeError):
        ray.put({"lock": threading.Lock()})


def test_unpicklable_capture_in_function(ray_start_regular_shared):
    lock = threading.Lock()

    @ray.remote
    def uses_lock():
        with lock:
            return 1

    with pytest.raises(TypeError):
        uses_lock.remote()


def test_unpicklable_return_value(ray_start_regular_shared):
    @ray.remote
    def returns_lock():
        return threading.Lock()

    with pytest.raises(RayError) as info:
        ray.get(returns_lock.remote(), timeout=60)
    assert "lock" in str(info.value).lower()
    _cluster_still_works()


def test_cancel_soon_after_submit_is_not_lost(ray_start_regular_shared, tmp_path):
    """A cancel that reaches the worker while it is still preparing the task (resolving its
    function and arguments) must still cancel it, not be dropped."""

    @ray.remote(max_retries=2, retry_exceptions=True)
    def always_fails():
        raise ValueError("keeps a worker leased")

    lost = []
    for i in range(20):
        with pytest.raises(ValueError):
            ray.get(always_fails.remote())
        ref = started_then_sleep.remote(str(tmp_path / f"started{i}"), 4)
        other = plus_one.remote(i)
        ray.cancel(ref, force=True)
        try:
            ray.get(ref, timeout=15)
            lost.append(i)
        except (TaskCancelledError, WorkerCrashedError):
            pass
        assert ray.get(other, timeout=30) == i + 1
    assert not lost, f"cancel was lost in iteration(s) {lost}: the task ran to completion"


def test_cancel_is_recursive_by_default(ray_start_regular_shared, tmp_path):
    """Cancelling a task also cancels the tasks it submitted (Ray's recursive=True default)."""
    child_started = str(tmp_path / "child_started")
    child_interrupted = str(tmp_path / "child_interrupted")

    @ray.remote
    def child(started, interrupted):
        open(started, "w").close()
        deadline = time.time() + 10  # bounded, so a missed cancel does not hold a CPU for long
        try:
            while time.time() < deadline:
                time.sleep(0.05)
        except KeyboardInterrupt:
            open(interrupted, "w").close()
            raise
        return "child finished"

    @ray.remote
    def parent(started, interrupted):
        return ray.get(child.remote(started, interrupted))

    ref = parent.remote(child_started, child_interrupted)
    wait_for_condition(lambda: os.path.exists(child_started), timeout=30)
    ray.cancel(ref)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=20)
    wait_for_condition(lambda: os.path.exists(child_interrupted), timeout=5)
