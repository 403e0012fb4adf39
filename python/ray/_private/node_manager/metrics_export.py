"""The node's metrics endpoint: application metrics (`ray.util.metrics`) that the processes
of this node report, aggregated per (name, tags), plus a few node-level metrics, served in
the Prometheus text format over HTTP by prometheus_client.

prometheus_client and the HTTP server load at the first scrape (a few MiB a node never pays
if nothing scrapes it); the port is bound and listening from the start.

`MetricsTable` is sans-IO (reports in, metric families out) so it is tested without a
process; `MetricsExporter` wires it to a prometheus_client registry and HTTP server.
"""

from __future__ import annotations

import logging
import math
import select
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ray._private import constants
from ray._private.generated import node_manager_pb2 as pb

if TYPE_CHECKING:
    from prometheus_client.core import Metric

logger = logging.getLogger(__name__)

# Upstream exports every application metric under this prefix.
PREFIX = "ray_"
# The Ray release whose API this runtime implements (the `Version` label).
RAY_API_VERSION = "2.60.0"

TagSet = tuple[tuple[str, str], ...]


def metric_tags(node_address: str, session_name: str) -> dict[str, str]:
    """The labels upstream puts on every metric a node exports."""
    return {
        "Component": "core_worker",
        "NodeAddress": node_address,
        "SessionName": session_name,
        "Version": RAY_API_VERSION,
    }


class MetricsPortError(OSError):
    """The metrics endpoint cannot listen where it was told to."""


class MalformedReportError(ValueError):
    """A report that cannot be applied (nothing of it is)."""


@dataclass
class _Series:
    """The aggregate of one metric for one set of tags."""

    value: float = 0.0
    bucket_counts: list[int] = field(default_factory=list)
    sum: float = 0.0


@dataclass
class _Family:
    name: str
    kind: int
    description: str
    boundaries: tuple[float, ...] = ()
    tag_keys: tuple[str, ...] = ()
    series: dict[TagSet, _Series] = field(default_factory=dict)


class MetricsTable:
    """Application metrics of one node, summed (counters, histograms) or last-written (gauges)
    over every process that reports them.

    The first report of a name fixes its kind and histogram boundaries; a later record of
    the same name with another kind or other boundaries is dropped (and logged once).
    """

    def __init__(self, common_tags: Mapping[str, str] | None = None) -> None:
        self._common = dict(common_tags or {})
        self._families: dict[str, _Family] = {}
        self._conflicts: set[str] = set()
        self._lock = threading.Lock()

    def apply(self, records: list[pb.MetricRecord]) -> None:
        """Adds one process's report.

        Raises:
            MalformedReportError: A record is invalid (no part of the report is applied).
        """
        for record in records:
            _check(record)
        with self._lock:
            for record in records:
                self._apply(record)

    def _apply(self, record: pb.MetricRecord) -> None:
        family = self._families.get(record.name)
        boundaries = tuple(record.boundaries)
        if family is None:
            family = _Family(
                record.name,
                record.kind,
                record.description,
                boundaries,
                tuple(sorted(record.tags)),
            )
            self._families[record.name] = family
        elif (
            family.kind != record.kind
            or family.boundaries != boundaries
            or family.tag_keys != tuple(sorted(record.tags))
        ):
            if record.name not in self._conflicts:
                self._conflicts.add(record.name)
                logger.warning(
                    "metric %r was recorded with another type, other tag keys or other "
                    "histogram boundaries than its first definition on this node; those "
                    "values are dropped",
                    record.name,
                )
            return
        key: TagSet = tuple(sorted(record.tags.items()))
        series = family.series.get(key)
        if series is None:
            series = family.series[key] = _Series(bucket_counts=[0] * (len(boundaries) + 1))
        if record.kind == pb.METRIC_KIND_COUNTER:
            series.value += record.value
        elif record.kind == pb.METRIC_KIND_GAUGE:
            series.value = record.value
        else:
            for i, n in enumerate(record.bucket_counts):
                series.bucket_counts[i] += n
            series.sum += record.sum

    def families(self, counter_as_gauge: bool = False) -> list[Metric]:
        """The metrics in prometheus_client's form, with upstream's names and labels.

        Args:
            counter_as_gauge: Also export each counter as a gauge of the same name without
                the `_total` suffix (what upstream does for compatibility before 2.10).
        """
        out: list[Metric] = []
        with self._lock:
            for family in sorted(self._families.values(), key=lambda f: f.name):
                out += self._export(family, counter_as_gauge)
        return out

    def _export(self, family: _Family, counter_as_gauge: bool) -> list[Metric]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        name = PREFIX + family.name
        rows = []
        for key, series in sorted(family.series.items()):
            labels = {**self._common, **dict(key)}
            rows.append((list(labels), list(labels.values()), series))
        label_names = rows[0][0] if rows else list(self._common) + list(family.tag_keys)
        if family.kind == pb.METRIC_KIND_COUNTER:
            counter = CounterMetricFamily(name, family.description, labels=label_names)
            gauge = GaugeMetricFamily(name, family.description, labels=label_names)
            for _, values, series in rows:
                counter.add_metric(values, series.value)
                gauge.add_metric(values, series.value)
            return [counter, gauge] if counter_as_gauge else [counter]
        if family.kind == pb.METRIC_KIND_GAUGE:
            gauge = GaugeMetricFamily(name, family.description, labels=label_names)
            for _, values, series in rows:
                gauge.add_metric(values, series.value)
            return [gauge]
        histogram = HistogramMetricFamily(name, family.description, labels=label_names)
        for _, values, series in rows:
            cumulative = 0
            buckets = []
            for bound, n in zip((*family.boundaries, math.inf), series.bucket_counts, strict=True):
                cumulative += n
                buckets.append((_bucket_label(bound), cumulative))
            histogram.add_metric(values, buckets, series.sum)
        return [histogram]


def _bucket_label(bound: float) -> str:
    return "+Inf" if bound == math.inf else repr(float(bound))


def _check(record: pb.MetricRecord) -> None:
    if not record.name:
        raise MalformedReportError("a metric record has no name")
    if record.kind not in (pb.METRIC_KIND_COUNTER, pb.METRIC_KIND_GAUGE, pb.METRIC_KIND_HISTOGRAM):
        raise MalformedReportError(f"metric {record.name!r} has no valid kind ({record.kind})")
    if record.kind == pb.METRIC_KIND_HISTOGRAM:
        bounds = list(record.boundaries)
        if not bounds or bounds != sorted(set(bounds)) or not all(map(math.isfinite, bounds)):
            raise MalformedReportError(
                f"histogram {record.name!r} needs ascending, distinct, finite boundaries"
            )
        if len(record.bucket_counts) != len(bounds) + 1 or min(record.bucket_counts) < 0:
            raise MalformedReportError(
                f"histogram {record.name!r} needs one count >= 0 per boundary plus one for +Inf"
            )
    elif record.boundaries or record.bucket_counts:
        raise MalformedReportError(f"metric {record.name!r} is no histogram but has buckets")


class MetricsExporter:
    """Serves `table` (and `node_metrics()`) over HTTP at `host:port` (0 = any free port)."""

    def __init__(
        self,
        table: MetricsTable,
        node_metrics: Callable[[], list[Metric]],
        host: str,
        port: int,
    ) -> None:
        self._table = table
        self._node_metrics = node_metrics
        self._stopping = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        try:
            self._socket = socket.create_server((host, port), reuse_port=False)
        except OSError as err:
            self._wake_r.close()
            self._wake_w.close()
            raise MetricsPortError(
                f"cannot serve metrics on {host}:{port} ({err.strerror or err}); give a free "
                f"port with --metrics-export-port / ray.init(_metrics_export_port=...), or 0 "
                f"for any free port"
            ) from err
        # Non-blocking: a client that gave up before its connection was accepted cannot stall
        # the accept (accepted connections still block, as CPython makes them).
        self._socket.setblocking(False)
        self._host = host
        self.port: int = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="metrics-http", daemon=True)
        self._thread.start()
        logger.info("serving metrics on http://%s:%d/metrics", host, self.port)

    def _serve(self) -> None:
        # Blocks until a scrape or stop() arrives (no polling); the HTTP server is made at the
        # first scrape, and serves each connection as it is accepted.
        server = None
        while True:
            readable, _, _ = select.select([self._socket, self._wake_r], [], [])
            if self._wake_r in readable or self._stopping.is_set():
                return
            if server is None:
                server = _http_server(self._socket, self._host, self.port, self._collect)
            server.handle_request()

    def _collect(self) -> list[Metric]:
        out = self._table.families(constants.EXPORT_COUNTER_AS_GAUGE)
        try:
            out += self._node_metrics()
        except Exception as err:  # noqa: BLE001 - a scrape must not fail for node statistics
            logger.debug("node metrics unavailable: %s", err)
        return out

    def stop(self) -> None:
        self._stopping.set()
        self._wake_w.send(b"x")
        self._thread.join(timeout=2)
        self._socket.close()
        self._wake_r.close()
        self._wake_w.close()


def _http_server(
    listening: socket.socket, host: str, port: int, collect: Callable[[], list[Metric]]
) -> Any:
    """A WSGI server (a thread per scrape) running prometheus_client's app on a listening socket."""
    import socketserver
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    from prometheus_client import CollectorRegistry, make_wsgi_app
    from prometheus_client.registry import Collector

    class _Collector(Collector):
        def collect(self) -> Iterator[Metric]:
            yield from collect()

    class _Server(socketserver.ThreadingMixIn, WSGIServer):
        """One thread per scrape."""

        daemon_threads = True

    class _QuietHandler(WSGIRequestHandler):
        """Scrapes are not logged to stderr."""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            logger.debug("metrics scrape: " + format, *args)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    server = _Server((host, port), _QuietHandler, bind_and_activate=False)
    server.socket.close()
    server.socket = listening
    server.server_name = host
    server.server_port = port
    server.setup_environ()
    server.set_app(make_wsgi_app(registry))
    return server


def node_families(stats: pb.GetNodeStatsReply, common_tags: Mapping[str, str]) -> list[Metric]:
    """A few node-level metrics from the node's statistics, under upstream's names."""
    from prometheus_client.core import GaugeMetricFamily

    names = list(common_tags)
    values = list(common_tags.values())
    out: list[Metric] = []
    for name, doc, value in (
        (
            "object_store_used_memory",
            "Bytes of the node's object store in use.",
            stats.object_store_used_bytes,
        ),
        (
            "object_store_available_memory",
            "Bytes of the node's object store still free.",
            max(0, stats.object_store_capacity_bytes - stats.object_store_used_bytes),
        ),
        (
            "object_store_num_local_objects",
            "Objects in the node's object store.",
            stats.num_objects,
        ),
        ("spill_manager_objects_bytes", "Bytes of objects spilled to disk.", stats.spilled_bytes),
    ):
        family = GaugeMetricFamily(PREFIX + name, doc, labels=names)
        family.add_metric(values, float(value))
        out.append(family)
    resources = GaugeMetricFamily(
        PREFIX + "resources",
        "Logical resources of the node, used and available.",
        labels=[*names, "Name", "State"],
    )
    for resource, total in sorted(stats.resources.total.items()):
        available = stats.resources.available.get(resource, 0.0)
        resources.add_metric([*values, resource, "AVAILABLE"], available)
        resources.add_metric([*values, resource, "USED"], max(0.0, total - available))
    out.append(resources)
    return out
