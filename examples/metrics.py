"""Application metrics with `ray.util.metrics`, scraped from the node as Prometheus would.

An actor counts requests and tracks a gauge and a latency histogram; a task counts too.
Each node serves what its processes recorded in the Prometheus text format at
http://<node address>:<MetricsExportPort>/metrics (see `ray.nodes()` or `ray status`);
the program reads that endpoint until the values show up.
"""

import time
import urllib.request

import ray
from ray.util.metrics import Counter, Gauge, Histogram

ray.init(num_cpus=2)


@ray.remote
class Server:
    def __init__(self, name):
        self.requests = Counter(
            "num_requests", description="Requests served.", tag_keys=("server",)
        ).set_default_tags({"server": name})
        self.in_flight = Gauge(
            "in_flight", description="Requests being served.", tag_keys=("server",)
        ).set_default_tags({"server": name})
        self.latency = Histogram(
            "request_latency_ms",
            description="Latency of requests.",
            boundaries=[1, 10, 100],
            tag_keys=("server",),
        ).set_default_tags({"server": name})

    def handle(self, work_ms):
        self.in_flight.set(1)
        start = time.time()
        time.sleep(work_ms / 1000)
        self.requests.inc()
        self.latency.observe((time.time() - start) * 1000)
        self.in_flight.set(0)
        return work_ms


@ray.remote
def batch_job(n):
    Counter("num_requests", tag_keys=("server",)).inc(n, tags={"server": "batch"})
    return n


server = Server.remote("web")
ray.get([server.handle.remote(ms) for ms in (0, 5, 20)])
ray.get(batch_job.remote(7))

node = ray.nodes()[0]
url = f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics"
print("metrics endpoint:", url)
deadline = time.time() + 30
while True:
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    lines = [line for line in text.splitlines() if line.startswith("ray_num_requests_total")]
    if len(lines) == 2 or time.time() > deadline:
        break
    time.sleep(0.5)  # processes report every few seconds
for line in lines:
    print(line)
assert any('server="web"' in line and line.endswith(" 3.0") for line in lines), lines
assert any('server="batch"' in line and line.endswith(" 7.0") for line in lines), lines
assert "ray_request_latency_ms_bucket" in text
ray.shutdown()
