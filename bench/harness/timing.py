"""Timing for the benchmarks: when each bot message landed in the sandbox, percentiles, and how much CPU a
process used and the machine lacked (Linux /proc)."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from sandboxes.telegram import Message


class TimedOutbox(list[Message]):
    """The Telegram sandbox's outbox with the monotonic time of each append (the moment the API call landed)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, message: Message) -> None:
        self.times.append(time.monotonic())
        super().append(message)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank `q` percentile (0 < q <= 1) of `values`; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc (Linux), in seconds; 0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_pressure_us() -> int:
    """Total microseconds in which some runnable task on this machine waited for a CPU (Linux PSI), or 0."""
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return 0
    return int(first.rsplit("total=", 1)[1])
