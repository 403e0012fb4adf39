"""Placement groups: reserve bundles of resources together, then run tasks and actors in them.

A group of two bundles is reserved on this one-node cluster (STRICT_PACK: both on the same
node); `ready()` resolves once both are held. Tasks and actors scheduled with
`PlacementGroupSchedulingStrategy` run inside their bundle, and the reserved CPUs are no
longer free for other work. Removing the group gives them back.
"""

import ray
from ray.util.placement_group import (
    get_current_placement_group,
    placement_group,
    placement_group_table,
    remove_placement_group,
)
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

ray.init(num_cpus=4)

pg = placement_group([{"CPU": 1}, {"CPU": 2}], strategy="STRICT_PACK", name="example")
ray.get(pg.ready(), timeout=60)
print("created:", placement_group_table(pg)["state"], "bundles:", pg.bundle_specs)
assert placement_group_table(pg)["state"] == "CREATED"


@ray.remote(num_cpus=1)
def square(x):
    assert get_current_placement_group() == pg
    return x * x


@ray.remote(num_cpus=1)
class Accumulator:
    def __init__(self):
        self.total = 0

    def add(self, value):
        self.total += value
        return self.total


# Two tasks at a time fit bundle 1 (2 CPUs); the actor holds bundle 0.
in_bundle_1 = PlacementGroupSchedulingStrategy(pg, placement_group_bundle_index=1)
squares = ray.get([square.options(scheduling_strategy=in_bundle_1).remote(i) for i in range(6)])
print("squares:", squares)
assert squares == [0, 1, 4, 9, 16, 25]

acc = Accumulator.options(
    scheduling_strategy=PlacementGroupSchedulingStrategy(pg, placement_group_bundle_index=0)
).remote()
totals = ray.get([acc.add.remote(s) for s in squares])
print("running totals:", totals)
assert totals[-1] == sum(squares)

# Outside the group only the unreserved CPU is free.
assert ray.available_resources()["CPU"] == 1

remove_placement_group(pg)
assert placement_group_table(pg)["state"] == "REMOVED"
print("removed; the reserved CPUs are free again")
ray.shutdown()
