"""Runs every program in examples/ in its own process: each must exit 0 within its time limit.

An example that no longer runs fails the suite (STYLE.md, Examples). Each test also checks
that the example's cluster went away with it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from utils import REPO_ROOT, driver_env, shm_entries, wait_for_condition

EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.py"))
TIMEOUT_S = 60

pytestmark = pytest.mark.timeout(TIMEOUT_S + 30)


def test_examples_exist():
    names = {p.name for p in EXAMPLES}
    assert {"walkthrough.py", "objects.py", "resources.py"} <= names, names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path: Path):
    source = path.read_text()
    assert source.lstrip().startswith('"""'), f"{path.name} needs a docstring saying what it shows"
    proc = subprocess.Popen(
        [sys.executable, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=driver_env(),
        cwd=str(REPO_ROOT),
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(
            f"{path.name} did not finish in {TIMEOUT_S}s\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}"
        )
    assert proc.returncode == 0, (
        f"{path.name} exited {proc.returncode}\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}"
    )
    # The example's cluster (named after its pid) is gone with it.
    wait_for_condition(lambda: not {n for n in shm_entries() if f"_{proc.pid}_" in n}, timeout=10)


def test_walkthrough_prints_its_steps():
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "walkthrough.py")],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=driver_env(),
        cwd=str(REPO_ROOT),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "`get` timed out." in result.stdout
    assert "walkthrough: all steps passed" in result.stdout
