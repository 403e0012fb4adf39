"""`ray.experimental.tqdm_ray`: bars updated in tasks and actors, drawn by the driver.

The drivers run in subprocesses: once with stdout a pipe (no live bars; each bar's final
state is printed as one plain line) and once on a pseudo-terminal (live bars, cleared while
forwarded log lines are printed).
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import textwrap
import time

import pytest
from utils import REPO_ROOT, driver_env, run_string_as_driver

from ray.experimental import tqdm_ray

pytestmark = pytest.mark.timeout(300)

DRIVER_TIMEOUT_S = 180


def _run(script: str) -> str:
    proc = run_string_as_driver(textwrap.dedent(script), timeout=DRIVER_TIMEOUT_S)
    assert proc.returncode == 0, f"driver failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _final_lines(out: str, name: str) -> dict[str, str]:
    """desc -> the final state line of each bar printed by tasks named `name`."""
    found = {}
    for line in out.splitlines():
        m = re.fullmatch(rf"\({re.escape(name)} pid=\d+\) (.+?): +\d+%\|.*", line)
        if m:
            found[m.group(1)] = line
    return found


def test_task_bar_reaches_the_driver_with_its_final_state():
    out = _run(
        """
        import ray
        from ray.experimental.tqdm_ray import tqdm
        ray.init(num_cpus=1)

        @ray.remote
        def work():
            bar = tqdm(total=12, desc="crunching")
            for _ in range(12):
                bar.update(1)
            bar.close()
            return bar.n

        assert ray.get(work.remote()) == 12
        ray.shutdown()
        """
    )
    lines = _final_lines(out, "work")
    assert "crunching" in lines, out
    assert "12/12" in lines["crunching"]
    assert "100%" in lines["crunching"]
    # Not a terminal: no carriage returns or escape sequences, no raw state lines.
    assert "\r" not in out and "\x1b" not in out
    assert tqdm_ray.RAY_TQDM_MAGIC not in out


def test_bars_of_several_tasks_and_an_actor():
    out = _run(
        """
        import ray
        from ray.experimental.tqdm_ray import tqdm
        ray.init(num_cpus=2)

        @ray.remote
        def work(k):
            for _ in tqdm(range(5 + k), desc=f"task {k}"):
                pass
            return k

        @ray.remote
        class Loader:
            def load(self):
                bar = tqdm(total=4, desc="loading", unit="file")
                bar.update(3)
                bar.set_description("loaded")
                bar.update(1)
                bar.close()
                return bar.total

        loader = Loader.remote()
        assert ray.get([work.remote(k) for k in range(4)]) == [0, 1, 2, 3]
        assert ray.get(loader.load.remote()) == 4
        ray.shutdown()
        """
    )
    lines = _final_lines(out, "work")
    for k in range(4):
        assert f"{5 + k}/{5 + k}" in lines[f"task {k}"], out
    actor = _final_lines(out, "Loader")
    assert "4/4" in actor["loaded"], out
    assert "file/s" in actor["loaded"]


def test_unclosed_bar_is_printed_at_shutdown():
    out = _run(
        """
        import ray
        from ray.experimental.tqdm_ray import tqdm
        ray.init(num_cpus=1)

        @ray.remote
        def partial():
            bar = tqdm(total=10, desc="half", flush_interval_s=0)
            bar.update(5)
            return 1

        assert ray.get(partial.remote()) == 1
        ray.shutdown()
        print("AFTER SHUTDOWN")
        """
    )
    lines = _final_lines(out, "partial")
    assert "5/10" in lines["half"], out
    assert out.index("5/10") < out.index("AFTER SHUTDOWN")


def test_log_lines_stay_intact_between_bar_updates():
    out = _run(
        """
        import ray
        from ray.experimental.tqdm_ray import tqdm
        ray.init(num_cpus=2)

        @ray.remote
        def noisy(k):
            bar = tqdm(total=50, desc=f"noisy {k}", flush_interval_s=0)
            for i in range(50):
                bar.update(1)
                print(f"log {k} {i}")
            bar.close()
            return k

        assert ray.get([noisy.remote(k) for k in range(2)]) == [0, 1]
        ray.shutdown()
        """
    )
    for k in range(2):
        logs = re.findall(rf"^\(noisy pid=\d+\) (log {k} \d+)$", out, re.M)
        assert logs == [f"log {k} {i}" for i in range(50)], out[-3000:]
        assert "50/50" in _final_lines(out, "noisy")[f"noisy {k}"]


def test_driver_side_bar_and_safe_print(capsys):
    """Without a cluster, the bar is the driver's own; close() prints its final state once."""
    bar = tqdm_ray.tqdm(total=3, desc="local")
    bar.update(2)
    tqdm_ray.safe_print("in between")
    bar.update(1)
    bar.close()
    bar.close()
    out = capsys.readouterr().out
    assert "in between\n" in out
    assert out.count("3/3") == 1, out
    assert re.search(r"^local: 100%\|.*\| 3/3 ", out, re.M), out
    with pytest.raises(ValueError, match="iterable"):
        iter(tqdm_ray.tqdm(total=1)).__next__()


def _run_on_terminal(script: str, timeout_s: float = DRIVER_TIMEOUT_S) -> str:
    """Runs a driver with its stdout and stderr on a pseudo-terminal; returns what it drew."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=driver_env(),
        cwd=str(REPO_ROOT),
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the driver closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=30) == 0, b"".join(chunks).decode(errors="replace")[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        os.close(master)
    return b"".join(chunks).decode(errors="replace")


def test_live_bars_on_a_terminal_are_cleared_around_log_lines():
    text = _run_on_terminal(
        """
        import ray
        from ray.experimental.tqdm_ray import tqdm
        ray.init(num_cpus=1)

        @ray.remote
        def drawn():
            bar = tqdm(total=30, desc="drawing", flush_interval_s=0)
            for i in range(30):
                bar.update(1)
                print(f"row {i} of the log")
            bar.close()
            return 1

        assert ray.get(drawn.remote()) == 1
        ray.shutdown()
        """
    )
    # A live bar was drawn (tqdm redraws it in place with carriage returns).
    assert re.search(r"\r\(drawn pid=\d+\) drawing: +\d+%\|", text), text[-3000:]
    # Every log line is whole: the bar is cleared (a line of blanks) before it is printed.
    rows = re.findall(r"\(drawn pid=\d+\) (row \d+ of the log)\r\n", text)
    assert rows == [f"row {i} of the log" for i in range(30)], text[-3000:]
    assert re.search(r"\r {20,}\r\(drawn pid=\d+\) row ", text), text[-3000:]
    # And its final state as a line of its own.
    assert re.search(r"\(drawn pid=\d+\) drawing: 100%\|#+\| 30/30 .*\r\n", text), text[-3000:]


def test_progress_bars_example_prints_every_bar():
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "progress_bars.py")],
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT_S,
        env=driver_env(),
        cwd=str(REPO_ROOT),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = _final_lines(proc.stdout, "download")
    for k, files in enumerate((10, 15, 20)):
        assert f"{files}/{files}" in lines[f"download {k}"], proc.stdout
    assert "20/20" in _final_lines(proc.stdout, "Trainer")["training"]
    assert re.search(r"^\(Trainer pid=\d+\) training done$", proc.stdout, re.M)
