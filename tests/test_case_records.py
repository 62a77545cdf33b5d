"""Case records on real Redis through the real router: what was relayed, in order, who sent it, whispers
marked, notes, tier changes and the escalation timeline; encrypted at rest, expiring with the retention,
erased by /forget."""

from __future__ import annotations

from redis.asyncio import Redis

from routing.model import ConversationId, Platform, Role, UserId, VolunteerId
from routing.roster import StaffMember
from routing.store import keys
from routing.store.case_records import CaseEntry, CaseEvent, CaseRecords
from tests.routing_harness import Harness, make_harness
from tests.test_router_flow import ANA, BEN

PRO = StaffMember(
    id=VolunteerId("pat"), name="Pat", roles=frozenset({Role.PROFESSIONAL}),
    identities={Platform.TELEGRAM: UserId("509")},
)  # fmt: skip
RISK = "I want to kill myself tonight"


def _records(h: Harness) -> CaseRecords:
    return CaseRecords(h.redis, h.cipher)


def _said(entries: list[CaseEntry]) -> list[tuple[str, str, str]]:
    return [(e.event.value, e.by, e.text) for e in entries]


async def _a_conversation(h: Harness) -> ConversationId:
    """A person writes, Ana takes them, replies, Ben whispers in the thread, Ana leaves a note."""
    conv = await h.taken(person="9001", volunteer="501", thread="77", text="my exams are tomorrow and I panic")
    await h.staff("501", "That sounds hard. What helps?", thread="77")
    await h.staff("502", "ask about sleep", thread="77")  # not the holder: a whisper, kept with staff
    await h.person("9001", "talking helps a bit")
    await h.staff("501", "/note exam stress, calmer by the end", thread="77")
    return conv


async def test_the_record_holds_what_was_relayed_in_order_with_who_sent_it(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    conv = await _a_conversation(h)
    await h.staff("501", "/end", thread="77")

    entries = await _records(h).entries(conv)
    assert _said(entries) == [
        ("person", "", "my exams are tomorrow and I panic"),
        ("assigned", "ana", ""),
        ("reply", "ana", "That sounds hard. What helps?"),
        ("whisper", "ben", "ask about sleep"),
        ("person", "", "talking helps a bit"),
        ("note", "ana", "exam stress, calmer by the end"),
        ("closed", "ana", ""),
    ]
    times = [e.at for e in entries]
    assert times == sorted(times) and times[0] > 0
    summary = await _records(h).summary(conv)
    assert summary is not None and summary.staff == ("ana",) and summary.closed is not None
    assert [s.conversation for s in await _records(h).summaries()] == [conv]


async def test_the_words_are_encrypted_in_redis(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    conv = await _a_conversation(h)

    raw = await redis.xrange(keys.case_record(conv))
    stored = b" ".join(k + b"=" + v for _id, fields in raw for k, v in fields.items())
    for words in (b"exams", b"What helps", b"sleep", b"talking", b"calmer"):
        assert words not in stored
    assert b"ana" in stored  # our staff ids are not secret; the raw chat ids never appear
    assert b"9001" not in stored and b"501" not in stored


async def test_the_record_expires_with_the_retention(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN], retention_days=2)
    conv = await _a_conversation(h)
    await h.staff("501", "/end", thread="77")

    for key in (keys.case_record(conv), keys.case_staff(conv)):
        assert 1.9 * 86400 < await redis.ttl(key) <= 2 * 86400
    await redis.delete(keys.case_record(conv))  # what the expiry does once the retention has passed
    assert await _records(h).summaries() == []
    assert not await redis.zscore(keys.CASES, conv)  # and the index forgets it


async def test_tier_changes_and_the_escalation_timeline(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, PRO])
    conv = await h.taken(person="9001", volunteer="501", thread="77")
    await h.person("9001", RISK)
    await h.staff("509", "/ack e-1")
    await h.staff("509", "/falsealarm e-1")

    events = [(e.event, e.by, dict(e.detail)) for e in await _records(h).entries(conv)]
    assert (CaseEvent.TIER, "detector", {"tier": "imminent", "before": "none"}) in events
    timeline = [(event, by, detail.get("escalation")) for event, by, detail in events if "escalation" in detail]
    assert timeline == [
        (CaseEvent.ESCALATION_RAISED, "detector", "e-1"),
        (CaseEvent.ESCALATION_ACKNOWLEDGED, "pat", "e-1"),
        (CaseEvent.FALSE_ALARM, "pat", "e-1"),
    ]
    person = [e.text for e in await _records(h).entries(conv) if e.event == CaseEvent.PERSON]
    assert person == ["hello", RISK]


async def test_forget_erases_the_record(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    conv = await _a_conversation(h)
    await h.person("9002", "someone else")
    other = await h.conversation_of("9002")

    await h.person("9001", "/forget yes")

    assert not await redis.exists(keys.case_record(conv))
    assert not await redis.exists(keys.case_staff(conv))
    assert [s.conversation for s in await _records(h).summaries()] == [other]  # nobody else's is touched
    assert await redis.exists(keys.case_record(other))
