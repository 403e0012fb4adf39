"""`ray.util.metrics`: values recorded in the driver, tasks and actors are served by each node
in the Prometheus text format, scraped here over HTTP and read with prometheus_client's own
parser."""

from __future__ import annotations

import os
import pickle
import socket
import urllib.request
import warnings

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from utils import wait_for_condition

import ray
from ray._private import constants
from ray._private.cli.status import format_status
from ray._private.generated import common_pb2, gcs_pb2
from ray._private.generated import node_manager_pb2 as pb
from ray._private.node_manager.metrics_export import MalformedReportError, MetricsTable
from ray.util.metrics import Counter, Gauge, Histogram

TIMEOUT_S = 60


def scrape(node: dict) -> dict[str, list]:
    """The node's metrics: family name -> its samples."""
    url = f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics"
    with urllib.request.urlopen(url, timeout=10) as reply:
        text = reply.read().decode()
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        out.setdefault(family.name, []).extend(family.samples)
    return out


def sample_value(metrics: dict, sample_name: str, **labels: str) -> float | None:
    family = sample_name.removesuffix("_total").removesuffix("_bucket")
    family = family.removesuffix("_count").removesuffix("_sum")
    for sample in metrics.get(family, []):
        if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    return None


def local_node() -> dict:
    (node,) = [n for n in ray.nodes() if n["Alive"]]
    return node


# ---- the API's validation (no cluster) -------------------------------------------------------


def test_names_and_tag_keys_are_validated() -> None:
    with pytest.raises(ValueError, match="Empty name"):
        Counter("")
    with pytest.warns(UserWarning, match="Invalid metric name"):
        Counter("1bad-name")
    with pytest.raises(TypeError, match="tag_keys should be a tuple"):
        Counter("c", tag_keys=["a"])
    with pytest.raises(TypeError, match="Tag keys must be str"):
        Gauge("g", tag_keys=(1,))
    with pytest.raises(ValueError, match="boundaries argument should be provided"):
        Histogram("h")
    with pytest.raises(ValueError, match="at index 1"):
        Histogram("h", boundaries=[1.0, 0.0])


def test_tags_and_values_are_validated() -> None:
    counter = Counter("validated", tag_keys=("a", "b"))
    with pytest.raises(ValueError, match="Unrecognized tag key c"):
        counter.set_default_tags({"c": "x"})
    with pytest.raises(TypeError, match="Tag values must be str"):
        counter.set_default_tags({"a": 1})
    assert counter.set_default_tags({"a": "x"}) is counter
    with pytest.raises(ValueError, match="Missing value for tag key"):
        counter.inc()
    with pytest.raises(TypeError, match="Tag values must be str"):
        counter.inc(tags={"b": 2})
    with pytest.raises(ValueError, match="Unrecognized tag key z"):
        counter.inc(tags={"b": "y", "z": "w"})
    with pytest.raises(ValueError, match="value must be >0"):
        counter.inc(0, tags={"b": "y"})
    with pytest.raises(ValueError, match="value must be >0"):
        counter.inc(-1.5, tags={"b": "y"})
    assert counter.info == {
        "name": "validated",
        "description": "",
        "tag_keys": ("a", "b"),
        "default_tags": {"a": "x"},
    }
    histogram = Histogram("h_info", "latency", boundaries=[1, 2], tag_keys=("k",))
    assert histogram.info["boundaries"] == [1, 2]
    copy = pickle.loads(pickle.dumps(counter))
    assert type(copy) is Counter and copy.info == counter.info


# ---- the node's aggregation (no process) ------------------------------------------------------


def test_table_sums_counters_keeps_last_gauge_and_adds_buckets() -> None:
    table = MetricsTable({"SessionName": "s"})
    counter = pb.MetricRecord(name="c", kind=pb.METRIC_KIND_COUNTER, tags={"k": "a"}, value=2)
    gauge = pb.MetricRecord(name="g", kind=pb.METRIC_KIND_GAUGE, value=5)
    hist = pb.MetricRecord(
        name="h", kind=pb.METRIC_KIND_HISTOGRAM, boundaries=[1, 10], bucket_counts=[1, 0, 2], sum=30
    )
    table.apply([counter, gauge, hist])
    counter.value, gauge.value = 3, 4
    hist.bucket_counts[:] = [0, 1, 0]
    hist.sum = 5
    table.apply([counter, gauge, hist])
    # Same name, another kind: dropped, the first definition stands.
    table.apply([pb.MetricRecord(name="c", kind=pb.METRIC_KIND_GAUGE, value=100)])
    families = {f.name: f for f in table.families()}
    assert [(s.name, s.labels, s.value) for s in families["ray_c"].samples] == [
        ("ray_c_total", {"SessionName": "s", "k": "a"}, 5.0)
    ]
    assert [s.value for s in families["ray_g"].samples] == [4.0]
    buckets = [(s.labels.get("le"), s.value) for s in families["ray_h"].samples]
    assert buckets == [("1.0", 1.0), ("10.0", 2.0), ("+Inf", 4.0), (None, 4.0), (None, 35.0)]
    with pytest.raises(MalformedReportError):
        table.apply([pb.MetricRecord(name="x", kind=pb.METRIC_KIND_HISTOGRAM, boundaries=[1])])
    assert "ray_x" not in {f.name for f in table.families()}


def test_ray_status_shows_the_metrics_endpoint() -> None:
    reply = gcs_pb2.GetClusterStatusReply()
    reply.nodes.add(
        node_id=b"\x01" * 28,
        node_manager_address="127.0.0.1",
        node_manager_port=1000,
        state=common_pb2.NODE_STATE_ALIVE,
        is_head=True,
        metrics_export_port=8080,
    )
    text = format_status("127.0.0.1:6379", "session_x", reply, {})
    assert "metrics: http://127.0.0.1:8080/metrics" in text


# ---- one node --------------------------------------------------------------------------------


@ray.remote
def record_in_task(i: int) -> int:
    import os

    Counter("app_requests", "Requests served.", tag_keys=("route",)).inc(2, tags={"route": "/a"})
    Histogram("app_latency_ms", "Latency.", boundaries=[10, 100], tag_keys=("route",)).observe(
        5 + 50 * i, tags={"route": "/a"}
    )
    return os.getpid()


@ray.remote
class Recorder:
    def __init__(self) -> None:
        self.gauge = Gauge("app_queue_depth", "Items waiting.", tag_keys=("queue",))
        self.gauge.set_default_tags({"queue": "main"})
        self.counter = Counter("app_requests", "Requests served.", tag_keys=("route",))

    def work(self) -> int:
        import os

        self.gauge.set(3)
        self.gauge.set(7)
        self.counter.inc(tags={"route": "/a"})
        self.counter.inc(10, tags={"route": "/b"})
        return os.getpid()


def test_metrics_from_driver_tasks_and_actors_reach_the_node(ray_start_regular) -> None:
    node = local_node()
    assert node["MetricsExportPort"] > 0
    requests = Counter("app_requests", "Requests served.", tag_keys=("route",))
    requests.set_default_tags({"route": "/a"})
    requests.inc()  # driver: 1 on /a
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Counter("bad-name").inc()  # discarded, as upstream does
    task_pids = ray.get([record_in_task.remote(i) for i in range(3)])  # 3 x 2 on /a
    actor = Recorder.remote()
    actor_pid = ray.get(actor.work.remote())  # 1 on /a, 10 on /b
    assert os.getpid() not in {actor_pid, *task_pids}  # the driver's values add to theirs

    def complete() -> dict | None:
        metrics = scrape(node)
        if sample_value(metrics, "ray_app_requests_total", route="/a") != 8.0:
            return None
        if sample_value(metrics, "ray_app_latency_ms_count") != 3.0:
            return None
        if sample_value(metrics, "ray_app_queue_depth") is None:
            return None
        return metrics

    metrics = wait_for_condition(complete, timeout=TIMEOUT_S)
    assert sample_value(metrics, "ray_app_requests_total", route="/b") == 10.0
    # Counters are also exported as gauges (upstream's default).
    assert sample_value(metrics, "ray_app_requests", route="/b") == 10.0
    assert sample_value(metrics, "ray_app_queue_depth", queue="main") == 7.0
    # Observations 5, 55, 105 with boundaries 10, 100.
    buckets = {
        s.labels["le"]: s.value
        for s in metrics["ray_app_latency_ms"]
        if s.name == "ray_app_latency_ms_bucket"
    }
    assert buckets == {"10.0": 1.0, "100.0": 2.0, "+Inf": 3.0}
    assert sample_value(metrics, "ray_app_latency_ms_sum", route="/a") == 165.0
    (sample,) = [s for s in metrics["ray_app_queue_depth"]]
    assert sample.labels["NodeAddress"] == node["NodeManagerAddress"]
    assert sample.labels["Component"] == "core_worker"
    assert not any("bad" in name for name in metrics)
    # A few node-level metrics come along.
    assert sample_value(metrics, "ray_object_store_available_memory") > 0
    assert sample_value(metrics, "ray_resources", Name="CPU", State="AVAILABLE") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_metrics_export_port_is_chosen_by_ray_init(shutdown_only) -> None:
    port = _free_port()
    ray.init(num_cpus=1, _metrics_export_port=port)
    node = local_node()
    assert node["MetricsExportPort"] == port
    Gauge("chosen_port_gauge").set(2.5)
    wait_for_condition(
        lambda: sample_value(scrape(node), "ray_chosen_port_gauge") == 2.5, timeout=TIMEOUT_S
    )


# ---- several nodes ---------------------------------------------------------------------------


@ray.remote(num_cpus=0)
def record_on_node(tag: str, times: int) -> str:
    counter = Counter("per_node_work", "Work done.", tag_keys=("node",))
    for _ in range(times):
        counter.inc(tags={"node": tag})
    return ray.get_runtime_context().get_node_id()


@pytest.mark.slow
def test_each_node_serves_its_own_metrics(ray_start_cluster) -> None:
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1, resources={"head": 1})
    cluster.add_node(num_cpus=1, resources={"second": 1})
    cluster.connect()
    on_head = ray.get(record_on_node.options(resources={"head": 0.1}).remote("head", 2))
    on_second = ray.get(record_on_node.options(resources={"second": 0.1}).remote("second", 5))
    assert on_head != on_second
    nodes = {n["NodeID"]: n for n in ray.nodes() if n["Alive"]}
    head, second = nodes[on_head], nodes[on_second]
    assert head["NodeManagerAddress"] != second["NodeManagerAddress"]

    def values(node: dict) -> tuple:
        metrics = scrape(node)
        return (
            sample_value(metrics, "ray_per_node_work_total", node="head"),
            sample_value(metrics, "ray_per_node_work_total", node="second"),
        )

    wait_for_condition(lambda: values(head) == (2.0, None), timeout=TIMEOUT_S)
    wait_for_condition(lambda: values(second) == (None, 5.0), timeout=TIMEOUT_S)
    labels = [s.labels for s in scrape(second)["ray_per_node_work"]]
    assert all(label["NodeAddress"] == second["NodeManagerAddress"] for label in labels)


def test_ray_status_shows_where_and_shutdown_flushes_the_driver(ray_start_cluster, monkeypatch):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    # No periodic report during the test: what arrives was sent by ray.shutdown().
    monkeypatch.setattr(constants, "METRICS_REPORT_INTERVAL_S", 3600.0)
    cluster.connect()
    node = local_node()
    Counter("flushed_at_shutdown", "Sent when the driver disconnects.").inc(5)
    ray.shutdown()
    assert sample_value(scrape(node), "ray_flushed_at_shutdown_total") == 5.0
    result = cluster.cli("status", "--address", cluster.address)
    assert result.returncode == 0, result.stderr
    url = f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics"
    assert f"metrics: {url}" in result.stdout


def test_recorder_batches_and_re_queues_failed_reports() -> None:
    from ray._private.metrics.recorder import COUNTER, GAUGE, MetricDef, MetricsRecorder
    from ray._private.rpc import errors

    rec = MetricsRecorder()
    counter, gauge = MetricDef("c", COUNTER), MetricDef("g", GAUGE)
    rec.inc(counter, (("k", "a"),), 1.0)
    rec.inc(counter, (("k", "a"),), 2.0)
    rec.set(gauge, (), 1.0)
    rec.set(gauge, (), 4.0)
    sent: list = []

    def unavailable(records: list) -> None:
        sent.append(records)
        raise errors.Unavailable(grpc.StatusCode.UNAVAILABLE, "down", "node manager", "x:1")

    rec._sender = unavailable
    rec.flush()  # fails: the values wait for the next report
    rec.inc(counter, (("k", "a"),), 10.0)
    rec.set(gauge, (), 9.0)  # newer than the unsent value
    by_name = {r.name: r for r in rec.take()}
    assert by_name["c"].value == 13.0 and dict(by_name["c"].tags) == {"k": "a"}
    assert by_name["g"].value == 9.0
    assert rec.take() == []


def test_a_recorder_made_after_connect_reports_through_it() -> None:
    # The recorder loads with the first metric, possibly after the process connected.
    import importlib
    import sys

    from ray._private import metrics

    sent: list = []
    saved = sys.modules.pop("ray._private.metrics.recorder", None)
    try:
        metrics.connect(sent.append)
        recorder_mod = importlib.import_module("ray._private.metrics.recorder")
        rec = recorder_mod.recorder()
        rec.inc(recorder_mod.MetricDef("late", recorder_mod.COUNTER), (), 2.0)
        rec.flush()
        assert [[r.name for r in batch] for batch in sent] == [["late"]]
        metrics.disconnect()
        rec.inc(recorder_mod.MetricDef("late", recorder_mod.COUNTER), (), 1.0)
        rec.flush()  # disconnected: nothing is sent, the value waits
        assert len(sent) == 1
    finally:
        metrics.disconnect()
        if saved is not None:
            sys.modules["ray._private.metrics.recorder"] = saved


def test_the_endpoint_listens_before_its_first_scrape_and_stops_either_way() -> None:
    from ray._private.node_manager.metrics_export import MetricsExporter, MetricsPortError

    table = MetricsTable({"Component": "core_worker"})
    table.apply([pb.MetricRecord(name="hits", kind=pb.METRIC_KIND_COUNTER, value=3.0)])
    idle = MetricsExporter(table, list, "127.0.0.1", 0)
    with pytest.raises(MetricsPortError, match="--metrics-export-port"):
        MetricsExporter(table, list, "127.0.0.1", idle.port)
    idle.stop()  # never scraped

    served = MetricsExporter(table, list, "127.0.0.1", 0)
    try:
        node = {"NodeManagerAddress": "127.0.0.1", "MetricsExportPort": served.port}
        assert sample_value(scrape(node), "ray_hits_total", Component="core_worker") == 3.0
        table.apply([pb.MetricRecord(name="hits", kind=pb.METRIC_KIND_COUNTER, value=1.0)])
        assert sample_value(scrape(node), "ray_hits_total") == 4.0
    finally:
        served.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", served.port), timeout=5).close()
