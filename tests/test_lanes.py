"""Storing platform events: one chat's events in dispatch order, other chats not held up by it."""

from __future__ import annotations

import asyncio

from routing.lanes import Lanes


async def test_one_keys_events_keep_dispatch_order_while_other_keys_pass() -> None:
    lanes, done, release_a, b_done = Lanes(limit=8), [], asyncio.Event(), asyncio.Event()

    async def event(key: str, n: int) -> None:
        async with lanes.hold(key):
            if (key, n) == ("a", 0):
                await release_a.wait()  # a slow store for the first event of channel "a"
            done.append((key, n))
            if (key, n) == ("b", 2):
                b_done.set()

    tasks = [asyncio.create_task(event(key, n)) for n in range(3) for key in ("a", "b")]  # dispatch order
    async with asyncio.timeout(2):
        await b_done.wait()  # channel "b" is stored while "a" is stuck
    assert done == [("b", 0), ("b", 1), ("b", 2)]
    release_a.set()
    await asyncio.gather(*tasks)
    assert [n for key, n in done if key == "a"] == [0, 1, 2]
    assert lanes.keys_held == 0  # nothing kept for channels that went quiet


async def test_no_more_than_the_limit_are_stored_at_once() -> None:
    lanes, inside, most = Lanes(limit=3), 0, 0

    async def event(key: int) -> None:
        nonlocal inside, most
        async with lanes.hold(key):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(event(k) for k in range(20)))
    assert most == 3
