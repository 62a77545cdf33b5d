"""A person comes back on Telegram (issue 23): through the real python-telegram-bot, the Telegram sandbox and
real Redis. The queue card says they are back, they ask for the volunteer they had with a button, and the new
topic opens with the staff-only summary of their earlier conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.embedded_redis import EmbeddedRedis
from routing import texts
from sandboxes.telegram import Chat, Message, TelegramSandbox, User
from tests.bridge_fixtures import one_volunteer_on_telegram

pytest_plugins = ["tests.telegram_fixtures"]
pytestmark = pytest.mark.timeout(40)


@pytest.fixture
async def staff(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> AsyncIterator[tuple[User, Chat]]:
    """A running bridge with one volunteer in the volunteers' forum group: (the volunteer, the group)."""
    async with one_volunteer_on_telegram(sandbox, tmp_path, redis_server.url) as (volunteer, group, _alerts):
        yield volunteer, group


async def test_a_returning_person_asks_for_their_volunteer_who_reads_the_summary(
    sandbox: TelegramSandbox, staff: tuple[User, Chat]
) -> None:
    box, (volunteer, group) = sandbox, staff
    person = box.create_user("Robin", language_code="en")

    async def in_group(text: str, since: int = 0) -> Message:
        return await box.wait_for(lambda m: m.chat_id == group.id and text in m.body, timeout=8, since=since)

    async def to_person(text: str, since: int = 0) -> Message:
        return await box.wait_for(lambda m: m.chat_id == person.id and text in m.body, timeout=8, since=since)

    box.send_user_message(person, "hi, rough week")
    card = await box.wait_for(lambda m: m.chat_id == group.id and bool(m.buttons) and "waiting" in m.body, timeout=8)
    assert "returning" not in card.body
    box.press_button(volunteer, card, card.buttons[0][1] or "")
    opened = await in_group("What they sent")
    assert "Returning" not in opened.body
    box.send_user_message(volunteer, "/note finds evenings hardest", chat=group, thread=opened.thread_id)
    box.send_user_message(volunteer, "/end", chat=group, thread=opened.thread_id)
    await to_person(texts.say("en", texts.FEEDBACK_QUESTION))
    box.send_user_message(volunteer, "/on", chat=group)
    await in_group("checked in")

    mark = box.mark()
    box.send_user_message(person, "hello again")
    arrival = await to_person(texts.say("en", texts.QUEUED, position=1)[:40], since=mark)
    same = dict(arrival.buttons)[texts.say("en", texts.SAME_VOLUNTEER)]
    box.press_button(person, arrival, same or "")
    await to_person(texts.say("en", texts.SAME_VOLUNTEER_ASKED)[:40], since=mark)
    card = await in_group("asked for", since=mark)
    assert "returning: 1 conversation before" in card.body

    box.press_button(volunteer, card, card.buttons[0][1] or "")
    header = await in_group("Returning: 1 conversation in the last 30 days", since=mark)
    assert "Handover note: finds evenings hardest" in header.body
    assert header.thread_id != opened.thread_id  # a new topic, and the summary is in it
    assert not [m for m in box.world.outbox[mark:] if m.chat_id == person.id and "evenings" in m.body]
