"""The relay benchmark's driver for one platform's world: open-loop runs, echo and bridge alternating at fixed
rates, the search for each one's maximum sustained rate, and escalation alerts under relay load."""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import math
import time
from pathlib import Path
from typing import Any

from harness.processes import BridgeHandle
from harness.timing import cpu_pressure_us, cpu_seconds, percentile
from relay.profile import Recording, start_recording, stop_recording
from relay.runs import HarnessPauses, Run
from relay.stages import StreamStages, alert_alias
from relay.worlds import BENIGN, RISK_TEXT, TAG, World
from routing.store.connection import RedisOptions, connect


class Bench:
    """Drives one platform's world: runs, searches, escalation."""

    def __init__(
        self,
        world: World,
        args: argparse.Namespace,
        pids: dict[str, int],
        redis_url: str,
        bridge: BridgeHandle,
    ) -> None:
        self.bridge = bridge
        self.redis = connect(RedisOptions(url=redis_url))
        self.world = world
        self.args = args
        self.pids = pids  # "sandbox", "bridge", "echo", "redis"
        self.seq = itertools.count(1)
        self.next_risk = 0
        self.runs: list[Run] = []
        self.profiles: list[str] = []
        self.disturbed: list[dict[str, Any]] = []
        self.pauses = HarnessPauses()
        self.stages = StreamStages(self.redis, world)

    async def _command_calls(self) -> dict[str, int]:
        info = await self.redis.info("commandstats")
        return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in info.items() if isinstance(v, dict)}

    async def _delayed_fsyncs(self) -> int:
        info = await self.redis.info("persistence")
        return int(info.get("aof_delayed_fsync", 0))

    def _cpu(self) -> dict[str, float]:
        """CPU seconds per process; "bridge" is all of the bridge's processes, "bridge_router" its router
        process when the bridge is split."""
        cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        if self.bridge.router is not None:
            cpu["bridge_router"] = cpu_seconds(self.bridge.router.pid)
            cpu["bridge"] += cpu["bridge_router"]
        return cpu

    async def run(
        self, system: str, direction: str, rate: float, duration: float, label: str = "", risk_rate: float = 0.0
    ) -> Run:
        world = self.world
        n = max(1, round(rate * duration))
        mark = world.mark()
        due: dict[int, float] = {}
        lags: list[float] = []
        risk_due: dict[str, float] = {}
        n_risk = min(round(risk_rate * duration), world.n_risk - self.next_risk) if risk_rate else 0
        # Everything earlier runs left in this process (the sandbox keeps every message) is frozen out of the
        # collector: unfrozen, a full collection here paused the sandbox for 100-200 ms in the middle of a run.
        gc.collect()
        gc.freeze()
        self.pauses.reset()
        spy = await self._spy_start(system, direction, label or f"{rate:g}/s")
        wall_offset = time.time() - time.monotonic()
        delayed0, calls0 = await self._delayed_fsyncs(), await self._command_calls()
        cpu0, wall0, pressure0 = self._cpu(), time.monotonic(), cpu_pressure_us()
        t0 = time.monotonic() + 0.02
        plan = sorted(
            [(t0 + k / rate, 0, k) for k in range(n)] + [(t0 + (k + 0.5) / risk_rate, 1, k) for k in range(n_risk)]
        )
        for at, is_risk, k in plan:
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            lags.append(time.monotonic() - at)
            if is_risk:
                index = self.next_risk
                self.next_risk += 1
                risk_due[world.risk_alias[index]] = at
                world.send_risk(index, RISK_TEXT)
                continue
            seq = next(self.seq)
            due[seq] = at
            text = f"qz{seq} {BENIGN[seq % len(BENIGN)]}"
            if direction == "forward":
                world.send_person(system, k % world.n_people, text)
            else:
                world.send_volunteer(system, k % world.n_people, text)
        last_sent = time.monotonic()
        kind = "staff" if direction == "forward" else "person"
        arrived: dict[int, float] = {}
        alerts: dict[str, float] = {}
        cursor = mark
        last_new = time.monotonic()
        while True:
            seen, cursor = world.seen_since(cursor)
            for s in seen:
                if s.kind == "alert" and s.bot == "bridge" and "RISK" in s.text:
                    alias = alert_alias(s.text)
                    if alias in risk_due and alias not in alerts:
                        alerts[alias] = s.at
                        last_new = time.monotonic()
                    continue
                if s.kind != kind or s.bot != system:
                    continue
                for match in TAG.finditer(s.text):  # a thread catching up sends several as one (each counts)
                    seq = int(match.group(1))
                    if seq in due and seq not in arrived:
                        arrived[seq] = s.at
                        last_new = time.monotonic()
            now = time.monotonic()
            if len(arrived) == n and len(alerts) == n_risk:
                break
            if now - last_new > 3.0 or now - last_sent > 60.0:
                break  # lost, or a backlog that does not clear
            await asyncio.sleep(0.02)
        cpu1, wall1, pressure1 = self._cpu(), time.monotonic(), cpu_pressure_us()
        await self._spy_stop(spy)
        result = Run(label or f"{rate:g}/s", system, direction, rate, n)
        result.latencies_ms = [(arrived[q] - due[q]) * 1000 for q in arrived]
        buckets: dict[int, list[float]] = {}
        for q in arrived:
            buckets.setdefault(int((due[q] - t0) * 2), []).append((arrived[q] - due[q]) * 1000)
        result.timeline_ms = [
            round(percentile(buckets.get(b, []), 0.5), 1) for b in range(max(buckets, default=-1) + 1)
        ]
        result.alert_ms = [(alerts[a] - risk_due[a]) * 1000 for a in alerts]
        result.risk_sent = n_risk
        if arrived:
            result.achieved_per_s = len(arrived) / max(max(arrived.values()) - t0, 1e-9)
            times = sorted(arrived.values())
            result.arrival_rate = (len(times) - 1) / max(times[-1] - times[0], 1e-9) if len(times) > 1 else rate
            result.max_gap_ms = max((b - a for a, b in itertools.pairwise(times)), default=0.0) * 1000
        result.aof_delayed_fsync = await self._delayed_fsyncs() - delayed0
        result.harness_gc_ms = self.pauses.longest_ms
        if system == "bridge":
            calls1 = await self._command_calls()
            per = {k: (calls1[k] - calls0.get(k, 0)) / n for k in calls1 if calls1[k] > calls0.get(k, 0)}
            top = sorted(per.items(), key=lambda kv: -kv[1])
            result.redis_calls = {"total": round(sum(per.values()), 1), **{k: round(v, 2) for k, v in top[:8]}}
        if system == "bridge":
            result.stages = await self.stages.relays(due, arrived, (t0 + wall_offset) * 1000, wall_offset)
            if alerts:
                result.alert_stages = await self.stages.alerts(risk_due, alerts, (t0 + wall_offset) * 1000, wall_offset)
        result.lag_p99_ms = percentile(lags, 0.99) * 1000
        result.cpu = {k: max(0, round(100 * (cpu1[k] - cpu0[k]) / (wall1 - wall0))) for k in cpu0}
        result.cpu["waiting_for_cpu"] = round((pressure1 - pressure0) / 1e4 / (wall1 - wall0))
        self.runs.append(result)
        if self.bridge.exited():
            result.bridge_exited = self.bridge.last_error()
            print(f"  !! the bridge process exited during this run ({result.bridge_exited}); restarting it", flush=True)
            self.pids["bridge"] = await self.bridge.restart()
        await self.settle()
        return result

    async def _spy_start(self, system: str, direction: str, label: str) -> Recording | None:
        """py-spy (sampling, outside the process) on the bridge during the runs named by --py-spy-runs."""
        if not self.args.py_spy or system != "bridge" or label not in self.args.py_spy_runs:
            return None
        out = Path(self.args.py_spy) / f"{self.world.platform}-{direction}-{label.replace('/', 'per')}.txt"
        return await start_recording(self.pids["bridge"], out)

    async def _spy_stop(self, spy: Recording | None) -> None:
        if spy is None:
            return
        summary = await stop_recording(spy)
        self.profiles.append(str(spy.out))
        print("\n".join(summary), flush=True)

    async def settle(self, quiet: float = 0.5) -> None:
        """Wait until the bots have been quiet for `quiet` seconds (a backlog of one run must not leak into
        the next); give up after 60 s."""
        deadline = time.monotonic() + 60
        count = self.world.mark()
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            now_count = self.world.mark()
            if now_count != count:
                count, quiet_since = now_count, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return

    def log(self, run: Run) -> None:
        s = run.summary(self.args.slo_ms)
        flag = "ok " if s["sustained"] else "NOT"
        if self.args.timeline:
            print(f"    timeline p50 ms per 0.5 s: {run.timeline_ms}")
        extra = f" alerts p50 {s['alert_p50_ms']} p99 {s['alert_p99_ms']} ms" if run.risk_sent else ""
        if run.redis_calls:
            extra += f" | redis cmds/msg {run.redis_calls['total']}"
        if run.stages:
            extra += " | stages p50/p99 " + ", ".join(f"{k} {v['p50']}/{v['p99']}" for k, v in run.stages.items())
        if run.alert_stages:
            extra += " | alert stages " + ", ".join(f"{k} {v['p50']}/{v['p99']}" for k, v in run.alert_stages.items())
        print(
            f"  [{self.world.platform}] {run.direction:<7} {run.system:<6} {run.label:>14}: "
            f"{s['delivered']}/{s['sent']} p50 {s['p50_ms']} p99 {s['p99_ms']} max {s['max_ms']} ms, "
            f"{s['achieved_per_s']} msg/s {flag} gap {s['max_gap_ms']} ms harness-gc {s['harness_gc_max_ms']} ms"
            f" cpu {s['cpu_percent']}"
            f"{' aof-delayed ' + str(run.aof_delayed_fsync) if run.aof_delayed_fsync else ''}{extra}",
            flush=True,
        )

    async def fixed_and_max(self, direction: str, rates: tuple[int, ...], search: bool) -> dict[str, float | None]:
        """Fixed rates (echo and bridge alternating), then each system's maximum sustained rate."""
        outcome: dict[str, dict[float, bool]] = {"echo": {}, "bridge": {}}
        for rate in rates:
            for system in ("echo", "bridge"):
                result = await self.measured(system, direction, rate, self.args.duration)
                outcome[system][rate] = result.sustained(self.args.slo_ms)
        best: dict[str, float | None] = {}
        for system in ("echo", "bridge"):
            best[system] = await self.search(system, direction, outcome[system]) if search else None
        return best

    async def search(self, system: str, direction: str, known: dict[float, bool]) -> float | None:
        for _step in range(self.args.search_steps):
            passed = [r for r, ok in known.items() if ok]
            failed = [r for r, ok in known.items() if not ok]
            low, high = (
                (max(passed) if passed else None),
                (
                    min(f for f in failed if f > max(passed, default=0))
                    if any(f > max(passed, default=0) for f in failed)
                    else None
                ),
            )
            if low is None:
                rate = min(failed) * 0.6
            elif high is None:
                rate = low * 2
            elif high / low <= 1.15:
                break
            else:
                rate = math.sqrt(low * high)
            rate = float(max(10, round(rate / 10) * 10))
            if rate in known:
                break
            label = f"search {rate:g}/s"
            result = await self.measured(system, direction, rate, self.args.search_duration, label, retry=False)
            known[rate] = result.sustained(self.args.slo_ms)
        passed = [r for r, ok in known.items() if ok]
        return max(passed) if passed else None

    async def escalation(self, saturated_rate: float | None) -> None:
        rates = [("relay 200/s", 200.0)]
        if saturated_rate:
            rates += [("saturated", saturated_rate), ("overloaded", round(saturated_rate * 1.5))]
        for label, rate in rates:
            duration, risk_rate = self.args.escalation_duration, self.args.risk_rate
            await self.measured("bridge", "forward", rate, duration, label=label, risk_rate=risk_rate)

    async def measured(
        self,
        system: str,
        direction: str,
        rate: float,
        duration: float,
        label: str = "",
        risk_rate: float = 0.0,
        *,
        retry: bool = True,
    ) -> Run:
        """A run, repeated once when other load on the machine disturbed it (CPU wait above --retry-wait %);
        the less disturbed of the two is kept, the other is listed under "disturbed" in the JSON."""
        result = await self.run(system, direction, rate, duration, label, risk_rate)
        self.log(result)
        if not retry or result.cpu.get("waiting_for_cpu", 0) <= self.args.retry_wait:
            return result
        print(f"    (disturbed: {result.cpu['waiting_for_cpu']}% CPU wait; running it again)", flush=True)
        again = await self.run(system, direction, rate, duration, label, risk_rate)
        self.log(again)
        keep, drop = (
            (again, result) if again.cpu["waiting_for_cpu"] <= result.cpu["waiting_for_cpu"] else (result, again)
        )
        self.runs.remove(drop)
        self.disturbed.append(drop.summary(self.args.slo_ms))
        return keep
