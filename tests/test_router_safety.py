"""Risk escalation, bad input, duplicates, floods, restarts and reclaiming on real Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from routing.model import (
    Audience,
    ConversationState,
    EscalationId,
    InboundKind,
    Origin,
    Platform,
    Priority,
    RiskTier,
    Role,
    UserId,
    VolunteerId,
)
from routing.roster import StaffMember
from routing.store import keys
from routing.store.escalations import EscalationStore
from routing.store.worker import WorkerOptions
from tests.routing_harness import make_harness
from tests.test_router_flow import ANA

RISK_TEXT = "i want to kill myself"


async def test_risk_message_escalates_jumps_the_queue_and_reaches_the_person_first(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", "hello, rough day")
    await h.person("9002", "hi")
    await h.outbound(Platform.TELEGRAM)

    await h.person("9002", RISK_TEXT)
    urgent = await h.outbound(Platform.TELEGRAM, urgent=True)
    resources = [m for m in urgent if m.audience == Audience.SEEKER]
    assert len(resources) == 1 and resources[0].chat == "9002" and "emergency" in resources[0].text
    alert = next(m for m in urgent if m.audience == Audience.ESCALATION)
    assert alert.priority == Priority.URGENT
    assert alert.buttons[0].label == "Acknowledge" and alert.buttons[0].action.startswith("ack e-")
    assert RISK_TEXT not in alert.text  # include_text is off by default
    risky = await h.conversation_of("9002")
    assert (await h.stack.conversations.waiting())[0] == risky
    conv = await h.stack.conversations.get(risky)
    assert conv is not None and conv.tier >= RiskTier.HIGH


async def test_tier_only_goes_up(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", RISK_TEXT)
    await h.person("9001", "ok, I feel a little calmer now")
    conv = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert conv is not None and conv.tier >= RiskTier.HIGH


async def test_volunteer_is_alerted_in_the_thread_when_risk_appears_mid_conversation(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    await h.outbound(Platform.TELEGRAM)
    await h.person("9001", "a quiet evening so far")
    await h.person("9001", RISK_TEXT)
    urgent = await h.outbound(Platform.TELEGRAM, urgent=True)
    assert any(m.audience == Audience.STAFF_THREAD and "ask directly" in m.text for m in urgent)
    # The risk message itself goes ahead of the staff group's ordinary traffic, once, just before the notice
    # that names it; the message before it does not.
    in_thread = [m.text for m in urgent if m.audience == Audience.STAFF_THREAD]
    assert in_thread.count(RISK_TEXT) == 1 and "ask directly" in in_thread[in_thread.index(RISK_TEXT) + 1]
    relays = {m.text: m.priority for m in await h.outbound(Platform.TELEGRAM) + urgent if m.source_platform}
    assert relays == {"a quiet evening so far": Priority.PERSON, RISK_TEXT: Priority.URGENT}


async def test_acknowledge_button_marks_the_escalation(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", RISK_TEXT)
    alert = next(m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.ESCALATION)
    action = alert.buttons[0].action
    await h.staff("700", action, kind=InboundKind.ACTION)
    esc = await EscalationStore(redis).get(EscalationId(action.split()[1]))
    assert esc is not None and esc.state == "acknowledged"
    assert any("acknowledged by" in m.text for m in await h.outbound(Platform.TELEGRAM))


async def test_a_redelivered_update_is_handled_once(redis: Redis) -> None:
    h = make_harness(redis)
    message = h.inbound("9001", "hello", update_id="tg-555")
    await h.send(message)
    await h.send(message)
    assert len(await h.to_person()) == 1
    assert await redis.xlen(keys.INBOUND) == 1


async def test_flooding_is_answered_once_but_risk_still_gets_through(redis: Redis) -> None:
    h = make_harness(redis, flood_limit=5)
    for i in range(12):
        await h.person("9001", f"message {i}")
    texts = await h.to_person()
    assert sum("very quickly" in t for t in texts) == 1
    await h.person("9001", RISK_TEXT)
    urgent = await h.outbound(Platform.TELEGRAM, urgent=True)
    assert any(m.audience == Audience.ESCALATION for m in urgent)


async def test_empty_and_huge_messages_get_a_clear_answer(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "   ")
    assert any("looked empty" in t for t in await h.to_person())
    assert await h.stack.conversations.waiting_count() == 0

    await h.person("9001", "x" * 100_000)
    assert any("only the first 4000 characters" in t for t in await h.to_person())
    await h.staff("501", "/next")
    relayed = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert "x" * 4000 in relayed


async def test_malformed_entries_are_dead_lettered_and_nothing_else_is_lost(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", "hello before the bad entries")
    await redis.xadd(keys.INBOUND, {"d": b"not encrypted at all"})
    await redis.xadd(keys.INBOUND, {"d": h.cipher.encrypt(b'{"platform": "myspace", "text": "x"}')})
    await redis.xadd(keys.INBOUND, {"nothing": "here"})
    await h.person("9002", "hello after the bad entries")

    assert await redis.xlen(keys.DEAD_LETTER) == 3
    lobby = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_LOBBY]
    assert sum("set aside for review" in m.text for m in lobby) == 3
    assert await h.stack.conversations.waiting_count() == 2
    pending = await redis.xpending(keys.INBOUND, "router")
    assert pending["pending"] == 0


async def test_a_restarted_router_continues_the_conversation(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")

    restarted = make_harness(redis, members=[ANA])  # new objects, same Redis: a process restart
    await restarted.person("9001", "are you still there?")
    relayed = [m for m in await restarted.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert relayed[-1].text == "are you still there?" and relayed[-1].conversation == conv
    await restarted.staff("501", "yes, I'm here", thread="77")
    assert (await restarted.to_person())[-1] == "yes, I'm here"


async def test_an_entry_left_by_a_crashed_router_is_reclaimed_and_handled_once(redis: Redis) -> None:
    crashed = make_harness(redis, consumer="router-a")
    await crashed.stack.inbound_worker.ensure_group()
    await crashed.stack.writer.ingest(crashed.inbound("9001", "hello"))
    # router-a reads the entry and dies before handling it: the entry stays pending under router-a.
    await redis.xreadgroup("router", "router-a", {keys.INBOUND: ">"}, count=10)

    survivor = make_harness(redis, consumer="router-b")
    survivor.stack.inbound_worker._options = WorkerOptions(claim_idle_ms=0)
    await survivor.pump()
    assert any("number 1" in t for t in await survivor.to_person())
    assert (await redis.xpending(keys.INBOUND, "router"))["pending"] == 0


async def test_re_handling_an_entry_does_not_send_twice(redis: Redis) -> None:
    h = make_harness(redis)
    message = h.inbound("9001", "hello")
    await h.stack.writer.ingest(message)
    await h.stack.router.handle(message, "1-0")
    await h.stack.router.handle(message, "1-0")  # the same entry again, as after a crash before XACK
    assert len(await h.to_person()) == 1
    assert len(await h.stack.conversations.take_pending(await h.conversation_of("9001"))) == 1
    conv = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert conv is not None and conv.state == ConversationState.WAITING


async def test_unsupported_media_gets_a_clear_reply(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", "location", kind=InboundKind.UNSUPPORTED)
    replies = await h.to_person()
    assert len(replies) == 1
    assert "(location) can't be passed on" in replies[0]
    assert await h.stack.conversations.waiting_count() == 0


async def test_a_person_who_blocked_the_bot_ends_the_conversation_with_a_note(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.outbound(Platform.TELEGRAM)
    await h.person("9001", "", kind=InboundKind.UNDELIVERABLE)
    out = await h.outbound(Platform.TELEGRAM)
    assert [m.audience for m in out] == [Audience.STAFF_THREAD]
    assert "can no longer be reached" in out[0].text
    closed = await h.stack.conversations.get(conv)
    assert closed is not None
    assert closed.state == ConversationState.CLOSED


async def test_edits_are_relayed_marked_as_edits(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "helo")
    await h.staff("501", "/next")
    await h.open_thread(await h.conversation_of("9001"), "77")
    await h.outbound(Platform.TELEGRAM)
    await h.person("9001", "hello", kind=InboundKind.EDIT)
    relayed = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert relayed == ["(edited) hello"]


LEE = StaffMember(
    id=VolunteerId("dr-lee"),
    name="Dr Lee",
    roles=frozenset({Role.VOLUNTEER, Role.PROFESSIONAL}),
    max_concurrent=0,
    identities={Platform.TELEGRAM: UserId("700")},
)


async def test_a_professional_takes_over_from_the_alert_and_becomes_the_one_who_speaks(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, LEE])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.person("9001", RISK_TEXT)
    alert = next(m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.ESCALATION)
    assert [b.label for b in alert.buttons] == ["Acknowledge", "Take over", "False alarm"]

    await h.staff("700", alert.buttons[1].action, kind=InboundKind.ACTION, origin=Origin.ESCALATION)
    out = await h.outbound(Platform.TELEGRAM)
    assert any("acknowledged by Dr Lee" in m.text for m in out)
    assert any("has taken over" in m.text for m in out if m.audience == Audience.STAFF_THREAD)
    assert any("crisis professional has joined" in m.text for m in out if m.audience == Audience.SEEKER)
    taken = await h.stack.conversations.get(conv)
    assert taken is not None
    assert taken.volunteer == "dr-lee"

    await h.staff("501", "I'm still here too", thread="77")  # the volunteer stays with staff: a whisper now
    await h.staff("700", "I'm a crisis counsellor. Are you safe right now?", thread="77")
    assert await h.to_person() == ["I'm a crisis counsellor. Are you safe right now?"]


async def test_a_volunteer_cannot_take_over(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", RISK_TEXT)
    alert = next(m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.ESCALATION)
    await h.staff("501", alert.buttons[1].action, kind=InboundKind.ACTION, origin=Origin.ESCALATION)
    assert any("Only on-call professionals" in m.text for m in await h.outbound(Platform.TELEGRAM))


async def test_only_the_holder_speaks_to_the_person_everyone_else_whispers(redis: Redis) -> None:
    """A supervisor's "ask about sleep" to the volunteer must never reach a person in crisis."""
    h = make_harness(redis, members=[ANA, LEE])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.outbound(Platform.TELEGRAM)
    await h.staff("700", "Ana, ask about sleep and whether they are safe tonight", thread="77")
    await h.staff("700", "and about who is at home with them", thread="77")
    await h.staff("501", "How have you been sleeping?", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    assert [m.text for m in out if m.audience == Audience.SEEKER] == ["How have you been sleeping?"]
    told = [m.text for m in out if m.audience == Audience.STAFF_THREAD]
    assert len([t for t in told if t.startswith("ⓘ Dr Lee: only Ana, who holds this conversation")]) == 1  # once
    whispers = [e for _id, e in await redis.xrange(keys.AUDIT) if e[b"event"] == b"whisper"]
    assert [(e[b"conversation"], e[b"by"]) for e in whispers] == [(conv.encode(), b"dr-lee")] * 2


async def test_alerts_carry_the_message_only_when_include_text_is_on(redis: Redis) -> None:
    from routing.escalation import EscalationPolicy

    h = make_harness(redis, policy=EscalationPolicy(include_text=True))
    await h.person("9001", RISK_TEXT)
    alert = next(m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.ESCALATION)
    assert alert.text.endswith(f"Message: {RISK_TEXT}")
    stored = await redis.hget("pb:esc:e-1", "text")
    assert stored is not None
    assert RISK_TEXT.encode() not in stored  # encrypted at rest like every other text


async def test_nothing_bypasses_assessment_commands_long_texts_and_floods(redis: Redis) -> None:
    h = make_harness(redis, flood_limit=5)
    # Words after a command are assessed: the command waits, the risk does not.
    await h.person("9001", "/stop I am going to kill myself tonight")
    urgent = await h.outbound(Platform.TELEGRAM, urgent=True)
    assert any(m.audience == Audience.ESCALATION for m in urgent)
    assert await h.stack.conversations.waiting_count() == 1  # still here, first in the queue, not stopped

    # A risk phrase past the trimming limit (4,000 characters) still raises an escalation.
    await h.person("9002", "so much to say. " * 300 + RISK_TEXT)
    urgent = await h.outbound(Platform.TELEGRAM, urgent=True)
    assert any(m.audience == Audience.ESCALATION for m in urgent)

    # During a flood only messages without any risk are held back: an elevated one is kept for the volunteer
    # and reviewed.
    for i in range(8):
        await h.person("9003", f"message {i}")
    await h.outbound(Platform.TELEGRAM)
    await h.person("9003", "I feel hopeless")
    conv = await h.conversation_of("9003")
    kept = await redis.hlen(keys.pending(conv))
    out = await h.outbound(Platform.TELEGRAM)
    assert kept == 6  # five within the limit, then the elevated one (the three without risk were held back)
    assert any(m.audience == Audience.ESCALATION and "review" in m.text.lower() for m in out)


async def test_a_wish_to_be_dead_brings_the_crisis_lines_once_calmly_and_a_review(redis: Redis) -> None:
    """Tier policy (docs/risk.md): "I want to die" without a plan or means is elevated (C-SSRS 1-2). The person,
    maybe alone in the queue at 3 a.m., is told once where help answers at any hour; staff get a review, not an
    emergency; a later high-risk message still brings the full escalation."""
    h = make_harness(redis)
    await h.person("9001", "honestly I just want to die")
    out = await h.outbound(Platform.TELEGRAM)  # everything since the message (read once: it moves on)
    said = [m.text for m in out if m.audience == Audience.SEEKER]
    support = [t for t in said if "You don't have to go through this alone" in t]
    assert len(support) == 1 and "emergency number" in support[0]  # the lines for their language (here: any)
    assert any("number 1" in t for t in said)  # and their place in the queue, as for anyone
    assert any(m.audience == Audience.ESCALATION and "review" in m.text.lower() for m in out)
    await h.person("9001", "I want to die, I can't do this anymore")  # elevated again: no second list
    assert not any("You don't have to go through this alone" in t for t in await h.to_person())
    await h.person("9001", "I have the pills here and I'm taking them tonight")
    out = await h.outbound(Platform.TELEGRAM)
    assert any(m.audience == Audience.SEEKER and "emergency number" in m.text for m in out)  # again, at the tier
    assert any(m.audience == Audience.ESCALATION and "imminent" in m.text.lower() for m in out)
