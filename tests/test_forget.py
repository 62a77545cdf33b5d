"""`/forget`: a person's data is erased on request, after confirmation; nobody else's is touched."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from routing.codec import decode_inbound, decode_outbound
from routing.model import (
    Audience,
    EscalationId,
    InboundKind,
    Origin,
    OutboundKind,
    Platform,
    Role,
    UserId,
    VolunteerId,
)
from routing.roster import StaffMember
from routing.store import keys
from routing.store.escalations import EscalationStore
from tests.routing_harness import Harness, make_harness
from tests.test_router_flow import ANA


async def _stream_payloads(h: Harness, stream: str) -> list[bytes]:
    return [h.cipher.decrypt(fields[b"d"]) for _id, fields in await h.redis.xrange(stream) if b"d" in fields]


async def test_forget_asks_first_then_erases_everything_about_the_person_only(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "my sister's name is Maria and I can't cope")
    await h.person("9002", "hello, someone else here")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.staff("501", "/note talked about her sister", thread="77")
    await h.person("9001", "I want to kill myself")
    other = await h.conversation_of("9002")
    await h.outbound(Platform.TELEGRAM)

    await h.person("9001", "/forget")
    assert "/forget yes" in (await h.to_person())[-1]
    assert await redis.exists(keys.conversation(conv))  # nothing is deleted without the confirmation

    await h.person("9001", "/forget yes")
    out = await h.outbound(Platform.TELEGRAM)
    answer = next(m.text for m in out if m.audience == Audience.SEEKER)
    assert "deleted 1 conversation and" in answer  # singular: plural rules, not "(s)"
    assert "We keep 1 safety alert record, without your words" in answer  # what stays, and why
    lobby = [m for m in out if m.audience == Audience.STAFF_LOBBY]  # the topic is going: staff learn it here
    assert len(lobby) == 1 and "asked for everything stored about them to be deleted" in lobby[0].text
    assert lobby[0].conversation is None and lobby[0].chat is None  # no conversation id, no person's chat id
    deletions = [m for m in out if m.kind == OutboundKind.DELETE_THREAD]
    assert [(m.thread, m.audience) for m in deletions] == [("77", Audience.STAFF_THREAD)]  # the topic, at once
    assert not [m for m in out if m.audience == Audience.STAFF_THREAD and m.kind == OutboundKind.SEND]
    assert not await redis.zrange("pb:platform:due", 0, -1)  # deleted now, not left for the retention sweep
    for key in (keys.pending(conv), keys.recent(conv), keys.notes(conv)):
        assert not await redis.exists(key)
    tombstone = {k.decode(): v.decode() for k, v in (await redis.hgetall(keys.conversation(conv))).items()}
    assert tombstone["state"] == "closed"
    assert "chat" not in tombstone
    assert "person" not in tombstone
    assert 0 < await redis.ttl(keys.conversation(conv)) <= 3600
    assert not [k async for k in redis.scan_iter(match="pb:esc:e-*")]
    inbound = [decode_inbound(p) for p in await _stream_payloads(h, keys.INBOUND)]
    assert all(m.sender != "9001" for m in inbound)
    assert any(m.sender == "9002" for m in inbound)  # …and nobody else's
    for urgent in (False, True):
        for payload in await _stream_payloads(h, keys.outbound(Platform.TELEGRAM, urgent)):
            message = decode_outbound(payload)
            assert "Maria" not in message.text
            assert "kill myself" not in message.text
            assert message.chat != "9001" or message.text.startswith("Done. We deleted")
            assert message.kind != OutboundKind.CLOSE_THREAD
    assert (await h.stack.conversations.get(other)) is not None
    assert await h.stack.conversations.waiting() == [other]


async def test_dead_letters_are_erased_with_the_person_and_kept_no_longer_than_retention(redis: Redis) -> None:
    """Set-aside entries hold a person's encrypted message: /forget reaches them too, and none outlives the
    retention (an old one goes when the next is set aside)."""
    h = make_harness(redis, members=[ANA])
    writer = h.stack.writer
    await redis.xadd(keys.DEAD_LETTER, {"stream": "telegram-updates", "entry": "7", "reason": "old"}, id="1000-0")
    await writer.dead_letter("telegram-updates", "8", "malformed telegram update: test", None)
    reasons = [fields[b"reason"] for _id, fields in await redis.xrange(keys.DEAD_LETTER)]
    assert reasons == [b"malformed telegram update: test"]  # the one from 1970, past the 30 days, is gone

    await h.person("9001", "my sister's name is Maria")
    await h.person("9002", "hello, someone else here")
    inbound = {decode_inbound(p).sender: p for p in await _stream_payloads(h, keys.INBOUND)}
    for sender in ("9001", "9002"):  # as the worker sets aside an entry it could not process
        await writer.dead_letter(keys.INBOUND, f"1-{sender}", "handler failed: test", h.cipher.encrypt(inbound[sender]))
    await h.person("9001", "/forget")
    await h.person("9001", "/forget yes")
    kept = [decode_inbound(p) for p in await _stream_payloads(h, keys.DEAD_LETTER)]
    assert [m.sender for m in kept] == ["9002"]  # the person's is gone, nobody else's
    assert await redis.xlen(keys.DEAD_LETTER) == 2  # and the update set aside without a payload stays


LEE = StaffMember(
    id=VolunteerId("dr-lee"), name="Dr Lee", roles=frozenset({Role.VOLUNTEER, Role.PROFESSIONAL}),
    identities={Platform.TELEGRAM: UserId("700")},
)  # fmt: skip
RISK = "I want to kill myself tonight"


async def _escalated_twice(h: Harness) -> None:
    """9001 had two conversations with an escalation each: e-1 acknowledged by Dr Lee, e-2 called a false alarm
    by him; e-3 is someone else's."""
    await h.taken(text=RISK)
    await h.staff("700", "/ack e-1", origin=Origin.ESCALATION)
    await h.staff("501", "/end", thread="77")
    await h.person("9001", RISK)
    await h.staff("700", "falsealarm e-2", kind=InboundKind.ACTION, origin=Origin.PRIVATE)
    await h.person("9002", RISK)
    key = h.pseudonyms.key(Platform.TELEGRAM, "9001")
    theirs = {c.decode() for c in await h.redis.smembers(keys.person_conversations(key))}
    found = [await EscalationStore(h.redis).get(EscalationId(f"e-{n}")) for n in (1, 2, 3)]
    assert [esc is not None and esc.conversation in theirs for esc in found] == [True, True, False]


async def test_forget_keeps_a_text_free_safeguarding_record_of_each_escalation(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, LEE], safeguarding_days=2190)
    await _escalated_twice(h)
    await h.outbound(Platform.TELEGRAM)
    before = time.time()

    await h.person("9001", "/forget yes")
    answer = (await h.to_person())[-1]
    assert "We keep 2 safety alert records, without your words or anything that links them to you, for 2190 days" in (
        answer
    )
    assert not await redis.exists("pb:esc:e-1") and not await redis.exists("pb:esc:e-2")
    assert await redis.exists("pb:esc:e-3")  # someone else's escalation is untouched
    kept = sorted([k.decode() async for k in redis.scan_iter(match="pb:safeguarding:*")])
    assert kept == ["pb:safeguarding:e-1", "pb:safeguarding:e-2"]
    first = {k.decode(): v.decode() for k, v in (await redis.hgetall("pb:safeguarding:e-1")).items()}
    second = {k.decode(): v.decode() for k, v in (await redis.hgetall("pb:safeguarding:e-2")).items()}
    fields = {"escalation", "raised_at", "tier", "category", "levels", "acknowledged_by", "acknowledged_at", "outcome"}
    assert set(first) == set(second) == fields  # exactly these: no conversation, person, chat, phrase or text
    assert first["escalation"] == "e-1" and first["outcome"] == "acknowledged" and first["acknowledged_by"] == "dr-lee"
    assert first["tier"] in ("high", "imminent") and first["category"] == "suicide" and first["levels"] == "0"
    assert float(first["raised_at"]) <= float(first["acknowledged_at"]) <= before
    assert second["outcome"] == "false_alarm" and second["acknowledged_by"] == "dr-lee"
    stored = " ".join(first.values()) + " " + " ".join(second.values())
    for forbidden in ("9001", "kill myself", h.pseudonyms.key(Platform.TELEGRAM, "9001")):
        assert forbidden not in stored, forbidden
    assert not {"c-1", "c-2", "77"} & {
        *first.values(),
        *second.values(),
    }  # no conversation, no topic id
    ttl = await redis.ttl("pb:safeguarding:e-1")
    assert 2189 * 86400 < ttl <= 2190 * 86400  # kept for the organisation's period, then gone


async def test_forget_erases_the_escalations_too_when_the_organisation_keeps_no_records(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, LEE], safeguarding_days=None)
    await _escalated_twice(h)
    await h.person("9001", "/forget yes")
    answer = (await h.to_person())[-1]
    assert "We also deleted 2 safety alert records." in answer
    assert "We keep" not in answer
    assert not [k async for k in redis.scan_iter(match="pb:safeguarding:*")]
    assert not await redis.exists("pb:esc:e-1") and not await redis.exists("pb:esc:e-2")
    assert await redis.exists("pb:esc:e-3")


async def test_closing_schedules_the_topic_for_its_platform_retention_and_the_sweep_deletes_it_then(
    redis: Redis,
) -> None:
    h = make_harness(redis, members=[ANA], retention_days=30, platform_retention_days=45)
    await h.taken(thread="77")
    await h.staff("501", "/end", thread="77")
    await h.outbound(Platform.TELEGRAM)
    sweep = h.stack.platform_sweep
    assert await sweep.check(now=time.time() + 44 * 86400) == 0  # the Redis copy is gone at 30 days; this one stays
    assert not [m for m in await h.outbound(Platform.TELEGRAM) if m.kind == OutboundKind.DELETE_THREAD]
    assert await sweep.check(now=time.time() + 45 * 86400 + 60) == 1
    out = await h.outbound(Platform.TELEGRAM)
    assert [(m.kind, m.thread, m.conversation) for m in out] == [(OutboundKind.DELETE_THREAD, "77", None)]
    assert await sweep.check(now=time.time() + 90 * 86400) == 0  # once


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["at most 30 days", "deleted 45 days after", "kept 90 days", "for 2190 days"]),
        ("es", ["30 días", "45 días", "90 días", "2190 días"]),
        ("pt", ["30 dias", "45 dias", "90 dias", "2190 dias"]),
        ("fr", ["30 jours", "45 jours", "90 jours", "2190 jours"]),
    ],
)
async def test_privacy_states_the_configured_numbers_in_each_language(
    redis: Redis, lang: str, words: list[str]
) -> None:
    h = make_harness(redis, retention_days=30, platform_retention_days=45, safeguarding_days=2190)
    await h.person("9001", f"/language {lang}")
    await h.person("9001", "/privacy")
    said = (await h.to_person())[-1]
    for word in words:
        assert word in said, (lang, word)
    assert "/forget" in said


async def test_privacy_says_forget_deletes_the_alert_records_when_none_are_kept(redis: Redis) -> None:
    h = make_harness(redis, retention_days=7, safeguarding_days=None)
    await h.person("9001", "/privacy")
    said = (await h.to_person())[-1]
    assert "at most 7 days" in said and "deleted 7 days after" in said  # platform retention unset: the same
    assert "The alert records are deleted too." in said
