"""Placement group bundles held by one node, sans-IO: the node manager's half of the GCS's
two-phase reservation (prepare takes the bundle's resources out of the node's free pool,
commit adds the bundle's own resources, return gives both back)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ray._private.generated import common_pb2
from ray._private.scheduling.bundles import committed_resources, indexed_name, wildcard_name
from ray._private.scheduling.resources import Allocation, NodeResources, to_fixed, to_float

logger = logging.getLogger(__name__)


class BundleError(Exception):
    """A bundle operation that cannot be done (the message says why)."""


@dataclass
class HeldBundle:
    placement_group_id: bytes
    index: int
    resources: dict[str, float]
    # What was taken from the node's own resources at prepare.
    alloc: Allocation
    committed: bool = False
    # What commit added (fixed point), to take off again on return.
    added: dict[str, int] | None = None
    # The devices (GPUs) behind the added instance resources, as (index, share).
    added_instances: dict[str, list[tuple[int, int]]] | None = None


class BundleReservations:
    """The bundles of this node. Not thread-safe (the node manager's lock guards it)."""

    def __init__(self, resources: NodeResources) -> None:
        self._resources = resources
        self._held: dict[tuple[bytes, int], HeldBundle] = {}

    def prepare(self, bundles: Sequence[common_pb2.Bundle]) -> None:
        """Reserves all of `bundles` or none.

        Raises:
            BundleError: They do not fit the node's free resources now.
        """
        fresh = [b for b in bundles if (b.placement_group_id, b.bundle_index) not in self._held]
        want: dict[str, int] = {}
        for bundle in fresh:
            for name, amount in to_fixed(bundle.resources).items():
                want[name] = want.get(name, 0) + amount
        if not self._resources.fits_available(want):
            raise BundleError(
                f"the bundles need {to_float(want)} but the node has "
                f"{to_float(self._resources.available)} free"
            )
        for bundle in fresh:
            alloc = self._resources.allocate(to_fixed(bundle.resources))
            key = (bundle.placement_group_id, bundle.bundle_index)
            self._held[key] = HeldBundle(key[0], key[1], dict(bundle.resources), alloc)

    def commit(self, placement_group_id: bytes, indexes: Iterable[int]) -> None:
        """Makes prepared bundles usable.

        Raises:
            BundleError: A bundle was not prepared here.
        """
        held = []
        for index in indexes:
            bundle = self._held.get((placement_group_id, index))
            if bundle is None:
                raise BundleError(f"bundle {index} of that placement group is not prepared here")
            held.append(bundle)
        pg_hex = placement_group_id.hex()
        for bundle in held:
            if bundle.committed:
                continue
            bundle.added = to_fixed(committed_resources([(bundle.index, bundle.resources)], pg_hex))
            bundle.added_instances = {}
            for name, picked in bundle.alloc.instances.items():
                for group_name in (
                    indexed_name(name, bundle.index, pg_hex),
                    wildcard_name(name, pg_hex),
                ):
                    bundle.added_instances[group_name] = list(picked)
            self._resources.add(bundle.added, bundle.added_instances)
            bundle.committed = True

    def give_back(self, placement_group_id: bytes, indexes: Iterable[int] = ()) -> list[str]:
        """Returns bundles (all of the group's when `indexes` is empty); returns the resource
        names that are gone from the node (leases holding them must end)."""
        wanted = set(indexes)
        keys = [
            key
            for key in self._held
            if key[0] == placement_group_id and (not wanted or key[1] in wanted)
        ]
        gone: list[str] = []
        for key in keys:
            bundle = self._held.pop(key)
            if bundle.added:
                before = set(self._resources.total)
                self._resources.subtract(bundle.added, bundle.added_instances)
                gone += [n for n in bundle.added if n in before and n not in self._resources.total]
            self._resources.release(bundle.alloc)
        return gone

    def groups(self) -> set[bytes]:
        return {key[0] for key in self._held}
