"""Resource accounting of a node (sans-IO: no process is started)."""

from __future__ import annotations

import pytest

from ray._private.scheduling.resources import NodeResources, to_fixed, validate_request


def test_fractions_add_up_exactly() -> None:
    node = NodeResources({"CPU": 1})
    allocs = [node.allocate(to_fixed({"CPU": 0.1})) for _ in range(10)]
    assert not node.fits_available(to_fixed({"CPU": 0.1}))
    for alloc in allocs:
        node.release(alloc)
    assert node.available == node.total


def test_never_exceeds_totals() -> None:
    node = NodeResources({"CPU": 2, "Custom": 1})
    a = node.allocate(to_fixed({"CPU": 1.5, "Custom": 1}))
    assert not node.fits_available(to_fixed({"CPU": 1}))
    assert not node.fits_available(to_fixed({"Custom": 0.5}))
    with pytest.raises(ValueError):
        node.allocate(to_fixed({"CPU": 1}))
    node.release(a)
    assert node.fits_available(to_fixed({"CPU": 2, "Custom": 1}))


def test_fits_total_separates_infeasible_from_busy() -> None:
    node = NodeResources({"CPU": 2})
    node.allocate(to_fixed({"CPU": 2}))
    assert node.fits_total(to_fixed({"CPU": 2}))
    assert not node.fits_total(to_fixed({"CPU": 3}))
    assert not node.fits_total(to_fixed({"GPU": 1}))


def test_whole_gpus_get_distinct_ids() -> None:
    node = NodeResources({"CPU": 4, "GPU": 2})
    a = node.allocate(to_fixed({"GPU": 1}))
    b = node.allocate(to_fixed({"GPU": 1}))
    assert sorted(a.instance_ids()["GPU"] + b.instance_ids()["GPU"]) == [0, 1]
    assert not node.fits_available(to_fixed({"GPU": 0.5}))


def test_fractional_gpus_share_one_device() -> None:
    node = NodeResources({"GPU": 2})
    a = node.allocate(to_fixed({"GPU": 0.5}))
    b = node.allocate(to_fixed({"GPU": 0.5}))
    assert a.instance_ids()["GPU"] == b.instance_ids()["GPU"]  # best fit packs them
    whole = node.allocate(to_fixed({"GPU": 1}))
    assert whole.instance_ids()["GPU"] != a.instance_ids()["GPU"]
    node.release(a)
    node.release(b)
    assert node.fits_available(to_fixed({"GPU": 1}))


def test_two_gpus_need_two_free_devices() -> None:
    node = NodeResources({"GPU": 2})
    node.allocate(to_fixed({"GPU": 0.25}))
    assert node.fits_available(to_fixed({"GPU": 1}))
    assert not node.fits_available(to_fixed({"GPU": 2}))


def test_lend_and_reclaim_for_blocked_workers() -> None:
    node = NodeResources({"CPU": 1})
    alloc = node.allocate(to_fixed({"CPU": 1}))
    node.lend("CPU", alloc.amounts["CPU"])
    assert node.fits_available(to_fixed({"CPU": 1}))
    other = node.allocate(to_fixed({"CPU": 1}))
    node.reclaim("CPU", alloc.amounts["CPU"])  # briefly oversubscribed, as in Ray
    assert node.available["CPU"] < 0
    node.release(other)
    node.release(alloc)
    assert node.available == node.total


@pytest.mark.parametrize("bad", [{"CPU": -1}, {"GPU": 1.5}])
def test_invalid_requests(bad: dict) -> None:
    with pytest.raises(ValueError):
        validate_request(bad)


# ---- the memory resource of a node --------------------------------------------------------------


def test_memory_is_whole_bytes_and_validated() -> None:
    from ray._private.node import build_resources

    out = build_resources(1, 0, None, memory=2.7 * 1024**3)
    assert out["memory"] == float(int(2.7 * 1024**3))
    assert "memory" not in build_resources(1, 0, None)
    with pytest.raises(ValueError, match="memory"):
        build_resources(1, 0, None, memory=-1)


def test_default_memory_is_available_less_store(monkeypatch: pytest.MonkeyPatch) -> None:
    from ray._private import node

    monkeypatch.setattr(node, "system_memory", lambda: 16 * 10**9)
    monkeypatch.setattr(node, "estimate_available_memory", lambda: 10 * 10**9)
    assert node.default_memory(3 * 10**9) == 7 * 10**9
    # Too little left for tasks and actors: an error that names both fixes.
    monkeypatch.setattr(node, "estimate_available_memory", lambda: 3 * 10**9 + 10**6)
    with pytest.raises(ValueError, match=r"_memory=<bytes>.*--memory"):
        node.default_memory(3 * 10**9)


def test_available_memory_reads_the_machine() -> None:
    from ray._private.node import estimate_available_memory, system_memory

    total = system_memory()
    available = estimate_available_memory()
    assert 0 < available <= total
