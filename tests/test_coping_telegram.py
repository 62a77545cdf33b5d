"""Sharing the coping library on Telegram (issue 25), through the real python-telegram-bot, the Telegram sandbox
and real Redis: a volunteer previews a text in the conversation's topic and only their Send reaches the person,
in the person's language; a supervisor's Send is refused; a wrong name is answered with the list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import shipped
from bot.embedded_redis import EmbeddedRedis
from routing import texts
from routing.coping.files import load_library
from routing.store.connection import RedisOptions, connect
from routing.store.coping_counts import CopingCounts
from sandboxes.telegram import Chat, Message, TelegramSandbox, User
from tests.bridge_fixtures import running_bridge, telegram_bridge_settings

pytest_plugins = ["tests.telegram_fixtures"]
pytestmark = pytest.mark.timeout(40)
LIBRARY = load_library(shipped.COPING_TEXTS)


def _coping(body: str) -> bool:
    return any(body.startswith(t.title) for named in LIBRARY.texts.values() for t in named.values())


@dataclass
class Desk:
    box: TelegramSandbox
    volunteer: User
    supervisor: User
    group: Chat
    redis_url: str

    async def in_topic(self, text: str, since: int, thread: int | None = None) -> Message:
        def found(m: Message) -> bool:
            return m.chat_id == self.group.id and (thread is None or m.thread_id == thread) and text in m.body

        return await self.box.wait_for(found, timeout=8, since=since)

    def to(self, person: User, since: int = 0) -> list[str]:
        """The coping texts `person` received (the service's other words, such as intake questions, aside)."""
        return [m.body for m in self.box.sent(since=since) if m.chat_id == person.id and _coping(m.body)]

    async def taken(self, person: User, first_words: str) -> int:
        """`person` writes; the volunteer takes them; returns the topic's thread id once the person is told."""
        mark = self.box.mark()
        self.box.send_user_message(person, first_words)
        card = await self.box.wait_for(lambda m: m.chat_id == self.group.id and bool(m.buttons), timeout=8, since=mark)
        self.box.press_button(self.volunteer, card, card.buttons[0][1] or "")
        opened = await self.in_topic("What they sent", since=mark)
        joined = texts.say(person.language_code, texts.CONNECTED)
        await self.box.wait_for(lambda m: m.chat_id == person.id and m.body == joined, timeout=8, since=mark)
        assert opened.thread_id is not None
        return opened.thread_id


@pytest.fixture
async def desk(sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis) -> AsyncIterator[Desk]:
    """A running bridge with a volunteer and a supervisor (so named in the rota) in the volunteers' forum."""
    client = connect(RedisOptions(url=redis_server.url))
    await client.flushall()
    await client.aclose()
    volunteer, supervisor = sandbox.create_user("Vee"), sandbox.create_user("Sam")
    group = sandbox.create_forum_group("Volunteers", members=[volunteer, supervisor])
    alerts = sandbox.create_group("On call", members=[supervisor])
    settings = telegram_bridge_settings(tmp_path, redis_server.url, sandbox, group.id, alerts.id)
    settings.rota.file.write_text(
        f'[[staff]]\nid = "vee"\nname = "Vee"\ntelegram = {volunteer.id}\n\n'
        f'[[staff]]\nid = "sam"\nname = "Sam"\nroles = ["supervisor"]\ntelegram = {supervisor.id}\n'
    )
    async with running_bridge(settings):
        yield Desk(sandbox, volunteer, supervisor, group, redis_server.url)


async def test_the_volunteers_send_gives_a_spanish_speaker_the_spanish_text_after_the_preview(desk: Desk) -> None:
    box = desk.box
    person = box.create_user("Lucía", language_code="es")
    spanish = LIBRARY.get("es", "grounding")
    assert spanish is not None
    thread = await desk.taken(person, "hola, no consigo calmarme")

    mark = box.mark()
    box.send_user_message(desk.volunteer, "/share grounding", chat=desk.group, thread=thread)
    preview = await desk.in_topic(spanish.title, since=mark, thread=thread)
    assert spanish.text.splitlines()[0] in preview.body  # the exact words, in Spanish, before anything is sent
    assert "will read it in English" not in preview.body  # the person's own language: no note for staff
    buttons = dict(preview.buttons)
    assert set(buttons) == {"Send", "Cancel"}
    assert desk.to(person, since=mark) == []  # a preview alone sends nothing

    box.press_button(desk.supervisor, preview, buttons["Send"] or "")  # watching, not holding: refused
    await desk.in_topic("Only Vee, who holds this conversation", since=mark, thread=thread)
    box.press_button(desk.volunteer, preview, buttons["Send"] or "")
    await desk.in_topic("Sent to", since=mark, thread=thread)
    received = await box.wait_for(lambda m: m.chat_id == person.id and _coping(m.body), timeout=8, since=mark)
    assert received.body == spanish.message

    box.press_button(desk.volunteer, preview, buttons["Send"] or "")  # a second press sends nothing more
    await desk.in_topic("already sent, cancelled or has expired", since=mark, thread=thread)
    assert desk.to(person, since=mark) == [spanish.message]  # the supervisor's press sent nothing either
    redis = connect(RedisOptions(url=desk.redis_url))
    try:
        counted = await CopingCounts(redis).per_day(days=1)
        assert list(counted.values()) == [{"grounding": 1}]
        audit = [fields for _, fields in await redis.xrange("pb:stream:audit")]
        shared = [f for f in audit if f[b"event"] == b"coping_shared"]
        assert len(shared) == 1 and shared[0][b"coping"] == b"grounding" and shared[0][b"lang"] == b"es"
        assert not any(spanish.text[:30].encode() in value for f in audit for value in f.values())
    finally:
        await redis.aclose()


async def test_a_cancelled_preview_never_reaches_the_person(desk: Desk) -> None:
    box = desk.box
    person = box.create_user("Alex", language_code="en")
    thread = await desk.taken(person, "can't stop my heart racing")
    mark = box.mark()
    box.send_user_message(desk.volunteer, "/share", chat=desk.group, thread=thread)
    listed = await desk.in_topic("Coping texts you can share", since=mark, thread=thread)
    assert [label for label, _ in listed.buttons] == [LIBRARY.get("en", n).title for n in LIBRARY.names]  # type: ignore[union-attr]
    breathing = dict(listed.buttons)["Slow breathing"] or ""
    box.press_button(desk.volunteer, listed, breathing)
    preview = await desk.in_topic("Preview of Slow breathing", since=mark, thread=thread)
    box.press_button(desk.volunteer, preview, dict(preview.buttons)["Cancel"] or "")
    await desk.in_topic("Not sent: the preview of Slow breathing was cancelled", since=mark, thread=thread)
    box.press_button(desk.volunteer, preview, dict(preview.buttons)["Send"] or "")
    await desk.in_topic("already sent, cancelled or has expired", since=mark, thread=thread)
    await asyncio.sleep(0.3)  # room for anything that might (wrongly) follow
    assert desk.to(person, since=mark) == []


async def test_a_wrong_name_is_answered_with_the_names_and_a_french_speaker_is_warned_of_english(desk: Desk) -> None:
    box = desk.box
    person = box.create_user("Jules", language_code="fr")
    thread = await desk.taken(person, "bonsoir, je suis très stressé")
    mark = box.mark()
    box.send_user_message(desk.volunteer, "/share grounding-exercise", chat=desk.group, thread=thread)
    answer = await desk.in_topic("There is no coping text called grounding-exercise", since=mark, thread=thread)
    assert ", ".join(LIBRARY.names) in answer.body
    box.send_user_message(desk.volunteer, "/share night", chat=desk.group, thread=thread)
    preview = await desk.in_topic("Preview of Getting through the night", since=mark, thread=thread)
    assert "no French version of this text, so the person will read it in English" in preview.body
    box.press_button(desk.volunteer, preview, dict(preview.buttons)["Send"] or "")
    received = await box.wait_for(lambda m: m.chat_id == person.id and _coping(m.body), timeout=8, since=mark)
    english = LIBRARY.get("en", "night")
    assert english is not None and received.body == english.message
