"""The platforms forget too (issue 23), on Telegram: a closed conversation's topic is deleted with all its
messages when its platform retention ends, and at once after /forget; through python-telegram-bot and the
Telegram sandbox."""

from __future__ import annotations

import asyncio
import time

from sandboxes.telegram import TelegramSandbox
from tests.bridge_fixtures import running_bridge
from tests.sweep_fixtures import DAY, retention_sweep, with_storage
from tests.test_telegram_e2e import World, world

pytest_plugins = ["tests.telegram_fixtures"]
__all__ = ["world"]  # the fixture, imported for the tests below


async def _topic_gone(box: TelegramSandbox, w: World, thread: int) -> None:
    for _ in range(100):
        if all(t.thread_id != thread for t in box.topics(w.staff)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the topic is still there")


async def _served_and_ended(w: World) -> int:
    """A person is served in a topic, then the volunteer ends the conversation (the topic is closed)."""
    box = w.sandbox
    box.send_user_message(w.person, "my flatmate Tomas borrowed my charger again")
    thread = await w.take_first_card()
    box.send_user_message(w.volunteer, "I'm here. Tell me more?", chat=w.staff, thread=thread)
    await w.bot_says(lambda m: m.chat_id == w.person.id and "Tell me more" in m.body)
    box.send_user_message(w.volunteer, "/end", chat=w.staff, thread=thread)
    for _ in range(100):
        if next(t for t in box.topics(w.staff) if t.thread_id == thread).closed:
            return thread
        await asyncio.sleep(0.05)
    raise AssertionError("the topic was not closed")


async def test_a_closed_topic_is_deleted_when_retention_ends_and_not_before(world: World) -> None:
    w, box = world, world.sandbox
    async with running_bridge(w.settings), retention_sweep(w.settings) as sweep:
        thread = await _served_and_ended(w)
        assert await sweep.check(now=time.time() + 29 * DAY) == 0
        await box.settle(0.3)
        assert any(t.thread_id == thread for t in box.topics(w.staff))  # closed, still readable
        assert any("Tomas" in m.body for m in box.transcript(w.staff, thread))

        assert await sweep.check(now=time.time() + 30 * DAY + 60) == 1  # storage.retention_days: 30
        await _topic_gone(box, w, thread)
        assert not box.transcript(w.staff, thread)  # every message of the topic went with it
        assert not [m for m in box.transcript(w.staff) if "Tomas" in m.body]
        assert [c.method for c in box.calls("deleteForumTopic")] == ["deleteForumTopic"]


async def test_a_longer_platform_retention_keeps_the_topic_until_it_ends(world: World) -> None:
    w, box = world, world.sandbox
    settings = with_storage(w.settings, platform_retention_days=90)
    async with running_bridge(settings), retention_sweep(settings) as sweep:
        thread = await _served_and_ended(w)
        assert await sweep.check(now=time.time() + 31 * DAY) == 0  # past the Redis retention: still on Telegram
        await box.settle(0.3)
        assert any(t.thread_id == thread for t in box.topics(w.staff))
        assert await sweep.check(now=time.time() + 90 * DAY + 60) == 1
        await _topic_gone(box, w, thread)


async def test_forget_deletes_the_topic_at_once_and_staff_read_why_in_the_lobby(world: World) -> None:
    w, box = world, world.sandbox
    async with running_bridge(w.settings):
        box.send_user_message(w.person, "my flatmate Tomas borrowed my charger again")
        thread = await w.take_first_card()
        name = next(t.name for t in box.topics(w.staff) if t.thread_id == thread)
        box.send_user_message(w.person, "/forget yes")
        await w.bot_says(lambda m: m.chat_id == w.person.id and m.body.startswith("Done. We deleted"))
        await _topic_gone(box, w, thread)
        note = await w.bot_says(lambda m: m.chat_id == w.staff.id and "asked for everything stored" in m.body)
        assert note.thread_id is None  # the lobby (General), which stays
        assert name.split(" · ")[0] in note.body  # the pseudonym the topic had
        assert "Alex" not in note.body and str(w.person.id) not in note.body and "Tomas" not in note.body
        assert not [m for m in box.transcript(w.staff) if "Tomas" in m.body]
