"""Security: every impersonation we can think of is ignored, and bad webhook bodies get a defined answer.

The bridge runs in webhook mode in the test's loop against the Telegram sandbox and real Redis. Updates a real
Telegram could deliver are produced by the sandbox; the rest are posted to the webhook as Telegram would post
them (with the right secret: the secret itself is checked in
`test_telegram_e2e.py::test_webhook_mode_checks_the_secret_and_relays_a_redelivery_once`).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.embedded_redis import EmbeddedRedis, free_port
from routing.store import keys
from sandboxes.telegram import Chat, Message, TelegramSandbox, User
from tests.bridge_fixtures import bridge_settings, running_bridge

pytest_plugins = ["tests.telegram_fixtures"]

TOKEN = "123456:sandbox-test-token"
SECRET = "security-test-webhook-secret"
_update_ids = iter(range(5_000_000, 6_000_000))


@dataclass
class World:
    box: TelegramSandbox
    redis: Redis
    http: aiohttp.ClientSession
    url: str
    person: User
    volunteer: User
    staff: Chat
    card: Message  # the waiting person's queue card in the staff chat

    async def post(self, body: bytes | dict[str, Any]) -> int:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        async with self.http.post(self.url, data=data, headers=headers) as answer:
            return answer.status

    async def states(self) -> dict[str, str]:
        """Conversation id -> state, straight from Redis."""
        found: dict[str, str] = {}
        async for key in self.redis.scan_iter(match=keys.CONVERSATION_PREFIX + "c-*"):
            name = key.decode().removeprefix(keys.CONVERSATION_PREFIX)
            if ":" not in name:
                found[name] = (await self.redis.hget(key, "state") or b"").decode()
        return found

    async def nobody_was_taken(self) -> None:
        """After a moment: still waiting, no topic opened for anyone, the person was not told of a volunteer."""
        await self.box.settle(1.5)
        assert set((await self.states()).values()) <= {"waiting"}
        assert not [m for m in self.box.sent(chat=self.staff) if "What they sent" in m.body]
        assert not self.box.topics(self.staff)

    async def volunteer_takes(self) -> None:
        """The positive control: the real volunteer can take the person, so the checks above can fail."""
        self.box.send_user_message(self.volunteer, "/next", chat=self.staff)
        await self.box.wait_for(lambda m: m.chat_id == self.staff.id and "What they sent" in m.body, timeout=8)
        assert set((await self.states()).values()) == {"active"}


def _message(chat: dict[str, Any], sender: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "message": {"message_id": 77, "date": int(time.time()), "chat": chat, "from": sender, "text": text},
    }


def _press(chat: dict[str, Any], sender: dict[str, Any], data: str, bot_id: int) -> dict[str, Any]:
    bot = {"id": bot_id, "is_bot": True, "first_name": "Bridge"}
    on = {"message_id": 1, "date": int(time.time()), "chat": chat, "from": bot, "text": "card"}
    query = {"id": f"q{next(_update_ids)}", "from": sender, "chat_instance": "1", "message": on, "data": data}
    return {"update_id": next(_update_ids), "callback_query": query}


@pytest.fixture
async def world(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis, redis: Redis
) -> AsyncIterator[World]:
    person = sandbox.create_user("Alex", language_code="en")
    volunteer = sandbox.create_user("Vee")
    staff = sandbox.create_forum_group("Volunteers", members=[volunteer])
    alerts = sandbox.create_group("On call", members=[volunteer])
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    settings = bridge_settings(
        tmp_path, redis_server.url, web={"port": port},
        staff={"platform": "telegram", "volunteer_chat": str(staff.id), "escalation_chat": str(alerts.id)},
        telegram={"enabled": True, "token": TOKEN, "api_url": sandbox.url, "mode": "webhook", "webhook_url": url,
                  "webhook_secret": SECRET},
    )  # fmt: skip
    async with running_bridge(settings), aiohttp.ClientSession() as http:
        sandbox.send_user_message(person, "hello")
        card = await sandbox.wait_for(lambda m: m.chat_id == staff.id and bool(m.buttons), timeout=8)
        yield World(sandbox, redis, http, url, person, volunteer, staff, card)


def _staff_chat(w: World) -> dict[str, Any]:
    return {"id": w.staff.id, "type": "supergroup", "title": "Volunteers", "is_forum": True}


async def test_a_bot_in_the_volunteer_chat_is_ignored(world: World) -> None:
    w = world
    intruder = {"id": 31337, "is_bot": True, "first_name": "Helpful bot"}
    assert await w.post(_message(_staff_chat(w), intruder, "/next")) == 200
    take = w.card.buttons[0][1] or ""
    assert await w.post(_press(_staff_chat(w), intruder, take, w.box.bot().id)) == 200
    await w.nobody_was_taken()
    await w.volunteer_takes()


async def test_a_person_cannot_use_staff_commands_from_their_private_chat(world: World) -> None:
    w = world
    (conv,) = await w.states()
    for command in ("/next", f"/take {conv}", "/on", "/ack e-1", "/takeover e-1"):
        w.box.send_user_message(w.person, command)
    private = {"id": w.person.id, "type": "private", "first_name": "Alex"}
    sender = {"id": w.person.id, "is_bot": False, "first_name": "Alex"}
    assert await w.post(_press(private, sender, f"take {conv}", w.box.bot().id)) == 200  # forged button data
    mark = w.box.mark()
    await w.nobody_was_taken()
    assert not await w.redis.smembers(keys.ON_DUTY)  # "/on" did not put anyone on duty either
    assert not [m for m in w.box.sent(chat=w.person.id, since=mark) if "volunteer" in m.body.lower()]
    await w.volunteer_takes()


async def test_a_message_from_an_unknown_group_is_ignored(world: World) -> None:
    w = world
    other = w.box.create_group("Some other group", members=[w.volunteer, w.person])
    before = await w.redis.xlen(keys.INBOUND)
    w.box.send_user_message(w.volunteer, "/next", chat=other)
    w.box.send_user_message(w.person, "hello from elsewhere", chat=other)
    sender = {"id": w.volunteer.id, "is_bot": False, "first_name": "Vee"}
    chat = {"id": other.id, "type": "supergroup", "title": "Some other group"}
    assert await w.post(_press(chat, sender, w.card.buttons[0][1] or "", w.box.bot().id)) == 200
    await w.nobody_was_taken()
    assert await w.redis.xlen(keys.INBOUND) == before  # not even stored
    assert not w.box.sent(chat=other)
    await w.volunteer_takes()


async def test_bad_webhook_bodies_get_a_defined_answer_and_the_service_stays_up(world: World) -> None:
    w = world
    sam = w.box.create_user("Sam")
    w.box.send_user_message(sam, "hi\x00\x07\x1b[31m\u202e\ufeff\U0001f600 there")  # pushed to the webhook
    await w.box.wait_for(lambda m: m.chat_id == sam.id and "queue" in m.body)  # control characters: relayed
    sender = {"id": sam.id, "is_bot": False, "first_name": "Sam"}
    private = {"id": sam.id, "type": "private", "first_name": "Sam"}
    nested: Any = {}
    for _ in range(200):  # deep but parseable: unknown fields travel in PTB's api_kwargs
        nested = {"x": nested}
    deep_but_fine = {**_message(private, sender, "nested"), "future_field": nested}
    stored = await w.redis.xlen(keys.INBOUND)
    answers = {
        "invalid UTF-8": await w.post(b'{"update_id": 1, "message": {"text": "\xff\xfe\xc3("}}'),
        "not an object": await w.post(b"[1, 2, 3]"),
        "not an update": await w.post({"update_id": "seven", "message": 5}),
        "nested 200 deep": await w.post(deep_but_fine),
        "nested 100,000 deep": await w.post(b'{"update_id": 9, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    }
    async with w.http.get(w.url.replace("/telegram/webhook", "/healthz")) as health:
        alive = health.status
    dead = [f[b"reason"].decode() for _id, f in await w.redis.xrange(keys.DEAD_LETTER)]
    print(f"\nbad webhook bodies: answers {answers}; dead-lettered {dead}; /healthz {alive}")
    assert alive == 200
    assert any("malformed telegram update" in r for r in dead)  # "not an update" was set aside, not dropped
    assert await w.redis.xlen(keys.INBOUND) == stored + 1  # the deep-but-valid update was stored
    assert answers == dict.fromkeys(answers, 200), (
        "every bad body must be answered 200 (an error makes Telegram hold the chat back for a day); "
        "bot/web.py telegram_webhook: json.loads raises RecursionError on deep nesting, which is not caught"
    )
