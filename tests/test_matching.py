"""Peer matching at intake, its time bound, risk never delayed for a match, and anonymous feedback."""

from __future__ import annotations

import asyncio
from datetime import date

from redis.asyncio import Redis

from routing.model import Audience, ConversationId, InboundKind, Platform, UserId, VolunteerId
from routing.roster import StaffMember
from routing.store import keys
from routing.store.feedback import FeedbackCounts
from tests.routing_harness import Harness, make_harness

GRIEF = StaffMember(id=VolunteerId("ana"), name="Ana", tags=("grief",), identities={Platform.TELEGRAM: UserId("501")})
VETERAN = StaffMember(
    id=VolunteerId("ben"), name="Ben", tags=("veterans",), identities={Platform.TELEGRAM: UserId("502")}
)


async def _choose(h: Harness, person: str, topic: str) -> None:
    await h.person(person, f"topic {topic}", kind=InboundKind.ACTION)


async def _volunteer_of(h: Harness, person: str) -> str | None:
    conv = await h.stack.conversations.get(await h.conversation_of(person))
    assert conv is not None
    return conv.volunteer


async def test_intake_offers_topics_that_can_be_skipped(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", "hello")
    queued = next(m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER)
    assert "number 1" in queued.text
    assert "what you'd like to talk about" in queued.text
    assert [b.action for b in queued.buttons][-1] == "topic -"
    assert "topic grief" in [b.action for b in queued.buttons]
    await _choose(h, "9001", "grief")
    assert "knows about grief" in (await h.to_person())[-1]
    await h.person("9002", "hi")
    await _choose(h, "9002", "-")
    assert "That's fine" in (await h.to_person())[-1]


async def test_next_prefers_a_person_the_volunteer_fits(redis: Redis) -> None:
    h = make_harness(redis, members=[GRIEF, VETERAN])
    await h.person("9001", "I served and can't sleep")
    await _choose(h, "9001", "veterans")
    await h.person("9002", "hello")  # arrived later, no wish
    await h.staff("501", "/next")  # Ana (grief) is given the person without a wish…
    assert await _volunteer_of(h, "9002") == "ana"
    assert await _volunteer_of(h, "9001") is None
    await h.staff("502", "/next")  # …and the veteran waits for Ben
    assert await _volunteer_of(h, "9001") == "ben"


async def test_a_wish_never_makes_anyone_wait_longer_than_the_bound(redis: Redis) -> None:
    h = make_harness(redis, members=[GRIEF], match_wait=0.3)
    await h.person("9001", "hello")
    await _choose(h, "9001", "veterans")
    await h.person("9002", "hello")
    await asyncio.sleep(0.4)  # the veteran has now waited longer than the matching bound
    await h.staff("501", "/next")
    assert await _volunteer_of(h, "9001") == "ana"


async def test_risk_is_never_delayed_for_a_match(redis: Redis) -> None:
    h = make_harness(redis, members=[GRIEF])
    await h.person("9002", "hello")
    await h.person("9001", "I served and I want to kill myself")
    await _choose(h, "9001", "veterans")
    await h.staff("501", "/next")
    assert await _volunteer_of(h, "9001") == "ana"


async def test_feedback_is_asked_at_the_end_and_kept_only_as_daily_counts(redis: Redis) -> None:
    h = make_harness(redis, members=[GRIEF])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    await h.open_thread(await h.conversation_of("9001"), "77")
    await h.outbound(Platform.TELEGRAM)
    await h.staff("501", "/end", thread="77")
    question = next(m for m in await h.outbound(Platform.TELEGRAM) if m.buttons and m.audience == Audience.SEEKER)
    assert [b.label for b in question.buttons] == ["Better", "About the same", "Worse"]
    better, worse = (next(b.action for b in question.buttons if b.label == label) for label in ("Better", "Worse"))
    await h.person("9001", better, kind=InboundKind.ACTION)
    assert "Thank you for telling us" in (await h.to_person())[-1]
    await h.person("9001", better, kind=InboundKind.ACTION)  # pressed again, then changed their mind:
    await h.person("9001", worse, kind=InboundKind.ACTION)
    said = await h.to_person()
    assert len(said) == 2 and all("Thank you for telling us" in s for s in said)  # thanked, no care offer (low risk)
    today = date.today().isoformat()  # a calendar day in this machine's time, as the charts count days
    assert await FeedbackCounts(redis).day(today) == {"better": 1}  # one answer per conversation, the first
    keys = [k.decode() async for k in redis.scan_iter(match="pb:feedback:*")]
    assert keys == [f"pb:feedback:{today}"]  # the counts name no person or conversation

    await h.person("9002", "hi")  # someone else pressing a button that names this conversation is not counted
    await h.person("9002", better.replace("better", "same"), kind=InboundKind.ACTION)
    assert await FeedbackCounts(redis).day(today) == {"better": 1}


async def test_a_person_can_pick_a_language_and_gets_a_volunteer_who_speaks_it(redis: Redis) -> None:
    spanish = StaffMember(
        id=VolunteerId("eva"), name="Eva", languages=("es",), identities={Platform.TELEGRAM: UserId("503")}
    )
    english = StaffMember(
        id=VolunteerId("tom"), name="Tom", languages=("en",), identities={Platform.TELEGRAM: UserId("504")}
    )
    h = make_harness(redis, members=[spanish, english])
    await h.person("9001", "hola")
    queued = next(m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER)
    assert "lang es" in [b.action for b in queued.buttons]
    await h.person("9001", "lang es", kind=InboundKind.ACTION)
    await h.person("9002", "hello")
    await h.staff("504", "/next")  # Tom does not speak Spanish: he gets the next person
    assert await _volunteer_of(h, "9002") == "tom"
    await h.staff("503", "/next")
    assert await _volunteer_of(h, "9001") == "eva"


async def test_matching_passes_over_queue_entries_of_people_no_longer_waiting(redis: Redis) -> None:
    """A queue entry whose conversation ended or expired (a stale entry) is never offered as a match."""
    h = make_harness(redis, members=[GRIEF])
    await h.person("9001", "hello")
    await _choose(h, "9001", "grief")
    await redis.zadd(keys.QUEUE, {"gone-1": 0, "gone-2": 0})  # ahead of everyone, no conversation behind them
    await redis.hset(keys.conversation(ConversationId("gone-2")), mapping={"state": "closed", "tier": 3})
    await h.staff("501", "/next")
    assert await _volunteer_of(h, "9001") == "ana"
    assert [c.conversation for c in await h.stack.conversations.candidates()] == []


async def test_a_fitting_person_far_down_the_queue_is_still_found(redis: Redis) -> None:
    """Matching first looks at the head of the queue; when nobody there fits, it reads further down."""
    h = make_harness(redis, members=[GRIEF, VETERAN])
    for person in range(10):
        await h.person(str(9100 + person), "hello")
        await _choose(h, str(9100 + person), "veterans")
    await h.person("9200", "hello")
    await _choose(h, "9200", "grief")
    await h.staff("501", "/next")  # Ana (grief): the eleventh in the queue is hers
    assert await _volunteer_of(h, "9200") == "ana"
    assert [await _volunteer_of(h, str(9100 + p)) for p in range(10)] == [None] * 10
