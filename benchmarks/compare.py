#!/usr/bin/env python3
"""Runs benchmarks/microbenchmark.py under this project's ray and under upstream Ray, side by side.

The two runs happen one after the other on this machine, each in its own interpreter with the same
arguments (everything after the options below is passed through, e.g. `--no-actors` or `--quick`).
Then a table shows each benchmark with both values and the ratio ours/upstream::

    /work/main/.venv/bin/python benchmarks/compare.py
    /work/main/.venv/bin/python benchmarks/compare.py --quick --no-actors

Each run's cluster processes inherit a unique environment tag; after the run any process still
carrying it is killed by pid, so neither system leaves anything running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

from bench_common import fmt, tagged_pids

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RUN_TAG_ENV = "MICROBENCH_RUN_TAG"
DEFAULT_OURS = os.path.join(REPO, ".venv", "bin", "python")
DEFAULT_UPSTREAM = os.environ.get("UPSTREAM_RAY_PYTHON", "/work/upstream-ray-venv/bin/python")


def kill_leftovers(tag: str) -> list[str]:
    """SIGTERM, then SIGKILL after 5 s, every process still carrying `tag`; returns their names."""
    pids = tagged_pids(RUN_TAG_ENV, tag)
    names = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            cmd = "?"
        names.append(f"{pid}:{cmd[:80]}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if os.path.exists(f"/proc/{p}")]
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return names


def run_side(label: str, python: str, passthrough: list[str], timeout_s: float) -> dict[str, Any]:
    """Runs microbenchmark.py with `python`; returns its JSON report (or one with an error)."""
    script = os.path.join(HERE, "microbenchmark.py")
    tag = uuid.uuid4().hex
    env = dict(os.environ, **{RUN_TAG_ENV: tag})
    with tempfile.TemporaryDirectory(prefix="microbench-") as tmp:
        out_path = os.path.join(tmp, f"{label}.json")
        cmd = [python, script, *passthrough, "--json-out", out_path]
        print(f"=== {label}: {' '.join(cmd)}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        error = None
        try:
            # The child's table and JSON go to our stderr: our stdout carries only the comparison.
            proc = subprocess.run(cmd, env=env, cwd=REPO, stdout=sys.stderr, timeout=timeout_s)
            if proc.returncode != 0:
                error = f"exited with status {proc.returncode}"
        except subprocess.TimeoutExpired:
            error = f"timed out after {timeout_s:.0f}s"
        leftovers = kill_leftovers(tag)
        report: dict[str, Any] = {"results": []}
        if os.path.exists(out_path):
            with open(out_path) as f:
                report = json.load(f)
        elif error is None:
            error = "wrote no JSON report"
    report["label"] = label
    report["run_error"] = error
    report["wall_seconds"] = round(time.perf_counter() - t0, 1)
    report["leftovers_killed_by_compare"] = leftovers
    if leftovers:
        print(f"=== {label}: killed leftovers {leftovers}", file=sys.stderr)
    return report


def merge_rounds(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One side's reports of several rounds as one: each value the median of its rounds' values.

    The first report supplies the description; `rounds` keeps every round's value per name.
    """
    merged = dict(reports[0])
    merged["wall_seconds"] = round(sum(r["wall_seconds"] for r in reports), 1)
    merged["run_error"] = "; ".join(r["run_error"] for r in reports if r.get("run_error")) or None
    merged["leftovers_killed_by_compare"] = [
        x for r in reports for x in r.get("leftovers_killed_by_compare", [])
    ]
    merged["loadavg_end"] = reports[-1].get("loadavg_end")
    names: list[str] = []
    for report in reports:
        names += [r["name"] for r in report["results"] if r["name"] not in names]
    results = []
    for name in names:
        found = [r for report in reports for r in report["results"] if r["name"] == name]
        good = [r for r in found if not r.get("error") and r.get("value") is not None]
        if not good:
            results.append(found[0])
            continue
        result = dict(good[0])
        result["value"] = statistics.median(r["value"] for r in good)
        result["rounds"] = [r["value"] for r in good]
        result["stat"] = f"median of {len(good)} rounds ({result.get('stat', '')})"
        results.append(result)
    merged["results"] = results
    return merged


def verdict(ours: float, upstream: float, better: str) -> tuple[str, str]:
    """The ratio ours/upstream and who wins by how much, given which direction is better."""
    if upstream == 0 or ours == 0:
        return "-", "-"
    ratio = ours / upstream
    ours_wins = ratio > 1 if better == "higher" else ratio < 1
    factor = ratio if ratio >= 1 else 1 / ratio
    if factor < 1.05:
        return f"{ratio:.2f}", "about even"
    return f"{ratio:.2f}", f"{'ours' if ours_wins else 'upstream'} {factor:.1f}x better"


def comparison_table(ours: dict[str, Any], upstream: dict[str, Any]) -> str:
    """A markdown table: benchmark, unit, ours, upstream, ours/upstream, better, verdict."""
    by_name = [{r["name"]: r for r in side["results"]} for side in (ours, upstream)]
    names = list(by_name[0]) + [n for n in by_name[1] if n not in by_name[0]]
    header = ("benchmark", "unit", "ours", "upstream", "ours/upstream", "better", "verdict")
    rows = [header]
    for name in names:
        o, u = by_name[0].get(name), by_name[1].get(name)
        # Unit and direction from a side that measured it (an error entry may predate a fix).
        any_side = next((r for r in (o, u) if r and not r.get("error")), o or u)
        assert any_side is not None
        cells = []
        for r in (o, u):
            if r is None:
                cells.append("n/a")
            elif r.get("error"):
                cells.append("ERROR")
            else:
                cells.append(fmt(r["value"]))
        ratio, who = "-", "-"
        if o and u and not o.get("error") and not u.get("error"):
            if o["value"] is not None and u["value"] is not None:
                ratio, who = verdict(o["value"], u["value"], any_side["better"])
        better = f"{any_side['better']} is better"
        rows.append((name, any_side["unit"], cells[0], cells[1], ratio, better, who))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for i, row in enumerate(rows):
        cells = [
            c.rjust(w) if j in (2, 3, 4) else c.ljust(w)
            for j, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def errors_section(ours: dict[str, Any], upstream: dict[str, Any]) -> str:
    lines = []
    for side in (ours, upstream):
        if side.get("run_error"):
            lines.append(f"- {side['label']}: run {side['run_error']}")
        for r in side["results"]:
            if r.get("error"):
                lines.append(f"- {side['label']} {r['name']}: {r['error'][:200]}")
    return "\n".join(lines)


def describe(side: dict[str, Any]) -> str:
    def load(key: str) -> str:
        value = side.get(key)
        return f"{value[0]:.2f}" if value else "?"

    return (
        f"{side['label']}: ray {side.get('ray_version', '?')} from {side.get('ray_module', '?')}, "
        f"python {side.get('python_version', '?')}, numpy {side.get('numpy_version', '?')}, "
        f"{side.get('cpus', '?')} cpus, {side['wall_seconds']}s, "
        f"load average {load('loadavg_start')} -> {load('loadavg_end')}"
    )


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        allow_abbrev=False,
        epilog="Any other argument is passed to microbenchmark.py, e.g. --quick, --no-actors.",
    )
    p.add_argument("--ours", default=DEFAULT_OURS, help="python of this project's venv")
    p.add_argument(
        "--upstream",
        default=DEFAULT_UPSTREAM,
        help="python of a venv with upstream Ray (default: $UPSTREAM_RAY_PYTHON or %(default)s)",
    )
    p.add_argument("--upstream-first", action="store_true", help="run upstream before ours")
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run both sides this many times, alternating which goes first; each value is the "
        "median of its rounds (steadier on a machine whose load drifts)",
    )
    p.add_argument("--timeout", type=float, default=1200.0, help="seconds allowed per side")
    p.add_argument("--save", metavar="PATH", help="write both reports to PATH as one JSON object")
    p.add_argument(
        "--load", metavar="PATH", help="print the table for a file written by --save; run nothing"
    )
    args, passthrough = p.parse_known_args()

    if args.load:
        with open(args.load) as f:
            saved = json.load(f)
        ours, upstream = saved["ours"], saved["upstream"]
    else:
        for python in (args.ours, args.upstream):
            if not os.path.exists(python):
                p.error(f"{python} does not exist (see benchmarks/README.md for the setup)")
        sides = [("ours", args.ours), ("upstream", args.upstream)]
        if args.upstream_first:
            sides.reverse()
        if args.rounds < 1:
            p.error("--rounds must be at least 1")
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "upstream": []}
        for round_number in range(args.rounds):
            order = sides if round_number % 2 == 0 else sides[::-1]
            for label, py in order:
                runs[label].append(run_side(label, py, passthrough, args.timeout))
        ours, upstream = merge_rounds(runs["ours"]), merge_rounds(runs["upstream"])
        if args.save:
            with open(args.save, "w") as f:
                json.dump({"ours": ours, "upstream": upstream}, f, indent=1)

    print(describe(ours))
    print(describe(upstream))
    rounds = len(next((r["rounds"] for r in ours["results"] if "rounds" in r), [None]))
    print(
        "values: throughputs are the median trial, times and memory the median run"
        + (f"; each the median of {rounds} alternating rounds" if rounds > 1 else "")
    )
    print()
    print(comparison_table(ours, upstream))
    errors = errors_section(ours, upstream)
    if errors:
        print()
        print("errors:")
        print(errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
