"""Block and unblock: staff can pause an abusive person, and a block never gates safety. Real Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from routing.model import Audience, ConversationState, Platform, Role, UserId, VolunteerId
from routing.roster import StaffMember
from routing.store import keys
from tests.routing_harness import make_harness

ANA = StaffMember(id=VolunteerId("ana"), name="Ana", identities={Platform.TELEGRAM: UserId("501")})
CLEO = StaffMember(
    id=VolunteerId("cleo"), name="Cleo", roles=frozenset({Role.VOLUNTEER, Role.COORDINATOR}),
    identities={Platform.TELEGRAM: UserId("510")},
)  # fmt: skip
RISK_TEXT = "I have the pills in front of me and I'm going to take them all tonight"


async def test_a_blocked_person_is_told_kindly_and_not_queued(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, CLEO])
    conv = await h.taken()
    await h.staff("501", "/block 24h repeated abusive messages to volunteers", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    told = [m.text for m in out if m.audience == Audience.SEEKER]
    assert len(told) == 1 and told[0].startswith("We have paused conversations with you")
    assert "emergency" in told[0].lower()
    assert any("Ana blocked" in m.text for m in out if m.audience == Audience.STAFF_THREAD)
    closed = await h.stack.conversations.get(conv)  # type: ignore[arg-type]
    assert closed is not None and closed.state == ConversationState.CLOSED

    await h.person("9001", "you can't ignore me")
    await h.person("9001", "answer me")
    out = await h.outbound(Platform.TELEGRAM)
    reminders = [m.text for m in out if m.audience == Audience.SEEKER]
    assert len(reminders) == 1 and "paused until" in reminders[0]  # reminded once, not at every message
    assert not [m for m in out if m.audience in (Audience.STAFF_QUEUE, Audience.STAFF_THREAD)]
    assert await redis.zcard(keys.QUEUE) == 0


async def test_a_blocked_persons_high_risk_message_still_gets_help_and_pages_the_professional(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, CLEO])
    await h.taken()
    await h.staff("501", "/block 7d threats to a volunteer", thread="77")
    await h.outbound(Platform.TELEGRAM)
    await h.person("9001", RISK_TEXT)
    out = await h.outbound(Platform.TELEGRAM)
    assert any("emergency" in m.text.lower() for m in out if m.audience == Audience.SEEKER)
    assert any(m.audience == Audience.ESCALATION for m in out)  # safety is never gated by a block


async def test_block_needs_a_duration_and_a_reason_and_coordinators_list_and_lift_blocks(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, CLEO])
    conv = await h.taken()
    await h.staff("501", "/block forever", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    assert any("/block <duration> <reason>" in m.text for m in out)
    assert not [m for m in out if m.audience == Audience.SEEKER]

    await h.staff("501", "/block 2d spam", thread="77")
    await h.outbound(Platform.TELEGRAM)
    await h.staff("501", "/blocks")  # a volunteer: not theirs to list
    assert any("Only" in m.text for m in await h.outbound(Platform.TELEGRAM))
    await h.staff("510", "/blocks")
    listed = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_LOBBY]
    assert listed and conv in listed[0]
    await h.staff("510", f"/unblock {conv}")
    assert any("no longer blocked" in m.text for m in await h.outbound(Platform.TELEGRAM))
    await h.person("9001", "hello again")
    out = await h.outbound(Platform.TELEGRAM)
    assert any("in the queue" in m.text for m in out if m.audience == Audience.SEEKER)
