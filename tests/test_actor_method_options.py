"""`@ray.method(...)` and `.options(...)` on actor method calls take upstream's options."""

from __future__ import annotations

import pytest

import ray

pytestmark = pytest.mark.timeout(300)


@ray.remote
class Flaky:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def _fail_first(self, key: str, times: int, exc: type) -> int:
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] <= times:
            raise exc(f"{key} attempt {self.calls[key]}")
        return self.calls[key]

    @ray.method(max_task_retries=2, retry_exceptions=True)
    def retried(self, key: str, times: int) -> int:
        return self._fail_first(key, times, ValueError)

    def plain(self, key: str, times: int, exc: type = ValueError) -> int:
        return self._fail_first(key, times, exc)

    @ray.method(num_returns=2, enable_task_events=False)
    def pair(self) -> tuple[int, int]:
        return 1, 2

    @ray.method(concurrency_group=None, _generator_backpressure_num_objects=4)
    def echo(self, x: int) -> int:
        return x


def test_method_retry_exceptions_from_the_decorator(ray_start_regular_shared) -> None:
    a = Flaky.remote()
    assert ray.get(a.retried.remote("twice", 2), timeout=60) == 3
    with pytest.raises(ValueError, match="attempt 3"):
        ray.get(a.retried.remote("thrice", 3), timeout=60)


def test_call_options_retry_exceptions_and_max_task_retries(ray_start_regular_shared) -> None:
    a = Flaky.remote()
    # Not retried by default.
    with pytest.raises(ValueError, match="attempt 1"):
        ray.get(a.plain.remote("once", 1), timeout=60)
    retried = a.plain.options(max_task_retries=1, retry_exceptions=True)
    assert ray.get(retried.remote("again", 1), timeout=60) == 2
    # A list of types retries only those.
    only_value = a.plain.options(max_task_retries=3, retry_exceptions=[ValueError])
    assert ray.get(only_value.remote("v", 2, ValueError), timeout=60) == 3
    with pytest.raises(TypeError, match="attempt 1"):
        ray.get(only_value.remote("t", 2, TypeError), timeout=60)
    # The decorator's retries can be turned off per call.
    with pytest.raises(ValueError, match="attempt 1"):
        ray.get(a.retried.options(max_task_retries=0).remote("off", 1), timeout=60)


def test_other_upstream_options_are_accepted(ray_start_regular_shared) -> None:
    a = Flaky.remote()
    x, y = a.pair.remote()
    assert ray.get([x, y], timeout=60) == [1, 2]
    assert ray.get(a.echo.remote(5), timeout=60) == 5
    call = a.echo.options(
        name="named_echo",
        enable_task_events=True,
        _generator_backpressure_num_objects=2,
        num_returns=1,
    )
    assert ray.get(call.remote(6), timeout=60) == 6


def test_method_options_survive_passing_the_handle(ray_start_regular_shared) -> None:
    @ray.remote
    def use(handle) -> int:
        return ray.get(handle.retried.remote("passed", 1))

    assert ray.get(use.remote(Flaky.remote()), timeout=60) == 2


def test_unknown_and_malformed_method_options_are_errors() -> None:
    with pytest.raises(ValueError, match=r"Invalid option\(s\) for @ray.method: \['foo'\]"):
        ray.method(foo=1)
    with pytest.raises(ValueError, match="keyword options only"):
        ray.method("num_returns")
    with pytest.raises(ValueError, match="max_task_retries"):
        ray.method(max_task_retries=-2)
    with pytest.raises(TypeError, match="retry_exceptions"):
        ray.method(retry_exceptions="yes")
    with pytest.raises(TypeError, match="concurrency_group"):
        ray.method(concurrency_group=3)


def test_unknown_call_option_is_an_error(ray_start_regular_shared) -> None:
    a = Flaky.remote()
    with pytest.raises(ValueError, match=r"Invalid option\(s\) for the actor method echo"):
        a.echo.options(max_retries=1)
