"""One open-loop run's outcome (`Run`), what counts as sustained, and the harness's own garbage-collection
pauses, which would otherwise show as the measured bot's latency."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Any

from harness.timing import percentile

SUSTAINED_SHARE = 0.95  # a sustained run delivers at least this share of the offered rate


class HarnessPauses:
    """Garbage-collection pauses of this process (the sandbox and the load generator): a pause here delays
    messages for whichever bot is being measured, so each run records its longest one."""

    def __init__(self) -> None:
        self.longest_ms = 0.0  # since the last reset()
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def reset(self) -> None:
        self.longest_ms = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.longest_ms = max(self.longest_ms, (time.perf_counter() - self._start) * 1000)


@dataclass
class Run:
    """One open-loop run's outcome."""

    label: str
    system: str
    direction: str
    rate: float
    sent: int
    latencies_ms: list[float] = field(default_factory=list)
    alert_ms: list[float] = field(default_factory=list)
    risk_sent: int = 0
    achieved_per_s: float = 0.0
    arrival_rate: float = 0.0  # messages/s between the first and the last arrival: the rate the bot kept up
    lag_p99_ms: float = 0.0
    stages: dict[str, dict[str, float]] = field(default_factory=dict)  # bridge only: where the time went
    alert_stages: dict[str, dict[str, float]] = field(default_factory=dict)  # the same for escalation alerts
    timeline_ms: list[float] = field(default_factory=list)  # median latency per half second of the run
    max_gap_ms: float = 0.0  # longest pause between two arrivals while the run was on: a stall shows here
    redis_calls: dict[str, float] = field(default_factory=dict)  # Redis commands per message (bridge runs)
    bridge_exited: str = ""  # the bridge process ended during the run: its last error (it was restarted)
    aof_delayed_fsync: int = 0  # Redis blocked writes waiting for a slow fsync (INFO persistence) this often
    harness_gc_ms: float = 0.0  # longest garbage-collection pause of the sandbox + load generator process
    cpu: dict[str, float] = field(default_factory=dict)

    def summary(self, slo_ms: float) -> dict[str, Any]:
        lat = self.latencies_ms
        out: dict[str, Any] = {
            "label": self.label,
            "system": self.system,
            "direction": self.direction,
            "rate": self.rate,
            "sent": self.sent,
            "delivered": len(lat),
            "lost": self.sent - len(lat),
            "p50_ms": round(percentile(lat, 0.50), 1),
            "p99_ms": round(percentile(lat, 0.99), 1),
            "max_ms": round(max(lat), 1) if lat else None,
            "achieved_per_s": round(self.achieved_per_s, 1),
            "generator_lag_p99_ms": round(self.lag_p99_ms, 1),
            "max_gap_ms": round(self.max_gap_ms, 1),
            "timeline_p50_ms_per_half_second": self.timeline_ms,
            "stages_ms": self.stages,
            "alert_stages_ms": self.alert_stages,
            "redis_commands_per_message": self.redis_calls,
            "bridge_exited": self.bridge_exited,
            "aof_delayed_fsync": self.aof_delayed_fsync,
            "harness_gc_max_ms": round(self.harness_gc_ms, 1),
            "cpu_percent": self.cpu,
            "sustained": self.sustained(slo_ms),
        }
        if self.risk_sent:
            out.update(
                {
                    "risk_sent": self.risk_sent,
                    "alerts": len(self.alert_ms),
                    "alert_p50_ms": round(percentile(self.alert_ms, 0.50), 1),
                    "alert_p99_ms": round(percentile(self.alert_ms, 0.99), 1),
                    "alert_max_ms": round(max(self.alert_ms), 1) if self.alert_ms else None,
                }
            )
        return out

    def sustained(self, slo_ms: float) -> bool:
        """Everything arrived, p99 within the SLO, and at (nearly) the offered rate: a short run can end with a
        backlog that drains inside the SLO while the bot is in fact 15 % too slow for the rate."""
        return (
            len(self.latencies_ms) == self.sent
            and percentile(self.latencies_ms, 0.99) <= slo_ms
            and self.arrival_rate >= SUSTAINED_SHARE * self.rate
        )
