"""Resource accounting of one node, in fixed point so fractions add up exactly.

Sans-IO: plain data and arithmetic, tested without processes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

# Resources are counted in units of 1/10000.
PRECISION = 10_000
# Resources that come in numbered instances (a lease is told which ones it got).
INSTANCE_RESOURCES = ("GPU",)


def to_fixed(amounts: Mapping[str, float]) -> dict[str, int]:
    """Converts amounts to fixed point, dropping zeros."""
    out = {}
    for name, value in amounts.items():
        fixed = round(float(value) * PRECISION)
        if fixed:
            out[name] = fixed
    return out


def to_float(amounts: Mapping[str, int]) -> dict[str, float]:
    return {name: value / PRECISION for name, value in amounts.items()}


def validate_request(amounts: Mapping[str, float]) -> None:
    """Checks a resource request the way Ray does.

    Raises:
        ValueError: A negative amount, or a GPU (instance resource) amount above
            1 that is not a whole number.
    """
    for name, value in amounts.items():
        if value < 0:
            raise ValueError(f"resource {name!r} must not be negative, got {value}")
        if name in INSTANCE_RESOURCES and value > 1 and float(value) != int(value):
            raise ValueError(
                f"{name} requests above 1 must be whole numbers, got {value}; "
                "use a fraction below 1 to share one device"
            )


@dataclass
class Allocation:
    """What one lease holds: amounts, and the instance ids with their shares."""

    amounts: dict[str, int]
    instances: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def instance_ids(self) -> dict[str, list[int]]:
        return {name: [i for i, _ in pairs] for name, pairs in self.instances.items()}


class NodeResources:
    """Totals and availability of one node, with per-instance GPU capacity."""

    def __init__(self, total: Mapping[str, float]) -> None:
        self.total = to_fixed(total)
        self.available = dict(self.total)
        self.instances: dict[str, list[int]] = {}
        for name in INSTANCE_RESOURCES:
            count = self.total.get(name, 0) // PRECISION
            if count:
                self.instances[name] = [PRECISION] * count

    def fits_total(self, request: Mapping[str, int]) -> bool:
        """Could the request ever run here (on an empty node)?"""
        return all(self.total.get(name, 0) >= amount for name, amount in request.items())

    def fits_available(self, request: Mapping[str, int]) -> bool:
        if not all(self.available.get(name, 0) >= amount for name, amount in request.items()):
            return False
        return all(
            self._pick_instances(name, amount) is not None
            for name, amount in request.items()
            if name in self.instances
        )

    def _pick_instances(self, name: str, amount: int) -> list[tuple[int, int]] | None:
        slots = self.instances[name]
        if amount >= PRECISION:
            whole = [i for i, free in enumerate(slots) if free == PRECISION]
            need = amount // PRECISION
            return [(i, PRECISION) for i in whole[:need]] if len(whole) >= need else None
        # A fraction: best fit, the fullest instance that still has room.
        fitting = [(free, i) for i, free in enumerate(slots) if free >= amount]
        if not fitting:
            return None
        _, index = min(fitting)
        return [(index, amount)]

    def allocate(self, request: Mapping[str, int]) -> Allocation:
        """Takes the request out of the available amounts.

        Raises:
            ValueError: It does not fit.
        """
        if not self.fits_available(request):
            raise ValueError(f"request {to_float(request)} does not fit {to_float(self.available)}")
        alloc = Allocation(dict(request))
        for name, amount in request.items():
            self.available[name] = self.available.get(name, 0) - amount
            if name in self.instances:
                picked = self._pick_instances(name, amount)
                assert picked is not None
                for index, share in picked:
                    self.instances[name][index] -= share
                alloc.instances[name] = picked
        return alloc

    def release(self, alloc: Allocation) -> None:
        for name, amount in alloc.amounts.items():
            if name not in self.total:
                continue  # a resource removed meanwhile (a placement group's bundle)
            self.available[name] = self.available.get(name, 0) + amount
        for name, picked in alloc.instances.items():
            slots = self.instances.get(name)
            if slots is None:
                continue  # a removed bundle's devices
            for index, share in picked:
                slots[index] += share
        alloc.amounts = {}
        alloc.instances = {}

    def add(
        self,
        amounts: Mapping[str, int],
        instances: Mapping[str, list[tuple[int, int]]] | None = None,
    ) -> None:
        """Adds resources to the node (a committed placement group bundle); `instances`
        gives the devices behind an instance resource (`GPU_group_...`) as (index, share)."""
        for name, amount in amounts.items():
            self.total[name] = self.total.get(name, 0) + amount
            self.available[name] = self.available.get(name, 0) + amount
        for name, picked in (instances or {}).items():
            slots = self.instances.setdefault(name, [0] * len(self.instances.get("GPU", [])))
            for index, share in picked:
                slots[index] += share

    def subtract(
        self,
        amounts: Mapping[str, int],
        instances: Mapping[str, list[tuple[int, int]]] | None = None,
    ) -> None:
        """Takes added resources off the node (a returned bundle). A name whose total drops
        to zero is gone: leases still holding it release nothing later."""
        for name, amount in amounts.items():
            left = self.total.get(name, 0) - amount
            if left <= 0:
                self.total.pop(name, None)
                self.available.pop(name, None)
                self.instances.pop(name, None)
            else:
                self.total[name] = left
                self.available[name] = self.available.get(name, 0) - amount
        for name, picked in (instances or {}).items():
            slots = self.instances.get(name)
            if slots is not None:
                for index, share in picked:
                    slots[index] -= share

    def lend(self, name: str, amount: int) -> None:
        """Temporarily returns part of a lease (a worker blocked in `get` lends its CPUs)."""
        if name not in self.total:
            return
        self.available[name] = self.available.get(name, 0) + amount

    def reclaim(self, name: str, amount: int) -> None:
        """Takes back a lent amount (may briefly oversubscribe, as in Ray)."""
        if name not in self.total:
            return
        self.available[name] = self.available.get(name, 0) - amount

    def snapshot(self) -> tuple[dict[str, float], dict[str, float]]:
        return to_float(self.total), {k: max(v, 0) / PRECISION for k, v in self.available.items()}
