"""End to end through the real python-telegram-bot against the Telegram sandbox and real Redis.

A person writes to the bot; volunteers work in a forum supergroup; the bridge runs as `peerbridge run` would.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from bot.embedded_redis import EmbeddedRedis
from bot.settings import Settings
from routing.model import Platform
from sandboxes.telegram import Attachment, Chat, Message, TelegramSandbox, User
from tests.bridge_fixtures import bind_thread_elsewhere, relayed, running_bridge, telegram_bridge_settings

pytest_plugins = ["tests.telegram_fixtures"]

TOKEN = "123456:sandbox-test-token"
WEBHOOK_SECRET = "webhook-secret-for-tests"


def png(width: int = 2, height: int = 2) -> bytes:
    """A tiny valid PNG, so the sandbox can read its size like Telegram would."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@dataclass
class World:
    sandbox: TelegramSandbox
    person: User
    volunteer: User
    staff: Chat
    alerts: Chat
    settings: Settings

    async def bot_says(self, predicate: object, since: int = 0, within: float = 8.0) -> Message:
        return await self.sandbox.wait_for(predicate, timeout=within, since=since)  # type: ignore[arg-type]

    def to_person(self, since: int = 0) -> list[Message]:
        return [m for m in self.sandbox.sent(since=since) if m.chat_id == self.person.id]

    async def take_first_card(self) -> int:
        """Press Take on the person's queue card; returns the topic's thread id once the bridge created it."""
        card = await self.bot_says(lambda m: m.chat_id == self.staff.id and m.buttons and "waiting" in m.body)
        self.sandbox.press_button(self.volunteer, card, card.buttons[0][1] or "")
        opened = await self.bot_says(lambda m: m.chat_id == self.staff.id and "What they sent" in m.body)
        assert opened.thread_id is not None
        return opened.thread_id


@pytest.fixture
async def world(sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis) -> World:
    from routing.store.connection import RedisOptions, connect

    client = connect(RedisOptions(url=redis_server.url))
    await client.flushall()
    await client.aclose()
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
    return World(sandbox, person, volunteer, staff, alerts, settings)


@pytest.fixture
async def bridge(world: World) -> AsyncIterator[World]:
    async with running_bridge(world.settings):
        yield world


async def test_a_person_is_queued_taken_and_served_both_ways(bridge: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    w, box = bridge, bridge.sandbox
    box.send_user_message(w.person, "hi, I can't sleep and everything feels heavy")
    ack = await w.bot_says(lambda m: m.chat_id == w.person.id and "queue" in m.body)
    assert "number 1" in ack.body
    card = await w.bot_says(lambda m: m.chat_id == w.staff.id and m.buttons)
    assert card.thread_id is None  # the General topic
    assert card.buttons[0][0] == "Take"
    assert "Alex" not in card.body  # a pseudonym, never the person's name

    box.send_user_message(w.person, "are you there?")
    thread = await w.take_first_card()
    topic = next(t for t in box.topics(w.staff) if t.thread_id == thread)
    assert topic.name.split(" · ")[0] in card.body  # topic named by the same pseudonym as the card
    for earlier in ("hi, I can't sleep and everything feels heavy", "are you there?"):
        await w.bot_says(lambda m, text=earlier: m.thread_id == thread and text in relayed([m.body]))  # type: ignore[misc]
    taken = await w.bot_says(lambda m: m.message_id == card.message_id and "taken by" in m.body)
    assert taken.buttons == []
    await w.bot_says(lambda m: m.chat_id == w.person.id and "volunteer has joined" in m.body)

    mark = box.mark()
    box.send_user_message(w.person, "", attachment=Attachment.photo(png()), caption="my room")
    in_topic = await w.bot_says(lambda m: m.thread_id == thread and m.kind == "photo", since=mark)
    assert in_topic.caption == "my room"

    box.send_user_message(w.volunteer, "I'm here with you. What's keeping you up?", chat=w.staff, thread=thread)
    reply = await w.bot_says(lambda m: m.chat_id == w.person.id and "keeping you up" in m.body, since=mark)
    assert reply.thread_id is None
    box.send_user_message(w.volunteer, "", chat=w.staff, thread=thread, attachment=Attachment.photo(png(3, 3)))
    await w.bot_says(lambda m: m.chat_id == w.person.id and m.kind == "photo", since=mark)

    box.send_user_message(w.volunteer, "/end", chat=w.staff, thread=thread)
    await w.bot_says(lambda m: m.chat_id == w.person.id and "ended this conversation" in m.body, since=mark)
    for _ in range(50):
        if next(t for t in box.topics(w.staff) if t.thread_id == thread).closed:
            break
        await asyncio.sleep(0.1)
    assert next(t for t in box.topics(w.staff) if t.thread_id == thread).closed

    # Privacy: nothing logged during the whole conversation carries its words, a name, a raw id or the token.
    logged = "\n".join(r.getMessage() + " " + str(r.exc_info or "") for r in caplog.records)
    assert caplog.records  # the bridge did log (so the check below means something)
    for secret in ("can't sleep", "keeping you up", "my room", "Alex", str(w.person.id), str(w.volunteer.id), TOKEN):
        assert secret not in logged


async def test_start_privacy_and_unsupported_media_get_answers(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    box.send_user_message(w.person, "/start")
    welcome = await w.bot_says(lambda m: m.chat_id == w.person.id and "peer support" in m.body)
    assert "screened" in welcome.body
    box.send_user_message(w.person, "/privacy")
    await w.bot_says(lambda m: m.chat_id == w.person.id and "What we keep" in m.body)
    commands = [c.method for c in box.calls() if c.method.lower() == "setmycommands"]
    assert len(commands) == 5  # the person's menu (by default, and in Spanish, Portuguese, French), the staff menu


async def test_a_deleted_topic_is_recreated(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    box.send_user_message(w.person, "hello")
    thread = await w.take_first_card()
    box.delete_topic(w.staff, thread)
    mark = box.mark()
    box.send_user_message(w.person, "still there?")
    relayed = await w.bot_says(lambda m: m.chat_id == w.staff.id and m.body == "still there?", since=mark)
    assert relayed.thread_id is not None
    assert relayed.thread_id != thread
    box.send_user_message(w.volunteer, "yes, still here", chat=w.staff, thread=relayed.thread_id)
    await w.bot_says(lambda m: m.chat_id == w.person.id and m.body == "yes, still here", since=mark)


async def test_a_topic_recreated_by_another_gateway_is_used_not_recreated_again(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    box.send_user_message(w.person, "hello")
    thread = await w.take_first_card()
    box.send_user_message(w.person, "one")
    await w.bot_says(lambda m: m.thread_id == thread and "one" in relayed([m.body]))  # this bridge now knows the topic

    # Another gateway process found the topic deleted, created a new one and bound it in Redis.
    name = next(t.name for t in box.topics(w.staff) if t.thread_id == thread)
    replacement = box.create_topic(w.staff, "new").thread_id
    await bind_thread_elsewhere(w.settings, name.split(" · ")[1], Platform.TELEGRAM, replacement)
    box.delete_topic(w.staff, thread)

    mark = box.mark()
    box.send_user_message(w.person, "two")
    await w.bot_says(lambda m: m.thread_id == replacement and m.body == "two", since=mark)
    assert len(box.topics(w.staff)) == 1  # the deleted one is gone and no third was created


async def test_a_person_who_blocked_the_bot_ends_the_conversation(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    box.send_user_message(w.person, "hello")
    thread = await w.take_first_card()
    box.block_bot(w.person)
    mark = box.mark()
    box.send_user_message(w.volunteer, "how are you feeling now?", chat=w.staff, thread=thread)
    note = await w.bot_says(lambda m: m.thread_id == thread and "can no longer be reached" in m.body, since=mark)
    assert note.chat_id == w.staff.id


async def test_flood_control_429_is_honoured_then_delivered(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    box.fail_next("sendMessage", times=1, status=429, retry_after=1)
    box.send_user_message(w.person, "hello")
    await w.bot_says(lambda m: m.chat_id == w.person.id and "queue" in m.body)
    to_person = [c for c in box.calls("sendMessage") if c.chat_id == w.person.id]
    assert to_person[0].status == 429
    assert to_person[1].status == 200
    assert to_person[1].at - to_person[0].at >= 1.0  # retry_after honoured for that chat


async def test_a_restart_mid_conversation_loses_nothing(world: World) -> None:
    w, box = world, world.sandbox
    async with running_bridge(w.settings):
        box.send_user_message(w.person, "hello")
        thread = await w.take_first_card()
    box.send_user_message(w.person, "written while the bridge was down")
    async with running_bridge(w.settings):
        relayed = await w.bot_says(lambda m: m.body == "written while the bridge was down")
        assert relayed.thread_id == thread
        box.send_user_message(w.volunteer, "welcome back", chat=w.staff, thread=thread)
        await w.bot_says(lambda m: m.chat_id == w.person.id and m.body == "welcome back")


async def test_webhook_mode_checks_the_secret_and_relays_a_redelivery_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, box = world, world.sandbox
    port = w.settings.web.port
    settings = w.settings.model_copy(
        update={
            "telegram": w.settings.telegram.model_copy(
                update={
                    "mode": "webhook",
                    "webhook_url": f"http://127.0.0.1:{port}/telegram/webhook",
                    "webhook_secret": SecretStr(WEBHOOK_SECRET),
                }
            )
        }
    )
    update = {
        "update_id": 900001,
        "message": {
            "message_id": 5, "date": 1_700_000_000, "text": "hello through a webhook",
            "chat": {"id": w.person.id, "type": "private", "first_name": "Alex"},
            "from": {"id": w.person.id, "is_bot": False, "first_name": "Alex"},
        },
    }  # fmt: skip
    async with running_bridge(settings), aiohttp.ClientSession() as http:
        box.send_user_message(w.person, "/start")  # pushed by the sandbox to our webhook, with the secret
        await w.bot_says(lambda m: m.chat_id == w.person.id and "peer support" in m.body)
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        wrong = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
        assert wrong.status == 403
        for _ in range(2):  # Telegram retries a delivery it did not see answered
            ok = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
            assert ok.status == 200
        garbage = await http.post(url, data=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
        assert garbage.status == 200  # never an error for a bad update: Telegram would hold the chat back
        await w.bot_says(lambda m: m.chat_id == w.person.id and "queue" in m.body)
        await asyncio.sleep(0.5)
        assert sum("queue" in m.body for m in w.to_person()) == 1
        cards = [m for m in box.sent(chat=w.staff) if m.buttons]
        assert len(cards) == 1


async def test_a_burst_of_arrivals_leaves_room_in_the_staff_group(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    people = [box.create_user(f"P{i}") for i in range(24)]
    for person in people:
        box.send_user_message(person, "hello")
    await w.bot_says(lambda m: m.chat_id == people[-1].id and "queue" in m.body)  # person-side acks flow freely

    def group_sends() -> int:
        return len([c for c in box.calls() if c.chat_id == w.staff.id and c.status == 200])

    async with asyncio.timeout(10):
        while group_sends() < 15:  # noqa: ASYNC110 - polling the sandbox's call log
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    assert group_sends() == 15  # queue cards may use 3/4 of the group's ~20 messages a minute, no more

    card = next(m for m in box.sent(chat=w.staff) if m.buttons)
    box.press_button(w.volunteer, card, card.buttons[0][1] or "")
    opened = await w.bot_says(lambda m: m.chat_id == w.staff.id and "What they sent" in m.body)  # room was left
    assert opened.thread_id is not None


async def test_one_person_never_gets_more_than_a_message_a_second(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    box.send_user_message(w.person, "hello")
    thread = await w.take_first_card()
    for i in range(4):
        box.send_user_message(w.volunteer, f"reply {i}", chat=w.staff, thread=thread)
    await w.bot_says(lambda m: m.chat_id == w.person.id and m.body == "reply 3", within=15)
    sends = sorted(c.at for c in box.calls("sendMessage") if c.chat_id == w.person.id and c.status == 200)
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert min(gaps) >= 0.95


async def test_voice_notes_documents_and_stickers_reach_the_volunteer(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    box.send_user_message(w.person, "hello")
    thread = await w.take_first_card()
    box.send_user_message(w.person, attachment=Attachment.voice(b"OggS-voice-note", duration=3))
    box.send_user_message(w.person, attachment=Attachment.document(b"%PDF-1.4 letter", "letter.pdf"), caption="read")
    box.send_user_message(w.person, attachment=Attachment.sticker())
    for kind in ("voice", "document", "sticker"):
        await w.bot_says(lambda m, k=kind: m.thread_id == thread and m.kind == k)  # type: ignore[misc]


async def test_webhook_answers_503_while_redis_is_down_and_loses_nothing(world: World, tmp_path: Path) -> None:
    w, box = world, world.sandbox
    own_redis = EmbeddedRedis(data_dir=tmp_path / "own-redis", persistent=True)
    own_redis.start()
    port = w.settings.web.port
    telegram = w.settings.telegram.model_copy(
        update={"mode": "webhook", "webhook_url": f"http://127.0.0.1:{port}/telegram/webhook",
                "webhook_secret": SecretStr(WEBHOOK_SECRET)}
    )  # fmt: skip
    redis = w.settings.redis.model_copy(update={"url": own_redis.url, "socket_timeout": 1.0})
    settings = w.settings.model_copy(update={"telegram": telegram, "redis": redis})
    update = {
        "update_id": 777001,
        "message": {
            "message_id": 9, "date": 1_700_000_000, "text": "anyone there?",
            "chat": {"id": w.person.id, "type": "private", "first_name": "Alex"},
            "from": {"id": w.person.id, "is_bot": False, "first_name": "Alex"},
        },
    }  # fmt: skip
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    try:
        async with running_bridge(settings), aiohttp.ClientSession() as http:
            box.send_user_message(w.person, "/start")
            await w.bot_says(lambda m: m.chat_id == w.person.id and "peer support" in m.body)
            own_redis.kill()
            started = asyncio.get_running_loop().time()
            down = await http.post(url, json=update, headers=headers)
            assert down.status == 503
            assert down.headers["Retry-After"] == "5"
            assert asyncio.get_running_loop().time() - started < 5  # fails fast, never the ~60 s default
            own_redis.start()
            up = await http.post(url, json=update, headers=headers)  # Telegram's retry
            assert up.status == 200
            await w.bot_says(lambda m: m.chat_id == w.person.id and "queue" in m.body, within=15)
    finally:
        own_redis.stop()


async def test_dashboard_link_is_sent_privately_and_never_in_the_group(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    box.send_user_message(w.volunteer, "/start")  # a bot can only write to someone who started it
    await w.bot_says(lambda m: m.chat_id == w.volunteer.id and "peer support" in m.body)
    box.send_user_message(w.volunteer, "/dashboard", chat=w.staff)
    link = await w.bot_says(lambda m: m.chat_id == w.volunteer.id and "sign-in link" in m.body)
    assert f":{w.settings.web.port}/dashboard" in link.body
    said = await w.bot_says(lambda m: m.chat_id == w.staff.id and "private sign-in link" in m.body)
    assert "http" not in said.body
    assert not [m for m in box.sent(chat=w.staff) if "/dashboard/" in m.body]  # never in the group


async def test_a_batch_from_two_people_keeps_each_persons_order(world: World) -> None:
    """Updates of one getUpdates batch are stored concurrently per chat; each person's order must hold."""
    other = world.sandbox.create_user("Bo", language_code="en")
    for n in range(8):  # written before the bridge polls, so they come in one batch
        world.sandbox.send_user_message(world.person, f"first person {n}")
        world.sandbox.send_user_message(other, f"second person {n}")
    async with running_bridge(world.settings):
        topic = await world.take_first_card()
        last = await world.bot_says(lambda m: m.thread_id == topic and m.body.endswith(" 7"))
        prefix = last.body.rsplit(" ", 1)[0]
        shown = [m.body for m in world.sandbox.sent() if m.thread_id == topic and " person " in m.body]
        assert shown == [f"{prefix} {n}" for n in range(8)]


async def test_only_the_volunteer_speaks_to_the_person_a_supervisors_words_stay_with_staff(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    supervisor = box.create_user("Sam")
    box.add_members(w.staff, supervisor)
    box.send_user_message(w.person, "I haven't slept in days")
    thread = await w.take_first_card()
    await w.bot_says(lambda m: m.chat_id == w.person.id and "volunteer has joined" in m.body)
    mark = box.mark()
    box.send_user_message(supervisor, "ask about sleep and whether they are safe tonight", chat=w.staff, thread=thread)
    box.send_user_message(supervisor, "and who is at home", chat=w.staff, thread=thread)
    box.send_user_message(w.volunteer, "How have you been sleeping?", chat=w.staff, thread=thread)
    await w.bot_says(lambda m: m.chat_id == w.person.id and "sleeping" in m.body, since=mark)
    told = await w.bot_says(lambda m: m.thread_id == thread and "who holds this conversation" in m.body, since=mark)
    assert "Your message stayed here with staff (a whisper)" in told.body
    await asyncio.sleep(0.5)  # room for anything else that might (wrongly) follow
    assert [m.body for m in w.to_person(since=mark)] == ["How have you been sleeping?"]
    notices = [m for m in box.sent(since=mark) if m.thread_id == thread and "who holds this" in m.body]
    assert len(notices) == 1  # told once, not at every message


async def test_a_stale_take_is_answered_at_once_on_the_button_itself(bridge: World) -> None:
    """In a busy hour a card can still show someone taken a minute ago; the presser learns it straight away,
    from the press's own answer, not from a lobby message that waits for the group's turn."""
    w, box = bridge, bridge.sandbox
    colleague = box.create_user("Cat")
    box.add_members(w.staff, colleague)
    box.send_user_message(w.person, "hello")
    card = await w.bot_says(lambda m: m.chat_id == w.staff.id and bool(m.buttons) and "waiting" in m.body)
    first = box.press_button(w.volunteer, card, card.buttons[0][1] or "")
    assert (await box.wait_for_answer(first)).answer_text is None  # taken: the topic opens, nothing to say
    await w.bot_says(lambda m: m.chat_id == w.staff.id and "What they sent" in m.body)
    late = box.press_button(colleague, card, card.buttons[0][1] or "")  # the card as it was a moment ago
    answered = await box.wait_for_answer(late)
    assert answered.answer_text is not None
    assert answered.answer_text.startswith("Someone else has already taken")
    assert "Alex" not in answered.answer_text  # the nickname, never the person's name


async def test_a_volunteer_escalates_with_the_button_in_the_topic(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    # Nothing the detector reads as risk (rules or model); the volunteer hears it in what came before.
    box.send_user_message(w.person, "sorted out my room today and called a few old friends")
    thread = await w.take_first_card()
    taken = await w.bot_says(lambda m: m.thread_id == thread and any(label == "Escalate" for label, _ in m.buttons))
    box.press_button(w.volunteer, taken, next(data for label, data in taken.buttons if label == "Escalate") or "")
    alert = await w.bot_says(lambda m: m.chat_id == w.alerts.id and "raised by staff" in m.body)
    assert [label for label, _data in alert.buttons] == ["Acknowledge", "Take over", "False alarm"]
    await w.bot_says(lambda m: m.thread_id == thread and "escalated this conversation (high)" in m.body)
    assert not [m for m in w.to_person() if "RISK" in m.body]  # the alert is for staff only


async def test_chatid_in_any_group_gives_the_numbers_the_settings_and_the_rota_need(bridge: World) -> None:
    w, box = bridge, bridge.sandbox
    newcomer = box.create_user("Nia")
    fresh = box.create_group("Not configured yet", members=[newcomer])
    box.send_user_message(newcomer, "/chatid", chat=fresh)
    said = await w.bot_says(lambda m: m.chat_id == fresh.id)
    assert f"This group's id: {fresh.id}" in said.body
    assert f"telegram = {newcomer.id} in the rota" in said.body
    box.send_user_message(w.volunteer, "/chatid", chat=w.staff)  # in the staff forum too, and nothing else happens
    await w.bot_says(lambda m: m.chat_id == w.staff.id and f"This group's id: {w.staff.id}" in m.body)
