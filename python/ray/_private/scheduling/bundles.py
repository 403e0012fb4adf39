"""Placement group bundles, sans-IO: where the bundles of a group go, and the resource names
that make a committed bundle usable.

A committed bundle adds resources to its node, named as in Ray:
- `<name>_group_<index>_<pg hex>`: the bundle's own amount of `<name>`;
- `<name>_group_<pg hex>`: the sum over the group's bundles on that node (bundle index -1);
- `bundle_group_<index>_<pg hex>` / `bundle_group_<pg hex>`: 1000 units per bundle, of which
  every task placed in the group takes a thousandth, so a task asking for nothing still lands
  on its bundle's node.
A task placed in a group asks for these names instead of its plain ones, so the one
scheduler (policy.py, node_scheduler.py) places it like any other request.

`place_bundles` decides where the bundles go, all or none (the caller then reserves them in
two phases: prepare on every node, commit on every node, or give back what was prepared).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ray._private.scheduling.resources import PRECISION

BUNDLE_RESOURCE = "bundle"
# Units of `bundle_group_*` per bundle, and what one task takes of them.
BUNDLE_UNITS = 1000.0
TASK_BUNDLE_SHARE = 0.001

PACK = "PACK"
SPREAD = "SPREAD"
STRICT_PACK = "STRICT_PACK"
STRICT_SPREAD = "STRICT_SPREAD"
STRATEGIES = (PACK, SPREAD, STRICT_PACK, STRICT_SPREAD)


def indexed_name(name: str, index: int, pg_hex: str) -> str:
    return f"{name}_group_{index}_{pg_hex}"


def wildcard_name(name: str, pg_hex: str) -> str:
    return f"{name}_group_{pg_hex}"


def is_group_resource(name: str) -> bool:
    """A name a committed bundle added (hidden from resource listings)."""
    return "_group_" in name


def committed_resources(
    bundles: Sequence[tuple[int, Mapping[str, float]]], pg_hex: str
) -> dict[str, float]:
    """What committing `(index, resources)` bundles on one node adds to it."""
    out: dict[str, float] = {}
    for index, resources in bundles:
        amounts = {**resources, BUNDLE_RESOURCE: BUNDLE_UNITS}
        for name, amount in amounts.items():
            out[indexed_name(name, index, pg_hex)] = float(amount)
            wild = wildcard_name(name, pg_hex)
            out[wild] = out.get(wild, 0.0) + float(amount)
    return out


def task_resources(resources: Mapping[str, float], index: int, pg_hex: str) -> dict[str, float]:
    """A task's request, renamed to bundle `index` (-1: any bundle) of the group."""
    rename = (
        (lambda n: wildcard_name(n, pg_hex))
        if index < 0
        else (lambda n: indexed_name(n, index, pg_hex))
    )
    out = {rename(name): float(amount) for name, amount in resources.items() if amount}
    out[rename(BUNDLE_RESOURCE)] = TASK_BUNDLE_SHARE
    return out


@dataclass
class BundleNode:
    """A node as the bundle policy sees it (amounts in fixed point)."""

    node_id: bytes
    total: dict[str, int]
    available: dict[str, int]
    # Bundles of this group already on the node (kept when some are placed again).
    held: int = 0

    def fits(self, demand: Mapping[str, int]) -> bool:
        return all(self.available.get(k, 0) >= v for k, v in demand.items())

    def fits_total(self, demand: Mapping[str, int]) -> bool:
        return all(self.total.get(k, 0) >= v for k, v in demand.items())

    def take(self, demand: Mapping[str, int]) -> None:
        for k, v in demand.items():
            self.available[k] = self.available.get(k, 0) - v

    def load(self) -> float:
        used = [1 - self.available.get(k, 0) / v for k, v in self.total.items() if v > 0]
        return max(used, default=0.0)


@dataclass
class Placement:
    """The answer of `place_bundles`."""

    # Bundle index -> node id, for every bundle asked about; empty when they do not all fit.
    nodes: dict[int, bytes] = field(default_factory=dict)
    # No cluster of these nodes could ever hold the bundles, even empty (they wait for nodes).
    infeasible: bool = False
    # Why they do not fit now (empty when placed).
    reason: str = ""


def _sum(demands: Sequence[Mapping[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for demand in demands:
        for k, v in demand.items():
            out[k] = out.get(k, 0) + v
    return out


def place_bundles(
    bundles: Mapping[int, Mapping[str, int]],
    strategy: str,
    nodes: Sequence[BundleNode],
    placed: Mapping[int, bytes] | None = None,
) -> Placement:
    """Where the bundles go (all or none).

    Args:
        bundles: The bundles to place, by index, in fixed point.
        strategy: PACK, SPREAD, STRICT_PACK or STRICT_SPREAD.
        nodes: The alive nodes with what they have free now (not changed).
        placed: Bundles of the same group that stay where they are (index -> node).

    Returns:
        The placement, or an empty one with the reason.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown placement strategy {strategy!r}; use one of {STRATEGIES}")
    placed = dict(placed or {})
    work = [
        BundleNode(
            n.node_id,
            dict(n.total),
            dict(n.available),
            sum(1 for node in placed.values() if node == n.node_id),
        )
        for n in sorted(nodes, key=lambda n: n.node_id)
    ]
    order = sorted(bundles)
    if not order:
        return Placement()
    if strategy == STRICT_PACK:
        return _strict_pack(bundles, order, work, placed)
    if strategy == STRICT_SPREAD:
        return _strict_spread(bundles, order, work, placed)
    if strategy == PACK and not placed:
        # As few nodes as possible: one, if one has room for them all.
        total = _sum([bundles[i] for i in order])
        whole = [n for n in work if n.fits(total)]
        if whole:
            node = min(whole, key=lambda n: (n.load(), n.node_id))
            return Placement({i: node.node_id for i in order})
    out: dict[int, bytes] = {}
    for index in order:
        demand = bundles[index]
        fitting = [n for n in work if n.fits(demand)]
        if not fitting:
            return _unplaced(bundles, work, strategy)
        if strategy == PACK:
            # The node already holding most of the group, then the fullest that fits.
            node = max(fitting, key=lambda n: (n.held, n.load(), _neg(n.node_id)))
        else:  # SPREAD: the node holding fewest of the group, then the least loaded.
            node = min(fitting, key=lambda n: (n.held, n.load(), n.node_id))
        node.take(demand)
        node.held += 1
        out[index] = node.node_id
    return Placement(out)


def _neg(node_id: bytes) -> bytes:
    """Reverses byte order for ties under `max` (so ties pick the lowest id, as `min` does)."""
    return bytes(255 - b for b in node_id)


def _strict_pack(
    bundles: Mapping[int, Mapping[str, int]],
    order: list[int],
    work: list[BundleNode],
    placed: Mapping[int, bytes],
) -> Placement:
    total = _sum([bundles[i] for i in order])
    if placed:
        # The bundles that stayed fix the node.
        node_ids = set(placed.values())
        candidates = [n for n in work if n.node_id in node_ids]
    else:
        candidates = work
    fitting = [n for n in candidates if n.fits(total)]
    if not fitting:
        if not any(n.fits_total(total) for n in candidates):
            return Placement(
                infeasible=True,
                reason=f"no node can ever hold all bundles together ({_show(total)}; STRICT_PACK)",
            )
        return Placement(reason=f"no node has {_show(total)} free for all bundles (STRICT_PACK)")
    node = min(fitting, key=lambda n: (n.load(), n.node_id))
    return Placement({i: node.node_id for i in order})


def _strict_spread(
    bundles: Mapping[int, Mapping[str, int]],
    order: list[int],
    work: list[BundleNode],
    placed: Mapping[int, bytes],
) -> Placement:
    free = [n for n in work if n.held == 0]
    # Match bundles to distinct nodes: the most demanding bundle first, each to the least
    # loaded node that fits it. Greedy, with a bipartite matching as the fallback.
    sizes = {i: sum(bundles[i].values()) for i in order}
    by_size = sorted(order, key=lambda i: (-sizes[i], i))
    match = _match(bundles, by_size, free, lambda n, d: n.fits(d))
    if match is not None:
        return Placement(match)
    ever = _match(bundles, by_size, [n for n in work if n.held == 0], lambda n, d: n.fits_total(d))
    need = len(order) + len(placed)
    if ever is None:
        return Placement(
            infeasible=True,
            reason=(
                f"STRICT_SPREAD needs {need} distinct nodes that can each hold a bundle; "
                f"the cluster has {len(work)} alive node(s)"
            ),
        )
    return Placement(reason=f"STRICT_SPREAD: fewer than {need} distinct nodes have a bundle free")


def _match(
    bundles: Mapping[int, Mapping[str, int]],
    order: list[int],
    nodes: list[BundleNode],
    fits: object,
) -> dict[int, bytes] | None:
    """One distinct node per bundle (augmenting paths: bundles are few)."""
    owner: dict[bytes, int] = {}
    ranked = sorted(nodes, key=lambda n: (n.load(), n.node_id))

    def assign(index: int, seen: set[bytes]) -> bool:
        for node in ranked:
            if node.node_id in seen or not fits(node, bundles[index]):  # type: ignore[operator]
                continue
            seen.add(node.node_id)
            if node.node_id not in owner or assign(owner[node.node_id], seen):
                owner[node.node_id] = index
                return True
        return False

    for index in order:
        if not assign(index, set()):
            return None
    return {index: node_id for node_id, index in owner.items()}


def _unplaced(
    bundles: Mapping[int, Mapping[str, int]], work: list[BundleNode], strategy: str
) -> Placement:
    never = [i for i, d in bundles.items() if not any(n.fits_total(d) for n in work)]
    if never:
        return Placement(
            infeasible=True,
            reason=(
                f"bundle {never[0]} ({_show(bundles[never[0]])}) fits no alive node, "
                f"even empty ({strategy})"
            ),
        )
    return Placement(reason=f"the bundles do not all fit the free resources now ({strategy})")


def _show(demand: Mapping[str, int]) -> str:
    return str({k: v / PRECISION for k, v in sorted(demand.items())})
