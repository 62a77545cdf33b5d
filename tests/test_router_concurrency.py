"""Two router processes' worth of workers on one Redis: nobody is given to two volunteers, nobody over capacity."""

from __future__ import annotations

import asyncio
from collections import Counter

from redis.asyncio import Redis

from bot.embedded_redis import EmbeddedRedis
from routing.model import ConversationState, Origin, Platform, UserId, VolunteerId
from routing.roster import StaffMember
from routing.store import keys
from routing.store.connection import RedisOptions, connect
from tests.routing_harness import Harness, make_harness


def _volunteers(count: int, capacity: int) -> list[StaffMember]:
    return [
        StaffMember(
            id=VolunteerId(f"vol{i}"),
            name=f"Vol {i}",
            max_concurrent=capacity,
            identities={Platform.TELEGRAM: UserId(str(600 + i))},
        )
        for i in range(count)
    ]


async def _drain(h: Harness) -> None:
    await h.stack.inbound_worker.ensure_group()
    while await h.stack.inbound_worker.step(block_ms=0):
        pass


async def _two_routers_take_everyone(
    redis: Redis, server: EmbeddedRedis, members: list[StaffMember], nexts_each: int
) -> tuple[Harness, Harness]:
    first = make_harness(redis, members=members, consumer="router-a")
    for person in range(200):
        await first.stack.writer.ingest(first.inbound(str(10_000 + person), f"hello {person}"))
    await _drain(first)
    assert await first.stack.conversations.waiting_count() == 200

    second_client = connect(RedisOptions(url=server.url))
    second = make_harness(second_client, members=members, consumer="router-b")
    for _ in range(nexts_each):
        for m in members:
            staff_next = first.inbound(m.identities[Platform.TELEGRAM], "/next", origin=Origin.STAFF)
            await first.stack.writer.ingest(staff_next)
    await asyncio.gather(_drain(first), _drain(second))
    await second_client.aclose()
    return first, second


async def _assignment_counts(h: Harness, members: list[StaffMember]) -> Counter[str]:
    owners: Counter[str] = Counter()
    for m in members:
        for conv in await h.stack.conversations.active_of(m.id):
            owners[conv] += 1
    return owners


async def test_two_routers_assign_each_of_200_people_exactly_once(redis: Redis, redis_server: EmbeddedRedis) -> None:
    members = _volunteers(10, capacity=25)
    first, _ = await _two_routers_take_everyone(redis, redis_server, members, nexts_each=25)
    owners = await _assignment_counts(first, members)
    assert len(owners) == 200 and set(owners.values()) == {1}
    assert await first.stack.conversations.waiting_count() == 0
    for m in members:
        assert len(await first.stack.conversations.active_of(m.id)) <= 25
    for conv in owners:
        stored = await first.stack.conversations.get(conv)  # type: ignore[arg-type]
        assert stored is not None and stored.state == ConversationState.ACTIVE
    assert (await redis.xpending(keys.INBOUND, "router"))["pending"] == 0


async def test_two_routers_never_push_a_volunteer_over_capacity(redis: Redis, redis_server: EmbeddedRedis) -> None:
    members = _volunteers(10, capacity=3)
    first, _ = await _two_routers_take_everyone(redis, redis_server, members, nexts_each=5)
    for m in members:
        assert len(await first.stack.conversations.active_of(m.id)) == 3
    owners = await _assignment_counts(first, members)
    assert len(owners) == 30 and set(owners.values()) == {1}
    assert await first.stack.conversations.waiting_count() == 170


async def test_a_burst_of_arrivals_is_spread_over_every_volunteer_with_room(redis: Redis) -> None:
    """Automatic assignment while many people arrive at once: each arrival's question "who has the most room?"
    gets the same answer before any of them assigns, and yet nobody is left waiting while a volunteer on duty
    has room, and nobody is given more than their capacity."""
    members = _volunteers(20, capacity=2)
    h = make_harness(redis, members=members, auto_assign=True, topics=())
    for m in members:
        await h.stack.conversations.set_on_duty(m.id, True)
    for person in range(40):
        await h.stack.writer.ingest(h.inbound(str(20_000 + person), f"hello {person}"))
    await _drain(h)
    assert await h.stack.conversations.waiting_count() == 0
    assert [len(await h.stack.conversations.active_of(m.id)) for m in members] == [2] * 20
