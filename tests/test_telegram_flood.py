"""The Telegram sandbox refuses what Telegram refuses: 20 sends a minute into one group (all topics together,
edits and topic creation included), one a second into a private chat (a burst of three allowed), 30 a second in
all; the real python-telegram-bot sees `RetryAfter`, and a refused call leaves nothing in the chat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import BadRequest, RetryAfter

from sandboxes.telegram import TelegramSandbox
from sandboxes.telegram.flood import FloodControl, FloodLimits

pytest_plugins = ["tests.telegram_fixtures"]


async def test_a_forum_group_takes_twenty_a_minute_across_all_topics(sandbox: TelegramSandbox, bot: Bot) -> None:
    group = sandbox.create_forum_group("Volunteers")
    first = await bot.create_forum_topic(group.id, "Robin")  # counts: Telegram posts its creation message
    second = await bot.create_forum_topic(group.id, "Sam")
    card = await bot.send_message(group.id, "queue card")
    await bot.edit_message_text("queue card, taken", group.id, card.message_id)  # an edit counts too
    for n in range(16):
        topic = first if n % 2 else second
        await bot.send_message(group.id, f"relay {n}", message_thread_id=topic.message_thread_id)

    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(group.id, "the 21st", message_thread_id=first.message_thread_id)
    assert timedelta(seconds=1) <= refused.value.retry_after <= timedelta(seconds=60)
    assert "the 21st" not in [m.text for m in sandbox.transcript(group.id, first.message_thread_id)]
    assert sandbox.flood.refused == 1

    person = sandbox.create_user("Alex")
    sandbox.send_user_message(person, "hello")
    await bot.send_message(person.id, "a private chat has its own budget")
    await bot.get_updates(timeout=0)  # reading is never limited
    assert [c.status for c in sandbox.calls("sendMessage")][-2:] == [429, 200]


async def test_a_private_chat_takes_a_short_burst_then_one_a_second(sandbox: TelegramSandbox, bot: Bot) -> None:
    person = sandbox.create_user("Alex")
    sandbox.send_user_message(person, "hello")
    with pytest.raises(BadRequest):
        await bot.send_message(person.id, "")  # refused for another reason: uses no budget
    for text in ("one", "two", "three"):
        await bot.send_message(person.id, text)
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(person.id, "four")
    assert timedelta(seconds=1) <= refused.value.retry_after <= timedelta(seconds=3)
    assert [m.text for m in sandbox.transcript(person.id)] == ["hello", "one", "two", "three"]


async def test_limits_off_lets_a_test_send_as_fast_as_it_likes(ptb_timedelta: None) -> None:
    async with TelegramSandbox(tokens=["1:flood-off"], flood_limits=FloodLimits.off()) as box:
        person = box.create_user("Alex")
        box.send_user_message(person, "hello")
        async with Bot("1:flood-off", base_url=box.bot_api_url, base_file_url=box.file_url) as client:
            for n in range(5):
                await client.send_message(person.id, f"quick {n}")
        assert box.flood.refused == 0


def test_windows_slide_and_the_bot_has_a_limit_of_its_own() -> None:
    flood = FloodControl(FloodLimits())

    def send(bot: int, chat: int, now: float, method: str = "sendMessage") -> int:
        refused = flood.admit(bot, method, chat, now)
        if refused is None:
            flood.count(bot, method, chat, now)
            return 200
        assert refused.to_wire()["parameters"]["retry_after"] >= 1
        return refused.status

    group = -100123
    assert [send(1, group, now=t) for t in range(20)] == [200] * 20
    too_soon = flood.admit(1, "sendMessage", group, now=30.0)
    assert too_soon is not None and too_soon.to_wire()["parameters"] == {"retry_after": 30}  # first leaves at 60 s
    assert send(1, group, now=60.0) == 200
    assert send(2, group, now=60.0) == 200  # another bot: its own budget
    assert send(1, group, now=60.5, method="getUpdates") == 200  # not a send

    assert [send(3, person, now=100.0) for person in range(1, 32)] == [200] * 30 + [429]  # 30 a second in all
