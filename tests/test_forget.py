"""`/forget`: a person's data is erased on request, after confirmation; nobody else's is touched."""

from __future__ import annotations

from redis.asyncio import Redis

from routing.codec import decode_inbound, decode_outbound
from routing.model import Audience, OutboundKind, Platform
from routing.store import keys
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
    assert "deleted 1 conversation," in answer  # singular: plural rules, not "(s)"
    assert "and 1 safety alert record." in answer
    assert any("asked for everything stored about them to be deleted" in m.text for m in out)
    assert any(m.kind == OutboundKind.CLOSE_THREAD and m.conversation == conv for m in out)  # the topic closes
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
