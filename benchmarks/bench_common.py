"""What microbenchmark.py and compare.py share. Imports nothing from Ray, so both the
project's interpreter and upstream Ray's can load it."""

from __future__ import annotations

import os


def tagged_pids(var: str, tag: str) -> list[int]:
    """Pids of the processes whose initial environment holds `var=tag` (inherited from us)."""
    needle = f"{var}={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def fmt(value: float | None) -> str:
    """A number with about four significant digits, thousands separated."""
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) < 1e6:
        return f"{int(value):,}"
    v = abs(value)
    if v >= 1000:
        return f"{value:,.0f}"
    if v >= 100:
        return f"{value:.1f}"
    if v >= 1:
        return f"{value:.2f}"
    if v == 0:
        return "0"
    return f"{value:.3g}"


def listening_beyond_loopback(pids: list[int]) -> list[str]:
    """`pid: address:port` of every listening TCP socket of these processes that is not on
    loopback (127.0.0.0/8, ::1, ::ffff:127.x). Benchmarks start every cluster on loopback only."""
    import ipaddress

    import psutil

    out = []
    for pid in pids:
        try:
            conns = psutil.Process(pid).net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for c in conns:
            if c.status != psutil.CONN_LISTEN:
                continue
            ip = ipaddress.ip_address(c.laddr.ip.split("%")[0])
            mapped = getattr(ip, "ipv4_mapped", None)
            if not (ip.is_loopback or (mapped is not None and mapped.is_loopback)):
                out.append(f"{pid}: {c.laddr.ip}:{c.laddr.port}")
    return out
