"""Placement groups against real clusters: creation and readiness, the table, tasks and actors
placed in bundles, removal, child capture, and (multi-node) STRICT_SPREAD, a pending group
created when a node joins, and bundles placed again when their node dies."""

from __future__ import annotations

import pytest
from utils import run_string_as_driver, wait_for_condition

import ray
from ray.util.placement_group import (
    PlacementGroup,
    get_current_placement_group,
    get_placement_group,
    placement_group,
    placement_group_table,
    remove_placement_group,
)
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

pytestmark = pytest.mark.timeout(300)

FOUR_CPUS = [{"num_cpus": 4}]


def in_pg(pg: PlacementGroup, index: int = -1, capture: bool | None = None):
    return PlacementGroupSchedulingStrategy(pg, index, capture)


@ray.remote(num_cpus=1)
def where() -> tuple[str, str | None]:
    current = get_current_placement_group()
    return ray.get_runtime_context().get_node_id(), None if current is None else current.id.hex()


@ray.remote
class Placed:
    def pg(self) -> str | None:
        current = get_current_placement_group()
        assert ray.get_runtime_context().get_placement_group_id() == (
            None if current is None else current.id.hex()
        )
        return None if current is None else current.id.hex()

    def node(self) -> str:
        return ray.get_runtime_context().get_node_id()


# ---- single node -------------------------------------------------------------------------


@pytest.mark.parametrize("ray_start_regular", FOUR_CPUS, indirect=True)
@pytest.mark.parametrize("strategy", ["PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"])
def test_every_strategy_that_fits_one_node_is_created(ray_start_regular, strategy):
    bundles = [{"CPU": 1}] if strategy == "STRICT_SPREAD" else [{"CPU": 1}, {"CPU": 2}]
    pg = placement_group(bundles, strategy=strategy)
    assert ray.get(pg.ready(), timeout=60) == pg
    assert pg.wait(10)
    table = placement_group_table(pg)
    assert table["state"] == "CREATED"
    assert table["strategy"] == strategy
    assert table["bundles"] == {i: b for i, b in enumerate(bundles)}
    node_id = ray.get_runtime_context().get_node_id()
    assert set(table["bundles_to_node_id"].values()) == {node_id}
    assert pg.bundle_specs == bundles
    assert pg.bundle_count == len(bundles)
    # The reserved CPUs are gone from the free pool while the group lives.
    used = sum(b["CPU"] for b in bundles)
    wait_for_condition(lambda: ray.available_resources().get("CPU", 0) == 4 - used, timeout=30)


@pytest.mark.parametrize("ray_start_regular", FOUR_CPUS, indirect=True)
def test_group_that_cannot_fit_stays_pending_and_waits_time_out(ray_start_regular):
    pg = placement_group([{"CPU": 100}])
    assert pg.wait(1) is False
    with pytest.raises(ray.exceptions.GetTimeoutError):
        ray.get(pg.ready(), timeout=1)
    ready, not_ready = ray.wait([pg.ready()], timeout=1)
    assert ready == [] and len(not_ready) == 1
    assert placement_group_table(pg)["state"] == "PENDING"
    # Two bundles that each need a node of their own cannot share this one.
    spread = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD")
    assert spread.wait(1) is False
    assert placement_group_table(spread)["state"] == "PENDING"
    # A pending group takes nothing.
    assert ray.available_resources()["CPU"] == 4
    remove_placement_group(pg)
    remove_placement_group(spread)
    assert placement_group_table(pg)["state"] == "REMOVED"


@pytest.mark.parametrize("ray_start_regular", FOUR_CPUS, indirect=True)
def test_ray_wait_on_ready_returns_when_created(ray_start_regular):
    pg = placement_group([{"CPU": 1}])
    ready, _ = ray.wait([pg.ready()], timeout=60)
    assert len(ready) == 1
    assert ray.get(ready[0]) == pg


@pytest.mark.parametrize("ray_start_regular", FOUR_CPUS, indirect=True)
def test_table_and_lookup_by_name(ray_start_regular):
    pg = placement_group([{"CPU": 1}], name="training", strategy="STRICT_PACK")
    assert pg.wait(60)
    found = get_placement_group("training")
    assert found == pg
    assert found.bundle_specs == [{"CPU": 1}]
    table = placement_group_table()
    assert pg.id.hex() in table
    entry = table[pg.id.hex()]
    assert entry["placement_group_id"] == pg.id.hex()
    assert entry["name"] == "training"
    assert entry["strategy"] == "STRICT_PACK"
    assert entry["state"] == "CREATED"
    with pytest.raises(ValueError, match="already exists"):
        placement_group([{"CPU": 1}], name="training")
    remove_placement_group(pg)
    with pytest.raises(ValueError, match="Failed to look up"):
        get_placement_group("training")
    # The name is free again.
    again = placement_group([{"CPU": 1}], name="training")
    assert again.wait(60)
    assert get_placement_group("training") == again


def test_bad_arguments_are_refused(shutdown_only):
    ray.init(num_cpus=1)
    with pytest.raises(ValueError, match="strategy"):
        placement_group([{"CPU": 1}], strategy="EVERYWHERE")
    with pytest.raises(ValueError, match="lifetime"):
        placement_group([{"CPU": 1}], lifetime="forever")
    with pytest.raises(ValueError, match="empty"):
        placement_group([{"CPU": 0}])
    with pytest.raises(ValueError, match="non-empty list"):
        placement_group([])


@pytest.mark.parametrize("ray_start_regular", FOUR_CPUS, indirect=True)
def test_tasks_and_actors_run_in_their_bundles(ray_start_regular):
    pg = placement_group([{"CPU": 1}, {"CPU": 2}])
    assert pg.wait(60)
    node_id, current = ray.get(
        where.options(scheduling_strategy=in_pg(pg, 1)).remote(), timeout=120
    )
    assert current == pg.id.hex()
    assert node_id == ray.get_runtime_context().get_node_id()
    # The legacy options say the same.
    _, legacy = ray.get(where.options(placement_group=pg, placement_group_bundle_index=0).remote())
    assert legacy == pg.id.hex()
    # Bundle 1 holds 2 CPUs: two 1-CPU tasks fit it at once, and each sees its group.
    results = ray.get([where.options(scheduling_strategy=in_pg(pg, 1)).remote() for _ in range(4)])
    assert {r[1] for r in results} == {pg.id.hex()}
    actor = Placed.options(num_cpus=1, scheduling_strategy=in_pg(pg, 0)).remote()
    assert ray.get(actor.pg.remote(), timeout=120) == pg.id.hex()
    # A task outside any group, and the driver, are in none.
    assert ray.get(where.remote())[1] is None
    assert get_current_placement_group() is None
    assert ray.get_runtime_context().get_placement_group_id() is None


@pytest.mark.parametrize("ray_start_regular", FOUR_CPUS, indirect=True)
def test_requests_larger_than_the_bundle_are_refused(ray_start_regular):
    pg = placement_group([{"CPU": 1}, {"CPU": 2}])
    assert pg.wait(60)
    with pytest.raises(ValueError, match="cannot fit into bundle 0"):
        where.options(num_cpus=2, scheduling_strategy=in_pg(pg, 0)).remote()
    with pytest.raises(ValueError, match="cannot fit into any bundle"):
        where.options(num_cpus=3, scheduling_strategy=in_pg(pg)).remote()
    with pytest.raises(ValueError, match="out of range"):
        where.options(scheduling_strategy=in_pg(pg, 2)).remote()
    with pytest.raises(ValueError, match="cannot fit"):
        Placed.options(resources={"Custom": 1}, scheduling_strategy=in_pg(pg)).remote()
    # Within the bundle it runs.
    assert (
        ray.get(where.options(num_cpus=2, scheduling_strategy=in_pg(pg)).remote())[1] == pg.id.hex()
    )


@pytest.mark.parametrize("ray_start_regular", FOUR_CPUS, indirect=True)
def test_removal_returns_resources_and_kills_what_runs_inside(ray_start_regular):
    pg = placement_group([{"CPU": 2}, {"CPU": 1}])
    assert pg.wait(60)
    wait_for_condition(lambda: ray.available_resources().get("CPU", 0) == 1, timeout=30)
    actor = Placed.options(num_cpus=1, scheduling_strategy=in_pg(pg, 0)).remote()
    assert ray.get(actor.pg.remote(), timeout=120) == pg.id.hex()

    @ray.remote(num_cpus=1)
    def sleeper():
        import time

        time.sleep(300)

    running = sleeper.options(scheduling_strategy=in_pg(pg, 1), max_retries=0).remote()
    wait_for_condition(
        lambda: ray.available_resources().get(f"CPU_group_1_{pg.id.hex()}", 0) == 0, timeout=60
    )
    remove_placement_group(pg)
    assert placement_group_table(pg)["state"] == "REMOVED"
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(actor.pg.remote(), timeout=60)
    with pytest.raises((ray.exceptions.WorkerCrashedError, ray.exceptions.RayError)):
        ray.get(running, timeout=60)

    def all_back():
        available = ray.available_resources()
        assert available.get("CPU") == 4, available
        assert not [k for k in available if pg.id.hex() in k], available
        return True

    wait_for_condition(all_back, timeout=60)
    # Removing again is harmless.
    remove_placement_group(pg)


@pytest.mark.parametrize("ray_start_regular", FOUR_CPUS, indirect=True)
def test_capture_child_tasks(ray_start_regular):
    pg = placement_group([{"CPU": 2}])
    assert pg.wait(60)

    @ray.remote(num_cpus=0)
    def child() -> str | None:
        current = get_current_placement_group()
        return None if current is None else current.id.hex()

    @ray.remote(num_cpus=1)
    def parent() -> tuple[str | None, str | None]:
        current = get_current_placement_group()
        return (None if current is None else current.id.hex()), ray.get(child.remote())

    captured = ray.get(parent.options(scheduling_strategy=in_pg(pg, 0, True)).remote(), timeout=120)
    assert captured == (pg.id.hex(), pg.id.hex())
    free = ray.get(parent.options(scheduling_strategy=in_pg(pg, 0, False)).remote(), timeout=120)
    assert free == (pg.id.hex(), None)


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 2, "num_gpus": 2}], indirect=True)
def test_gpus_of_a_bundle_are_the_tasks_devices(ray_start_regular):
    pg = placement_group([{"CPU": 1, "GPU": 1}, {"CPU": 1, "GPU": 1}], strategy="STRICT_PACK")
    assert pg.wait(60)

    @ray.remote(num_cpus=1, num_gpus=1)
    def devices() -> list[str]:
        return ray.get_runtime_context().get_accelerator_ids()["GPU"]

    ids = ray.get(
        [devices.options(scheduling_strategy=in_pg(pg, i)).remote() for i in range(2)],
        timeout=120,
    )
    assert sorted(ids) == [["0"], ["1"]]


@pytest.mark.parametrize("ray_start_regular", FOUR_CPUS, indirect=True)
def test_pending_group_is_created_once_resources_free_up(ray_start_regular):
    first = placement_group([{"CPU": 3}])
    assert first.wait(60)
    second = placement_group([{"CPU": 2}])
    assert second.wait(1) is False
    # Work may be submitted to a group that is still pending: it waits for the group.
    early = where.options(scheduling_strategy=in_pg(second, 0)).remote()
    ready, _ = ray.wait([early], timeout=1)
    assert ready == []
    remove_placement_group(first)
    assert second.wait(60)
    assert placement_group_table(second)["state"] == "CREATED"
    assert ray.get(early, timeout=120)[1] == second.id.hex()


# ---- multi-node --------------------------------------------------------------------------


def test_strict_spread_places_one_bundle_per_node(ray_start_cluster):
    cluster = ray_start_cluster
    nodes = [cluster.add_node(num_cpus=2) for _ in range(3)]
    cluster.wait_for_nodes(timeout=60)
    cluster.connect()
    pg = placement_group([{"CPU": 1}] * 3, strategy="STRICT_SPREAD")
    assert pg.wait(60)
    table = placement_group_table(pg)
    placed = table["bundles_to_node_id"]
    assert set(placed.values()) == {n.node_id.hex() for n in nodes}
    runs = ray.get(
        [where.options(scheduling_strategy=in_pg(pg, i)).remote() for i in range(3)], timeout=180
    )
    for index, (node_id, current) in enumerate(runs):
        assert node_id == placed[index]
        assert current == pg.id.hex()
    actor = Placed.options(num_cpus=1, scheduling_strategy=in_pg(pg, 2)).remote()
    assert ray.get(actor.node.remote(), timeout=180) == placed[2]


def test_strict_spread_waits_for_a_node_to_join(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes(timeout=60)
    cluster.connect()
    pg = placement_group([{"CPU": 1}] * 3, strategy="STRICT_SPREAD")
    assert pg.wait(2) is False
    assert placement_group_table(pg)["state"] == "PENDING"
    # `ray status` shows what the group waits for.
    status = cluster.cli("status")
    assert status.returncode == 0, status.stderr
    assert "3 placement group bundles  {CPU: 1}" in status.stdout, status.stdout
    third = cluster.add_node(num_cpus=1)
    assert pg.wait(60)
    assert third.node_id.hex() in placement_group_table(pg)["bundles_to_node_id"].values()


def test_bundles_of_a_dead_node_are_placed_again(ray_start_cluster):
    cluster = ray_start_cluster
    head = cluster.add_node(num_cpus=1, resources={"home": 1})
    first = cluster.add_node(num_cpus=1, resources={"slot": 1})
    second = cluster.add_node(num_cpus=1, resources={"slot": 1})
    cluster.wait_for_nodes(timeout=60)
    cluster.connect()
    pg = placement_group([{"CPU": 1, "slot": 1}, {"CPU": 1, "home": 1}], strategy="SPREAD")
    assert pg.wait(60)
    placed = placement_group_table(pg)["bundles_to_node_id"]
    assert placed[1] == head.node_id.hex()
    victim, other = (first, second) if placed[0] == first.node_id.hex() else (second, first)
    assert placed[0] == victim.node_id.hex()
    # It holds no CPU while it lives, so bundle 0 still has room for a task.
    actor = Placed.options(max_restarts=1, scheduling_strategy=in_pg(pg, 0)).remote()
    assert ray.get(actor.node.remote(), timeout=180) == victim.node_id.hex()
    cluster.kill_node(victim)

    def replaced():
        table = placement_group_table(pg)
        assert table["state"] == "CREATED", table
        assert table["bundles_to_node_id"][0] == other.node_id.hex(), table
        return table

    table = wait_for_condition(replaced, timeout=120, retry_interval_ms=200)
    # The bundle on the surviving head node stayed where it was.
    assert table["bundles_to_node_id"][1] == head.node_id.hex()
    node_id, current = ray.get(
        where.options(scheduling_strategy=in_pg(pg, 0)).remote(), timeout=180
    )
    assert node_id == other.node_id.hex()
    assert current == pg.id.hex()
    # The actor of the lost bundle is restarted in the bundle's new place.
    moved = wait_for_condition(
        lambda: ray.get(actor.node.remote(), timeout=30), timeout=180, retry_interval_ms=500
    )
    assert moved == other.node_id.hex()


def test_lifetime_detached_survives_the_driver_and_the_rest_go(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes(timeout=60)
    script = """
        import ray
        from ray.util.placement_group import placement_group
        ray.init(address="auto", namespace="pgs")
        kept = placement_group([{"CPU": 1}], name="kept", lifetime="detached")
        gone = placement_group([{"CPU": 1}], name="gone")
        assert kept.wait(60) and gone.wait(60)
        print("IDS", kept.id.hex(), gone.id.hex())
    """
    result = run_string_as_driver(script, timeout=120, env=cluster.env())
    assert result.returncode == 0, result.stdout + result.stderr
    kept_id, gone_id = result.stdout.split("IDS ")[1].split()
    cluster.connect(namespace="pgs")

    def job_cleaned_up():
        table = placement_group_table()
        assert table[gone_id]["state"] == "REMOVED", table[gone_id]
        return table

    table = wait_for_condition(job_cleaned_up, timeout=60)
    assert table[kept_id]["state"] == "CREATED"
    kept = get_placement_group("kept")
    assert kept.id.hex() == kept_id
    remove_placement_group(kept)


def test_groups_of_a_killed_driver_are_removed(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes(timeout=60)
    script = """
        import os
        import ray
        from ray.util.placement_group import placement_group
        ray.init(address="auto")
        pg = placement_group([{"CPU": 1}])
        assert pg.wait(60)
        print("ID", pg.id.hex(), flush=True)
        os._exit(1)  # no goodbye: the GCS must notice
    """
    result = run_string_as_driver(script, timeout=120, env=cluster.env())
    assert "ID " in result.stdout, result.stdout + result.stderr
    pg_id = result.stdout.split("ID ")[1].split()[0]
    cluster.connect()

    def removed():
        entry = placement_group_table()[pg_id]
        assert entry["state"] == "REMOVED", entry
        return True

    wait_for_condition(removed, timeout=90, retry_interval_ms=500)
    wait_for_condition(lambda: ray.available_resources().get("CPU") == 2, timeout=60)
