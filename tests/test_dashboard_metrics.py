"""`/metrics`, `/healthz`, `/readyz` against real Redis, and the 7-day chart series from audit events.

Also the two numbers that come from the relay path: messages relayed (counted by the outbound pump once
delivered) and the time from a volunteer taking a person to the first reply that reached them (one audit event
per assignment, written by the router).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from bot.dashboard.charts import chart_page, render_charts
from bot.dashboard.week import week_series
from bot.web import build_web_app
from routing.delivery import DeliveryError, DeliveryScheduler, Destination
from routing.model import (
    ChatId,
    OutboundMessage,
    Platform,
    Pseudonym,
    RiskCategory,
    RiskTier,
    UserId,
    VolunteerId,
)
from routing.pseudonyms import Pseudonymiser
from routing.roster import StaffMember
from routing.store.cipher import TextCipher
from routing.store.conversations import ConversationStore
from routing.store.escalations import EscalationStore
from routing.store.outbound import OutboundPump
from routing.store.streams import StreamWriter
from routing.store.views import AuditEvent, audit_since
from tests.routing_harness import make_harness

KEY = bytes(range(32))


async def _ready() -> dict[str, bool]:
    return {}


@pytest.fixture
async def client(redis: Redis) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = build_web_app(redis, None, "", _ready)
    async with TestClient(TestServer(app)) as http:
        yield http


def _names(text: str) -> str:
    """The exposition without sample values (a timestamp may contain any digits): names, labels and help."""
    return "\n".join(line if line.startswith("#") else line.rsplit(" ", 1)[0] for line in text.splitlines())


def _value(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(name + " ") or line.startswith(name + "{"))
    return float(line.rsplit(" ", 1)[1])


async def test_metrics_count_queue_waits_and_escalations(client: TestClient, redis: Redis) -> None:  # type: ignore[type-arg]
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json()) == {"redis": True, "adapters": True, "platforms": {}}

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
    raised = await escalations.raise_(waiting, RiskTier.HIGH, RiskCategory.SUICIDE, ("p1",), 120, "k1")
    assert raised is not None  # raising audits it too ("escalation_raised")
    esc = raised.id
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
    assert "Calm Otter" not in _names(text) and "555" not in _names(text)  # no pseudonyms or platform ids

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
        for path in (
            "/dashboard/",
            "/dashboard/rota",
            "/dashboard/charts",
            "/dashboard/volunteers",
            "/dashboard/training",
        ):
            answer = await http.get(path)
            assert answer.status == 401
            assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
        assert (await http.get("/dashboard/api/live")).status == 401
        assert (await http.get("/dashboard/api/volunteers")).status == 401
        assert (await http.get("/dashboard/api/charts")).status == 401
        assert (await http.post("/dashboard/training/sessions", data={"volunteer": "ana"})).status == 401
        assert (await http.get("/dashboard/static/volunteers.js")).status == 200
        assert (await http.get("/dashboard/static/charts.js")).status == 200
        assert (await http.get("/dashboard/static/dashboard.css")).status == 200


# Noon on a Monday, this machine's time: the per-day bars are calendar days, so a test must not run across midnight.
NOON = datetime(2026, 12, 7, 12, 0).timestamp()


def test_week_series_from_audit_events() -> None:
    now = NOON
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
    assert series.wait_by_tier["none"][4] == 300  # the day before yesterday: two bars before today's
    assert series.wait_by_tier["high"][6] == 100
    assert series.ack_per_day[6] == 60
    assert series.started_per_day == [0, 0, 0, 0, 1, 0, 1]
    assert series.first_reply_by_tier == {} and series.feedback_per_day["better"] == [0] * 7


class Deliverer:
    """Records what would be sent; refuses for good the texts it is told to (our own port: a fake is fine)."""

    def __init__(self, refuse: set[str]) -> None:
        self.sent: list[OutboundMessage] = []
        self.refuse = refuse

    def destination(self, message: OutboundMessage) -> Destination:
        return Destination(f"chat:{message.chat}")

    async def deliver(self, message: OutboundMessage) -> None:
        if message.text in self.refuse:
            raise DeliveryError("refused", retryable=False)
        self.sent.append(message)


async def _deliver_all(pump: OutboundPump) -> None:
    await pump.ensure_groups()
    for _ in range(25):
        await pump.step(block_ms=0)
        await asyncio.sleep(0.02)


async def test_relays_count_once_delivered_and_the_first_reply_is_timed_once_per_assignment(
    client: TestClient,  # type: ignore[type-arg]
    redis: Redis,
) -> None:
    ana = StaffMember(id=VolunteerId("ana"), name="Ana", identities={Platform.TELEGRAM: UserId("900")})
    h = make_harness(redis, members=[ana])
    await h.person("555", "words kept while waiting")
    conv = await h.conversation_of("555")
    await h.staff("900", "/next")
    await h.open_thread(conv, "77")
    await h.staff("900", "hello, I'm Ana", thread="77")
    await h.staff("900", "a reply that never arrives", thread="77")
    await h.person("555", "thank you")
    deliverer = Deliverer(refuse={"a reply that never arrives"})
    pump = OutboundPump(redis, h.stack.writer, h.cipher, Platform.TELEGRAM, DeliveryScheduler(deliverer, None), "gw")
    await _deliver_all(pump)
    assert "hello, I'm Ana" in [m.text for m in deliverer.sent]

    text = await (await client.get("/metrics")).text()
    relayed = 'peerbridge_messages_relayed_total{direction="%s",platform="%s"}'
    assert _value(text, relayed % ("to_person", "telegram")) == 1  # the refused reply is not counted
    assert _value(text, relayed % ("to_staff", "telegram")) == 2  # the kept message, then "thank you"
    assert _value(text, relayed % ("to_person", "discord")) == 0
    assert _value(text, "peerbridge_first_reply_seconds_count") == 1  # two replies, one first reply

    await h.staff("900", "/release back to the queue", thread="77")
    await h.staff("900", "/next")
    await h.staff("900", "I'm back", thread="77")
    await h.staff("900", "still here", thread="77")
    firsts = [e for e in await audit_since(redis, 0) if e.event == "first_reply"]
    assert [e.fields["conversation"] for e in firsts] == [conv, conv]  # once per assignment
    assert all(set(e.fields) == {"conversation", "volunteer", "seconds", "tier"} for e in firsts)  # never any text
    assert all(e.fields["tier"] == "none" for e in firsts)  # the Charts page's first reply by tier
    assert all(e.fields["volunteer"] == "ana" and 0 <= float(e.fields["seconds"]) < 30 for e in firsts)
    again = await (await client.get("/metrics")).text()
    assert _value(again, "peerbridge_first_reply_seconds_count") == 2
    assert "hello" not in _names(again) and "555" not in _names(again)


def test_first_reply_chart_from_audit_events() -> None:
    now = NOON
    day = 24 * 3600
    events = [
        AuditEvent("1-0", "first_reply", now - 3 * day, {"conversation": "c-1", "seconds": "40"}),
        AuditEvent("2-0", "first_reply", now - 60, {"conversation": "c-2", "seconds": "90.5"}),
        AuditEvent("3-0", "first_reply", now - 30, {"conversation": "c-3", "seconds": "150.5"}),
        AuditEvent("4-0", "first_reply", now - 20, {"conversation": "c-4", "seconds": "not a number"}),
        AuditEvent("5-0", "queued_out_of_hours", now - 900, {"conversation": "c-5"}),
        AuditEvent("6-0", "assigned", now - 600, {"conversation": "c-5"}),
    ]
    series = week_series(events, now)
    assert series.first_reply_by_tier["none"][3] == 40 and series.first_reply_by_tier["none"][6] == 120.5
    assert series.first_replies == 3 and series.first_reply_week == 90.5
    assert series.wait_by_tier["none"][6] == 300  # someone who arrived out of hours still waited
    page = render_charts(series, now)
    assert "Median 1 min from taking a person to the first reply that reached them, over 3" in page
    assert "No volunteer replied" in render_charts(week_series([], now), now)


async def test_the_charts_api_gives_the_numbers_the_page_first_shows(redis: Redis) -> None:
    from bot.dashboard.app import Dashboard
    from routing.model import Role
    from routing.store.dashboard_access import SignInLinks

    async def ack(*_args: object) -> bool:
        return True

    writer = StreamWriter(redis, TextCipher([KEY]), Pseudonymiser(b"0123456789abcdef0123"))
    await writer.audit("queued", conversation="c-1")
    await writer.audit("assigned", conversation="c-1", volunteer="ana", tier="none")
    links = SignInLinks(redis, b"k" * 32, "http://test")
    app = build_web_app(redis, None, "", _ready, Dashboard(redis, links, ack))
    async with TestClient(TestServer(app)) as http:
        token = (await links.issue(VolunteerId("sam"), {Role.SUPERVISOR})).split("token=")[1]
        await http.post("/dashboard/signin", data={"token": token})
        page = await (await http.get("/dashboard/charts")).text()
        state = await (await http.get("/dashboard/api/charts")).json()
    # the chart library first, from the package (no CDN), then the page's script
    assert '<script src="/dashboard/static/vendor/chart.umd.min.js" defer></script>' in page
    assert page.index("vendor/chart.umd.min.js") < page.index('src="/dashboard/static/charts.js"')
    charts = state["charts"]
    assert set(charts) == {"started", "wait", "first-reply", "ack", "feedback", "support", "taught"}
    assert state["language"] == "en"
    started = charts["started"]
    assert (started["x_axis"], started["y_axis"]) == ("Day", "conversations")
    assert [s["name"] for s in started["series"]] == ["started"] and started["series"][0]["values"][-1] == 1
    assert started["caption"].startswith("highest: 1 · ")
    assert [s["key"] for s in charts["wait"]["series"]] == ["none"]  # the legend names the tiers that waited
    assert charts["wait"]["y_axis"] == "seconds"  # a wait of a moment: drawn in seconds
    assert [s["name"] for s in charts["feedback"]["series"]] == ["Better", "About the same", "Worse"]
    assert charts["feedback"]["caption"] == "No feedback in the last 7 days." and charts["feedback"]["empty"]
    assert charts["ack"]["caption"] == "No escalation was acknowledged in the last 7 days."
    assert state["first_reply_summary"].startswith("No volunteer replied")
    # the same numbers are in the page's tables before any script runs: today's row of the started chart
    today = started["labels"][-1]
    assert f'<tr><td data-label="Day">{today}</td><td data-label="started">1</td></tr>' in page
    assert '<canvas id="started" role="img" aria-label="Conversations started (per day)"></canvas>' in page


async def test_the_charts_page_shows_what_staff_taught_the_detector(redis: Redis) -> None:
    from bot.dashboard.app import Dashboard
    from routing.model import RiskTier, Role
    from routing.store.dashboard_access import SignInLinks
    from routing.store.risk_labels import RiskLabels

    async def ack(*_args: object) -> bool:
        return True

    links = SignInLinks(redis, b"k" * 32, "http://test")
    app = build_web_app(redis, None, "", _ready, Dashboard(redis, links, ack))
    async with TestClient(TestServer(app)) as http:
        token = (await links.issue(VolunteerId("cleo"), {Role.COORDINATOR})).split("token=")[1]
        await http.post("/dashboard/signin", data={"token": token})
        before = await (await http.get("/dashboard/charts")).text()
        labels = RiskLabels(redis)
        await labels.missed("abuse", RiskTier.NONE)
        await labels.missed("abuse", RiskTier.REVIEW)
        await labels.missed(None, RiskTier.ELEVATED)
        await labels.false_alarm("suicide")
        after = await (await http.get("/dashboard/charts")).text()
    assert "Nothing yet: when staff escalate by hand" in before
    cells = '<tr><td data-label="category">{}</td><td data-label="escalated by staff above the detector">{}</td>'
    cells += '<td data-label="alerts marked false alarms">{}</td></tr>'
    assert cells.format("abuse", 2, 0) in after
    assert cells.format("suicide", 0, 1) in after
    assert cells.format("unspecified", 1, 0) in after


async def test_an_escalation_nobody_answered_stays_on_the_metrics_until_acknowledged(
    client: TestClient,  # type: ignore[type-arg]
    redis: Redis,
) -> None:
    h = make_harness(redis)
    await h.person("9001", "I have the pills in front of me and I'm going to take them all tonight")
    store = EscalationStore(redis)
    for minutes in (3, 6, 9):  # three missed deadlines: the end of the chain
        await store.claim_due(now=time.time() + minutes * 60, last_level=3)
    body = await (await client.get("/metrics")).text()
    assert _value(body, "peerbridge_escalations_unanswered") == 1
    assert _value(body, "peerbridge_escalations_unacknowledged") == 1  # still counted as waiting
    assert await store.acknowledge("e-1", VolunteerId("dr-lee"))  # type: ignore[arg-type]
    body = await (await client.get("/metrics")).text()
    assert _value(body, "peerbridge_escalations_unanswered") == 0


def test_each_day_bar_is_labelled_with_the_calendar_day_its_events_happened_on() -> None:
    """Half an hour after midnight is today: its bar says today (it said yesterday: the bars were 24-hour windows
    ending now, each labelled by the day it started on)."""
    events = [
        AuditEvent("1-0", "queued", datetime(2026, 12, 7, 0, 20).timestamp(), {"conversation": "c-1"}),
        AuditEvent("2-0", "assigned", datetime(2026, 12, 7, 0, 30).timestamp(), {"conversation": "c-1"}),
        AuditEvent("3-0", "first_reply", datetime(2026, 12, 1, 9, 0).timestamp(), {"seconds": "30"}),  # 6 days back
        AuditEvent("4-0", "first_reply", datetime(2026, 11, 30, 23, 0).timestamp(), {"seconds": "99"}),  # before
    ]
    series = week_series(events, NOON)
    assert series.wait_by_tier["none"] == [None] * 6 + [600]
    assert series.first_reply_by_tier["none"] == [30] + [None] * 6  # the oldest bar is six days back; earlier left out
    charts = chart_page(series, NOON).charts
    assert charts["wait"].labels[0] == "Tue 01" and charts["wait"].labels[-1] == "Mon 07"
    assert charts["wait"].series[0].cells[-1] == "10 min" and charts["wait"].series[0].values[-1] == 10
    assert charts["wait"].y_axis == "minutes"
    assert charts["first-reply"].series[0].cells[0] == "30 s" and charts["first-reply"].y_axis == "seconds"
    assert charts["wait"].caption.endswith("Tue 01 to Mon 07")  # the span: six days back to today
