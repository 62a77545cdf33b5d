"""A safety plan on Telegram (issue 25), through the real python-telegram-bot, the Telegram sandbox and real Redis:
offered in the topic, answered with buttons and words, received as a message and a file, asked for again with
/myplan after the conversation, removed by /forget; a risk phrase typed into the plan escalates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.embedded_redis import EmbeddedRedis
from routing import texts
from sandboxes.telegram import Chat, Message, TelegramSandbox, User
from tests.bridge_fixtures import one_volunteer_on_telegram

pytest_plugins = ["tests.telegram_fixtures"]
pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def staff(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> AsyncIterator[tuple[User, Chat, Chat]]:
    """A running bridge with one volunteer: (the volunteer, the volunteers' forum group, the on-call group)."""
    async with one_volunteer_on_telegram(sandbox, tmp_path, redis_server.url) as (volunteer, group, alerts):
        yield volunteer, group, alerts


async def test_a_person_builds_a_plan_gets_it_back_later_and_forget_removes_it(
    sandbox: TelegramSandbox, staff: tuple[User, Chat, Chat]
) -> None:
    box, (volunteer, group, alerts) = sandbox, staff
    person = box.create_user("Robin", language_code="en")

    async def to_person(text: str, since: int = 0) -> Message:
        return await box.wait_for(lambda m: m.chat_id == person.id and text in m.body, timeout=8, since=since)

    box.send_user_message(person, "hi, can't sleep again")
    card = await box.wait_for(lambda m: m.chat_id == group.id and bool(m.buttons) and "waiting" in m.body, timeout=8)
    box.press_button(volunteer, card, card.buttons[0][1] or "")
    topic = await box.wait_for(lambda m: m.chat_id == group.id and "What they sent" in m.body, timeout=8)
    box.send_user_message(volunteer, "/plan", chat=group, thread=topic.thread_id)
    offer = await to_person(texts.PLAN_OFFER[:40])

    box.press_button(person, offer, dict(offer.buttons)[texts.PLAN_START] or "")
    step = await to_person("Step 1 of 7")
    box.send_user_message(person, "when I stop texting my brother back")
    step = await to_person("Step 2 of 7")
    box.send_user_message(person, "playing piano, a hot bath")
    for number in range(3, 8):  # the rest skipped with the button
        step = await to_person(f"Step {number} of 7")
        box.press_button(person, step, dict(step.buttons)[texts.PLAN_SKIP] or "")
    plan = await to_person("MY SAFETY PLAN")
    assert "when I stop texting my brother back" in plan.body and "playing piano, a hot bath" in plan.body
    document = await box.wait_for(lambda m: m.chat_id == person.id and m.media is not None, timeout=8)
    assert document.media is not None and document.media.file_name == "my-safety-plan.txt"
    assert box.world.files.read(document.media.file.file_path) == plan.body.encode()
    await box.wait_for(lambda m: m.chat_id == group.id and "Safety plan finished (2 of 7" in m.body, timeout=8)
    in_group = [m.body for m in box.world.outbox if m.chat_id == group.id]
    assert not any("brother" in body or "piano" in body for body in in_group)  # staff never read the plan

    # A risk phrase typed into the plan: the plan pauses, the volunteer reads it, the on-call group is alerted.
    mark = box.mark()
    box.send_user_message(person, "/plan")
    await to_person("Step 3 of 7", since=mark)
    box.send_user_message(person, "honestly i have the pills here and i'm going to take them all tonight")
    await to_person(texts.PLAN_PAUSED[:40], since=mark)
    await box.wait_for(lambda m: m.chat_id == group.id and "take them all tonight" in m.body, timeout=8, since=mark)
    await box.wait_for(lambda m: m.chat_id == alerts.id and "RISK" in m.body, timeout=8, since=mark)

    # Later, in no conversation at all: /myplan gives it back; /forget removes it.
    box.send_user_message(volunteer, "/end confirm she is with her brother now", chat=group, thread=topic.thread_id)
    await to_person(texts.FEEDBACK_QUESTION_CARE[:30], since=mark)
    mark = box.mark()
    box.send_user_message(person, "/myplan")
    again = await to_person("MY SAFETY PLAN", since=mark)
    assert "playing piano, a hot bath" in again.body
    await box.wait_for(lambda m: m.chat_id == person.id and m.media is not None, timeout=8, since=mark)
    box.send_user_message(person, "/forget yes")
    await to_person("Done. We deleted", since=mark)
    box.send_user_message(person, "/myplan")
    await to_person(texts.PLAN_NONE[:40], since=mark)
