"""Application metrics: `Counter`, `Gauge` and `Histogram`, as in Ray.

Values recorded in tasks, actors and the driver are sent (in batches, every few seconds
and at exit) to the process's node manager, which adds them up per (name, tags) and serves
them in the Prometheus text format on the node's metrics export port: each metric as
`ray_<name>` (counters as `ray_<name>_total`), with the tags as labels. The port is in
`ray.nodes()` (`MetricsExportPort`) and in `ray status`.
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any

from ray._private.metrics.recorder import COUNTER, GAUGE, HISTOGRAM, MetricDef, recorder

logger = logging.getLogger(__name__)

__all__ = ["Counter", "Gauge", "Histogram", "Metric"]

# The metric names Prometheus accepts.
_VALID_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def _name_is_valid(name: str) -> bool:
    if len(name) == 0:
        raise ValueError("Empty name is not allowed. Please provide a metric name.")
    if not _VALID_NAME.match(name):
        warnings.warn(
            f"Invalid metric name: {name}. Metric will be discarded and data will not be "
            "collected or published. Metric names can only contain letters, numbers, _, and :. "
            "Metric names cannot start with numbers.",
            UserWarning,
            stacklevel=3,
        )
        return False
    return True


class Metric:
    """The base of the custom metrics; holds the name, description, tag keys and default tags.

    Args:
        name: The metric's name (letters, digits, `_` and `:`; not starting with a digit).
        description: What it measures (the Prometheus HELP text).
        tag_keys: The names of its tags; every record gives a value for each.

    Raises:
        ValueError: The name is empty.
        TypeError: `tag_keys` is not a tuple of str.
    """

    _kind = 0

    def __init__(
        self,
        name: str,
        description: str = "",
        tag_keys: tuple[str, ...] | None = None,
    ) -> None:
        self._discard = not _name_is_valid(name)
        self._name = name
        self._description = description
        self._default_tags: dict[str, str] = {}
        self._default_key: tuple[tuple[str, str], ...] | None = None
        self._tag_keys = tag_keys or tuple()
        if not isinstance(self._tag_keys, tuple):
            raise TypeError(f"tag_keys should be a tuple type, got: {type(self._tag_keys)}")
        for key in self._tag_keys:
            if not isinstance(key, str):
                raise TypeError(f"Tag keys must be str, got {type(key)}.")
        self._definition = MetricDef(name, self._kind, description)

    def set_default_tags(self, default_tags: dict[str, str]) -> Metric:
        """Sets the tags used by every record that does not give them itself.

        Args:
            default_tags: Tag key -> value; every key must be one of the metric's tag_keys.

        Returns:
            The metric itself.

        Raises:
            ValueError: A key is not one of the tag_keys.
            TypeError: A value is not a str.
        """
        for key, value in default_tags.items():
            if key not in self._tag_keys:
                raise ValueError(f"Unrecognized tag key {key}.")
            if not isinstance(value, str):
                raise TypeError(f"Tag values must be str, got {type(value)}.")
        self._default_tags = dict(default_tags)
        self._default_key = None
        return self

    def _final_tags(self, tags: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
        if tags:
            for key, value in tags.items():
                if not isinstance(value, str):
                    raise TypeError(f"Tag values must be str, got {type(value)}.")
                if key not in self._tag_keys:
                    raise ValueError(
                        f"Unrecognized tag key {key}: metric {self._name!r} has tag_keys "
                        f"{self._tag_keys}; declare it there or leave it out."
                    )
            final = {**self._default_tags, **tags}
        else:
            if self._default_key is not None:
                return self._default_key
            final = self._default_tags
        missing = [key for key in self._tag_keys if key not in final]
        if missing:
            raise ValueError(f"Missing value for tag key(s): {','.join(missing)}.")
        key = tuple(sorted(final.items()))
        if not tags:
            self._default_key = key  # records without tags of their own reuse it
        return key

    @property
    def info(self) -> dict[str, Any]:
        """The metric's name, description, tag keys and default tags."""
        return {
            "name": self._name,
            "description": self._description,
            "tag_keys": self._tag_keys,
            "default_tags": self._default_tags,
        }

    def __reduce__(self) -> tuple:
        # Metrics captured by a remote function or actor record in the process they run in.
        return (_rebuild, (type(self), self._state()))

    def _state(self) -> dict[str, Any]:
        return {
            "name": self._name,
            "description": self._description,
            "tag_keys": self._tag_keys,
            "default_tags": self._default_tags,
        }


def _rebuild(cls: type, state: dict[str, Any]) -> Metric:
    default_tags = state.pop("default_tags")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = cls(**state)
    metric._default_tags = default_tags
    return metric


class Counter(Metric):
    """A cumulative metric that only goes up (a Prometheus counter, exported as
    `ray_<name>_total`; also as a gauge `ray_<name>` unless RAY_EXPORT_COUNTER_AS_GAUGE=0).

    Args:
        name: The metric's name.
        description: What it counts.
        tag_keys: The names of its tags.
    """

    _kind = COUNTER

    def inc(self, value: int | float = 1.0, tags: dict[str, str] | None = None) -> None:
        """Increments the counter by `value` (default 1).

        Args:
            value: How much to add; must be > 0.
            tags: Tag values for this record, over the default tags.

        Raises:
            ValueError: `value` is not positive, or a tag is missing or unknown.
            TypeError: A tag value is not a str.
        """
        if value <= 0:
            raise ValueError(f"value must be >0, got {value}")
        final = self._final_tags(tags)
        if not self._discard:
            recorder().inc(self._definition, final, float(value))


class Gauge(Metric):
    """A value that goes up and down; keeps the last one set (a Prometheus gauge).

    Args:
        name: The metric's name.
        description: What it measures.
        tag_keys: The names of its tags.
    """

    _kind = GAUGE

    def set(self, value: int | float | None, tags: dict[str, str] | None = None) -> None:
        """Sets the gauge to `value` (None records nothing).

        Args:
            value: The new value.
            tags: Tag values for this record, over the default tags.

        Raises:
            ValueError: A tag is missing or unknown.
            TypeError: A tag value is not a str.
        """
        if value is None:
            return
        final = self._final_tags(tags)
        if not self._discard:
            recorder().set(self._definition, final, float(value))


class Histogram(Metric):
    """Counts observations in buckets (a Prometheus histogram with `_bucket`, `_count`, `_sum`).

    Args:
        name: The metric's name.
        description: What it measures.
        boundaries: The upper bounds of the buckets (positive; `+Inf` is added).
        tag_keys: The names of its tags.

    Raises:
        ValueError: `boundaries` is missing or has a value <= 0.
    """

    _kind = HISTOGRAM

    def __init__(
        self,
        name: str,
        description: str = "",
        boundaries: list[float] | None = None,
        tag_keys: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(name, description, tag_keys)
        if boundaries is None or len(boundaries) == 0:
            raise ValueError(
                "boundaries argument should be provided when using the Histogram class. "
                "e.g., Histogram(..., boundaries=[1.0, 2.0])"
            )
        for i, boundary in enumerate(boundaries):
            if boundary <= 0:
                raise ValueError(
                    f"Invalid `boundaries` argument at index {i}, {boundaries}. "
                    "Use positive values for the arguments."
                )
        self.boundaries = list(boundaries)
        self._definition = MetricDef(
            name, HISTOGRAM, description, tuple(sorted({float(b) for b in boundaries}))
        )

    def observe(self, value: int | float, tags: dict[str, str] | None = None) -> None:
        """Adds `value` to the bucket it falls in.

        Args:
            value: The observation.
            tags: Tag values for this record, over the default tags.

        Raises:
            ValueError: A tag is missing or unknown.
            TypeError: A tag value is not a str.
        """
        final = self._final_tags(tags)
        if not self._discard:
            recorder().observe(self._definition, final, float(value))

    @property
    def info(self) -> dict[str, Any]:
        """The metric's name, description, tag keys, default tags and boundaries."""
        return {**super().info, "boundaries": self.boundaries}

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "boundaries": self.boundaries}
