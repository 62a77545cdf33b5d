"""A safety plan built with the person (issue 25): offered by their volunteer, answered step by step with
buttons and free text, given back as a message and a file, again with /myplan, erased by /forget; a high-risk
answer pauses it and goes up the chain; staff see how far it got, never its words."""

from __future__ import annotations

from redis.asyncio import Redis

from routing import texts
from routing.inline_files import inline_bytes
from routing.model import Audience, InboundKind, Platform, Role, UserId, VolunteerId
from routing.roster import StaffMember
from routing.safety_plan import SECTIONS
from routing.store import keys
from routing.store.case_records import CaseEvent, CaseRecords
from tests.routing_harness import Harness, make_harness

ANA = StaffMember(id=VolunteerId("ana"), name="Ana", max_concurrent=2, identities={Platform.TELEGRAM: UserId("501")})
SUE = StaffMember(
    id=VolunteerId("sue"), name="Sue", roles=frozenset({Role.VOLUNTEER, Role.SUPERVISOR}),
    identities={Platform.TELEGRAM: UserId("503")},
)  # fmt: skip
ANSWERS = [
    "when I stop replying to my sister",
    "cold shower, the dog walk by the canal",
    None,  # skipped
    "my sister Jo 07700 900123",
    "my GP, Dr Amari",
    "give the tablets to Jo to keep",
    "my niece's wedding in June",
]


async def press(h: Harness, person: str, action: str) -> None:
    await h.person(person, action, kind=InboundKind.ACTION)


async def build_plan(h: Harness, person: str = "9001", thread: str = "77") -> list[str]:
    """Ana offers the plan, the person starts it and answers every question (skipping one); returns what the
    staff side was sent meanwhile."""
    await h.staff("501", "/plan", thread=thread)
    await press(h, person, "plan start")
    staff_side: list[str] = []
    for answer in ANSWERS:
        if answer is None:
            await press(h, person, "plan skip")
        else:
            await h.person(person, answer)
        staff_side += [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience != Audience.SEEKER]
    return staff_side


async def test_a_plan_is_built_step_by_step_and_given_back_as_a_message_and_a_file(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    conv = await h.taken(person="9001", volunteer="501", thread="77")
    await h.staff("501", "/plan", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    offer = next(m for m in out if m.audience == Audience.SEEKER)
    assert offer.text == texts.PLAN_OFFER
    assert [b.action for b in offer.buttons] == ["plan start", "plan later"]
    assert any("Safety plan offered" in m.text for m in out if m.audience == Audience.STAFF_THREAD)

    await press(h, "9001", "plan start")
    first = next(m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER)
    assert first.text.startswith("Step 1 of 7: Warning signs")
    assert [b.action for b in first.buttons] == ["plan skip", "plan stop"]

    staff_side: list[str] = []
    person_side: list = []
    for answer in ANSWERS:
        if answer is None:
            await press(h, "9001", "plan skip")
        else:
            await h.person("9001", answer)
        out = await h.outbound(Platform.TELEGRAM)
        staff_side += [m.text for m in out if m.audience != Audience.SEEKER]
        person_side += [m for m in out if m.audience == Audience.SEEKER]

    # Staff saw how far it got, never a word of it.
    assert not any(a in text for a in ANSWERS if a for text in staff_side)
    assert "ⓘ Safety plan: step 1 of 7 done." in staff_side
    assert "ⓘ Safety plan: step 3 of 7 skipped." in staff_side
    assert "ⓘ Safety plan finished (6 of 7 sections filled in) and sent to them." in staff_side
    # The professionals' step showed their crisis lines; the plan came back whole, and as a file.
    assert any(m.text.startswith("Step 5 of 7") and "112" in m.text for m in person_side)
    plan = next(m.text for m in person_side if m.text.startswith("MY SAFETY PLAN"))
    for answer in filter(None, ANSWERS):
        assert answer in plan
    assert "People and places that take my mind off things\n(not filled in yet)" in plan
    document = next(a for m in person_side for a in m.attachments)
    assert document.filename == "my-safety-plan.txt"
    assert inline_bytes(document) == plan.encode()
    # At rest: encrypted, by the person's pseudonymous key, expiring with retention.
    stored = await redis.hgetall(keys.person_plan(h.pseudonyms.key(Platform.TELEGRAM, UserId("9001"))))
    assert stored and not any(b"sister" in value for value in stored.values())
    assert not (await h.stack.conversations.get(conv)).planning  # type: ignore[union-attr]
    record = await CaseRecords(redis, h.cipher).entries(conv)  # the safeguarding record: that answers came, no words
    assert not any(a in entry.text for a in ANSWERS if a for entry in record)
    assert sum(1 for entry in record if entry.event == CaseEvent.PERSON and not entry.text) == 6
    audit = [fields for _id, fields in await redis.xrange(keys.AUDIT)]
    assert any(f[b"event"] == b"safety_plan_completed" and f[b"sections"] == b"6" for f in audit)


async def test_myplan_gives_it_back_in_a_later_conversation_and_forget_removes_it(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.taken(person="9001", volunteer="501", thread="77")
    await build_plan(h)
    await h.staff("501", "/end", thread="77")
    await h.outbound(Platform.TELEGRAM)
    key = keys.person_plan(h.pseudonyms.key(Platform.TELEGRAM, UserId("9001")))
    assert await redis.ttl(key) > 29 * 24 * 3600  # kept for the retention period (30 days) after its last change

    await h.person("9001", "/myplan")  # a week later: no conversation open
    back = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER]
    assert any("my niece's wedding in June" in m.text for m in back)
    assert any(a.filename == "my-safety-plan.txt" for m in back for a in m.attachments)

    await h.person("9001", "/forget yes")
    await h.outbound(Platform.TELEGRAM)
    assert not await redis.exists(key)
    await h.person("9001", "/myplan")
    assert texts.PLAN_NONE in await h.to_person()


async def test_a_high_risk_answer_pauses_the_plan_and_escalates(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    conv = await h.taken(person="9001", volunteer="501", thread="77")
    await h.staff("501", "/plan", thread="77")
    await press(h, "9001", "plan start")
    await h.person("9001", "not sleeping, pulling away")  # step 1, an ordinary answer
    await h.outbound(Platform.TELEGRAM)

    await h.person("9001", "i have the pills here and i am going to take them all tonight")
    out = await h.outbound(Platform.TELEGRAM)
    thread = [m.text for m in out if m.audience == Audience.STAFF_THREAD]
    assert "i have the pills here and i am going to take them all tonight" in thread  # relayed, not kept
    assert any("Safety plan paused" in t for t in thread)
    assert any(m.audience == Audience.ESCALATION for m in out)  # the on-call alert
    assert texts.PLAN_PAUSED in [m.text for m in out if m.audience == Audience.SEEKER]
    assert not (await h.stack.conversations.get(conv)).planning  # type: ignore[union-attr]

    await h.person("9001", "sorry")  # after the pause, their words go to Ana again
    assert "sorry" in [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]


async def test_only_the_holder_offers_a_plan_and_only_with_a_volunteer(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, SUE])
    await h.taken(person="9001", volunteer="501", thread="77")
    await h.staff("503", "/plan", thread="77")  # the supervisor watching
    out = await h.outbound(Platform.TELEGRAM)
    assert not [m for m in out if m.audience == Audience.SEEKER]
    assert any("Only the volunteer holding this conversation" in m.text for m in out)

    await h.person("9002", "hello")  # waiting, nobody with them yet
    await h.person("9002", "/plan")
    assert texts.PLAN_NEEDS_VOLUNTEER in await h.to_person()


async def test_stop_keeps_the_answers_and_plan_goes_on_where_it_stopped(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.taken(person="9001", volunteer="501", thread="77")
    await h.staff("501", "/plan", thread="77")
    await press(h, "9001", "plan start")
    await h.person("9001", "not sleeping")
    await press(h, "9001", "plan stop")
    out = await h.outbound(Platform.TELEGRAM)
    assert texts.PLAN_STOPPED in [m.text for m in out if m.audience == Audience.SEEKER]
    await h.person("9001", "thanks, that's enough for tonight")
    relayed = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert "thanks, that's enough for tonight" in relayed  # no question open: an ordinary message

    await h.person("9001", "/plan")
    asked = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER]
    assert asked[0].startswith("Step 2 of 7")
    assert len(SECTIONS) == 7


async def test_a_returning_persons_volunteer_learns_that_a_plan_exists(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.taken(person="9001", volunteer="501", thread="77")
    await build_plan(h)
    await h.staff("501", "/end", thread="77")
    await h.person("9001", "hi again")
    await h.staff("501", "/next")
    thread = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    header = next(t for t in thread if "Has a safety plan" in t)
    assert "Has a safety plan (6 of 7 sections), last updated" in header
    assert "niece" not in header
