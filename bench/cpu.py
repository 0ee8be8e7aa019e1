"""CPU seconds used by the sandbox's and CloudManager's processes, grouped by service.

A failover on a 2-core sandbox is bound by CPU, so the benchmarks show where the seconds go.
"""

from __future__ import annotations

import re

import psutil

_LABELS = [
    (re.compile(r"\[aos-sandbox-([\w-]+)\]"), None),
    (re.compile(r"(nova-conductor|nova-scheduler)"), None),
    (re.compile(r"aos_sandbox\.compute"), "nova-compute"),
    (re.compile(r"mariadbd|mysqld"), "mariadb"),
    (re.compile(r"beam\.smp"), "rabbitmq"),
    (re.compile(r"bmc/server\.py"), "bmc"),
    (re.compile(r"(aos-cloud-manager-\w+)"), None),
]


def _label(cmdline: str) -> str | None:
    for pattern, fixed in _LABELS:
        match = pattern.search(cmdline)
        if match:
            return fixed or match.group(1)
    return None


def snapshot() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of every labelled process, by pid."""
    result = {}
    for proc in psutil.process_iter(["cmdline", "cpu_times"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        label = _label(cmdline)
        times = proc.info["cpu_times"]
        if label and times:
            result[proc.pid] = (label, times.user + times.system)
    return result


def used_since(before: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds used per service since ``before`` (new processes count from zero)."""
    totals: dict[str, float] = {}
    for pid, (label, seconds) in snapshot().items():
        start = before.get(pid, (label, 0.0))[1]
        totals[label] = totals.get(label, 0.0) + seconds - start
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def format_usage(usage: dict[str, float]) -> str:
    total = sum(usage.values())
    parts = ", ".join(f"{name} {seconds:.1f}" for name, seconds in usage.items() if seconds >= 0.1)
    return f"CPU-s {total:.1f}: {parts}"
