"""Actor lifetimes across drivers on a long-lived cluster started with `ray start`."""

from __future__ import annotations

from test_cli import Cli, _start_head, cli  # noqa: F401 - the fixture is used by name

CREATE = """
import ray
ray.init(address="auto", namespace="shared")

@ray.remote
class Store:
    def __init__(self):
        self.items = []

    def add(self, x):
        self.items.append(x)
        return len(self.items)

    def items_(self):
        return self.items

s = Store.options(name="store", lifetime={lifetime!r}).remote()
assert ray.get(s.add.remote("first")) == 1
"""

USE = """
import ray
ray.init(address="auto", namespace="shared")
s = ray.get_actor("store")
print(ray.get(s.add.remote("second")))
print(ray.get(s.items_.remote()))
"""

MISSING = """
import ray
ray.init(address="auto", namespace="shared")
try:
    ray.get_actor("store")
except ValueError as err:
    print("gone:", err)
"""

KILL = """
import ray
ray.init(address="auto", namespace="shared")
ray.kill(ray.get_actor("store"))
"""


def test_detached_actor_outlives_its_driver(cli: Cli) -> None:  # noqa: F811
    _start_head(cli, "--num-cpus", "2")
    cli.driver(CREATE.format(lifetime="detached"))
    out = cli.driver(USE).stdout
    assert "2" in out.splitlines()[0]
    assert "['first', 'second']" in out
    cli.driver(KILL)
    assert "gone:" in cli.driver(MISSING).stdout


def test_non_detached_actor_dies_with_its_driver(cli: Cli) -> None:  # noqa: F811
    _start_head(cli, "--num-cpus", "2")
    cli.driver(CREATE.format(lifetime=None))
    assert "gone:" in cli.driver(MISSING).stdout
