"""The Charts page's numbers from a real Redis: the audit stream the router writes and the feedback counts.

A calm person and a person at risk are each taken and answered; the week then holds their waits and first replies
under each one's tier, and the calm person's feedback once, however often they press. (The numbers from given
events, day by day at a fixed noon, are in test_dashboard_metrics.py; the page in Chromium in
test_dashboard_charts_browser.py.)
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot.dashboard.charts import chart_page, read_week
from bot.dashboard.week import week_series
from routing.model import Audience, InboundKind, Platform, RiskTier, UserId, VolunteerId
from routing.roster import StaffMember
from routing.store.views import AuditEvent, audit_since
from tests.routing_harness import make_harness

ANA = StaffMember(id=VolunteerId("ana"), name="Ana", identities={Platform.TELEGRAM: UserId("900")})
BEN = StaffMember(id=VolunteerId("ben"), name="Ben", identities={Platform.TELEGRAM: UserId("901")})
RISK = "I have the pills in front of me and I'm going to take them all tonight"


async def test_the_week_from_redis_has_first_replies_by_tier_and_feedback_once_per_conversation(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    await h.person("555", "hello, is anyone there")
    await h.person("556", RISK)
    await h.staff("900", "/next")  # risk first: Ana takes the person at risk
    await h.staff("901", "/next")
    calm, risky = await h.conversation_of("555"), await h.conversation_of("556")
    await h.open_thread(risky, "77")
    await h.open_thread(calm, "78")
    await h.staff("900", "I'm here with you", thread="77")
    await h.staff("900", "take your time", thread="77")  # a second reply is no first reply
    await h.staff("901", "hi, I'm Ben", thread="78")
    await h.outbound(Platform.TELEGRAM)
    await h.staff("901", "/end", thread="78")
    question = next(m for m in await h.outbound(Platform.TELEGRAM) if m.buttons and m.audience == Audience.SEEKER)
    better, worse = (b.action for b in question.buttons if b.label in ("Better", "Worse"))
    for action in (better, better, worse):  # pressed twice, then changed their mind: the first answer counts
        await h.person("555", action, kind=InboundKind.ACTION)

    conversation = await h.stack.conversations.get(risky)
    assert conversation is not None and conversation.tier >= RiskTier.HIGH
    tier = conversation.tier.label
    series = await read_week(redis, time.time())
    assert series.started_per_day[-1] == 2  # today, last
    assert list(series.first_reply_by_tier) == ["none", tier]  # in risk order
    assert all(days[:-1] == [None] * 6 and days[-1] is not None for days in series.first_reply_by_tier.values())
    assert list(series.wait_by_tier) == ["none", tier]
    assert series.first_replies == 2  # one per assignment, not per reply
    assert series.feedback_per_day == {"better": [0] * 6 + [1], "same": [0] * 7, "worse": [0] * 7}

    charts = chart_page(series, time.time()).charts
    assert [s.name for s in charts["first-reply"].series] == ["none", tier]  # the legend names the tiers
    assert [s.cells[-1] for s in charts["feedback"].series] == ["1", "0", "0"]
    firsts = [e for e in await audit_since(redis, 0) if e.event in ("first_reply", "assigned")]
    assert {(e.event, e.fields["conversation"], e.fields["tier"]) for e in firsts} == {
        ("assigned", calm, "none"), ("assigned", risky, tier), ("first_reply", calm, "none"),
        ("first_reply", risky, tier),
    }  # fmt: skip


async def test_plans_made_are_counted_per_day_without_a_word_of_them(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.taken(person="555", volunteer="900", thread="77")
    await h.staff("900", "/plan", thread="77")
    await h.person("555", "plan start", kind=InboundKind.ACTION)
    await h.person("555", "when I stop eating")
    for _step in range(6):
        await h.person("555", "plan skip", kind=InboundKind.ACTION)

    series = await read_week(redis, time.time())
    assert series.plans_per_day == [0] * 6 + [1]
    support = chart_page(series, time.time()).charts["support"]
    assert [(s.name, s.cells[-1]) for s in support.series] == [("safety plans made", "1")]
    assert not support.empty and "eating" not in repr(support)


def test_coping_texts_shared_are_counted_by_name_per_day() -> None:
    now = time.time()
    shared = [
        AuditEvent(f"{i}-0", "coping_shared", now - 60 * i, {"conversation": f"c-{i}", "coping": name, "lang": "es"})
        for i, name in enumerate(["grounding", "grounding", "breathing"])
    ]
    support = chart_page(week_series(shared, now), now).charts["support"]
    assert [(s.key, s.cells[-1]) for s in support.series] == [("plans", "0"), ("breathing", "1"), ("grounding", "2")]
