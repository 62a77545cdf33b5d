"""Fault tests: the platform API fails (the Telegram sandbox answers 5xx and 429) while the bridge delivers.

The bridge runs in the test's loop as `peerbridge run` would, with real Redis and the real python-telegram-bot.
Bounded in time; prints the numbers it measured.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.embedded_redis import EmbeddedRedis
from routing import texts
from routing.store import keys
from sandboxes.telegram import Chat, Message, TelegramSandbox, User
from tests.bridge_fixtures import running_bridge, telegram_bridge_settings

pytest_plugins = ["tests.telegram_fixtures"]

TOKEN = "123456:sandbox-test-token"


@dataclass
class World:
    box: TelegramSandbox
    person: User
    volunteer: User
    staff: Chat

    async def bot_says(self, predicate: object, since: int = 0, within: float = 8.0) -> Message:
        return await self.box.wait_for(predicate, timeout=within, since=since)  # type: ignore[arg-type]

    async def connected(self) -> int:
        """The person writes, the volunteer presses Take; returns the conversation's topic id."""
        self.box.send_user_message(self.person, "hello")
        card = await self.bot_says(lambda m: m.chat_id == self.staff.id and m.buttons and "waiting" in m.body)
        self.box.press_button(self.volunteer, card, card.buttons[0][1] or "")
        opened = await self.bot_says(lambda m: m.chat_id == self.staff.id and "What they sent" in m.body)
        assert opened.thread_id is not None
        await self.box.settle(1.0)  # let the start-of-conversation messages drain before faults are programmed
        return opened.thread_id


@pytest.fixture
async def world(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis, redis: Redis
) -> AsyncIterator[World]:
    person = sandbox.create_user("Alex", language_code="en")
    volunteer = sandbox.create_user("Vee")
    staff = sandbox.create_forum_group("Volunteers", members=[volunteer])
    alerts = sandbox.create_group("On call", members=[volunteer])
    settings = telegram_bridge_settings(
        tmp_path,
        redis_server.url,
        sandbox,
        staff.id,
        alerts.id,
    )
    async with running_bridge(settings):
        yield World(sandbox, person, volunteer, staff)


async def test_5xx_and_429_are_retried_with_back_off_then_delivered_in_order(world: World) -> None:
    w, box = world, world.box
    thread = await w.connected()
    box.fail_next("sendMessage", times=3, status=502)
    box.fail_next("sendMessage", times=1, status=429, retry_after=1)
    started = time.monotonic()
    for i in range(4):
        box.send_user_message(w.volunteer, f"reply {i}", chat=w.staff, thread=thread)
    await w.bot_says(lambda m: m.chat_id == w.person.id and m.body == "reply 3", within=30)
    took = time.monotonic() - started
    replies = [m.body for m in box.sent(chat=w.person.id) if m.body.startswith("reply ")]
    calls = [c for c in box.calls("sendMessage") if c.chat_id == w.person.id and c.at >= started]
    failed = [c for c in calls if c.status != 200]
    pauses = [round(b.at - a.at, 2) for a, b in itertools.pairwise(calls[: len(failed) + 1])]
    print(f"\nplatform 5xx/429: {len(failed)} failed sends ({[c.status for c in failed]}), pauses between attempts "
          f"{pauses} s; all {len(replies)} replies delivered {took:.1f} s after they were written")  # fmt: skip
    assert [c.status for c in failed] == [502, 502, 502, 429]
    assert replies == [f"reply {i}" for i in range(4)]  # each once, in the order written
    assert pauses[2] > pauses[1] >= pauses[0] >= 0.5  # back-off grows (never faster than 1/s per chat)…
    assert pauses[3] >= 0.95  # …and the platform's retry_after is honoured


async def test_a_message_that_keeps_failing_is_dead_lettered_and_staff_are_alerted(world: World, redis: Redis) -> None:
    w, box = world, world.box
    thread = await w.connected()
    box.fail_next("sendMessage", times=1, status=500)
    box.fail_next("sendMessage", times=5, status=429, retry_after=1)  # 6 attempts in all, then it gives up
    started = time.monotonic()
    mark = box.mark()
    box.send_user_message(w.volunteer, "this one will not get through", chat=w.staff, thread=thread)
    alert = await w.bot_says(lambda m: m.chat_id == w.staff.id and "set aside" in m.body, since=mark, within=30)
    took = time.monotonic() - started
    dead = await redis.xrange(keys.DEAD_LETTER)
    reasons = [fields[b"reason"].decode() for _id, fields in dead]
    print(f"\nplatform keeps failing: dead-lettered and staff alerted after {took:.1f} s; reasons {reasons}")
    assert any(r.startswith("delivery failed") for r in reasons)
    entry = next(f[b"entry"].decode() for _id, f in dead if f[b"reason"].startswith(b"delivery failed"))
    assert alert.body == texts.STAFF_DEAD_LETTER.format(entry=entry)
    assert b"this one" not in b"".join(v for _id, f in dead for v in f.values())  # kept encrypted
    assert not [m for m in box.sent(chat=w.person.id, since=mark) if "will not get through" in m.body]
    box.send_user_message(w.volunteer, "and this one does", chat=w.staff, thread=thread)  # the chat still works
    await w.bot_says(lambda m: m.chat_id == w.person.id and m.body == "and this one does", since=mark)
