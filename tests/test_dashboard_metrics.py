"""`/metrics`, `/healthz`, `/readyz` against real Redis, and the 7-day chart series from audit events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from bot.dashboard.charts import week_series
from bot.web import build_web_app
from routing.model import ChatId, Platform, Pseudonym, RiskCategory, RiskTier, VolunteerId
from routing.pseudonyms import Pseudonymiser
from routing.store.cipher import TextCipher
from routing.store.conversations import ConversationStore
from routing.store.escalations import EscalationStore
from routing.store.streams import StreamWriter
from routing.store.views import AuditEvent

KEY = bytes(range(32))


async def _ready() -> bool:
    return True


@pytest.fixture
async def client(redis: Redis) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = build_web_app(redis, None, "", _ready)
    async with TestClient(TestServer(app)) as http:
        yield http


def _value(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(name + " ") or line.startswith(name + "{"))
    return float(line.rsplit(" ", 1)[1])


async def test_metrics_count_queue_waits_and_escalations(client: TestClient, redis: Redis) -> None:  # type: ignore[type-arg]
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json()) == {"redis": True, "adapters": True}

    cipher = TextCipher([KEY])
    writer = StreamWriter(redis, cipher, Pseudonymiser(b"0123456789abcdef0123"))
    conversations = ConversationStore(redis, cipher)
    waiting, _ = await conversations.open(Platform.TELEGRAM, ChatId("555"), "p1", Pseudonym("Calm Otter 01"), "en")
    taken, _ = await conversations.open(Platform.TELEGRAM, ChatId("556"), "p2", Pseudonym("Kind Wren 02"), None)
    await conversations.raise_tier(waiting, RiskTier.HIGH)
    await writer.audit("queued", conversation=taken)
    await conversations.assign(VolunteerId("ana"), 3, taken)
    await writer.audit("assigned", conversation=taken, volunteer="ana")
    await conversations.set_on_duty(VolunteerId("ana"), True)
    escalations = EscalationStore(redis)
    esc = await escalations.raise_(waiting, RiskTier.HIGH, RiskCategory.SUICIDE, ("p1",), 120, "k1")
    assert esc is not None
    await writer.audit("escalation_raised", escalation=esc, conversation=waiting, tier="high")
    await escalations.acknowledge(esc, VolunteerId("cora"))
    await writer.audit("escalation_acknowledged", escalation=esc, by="cora")

    response = await client.get("/metrics")
    assert response.status == 200
    text = await response.text()
    assert _value(text, 'peerbridge_queue_length{tier="high"}') == 1
    assert _value(text, 'peerbridge_queue_length{tier="none"}') == 0
    assert _value(text, "peerbridge_volunteers_on_duty") == 1
    assert _value(text, 'peerbridge_wait_seconds_count{tier="none"}') == 1
    assert _value(text, "peerbridge_escalation_ack_seconds_count") == 1
    assert _value(text, 'peerbridge_escalations_raised_total{kind="escalation"}') == 1
    assert _value(text, "peerbridge_escalations_acknowledged_total") == 1
    assert "Calm Otter" not in text and "555" not in text  # no pseudonyms or platform ids in labels

    again = await (await client.get("/metrics")).text()  # a second scrape counts nothing twice
    assert _value(again, "peerbridge_escalations_acknowledged_total") == 1


async def test_dashboard_pages_need_a_session_when_enabled(redis: Redis) -> None:
    from bot.dashboard.app import Dashboard
    from routing.store.dashboard_access import SignInLinks

    async def ack(*_args: object) -> bool:
        return True

    links = SignInLinks(redis, b"k" * 32, "http://test")
    app = build_web_app(redis, None, "", _ready, Dashboard(redis, links, ack))
    async with TestClient(TestServer(app)) as http:
        for path in ("/dashboard/", "/dashboard/rota", "/dashboard/charts"):
            answer = await http.get(path)
            assert answer.status == 401
            assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
        assert (await http.get("/dashboard/api/live")).status == 401
        assert (await http.get("/dashboard/static/dashboard.css")).status == 200


def test_week_series_from_audit_events() -> None:
    now = time.time()
    day = 24 * 3600
    events = [
        AuditEvent("1-0", "queued", now - 2 * day, {"conversation": "c-1"}),
        AuditEvent("2-0", "assigned", now - 2 * day + 300, {"conversation": "c-1"}),
        AuditEvent("3-0", "queued", now - 600, {"conversation": "c-2"}),
        AuditEvent("4-0", "escalation_raised", now - 590, {"conversation": "c-2", "escalation": "e-1", "tier": "high"}),
        AuditEvent("5-0", "escalation_acknowledged", now - 530, {"escalation": "e-1"}),
        AuditEvent("6-0", "assigned", now - 500, {"conversation": "c-2"}),
    ]
    series = week_series(events, now)
    assert series.wait_by_tier["none"][5] == 300
    assert series.wait_by_tier["high"][6] == 100
    assert series.ack_per_day[6] == 60
    assert sum(series.started_per_hour) == 2
