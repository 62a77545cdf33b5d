"""A message that is clearly high risk on its own skips the backlog: the urgent inbound lane, on real Redis."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from routing.codec import encode_inbound
from routing.model import Audience, ConversationId, InboundKind, Origin, Platform
from routing.outbox import Outbox
from routing.risk.screen import urgent_screen
from routing.store import keys
from routing.store.streams import StreamWriter
from tests.routing_harness import Harness, make_harness, real_detector

RISK = "I want to kill myself"


def _gateway_writer(h: Harness) -> StreamWriter:
    """The writer the gateways use (bot/platforms.py): with the urgent screen."""
    return StreamWriter(h.redis, h.cipher, h.pseudonyms, urgent_screen=urgent_screen(real_detector()))


def test_the_screen_takes_only_a_persons_clear_risk_messages(redis: Redis) -> None:
    h = make_harness(redis)
    screen = urgent_screen(real_detector())
    assert screen(h.inbound("200", RISK))
    assert screen(h.inbound("200", RISK, kind=InboundKind.EDIT))
    assert not screen(h.inbound("200", "I can't sleep and everything feels heavy"))
    assert not screen(h.inbound("v1", RISK, origin=Origin.STAFF))  # a volunteer quoting: not a person at risk
    assert not screen(h.inbound("200", "", kind=InboundKind.UNSUPPORTED))
    assert screen(h.inbound("200", RISK + " " + "x" * 100_000))  # a huge paste is screened by its start


async def test_a_risk_message_is_escalated_before_a_backlog_of_ordinary_ones(redis: Redis) -> None:
    h = make_harness(redis)
    writer = _gateway_writer(h)
    for i in range(30):
        assert not (await writer.ingest(h.inbound(f"{100 + i % 3}", f"just chatting, message {i}"))).urgent
    assert (await writer.ingest(h.inbound("200", RISK))).urgent

    await h.stack.urgent_worker.ensure_group()
    await h.stack.inbound_worker.ensure_group()
    assert await h.stack.urgent_worker.step(block_ms=0) == 1  # the router's urgent lane: one entry
    resources = [m for m in await h.outbound(Platform.TELEGRAM, urgent=True) if m.audience == Audience.SEEKER]
    assert [m.chat for m in resources] == ["200"]  # crisis resources are already on their way
    assert await redis.xlen(keys.ESCALATIONS) == 1  # and the on-call alert raised
    ordinary = (await redis.xinfo_groups(keys.INBOUND))[0]
    assert ordinary["last-delivered-id"] in (b"0-0", "0-0")  # while all 30 ordinary messages still wait

    await h.pump()
    assert {m.chat for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER} >= {
        "100", "101", "102"
    }  # fmt: skip
    assert (await redis.xpending(keys.INBOUND_URGENT, "router"))["pending"] == 0


async def test_forget_erases_the_urgent_lane_too(redis: Redis) -> None:
    h = make_harness(redis)
    await _gateway_writer(h).ingest(h.inbound("200", RISK))
    await h.pump()
    assert await redis.xlen(keys.INBOUND_URGENT) == 1
    await h.person("200", "/forget yes")
    assert await redis.xlen(keys.INBOUND_URGENT) == 0


async def test_the_same_entry_id_in_both_lanes_loses_nothing(redis: Redis) -> None:
    """Stream ids are per stream: an ordinary and an urgent entry can share one (the same millisecond). Their
    outbound keys and escalation dedupe must not collide, or a relay or an alert would silently vanish."""
    h = make_harness(redis)
    ordinary, risky = h.inbound("100", "just chatting"), h.inbound("200", RISK)
    for stream, message in ((keys.INBOUND, ordinary), (keys.INBOUND_URGENT, risky)):
        payload = h.cipher.encrypt(encode_inbound(message))
        await redis.xadd(stream, {"d": payload, "k": h.pseudonyms.key(Platform.TELEGRAM, message.sender)}, id="5-1")
    await h.pump()
    to_people = {m.chat for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER}
    assert to_people == {"100", "200"}  # both were answered (queue place; crisis resources)
    assert await redis.xlen(keys.ESCALATIONS) == 1


async def test_the_first_alert_leaves_with_the_crisis_resources_and_goes_out_once(redis: Redis) -> None:
    h = make_harness(redis)
    await _gateway_writer(h).ingest(h.inbound("200", RISK))
    await h.stack.urgent_worker.ensure_group()
    assert await h.stack.urgent_worker.step(block_ms=0) == 1  # the escalations stream's reader has not run yet
    alerts = [m for m in await h.outbound(Platform.TELEGRAM, urgent=True) if m.audience == Audience.ESCALATION]
    assert len(alerts) == 1
    assert "RISK" in alerts[0].text and alerts[0].conversation is not None
    assert RISK not in alerts[0].text  # alerts carry no message text unless configured to

    await h.pump()  # now the reader handles the escalation as well: the same alert, under the same key
    assert not [m for m in await h.outbound(Platform.TELEGRAM, urgent=True) if m.audience == Audience.ESCALATION]
    events = [fields[b"event"] for _id, fields in await redis.xrange(keys.AUDIT)]
    assert events.count(b"escalation_raised") == 1 and events.count(b"escalation_alerted") == 1


async def test_the_reader_still_alerts_when_the_router_died_before_emitting(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("200", "hello")
    conversation = await h.stack.conversations.get(await h.conversation_of("200"))
    assert conversation is not None
    lost = Outbox("9-0")  # raised, then the router process died: its outbox was never emitted
    assessment = real_detector().assess(RISK)
    assert await h.stack.escalations.raise_(conversation, assessment, lost) is not None
    assert not [m for m in await h.outbound(Platform.TELEGRAM, urgent=True) if m.audience == Audience.ESCALATION]
    await h.pump()
    alerts = [m for m in await h.outbound(Platform.TELEGRAM, urgent=True) if m.audience == Audience.ESCALATION]
    assert [m.key for m in alerts] == [m.key for m in lost.messages if m.audience == Audience.ESCALATION]


async def test_crisis_resources_and_the_alert_leave_before_the_rest_of_the_handling(redis: Redis) -> None:
    """They are emitted as soon as the escalation is raised, not at the end of the handling: here the rest of
    it (keeping the new person's message for the volunteer) fails, and they have left all the same."""
    h = make_harness(redis)
    await redis.set(keys.pending(ConversationId("c-1")), "not a hash")  # the first conversation's: WRONGTYPE
    await _gateway_writer(h).ingest(h.inbound("200", RISK))
    await h.stack.urgent_worker.ensure_group()
    with pytest.raises(ResponseError):
        await h.stack.urgent_worker.step(block_ms=0)
    urgent = await h.outbound(Platform.TELEGRAM, urgent=True)
    assert [m.chat for m in urgent if m.audience == Audience.SEEKER] == ["200"]
    assert len([m for m in urgent if m.audience == Audience.ESCALATION]) == 1
