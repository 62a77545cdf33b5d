"""Silence and capacity: nobody waits in silence, freed capacity goes to the next person, and every ending of a
conversation that reached high risk gives its volunteer the cool-down. Real Redis; the watch runs with a later
clock, as it would after those minutes."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from routing.model import Audience, ConversationState, Platform, Role, UserId, VolunteerId
from routing.roster import StaffMember
from routing.silence_watch import SilencePolicy, SilenceWatch
from routing.store.duty import DutyRoster
from routing.store.rota_store import RotaStore
from tests.routing_harness import Harness, make_harness

ANA = StaffMember(id=VolunteerId("ana"), name="Ana", identities={Platform.TELEGRAM: UserId("501")})
BEN = StaffMember(id=VolunteerId("ben"), name="Ben", identities={Platform.TELEGRAM: UserId("502")})
LEE = StaffMember(
    id=VolunteerId("dr-lee"), name="Dr Lee", roles=frozenset({Role.VOLUNTEER, Role.PROFESSIONAL}),
    identities={Platform.TELEGRAM: UserId("700")},
)  # fmt: skip
RISK_TEXT = "I have the pills in front of me and I'm going to take them all tonight"


def _watch(h: Harness) -> SilenceWatch:
    policy = SilencePolicy(volunteer_silence=600, person_silence=7200)
    return SilenceWatch(h.stack.conversations, h.stack.staff, h.stack.writer, policy)


async def test_a_silent_volunteer_is_nudged_then_the_person_goes_back_to_the_front_of_the_queue(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    conv = await h.taken(thread="t9001", text="hello, is anyone there")
    await h.person("9001", "are you still there?")
    await h.outbound(Platform.TELEGRAM)
    watch = _watch(h)
    await watch.check(now=time.time() + 5 * 60)
    assert await h.outbound(Platform.TELEGRAM) == []  # five minutes: nothing yet
    await watch.check(now=time.time() + 11 * 60)
    await watch.check(now=time.time() + 12 * 60)  # checked again: still one nudge
    nudges = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert len(nudges) == 1 and "waiting 11 minutes for your reply" in nudges[0]

    await watch.check(now=time.time() + 21 * 60)
    out = await h.outbound(Platform.TELEGRAM)
    assert any("back in the queue" in m.text for m in out if m.audience == Audience.SEEKER)
    assert any(m.audience == Audience.STAFF_QUEUE for m in out)  # a Take card for someone else
    waiting = await h.stack.conversations.get(conv)  # type: ignore[arg-type]
    assert waiting is not None and waiting.state == ConversationState.WAITING
    notes = await h.stack.conversations.notes(conv)  # type: ignore[arg-type]
    assert any("no reply from their volunteer" in n for n in notes)


async def test_a_volunteer_who_answers_is_never_nudged(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.taken(thread="t9001", text="hello, is anyone there")
    await h.person("9001", "are you still there?")
    await h.staff("501", "yes, I'm here", thread="t9001")
    await h.outbound(Platform.TELEGRAM)
    await _watch(h).check(now=time.time() + 30 * 60)
    assert await h.outbound(Platform.TELEGRAM) == []


async def test_a_person_silent_for_hours_is_closed_kindly_but_never_after_high_risk(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    calm = await h.taken("9001", "501", "t9001", "hello, is anyone there")
    await h.staff("501", "take your time", thread="t9001")
    risky = await h.taken("9002", "502", "t9002", "hello, is anyone there")
    await h.person("9002", RISK_TEXT)
    await h.staff("502", "I'm here with you", thread="t9002")
    await h.outbound(Platform.TELEGRAM)
    await _watch(h).check(now=time.time() + 3 * 3600)
    out = await h.outbound(Platform.TELEGRAM)
    closed = [m for m in out if m.audience == Audience.SEEKER]
    assert [m.chat for m in closed] == ["9001"] and "write again at any time" in closed[0].text
    first = await h.stack.conversations.get(calm)  # type: ignore[arg-type]
    second = await h.stack.conversations.get(risky)  # type: ignore[arg-type]
    assert first is not None and first.state == ConversationState.CLOSED
    assert second is not None and second.state == ConversationState.ACTIVE  # silence after high risk: stays


async def test_capacity_that_frees_goes_to_the_next_person_with_automatic_assignment(redis: Redis) -> None:
    solo = StaffMember(id=VolunteerId("ana"), name="Ana", max_concurrent=1, identities=ANA.identities)
    h = make_harness(redis, members=[solo], auto_assign=True)
    await h.staff("501", "/on")
    await h.person("9001", "first")
    await h.person("9002", "second")  # Ana is full: waits
    second = await h.conversation_of("9002")
    waiting = await h.stack.conversations.get(second)
    assert waiting is not None and waiting.state == ConversationState.WAITING
    first = await h.conversation_of("9001")
    await h.open_thread(first, "t1")
    await h.staff("501", "/end", thread="t1")
    taken = await h.stack.conversations.get(second)
    assert taken is not None and taken.state == ConversationState.ACTIVE and taken.volunteer == "ana"


async def test_every_ending_of_a_high_risk_conversation_starts_the_cool_down(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, LEE])
    conv = await h.taken(thread="t9001", text="hello, is anyone there")
    await h.person("9001", RISK_TEXT)
    await h.person("9001", "/stop")  # the person leaves, not the volunteer
    duty = DutyRoster(redis, RotaStore(redis))
    assert await duty.cooling_down_for(VolunteerId("ana")) > 0
    out = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_LOBBY]
    assert any(t.startswith("Debrief please: Ana") and conv in t for t in out)
