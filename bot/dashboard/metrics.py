"""`/metrics` in the Prometheus text format, computed from Redis at scrape time.

Gauges (queue length by tier, volunteers on duty, unacknowledged escalations, stream lengths) are read fresh
on each scrape with a few pipelined calls. `peerbridge_messages_relayed_total` is a true counter kept in Redis
by the outbound pumps: each relay (a person's message to staff, a staff reply to a person) counts once it was
delivered, by the platform it was delivered on, so it survives restarts and covers every gateway process.
Other counters and histograms follow the audit and dead-letter streams from where they were when this process
started (Prometheus treats a restart as a counter reset), reading only what is new since the last scrape.
Never a label with text, a name or a platform id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from bot.dashboard.week import QUEUED_EVENTS
from routing.model import ConversationId, EscalationId, Platform, RiskTier
from routing.store import keys
from routing.store.views import AuditEvent, AuditFollower, DashboardViews

WAIT_BUCKETS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
ACK_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800)
FIRST_REPLY_BUCKETS = (15, 30, 60, 120, 300, 600, 1200, 1800)


class _LiveGauges(Collector):
    """Yields the values read at the start of the current scrape."""

    def __init__(self) -> None:
        self.queue: dict[RiskTier, int] = {}
        self.on_duty = 0
        self.unacknowledged = 0
        self.unanswered = 0
        self.streams: dict[str, int] = {}
        self.relayed: dict[tuple[Platform, str], int] = {}

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        queue = GaugeMetricFamily("peerbridge_queue_length", "People waiting, by risk tier", labels=["tier"])
        for tier, count in self.queue.items():
            queue.add_metric([tier.label], count)
        yield queue
        yield GaugeMetricFamily("peerbridge_volunteers_on_duty", "Volunteers checked in with /on", value=self.on_duty)
        yield GaugeMetricFamily(
            "peerbridge_escalations_unacknowledged",
            "Escalations waiting for acknowledgement",
            value=self.unacknowledged,
        )
        yield GaugeMetricFamily(
            "peerbridge_escalations_unanswered",
            "Escalations that climbed the whole chain with nobody acknowledging, not acknowledged since",
            value=self.unanswered,
        )
        streams = GaugeMetricFamily(
            "peerbridge_stream_entries",
            "Entries held in a stream now (a backlog gauge; relays are counted by peerbridge_messages_relayed_total)",
            labels=["stream"],
        )
        for name, count in self.streams.items():
            streams.add_metric([name], count)
        yield streams
        relayed = CounterMetricFamily(
            "peerbridge_messages_relayed",
            "Messages relayed between a person and staff and delivered, by the platform delivered on and direction",
            labels=["platform", "direction"],
        )
        for (platform, direction), count in sorted(self.relayed.items()):
            relayed.add_metric([platform.value, direction], count)
        yield relayed


class BridgeMetrics:
    """The bridge's metrics in a private registry (so tests and several apps never collide)."""

    def __init__(self, redis: Redis, views: DashboardViews) -> None:
        self._redis = redis
        self._views = views
        self._audit: AuditFollower | None = None
        self._dead_cursor: str | None = None
        self._queued_at: dict[str, float] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        self._live = _LiveGauges()
        self.registry.register(self._live)
        r = self.registry
        self.events = Counter("peerbridge_events", "Audit events by kind", ["event"], registry=r)
        self.wait = Histogram(
            "peerbridge_wait_seconds", "Time from queueing to a volunteer taking the person", ["tier"],
            buckets=WAIT_BUCKETS, registry=r,
        )  # fmt: skip
        self.ack = Histogram(
            "peerbridge_escalation_ack_seconds", "Time from an escalation to its acknowledgement",
            buckets=ACK_BUCKETS, registry=r,
        )  # fmt: skip
        self.first_reply = Histogram(
            "peerbridge_first_reply_seconds", "Time from a volunteer taking a person to the first reply they got",
            buckets=FIRST_REPLY_BUCKETS, registry=r,
        )  # fmt: skip
        self.raised = Counter("peerbridge_escalations_raised", "Escalations raised", ["kind"], registry=r)
        self.acknowledged = Counter("peerbridge_escalations_acknowledged", "Escalations acknowledged", registry=r)
        self.failed = Counter("peerbridge_deliveries_failed", "Deliveries that failed for good", registry=r)
        self.dead = Counter("peerbridge_dead_lettered", "Stream entries dead-lettered", registry=r)
        for kind in ("escalation", "review"):
            self.raised.labels(kind)

    async def start(self) -> None:
        """Remember where the streams are now: counters count what happens from here on."""
        if self._audit is not None:
            return
        self._audit = AuditFollower(self._redis, await self._last_id(keys.AUDIT))
        self._dead_cursor = await self._last_id(keys.DEAD_LETTER)

    async def _last_id(self, stream: str) -> str:
        last = await self._redis.xrevrange(stream, "+", "-", count=1)
        if not last:
            return "0-0"
        entry = last[0][0]
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    async def refresh(self) -> None:
        await self.start()
        assert self._audit is not None and self._dead_cursor is not None
        for event in await self._audit.read():
            await self._count(event)
        reasons, self._dead_cursor = await self._views.dead_letters_since(self._dead_cursor)
        for reason in reasons:
            (self.failed if reason.startswith("delivery failed") else self.dead).inc()
        self._live.queue = await self._views.queue_tiers()
        self._live.on_duty = await self._views.on_duty_count()
        self._live.unacknowledged = await self._views.unacknowledged_count()
        self._live.unanswered = await self._views.unanswered_count()
        self._live.streams = await self._views.stream_lengths()
        self._live.relayed = await self._views.relayed_counts()

    async def _count(self, event: AuditEvent) -> None:
        self.events.labels(event.event).inc()
        conv = event.fields.get("conversation", "")
        if event.event in QUEUED_EVENTS:
            self._queued_at[conv] = event.at
        elif event.event == "assigned" and conv:
            queued = self._queued_at.pop(conv, None)
            arrival, tier = await self._views.conversation_times(ConversationId(conv))
            start = queued if queued is not None else arrival
            if start is not None:
                self.wait.labels(tier.label).observe(max(event.at - start, 0.0))
        elif event.event in ("escalation_raised", "review_raised"):
            self.raised.labels("review" if event.event == "review_raised" else "escalation").inc()
        elif event.event == "escalation_acknowledged":
            self.acknowledged.inc()
            raised, acked = await self._views.escalation_times(EscalationId(event.fields.get("escalation", "")))
            if raised is not None:
                self.ack.observe(max((acked or event.at) - raised, 0.0))
        elif event.event == "first_reply":
            self._first_reply(event)
        elif event.event == "closed":
            self._queued_at.pop(conv, None)

    def _first_reply(self, event: AuditEvent) -> None:
        with contextlib.suppress(ValueError):  # a malformed entry is not worth failing a scrape over
            self.first_reply.observe(max(float(event.fields.get("seconds", "")), 0.0))


def metrics_handler(metrics: BridgeMetrics) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(_request: web.Request) -> web.Response:
        await metrics.refresh()
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return handle
