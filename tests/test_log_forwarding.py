"""Worker output reaches the driver's terminal, all of it, before `ray.shutdown()` returns.

Each test runs a driver in a subprocess and reads what it printed: the lines a task or an
actor wrote right before its result came back must be there, prefixed `(name pid=N)` as in
Ray, when the driver calls `ray.shutdown()` or simply exits (the atexit shutdown).
"""

from __future__ import annotations

import re
import textwrap

import pytest
from utils import run_string_as_driver

pytestmark = pytest.mark.timeout(300)

DRIVER_TIMEOUT_S = 180


def _run(script: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    proc = run_string_as_driver(textwrap.dedent(script), timeout=DRIVER_TIMEOUT_S, env=env)
    assert proc.returncode == 0, f"driver failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout, proc.stderr


def _prefixed(text: str, name: str, ip: str | None = None) -> list[tuple[int, str]]:
    """(pid, rest) of every line `(name pid=N) rest` (with `ip`: `(name pid=N, ip=IP) rest`)."""
    where = "" if ip is None else f", ip={re.escape(ip)}"
    out = []
    for line in text.splitlines():
        m = re.fullmatch(rf"\({re.escape(name)} pid=(\d+){where}\) (.*)", line)
        if m:
            out.append((int(m.group(1)), m.group(2)))
    return out


def test_task_print_before_shutdown_is_printed():
    out, _ = _run(
        """
        import ray
        ray.init(num_cpus=1)

        @ray.remote
        def last_words():
            import os
            print("goodbye 7f3a")
            return os.getpid()

        pid = ray.get(last_words.remote())
        ray.shutdown()
        print("PID", pid)
        """
    )
    pid = int(re.search(r"^PID (\d+)$", out, re.M).group(1))
    assert (pid, "goodbye 7f3a") in _prefixed(out, "last_words"), out
    # Printed before shutdown returned, so before the driver's own last line.
    assert out.index("goodbye 7f3a") < out.index(f"PID {pid}")


def test_task_print_before_interpreter_exit_is_printed():
    """No ray.shutdown(): the atexit shutdown drains the output too."""
    out, _ = _run(
        """
        import ray
        ray.init(num_cpus=1)

        @ray.remote
        def last_words():
            print("exit line c41d")
            return 1

        assert ray.get(last_words.remote()) == 1
        """
    )
    assert [rest for _, rest in _prefixed(out, "last_words")] == ["exit line c41d"], out


def test_many_lines_and_stderr_arrive_complete_and_in_order():
    out, err = _run(
        """
        import sys
        import ray
        ray.init(num_cpus=2)

        @ray.remote
        def chatty(k):
            for i in range(500):
                print(f"out {k} {i}")
            for i in range(100):
                print(f"err {k} {i}", file=sys.stderr)
            return k

        assert ray.get([chatty.remote(k) for k in range(3)]) == [0, 1, 2]
        ray.shutdown()
        """
    )
    lines = _prefixed(out, "chatty")
    for k in range(3):
        mine = [rest for _, rest in lines if rest.startswith(f"out {k} ")]
        assert mine == [f"out {k} {i}" for i in range(500)], (k, len(mine))
    err_lines = _prefixed(err, "chatty")
    for k in range(3):
        mine = [rest for _, rest in err_lines if rest.startswith(f"err {k} ")]
        assert mine == [f"err {k} {i}" for i in range(100)], (k, len(mine), err[-2000:])
    # stdout lines never go to stderr and the other way round.
    assert not any(rest.startswith("err ") for _, rest in lines)
    assert not any(rest.startswith("out ") for _, rest in err_lines)


def test_actor_output_before_shutdown_uses_the_class_name():
    out, err = _run(
        """
        import os, sys
        import ray
        ray.init(num_cpus=1)

        @ray.remote
        class Greeter:
            def __init__(self):
                print("greeter born")

            def greet(self, n):
                for i in range(n):
                    print(f"hello {i}")
                print("actor complaint", file=sys.stderr)
                return os.getpid()

        g = Greeter.remote()
        pid = ray.get(g.greet.remote(50))
        ray.shutdown()
        print("PID", pid)
        """
    )
    pid = int(re.search(r"^PID (\d+)$", out, re.M).group(1))
    lines = _prefixed(out, "Greeter")
    assert (pid, "greeter born") in lines, out
    assert [rest for p, rest in lines if rest.startswith("hello")] == [
        f"hello {i}" for i in range(50)
    ]
    assert all(p == pid for p, _ in lines)
    assert (pid, "actor complaint") in _prefixed(err, "Greeter"), err


def test_nested_task_output_is_printed_before_shutdown():
    """A child task's output comes before its parent's result, so it is drained as well."""
    out, _ = _run(
        """
        import ray
        ray.init(num_cpus=2)

        @ray.remote
        def child():
            print("from the child 9e1b")
            return 1

        @ray.remote
        def parent():
            return ray.get(child.remote()) + 1

        assert ray.get(parent.remote()) == 2
        ray.shutdown()
        """
    )
    assert [rest for _, rest in _prefixed(out, "child")] == ["from the child 9e1b"], out


def test_log_to_driver_false_prints_nothing():
    out, _ = _run(
        """
        import ray
        ray.init(num_cpus=1, log_to_driver=False)

        @ray.remote
        def quiet():
            print("should not appear 55aa")
            return 1

        assert ray.get(quiet.remote()) == 1
        ray.shutdown()
        """
    )
    assert "should not appear 55aa" not in out


def test_output_of_a_task_on_another_node_is_printed_before_shutdown(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    far = cluster.add_node(num_cpus=1, resources={"remote_node": 1})
    cluster.wait_for_nodes(timeout=60)
    out, _ = _run(
        f"""
        import ray
        ray.init(address={cluster.address!r})

        @ray.remote(resources={{"remote_node": 1}})
        def far_away():
            for i in range(200):
                print(f"far {{i}}")
            return 1

        assert ray.get(far_away.remote()) == 1
        ray.shutdown()
        """,
        env=cluster.env(),
    )
    # Output from another node than the driver's names that node's address, as in Ray.
    assert far.ip != "127.0.0.1"
    lines = _prefixed(out, "far_away", ip=far.ip)
    assert [rest for _, rest in lines] == [f"far {i}" for i in range(200)], out[-2000:]


def test_output_pipe_drain_hands_on_whole_lines_written_so_far():
    """The node manager's reader of a worker pipe (no process: a plain os.pipe)."""
    import os

    from ray._private.node_manager.worker_pool import OutputPipe

    r, w = os.pipe()
    got: list[str] = []
    pipe = OutputPipe(r, False, got.extend)
    try:
        os.write(w, b"one\ntwo\nthr")
        assert pipe.drain(deadline=float("inf")) == 2
        assert got == ["one", "two"]
        # A partial line waits for its end.
        os.write(w, b"ee\n" + b"x" * 30_000 + b"\n")
        assert pipe.drain(deadline=float("inf")) == 2
        assert got[2:] == ["three", "x" * 30_000]
        assert pipe.drain(deadline=float("inf")) == 0
        # At EOF a last line without a newline is handed on too.
        os.write(w, b"tail")
        os.close(w)
        w = -1
        pipe.pump()  # returns at EOF
        assert got[-1] == "tail"
    finally:
        if w >= 0:
            os.close(w)
        os.close(r)
