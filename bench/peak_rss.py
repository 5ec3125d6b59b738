"""Peak memory of the calling process, shared by the benchmarks (each path runs in a process of its own)."""

from __future__ import annotations


def peak_rss_mb() -> float:
    """This process's own peak RSS (``VmHWM``). ``ru_maxrss`` would include the peak of the process that
    forked it: a child started by a parent holding 1 GB of data reports 1 GB before doing anything."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")
