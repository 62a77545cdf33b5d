"""A person who comes back within retention (issue 23): their new volunteer sees a staff-only summary of the
earlier conversations, and they may ask for the volunteer they had, who is preferred while on duty and never
at the cost of someone at high risk."""

from __future__ import annotations

from redis.asyncio import Redis

from routing.model import Audience, ConversationState, InboundKind, OutboundKind, Platform, UserId, VolunteerId
from routing.roster import StaffMember
from routing.store import keys
from routing.store.duty import break_key
from tests.routing_harness import Harness, make_harness

ANA = StaffMember(id=VolunteerId("ana"), name="Ana", max_concurrent=2, identities={Platform.TELEGRAM: UserId("501")})
BEN = StaffMember(id=VolunteerId("ben"), name="Ben", max_concurrent=2, identities={Platform.TELEGRAM: UserId("502")})
SAME = "Ask for the volunteer I talked to last time"


async def talked_with_ana(h: Harness, person: str = "9001", thread: str = "77") -> None:
    """`person` talks with Ana, who leaves a handover note and ends the conversation."""
    await h.taken(person=person, volunteer="501", thread=thread, text="hello")
    await h.staff("501", "/note likes to be asked about her dog", thread=thread)
    await h.staff("501", "/end", thread=thread)
    await h.outbound(Platform.TELEGRAM)


async def press(h: Harness, person: str, action: str) -> None:
    await h.person(person, action, kind=InboundKind.ACTION)


async def test_a_returning_persons_volunteer_reads_a_summary_of_the_earlier_conversations(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    await h.taken(person="9001", volunteer="501", thread="77", text="hello")
    await h.person("9001", "i have pills saved up and i want to take them all tonight")  # high risk
    await h.staff("501", "/note safety plan made; sister lives nearby", thread="77")
    await h.staff("501", "/end confirm she is safe with her sister now", thread="77")  # before anyone acknowledged
    await h.outbound(Platform.TELEGRAM)

    await h.person("9001", "hi, it's me again")
    out = await h.outbound(Platform.TELEGRAM)
    card = next(m.text for m in out if m.kind == OutboundKind.UPSERT_CARD)
    assert "returning: 1 conversation before" in card
    assert not any("returning" in m.text or "sister" in m.text for m in out if m.audience == Audience.SEEKER)

    await h.staff("502", "/next")
    thread = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    header = next(text for text in thread if "Returning:" in text)
    assert "Returning: 1 conversation in the last 30 days" in header
    assert "highest risk: imminent · with ana" in header
    assert "Handover note: safety plan made; sister lives nearby" in header
    assert "hi, it's me again" in thread  # what they wrote while waiting still follows the header


async def test_a_first_time_persons_volunteer_reads_no_summary(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "hello")
    out = await h.outbound(Platform.TELEGRAM)
    assert not any("returning" in m.text for m in out)
    assert not any(b.label == SAME for m in out for b in m.buttons)
    await h.staff("501", "/next")
    assert not any("Returning" in m.text for m in await h.outbound(Platform.TELEGRAM))


async def test_asking_for_the_same_volunteer_sends_them_that_person_first(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    await talked_with_ana(h)
    await h.staff("501", "/on")
    await h.staff("502", "/on")
    await h.person("9001", "me again")
    arrival = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER]
    assert any(b.label == SAME and b.action == "same" for m in arrival for b in m.buttons)

    await press(h, "9001", "same")
    out = await h.outbound(Platform.TELEGRAM)
    assert any("We've asked for the volunteer you talked to last time" in m.text for m in out)
    assert any("asked for ana again" in m.text for m in out if m.kind == OutboundKind.UPSERT_CARD)

    await h.person("9002", "hello, first time here")  # arrives after, asked for nobody
    await h.staff("502", "/next")  # Ben is given the newcomer: the returning person waits for Ana
    returning, newcomer = await h.conversation_of("9001"), await h.conversation_of("9002")
    assert (await h.stack.conversations.get(newcomer)).volunteer == "ben"  # type: ignore[union-attr]
    await h.staff("501", "/next")
    taken = await h.stack.conversations.get(returning)
    assert taken is not None and taken.state == ConversationState.ACTIVE and taken.volunteer == "ana"
    thread = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert any("Handover note: likes to be asked about her dog" in t for t in thread)


async def test_high_risk_is_served_before_anyone_who_asked_for_a_volunteer(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await talked_with_ana(h)
    await h.staff("501", "/on")
    await h.person("9001", "me again")
    await press(h, "9001", "same")
    await h.person("9003", "i have the rope ready and i am going to hang myself tonight")
    await h.staff("501", "/next")
    urgent = await h.stack.conversations.get(await h.conversation_of("9003"))
    assert urgent is not None and urgent.volunteer == "ana"
    waiting = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert waiting is not None and waiting.state == ConversationState.WAITING


async def test_a_volunteer_off_duty_is_not_waited_for(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    await talked_with_ana(h)
    await h.staff("501", "/off")
    await h.person("9001", "me again")
    await press(h, "9001", "same")
    out = await h.outbound(Platform.TELEGRAM)
    assert any("isn't on duty right now" in m.text for m in out if m.audience == Audience.SEEKER)
    conv = await h.conversation_of("9001")
    assert await redis.hget(keys.conversation(conv), "wish:volunteer") is None
    await h.staff("502", "/next")  # anyone takes them at once
    assert (await h.stack.conversations.get(conv)).volunteer == "ben"  # type: ignore[union-attr]


async def test_with_automatic_assignment_the_asked_for_volunteer_takes_them_at_once(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN], auto_assign=True)
    await talked_with_ana(h)
    await h.staff("501", "/on")
    await h.person("9002", "first")  # keeps Ana busy: automatic assignment gives her this one
    await h.person("9004", "second")  # and this one: she is full (capacity 2)
    await h.person("9001", "me again")  # waits: nobody has room
    await h.outbound(Platform.TELEGRAM)
    await press(h, "9001", "same")
    conv = await h.conversation_of("9001")
    assert (await h.stack.conversations.get(conv)).state == ConversationState.WAITING  # type: ignore[union-attr]

    second = await h.conversation_of("9004")
    await h.open_thread(second, "88")
    await h.staff("501", "/end", thread="88")  # Ana has room again: the one who asked for her is next
    taken = await h.stack.conversations.get(conv)
    assert taken is not None and taken.volunteer == "ana"


async def test_pressing_ask_when_the_volunteer_has_room_hands_over_at_once(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN], auto_assign=True)
    await talked_with_ana(h)
    await h.staff("501", "/on")
    await h.staff("501", "/break 30")
    await h.person("9001", "me again")  # nobody available: they wait
    conv = await h.conversation_of("9001")
    assert (await h.stack.conversations.get(conv)).state == ConversationState.WAITING  # type: ignore[union-attr]
    await redis.delete(break_key(VolunteerId("ana")))  # her break runs out (nothing is assigned by that alone)
    await h.outbound(Platform.TELEGRAM)

    await press(h, "9001", "same")
    taken = await h.stack.conversations.get(conv)
    assert taken is not None and taken.state == ConversationState.ACTIVE and taken.volunteer == "ana"
    out = await h.outbound(Platform.TELEGRAM)
    assert any("A volunteer has joined" in m.text for m in out if m.audience == Audience.SEEKER)
    assert any("They asked for ana, who helped them before." in m.text for m in out)


async def test_forget_leaves_nothing_for_a_summary(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    await talked_with_ana(h)
    await h.person("9001", "/forget yes")
    await h.person("9001", "hello")
    out = await h.outbound(Platform.TELEGRAM)
    assert not any("returning" in m.text for m in out)
    await h.staff("502", "/next")
    assert not any("Returning" in m.text or "dog" in m.text for m in await h.outbound(Platform.TELEGRAM))


async def test_asking_costs_at_most_the_matching_wait(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN], match_wait=0.0)  # the bound a topic wish has too
    await talked_with_ana(h)
    await h.staff("501", "/on")
    await h.person("9001", "me again")
    await press(h, "9001", "same")
    await h.staff("502", "/next")  # they have waited the (zero) bound: Ben takes them rather than nobody
    taken = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert taken is not None and taken.volunteer == "ben"
    thread = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert any("They asked for ana, who helped them before." in t for t in thread)


async def test_privacy_tells_a_person_what_a_returning_summary_and_a_plan_keep(redis: Redis) -> None:
    h = make_harness(redis, retention_days=14)
    await h.person("9001", "/privacy")
    said = (await h.to_person())[-1]
    assert "If you write again within 14 days, your new volunteer sees a short staff-only summary" in said
    assert "kept encrypted for 14 days after you last change it" in said
    await h.person("9002", "/privacy", language="es")
    assert "Si vuelves a escribir dentro de 14 días" in (await h.to_person())[-1]
