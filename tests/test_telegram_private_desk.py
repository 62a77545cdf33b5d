"""Volunteers working in their private chat with the bot (staff.workspace = "private"), end to end through the
real python-telegram-bot against the Telegram sandbox (its limits on) and real Redis.

The forum group's ~20 messages a minute do not carry ten people chatting; a private chat has its own budget. Each
test checks what the person, the volunteer and a supervisor would see.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.check_config import check
from bot.embedded_redis import EmbeddedRedis
from bot.settings import Settings
from routing.store.connection import RedisOptions, connect
from sandboxes.telegram import Chat, Message, TelegramSandbox, User
from tests.bridge_fixtures import relayed, running_bridge, telegram_bridge_settings

pytest_plugins = ["tests.telegram_fixtures"]


@dataclass
class Desk:
    sandbox: TelegramSandbox
    first: User
    second: User
    volunteer: User
    supervisor: User
    staff: Chat
    alerts: Chat
    settings: Settings

    async def says(self, predicate: Callable[[Message], bool], since: int = 0, within: float = 8.0) -> Message:
        return await self.sandbox.wait_for(predicate, timeout=within, since=since)

    def to(self, user: User, since: int = 0) -> list[str]:
        return [m.body for m in self.sandbox.sent(since=since) if m.chat_id == user.id]

    async def take_from_lobby(self) -> None:
        """The volunteer presses Take on the newest queue card in the forum's General topic."""
        card = await self.says(lambda m: m.chat_id == self.staff.id and bool(m.buttons) and "waiting" in m.body)
        self.sandbox.press_button(self.volunteer, card, card.buttons[0][1] or "")


@pytest.fixture
async def desk(sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis) -> AsyncIterator[Desk]:
    client = connect(RedisOptions(url=redis_server.url))
    await client.flushall()
    await client.aclose()
    # Their apps name their country (en-GB), so nobody is asked which country they are in: the tests below count
    # every message each person receives.
    first = sandbox.create_user("Alex", language_code="en-GB")
    second = sandbox.create_user("Bo", language_code="en-GB")
    volunteer = sandbox.create_user("Vee")
    supervisor = sandbox.create_user("Sam")
    staff = sandbox.create_forum_group("Volunteers", members=[volunteer, supervisor])
    alerts = sandbox.create_group("On call", members=[supervisor])
    (tmp_path / "rota.toml").write_text(
        f'[[staff]]\nid = "vee"\nname = "Vee"\ntelegram = {volunteer.id}\n'
        f'[[staff]]\nid = "sam"\nname = "Sam"\nroles = ["supervisor"]\ntelegram = {supervisor.id}\n'
    )
    settings = telegram_bridge_settings(
        tmp_path, redis_server.url, sandbox, staff.id, alerts.id, staff={"workspace": "private"}
    )
    world = Desk(sandbox, first, second, volunteer, supervisor, staff, alerts, settings)
    async with running_bridge(settings):
        sandbox.send_user_message(volunteer, "/start")  # a bot may only write to someone who started it
        await world.says(lambda m: m.chat_id == volunteer.id and "private desk" in m.body)
        yield world


async def test_a_volunteer_serves_a_person_from_their_private_chat(desk: Desk) -> None:
    box = desk.sandbox
    box.send_user_message(desk.first, "hi, everything feels heavy tonight")
    await desk.take_from_lobby()
    relay = await desk.says(lambda m: m.chat_id == desk.volunteer.id and "everything feels heavy" in m.body)
    part = next(p for p in relayed([relay.body]) if "everything feels heavy" in p)  # may come merged
    pseudonym = part.split(":")[0]
    assert part == f"{pseudonym}: hi, everything feels heavy tonight"  # named by nickname, never the name
    assert "Alex" not in relay.body
    await desk.says(lambda m: m.chat_id == desk.first.id and "volunteer has joined" in m.body)

    mark = box.mark()
    box.send_user_message(desk.volunteer, "I'm here. What's been weighing on you?")
    await desk.says(lambda m: m.chat_id == desk.first.id and "weighing on you" in m.body, since=mark)
    box.send_user_message(desk.first, "work, mostly")
    await desk.says(lambda m: m.chat_id == desk.volunteer.id and f"{pseudonym}: work, mostly" in relayed([m.body]),
                    since=mark)  # fmt: skip
    # The forum keeps the record: the person's words reach the conversation's topic too.
    copy = await desk.says(lambda m: m.chat_id == desk.staff.id and "work, mostly" in relayed([m.body]), within=15)
    assert copy.thread_id is not None
    assert desk.to(desk.first, since=mark) == ["I'm here. What's been weighing on you?"]


async def test_holding_two_people_a_reply_picks_the_person_and_a_bare_message_goes_nowhere(desk: Desk) -> None:
    box = desk.sandbox
    box.send_user_message(desk.first, "first person here")
    await desk.take_from_lobby()
    await desk.says(lambda m: m.chat_id == desk.volunteer.id and "first person here" in m.body)
    box.send_user_message(desk.second, "second person here")
    await desk.says(lambda m: m.chat_id == desk.second.id and "queue" in m.body)
    box.send_user_message(desk.volunteer, "/next")
    second_relay = await desk.says(lambda m: m.chat_id == desk.volunteer.id and "second person here" in m.body)
    await desk.says(lambda m: m.chat_id == desk.second.id and "volunteer has joined" in m.body)

    mark = box.mark()
    box.send_user_message(desk.volunteer, "how are you doing?")
    which = await desk.says(lambda m: m.chat_id == desk.volunteer.id and "Nothing was sent" in m.body, since=mark)
    second_part = next(p for p in relayed([second_relay.body]) if "second person here" in p)
    assert second_part.split(":")[0] in which.body  # names the people held, by nickname

    box.send_user_message(desk.volunteer, "thanks for waiting, I'm with you", reply_to=second_relay)
    await desk.says(lambda m: m.chat_id == desk.second.id and "I'm with you" in m.body, since=mark)
    await asyncio.sleep(0.5)  # room for anything that might (wrongly) follow
    assert desk.to(desk.first, since=mark) == []
    assert desk.to(desk.second, since=mark) == ["thanks for waiting, I'm with you"]


async def test_hand_off_in_the_private_chat_returns_that_person_to_the_queue(desk: Desk) -> None:
    box = desk.sandbox
    box.send_user_message(desk.first, "can we talk")
    await desk.take_from_lobby()
    taken = await desk.says(
        lambda m: m.chat_id == desk.volunteer.id and bool(m.buttons) and "Hand off" in str(m.buttons)
    )
    mark = box.mark()
    box.press_button(desk.volunteer, taken, taken.buttons[0][1] or "")
    await desk.says(lambda m: m.chat_id == desk.first.id and "back in the queue" in m.body, since=mark)
    await desk.says(lambda m: m.chat_id == desk.volunteer.id and "Released back to the queue" in m.body, since=mark)
    card = await desk.says(lambda m: m.chat_id == desk.staff.id and "Take" in str(m.buttons), since=mark, within=15)
    assert card.thread_id is None  # waiting again, in the lobby


async def test_a_supervisors_words_in_the_topic_reach_the_volunteer_never_the_person(desk: Desk) -> None:
    box = desk.sandbox
    box.send_user_message(desk.first, "I haven't slept in days")
    await desk.take_from_lobby()
    await desk.says(lambda m: m.chat_id == desk.volunteer.id and "slept in days" in m.body)
    await desk.says(lambda m: m.chat_id == desk.first.id and "volunteer has joined" in m.body)
    copy = await desk.says(
        lambda m: m.chat_id == desk.staff.id and any("slept in days" in part for part in relayed([m.body])), within=15
    )
    mark = box.mark()
    box.send_user_message(desk.supervisor, "ask about sleep and whether they are safe tonight", chat=desk.staff,
                          thread=copy.thread_id)  # fmt: skip
    whisper = await desk.says(lambda m: m.chat_id == desk.volunteer.id and "ask about sleep" in m.body, since=mark)
    assert "Sam (staff only, not sent to the person)" in whisper.body
    await asyncio.sleep(0.5)
    assert desk.to(desk.first, since=mark) == []


async def test_a_risk_message_reaches_the_volunteers_private_chat_with_the_alert(desk: Desk) -> None:
    box = desk.sandbox
    box.send_user_message(desk.first, "hi")
    await desk.take_from_lobby()
    await desk.says(lambda m: m.chat_id == desk.volunteer.id and any(p.endswith(": hi") for p in relayed([m.body])))
    mark = box.mark()
    box.send_user_message(desk.first, "I have the pills in front of me and I'm going to take them all tonight")
    await desk.says(lambda m: m.chat_id == desk.volunteer.id and "pills in front of me" in m.body, since=mark)
    await desk.says(lambda m: m.chat_id == desk.alerts.id, since=mark)
    alert = await desk.says(lambda m: m.chat_id == desk.volunteer.id and "flagged" in m.body, since=mark)
    notice = next(p for p in relayed([alert.body]) if "flagged" in p)
    assert notice.startswith("[")  # a notice about the person, named by nickname


async def test_someone_the_rota_does_not_know_is_still_a_person_in_a_private_chat(desk: Desk) -> None:
    box = desk.sandbox
    stranger = box.create_user("Kit", language_code="en")
    box.send_user_message(stranger, "/next")  # not a volunteer: a command a person does not have, relayed as text
    await desk.says(lambda m: m.chat_id == stranger.id and "queue" in m.body)


def test_check_config_refuses_a_private_workspace_without_volunteers_telegram_accounts(tmp_path: Path) -> None:
    (tmp_path / "rota.toml").write_text('[[staff]]\nid = "vee"\nname = "Vee"\ndiscord = 1234\n')
    config = tmp_path / "peerbridge.toml"
    config.write_text(
        '[telegram]\nenabled = true\n[staff]\nvolunteer_chat = "-1001"\nescalation_chat = "-1002"\n'
        'workspace = "private"\n[rota]\nfile = "rota.toml"\n'
    )
    _settings, problems = check(config)
    assert any("names none" in p for p in problems), problems
