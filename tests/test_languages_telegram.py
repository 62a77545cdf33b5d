"""A person on Telegram, in their own language: through the real python-telegram-bot, the Telegram sandbox and
real Redis. Telegram sends each user's app language (`language_code`) with every message."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram import Bot, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot import shipped
from bot.embedded_redis import EmbeddedRedis
from bot.services import load_resources
from bot.settings import Settings
from routing import texts
from sandboxes.telegram import Chat, Message, TelegramSandbox, User
from tests.bridge_fixtures import running_bridge, telegram_bridge_settings

pytest_plugins = ["tests.telegram_fixtures"]
pytestmark = pytest.mark.timeout(40)


@pytest.fixture
async def staff(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> AsyncIterator[tuple[User, Chat]]:
    """A running bridge with one volunteer in the volunteers' forum group: (the volunteer, the group)."""
    volunteer, staff, settings = await _set_up(sandbox, tmp_path, redis_server)
    async with running_bridge(settings):
        yield volunteer, staff


async def _set_up(sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis) -> tuple[User, Chat, Settings]:
    """An empty Redis, a volunteer in the volunteers' forum group and the on-call group, the bridge's settings."""
    from routing.store.connection import RedisOptions, connect

    client = connect(RedisOptions(url=redis_server.url))
    await client.flushall()
    await client.aclose()
    volunteer = sandbox.create_user("Vee")
    staff = sandbox.create_forum_group("Volunteers", members=[volunteer])
    alerts = sandbox.create_group("On call", members=[volunteer])
    return volunteer, staff, telegram_bridge_settings(tmp_path, redis_server.url, sandbox, staff.id, alerts.id)


async def test_a_spanish_speaker_from_mexico_reads_every_text_in_spanish(
    sandbox: TelegramSandbox, staff: tuple[User, Chat]
) -> None:
    box, (volunteer, group) = sandbox, staff
    person = box.create_user("Lucía", language_code="es-MX")

    async def to_person(text: str, since: int = 0) -> Message:
        return await box.wait_for(lambda m: m.chat_id == person.id and text in m.body, timeout=8, since=since)

    box.send_user_message(person, "hola, no puedo dormir")
    ack = await to_person(texts.say("es", texts.QUEUED, position=1)[:60])
    assert texts.say("es", texts.TOPIC_QUESTION) in ack.body
    assert texts.say("es", texts.SKIP) in [label for label, _ in ack.buttons]
    assert texts.say("es", texts.LANGUAGE_CHOOSE) not in ack.body  # Telegram told us: no need to ask

    mark = box.mark()
    box.send_user_message(person, "/privacy")
    await to_person(texts.translate("es", texts.PRIVACY)[:40], since=mark)

    card = await box.wait_for(lambda m: m.chat_id == group.id and bool(m.buttons) and "waiting" in m.body, timeout=8)
    box.press_button(volunteer, card, card.buttons[0][1] or "")
    await to_person(texts.say("es", texts.CONNECTED), since=mark)
    opened = await box.wait_for(lambda m: m.chat_id == group.id and "What they sent" in m.body, timeout=8)
    box.send_user_message(volunteer, "/end", chat=group, thread=opened.thread_id)
    await to_person(texts.say("es", texts.ENDED_BY_VOLUNTEER)[:50], since=mark)
    feedback = await to_person(texts.say("es", texts.FEEDBACK_QUESTION), since=mark)
    assert [label for label, _ in feedback.buttons] == [texts.say("es", texts.FEEDBACK_BETTER),
        texts.say("es", texts.FEEDBACK_SAME), texts.say("es", texts.FEEDBACK_WORSE)]  # fmt: skip

    # At risk, Mexico's lines (from the region of the app's language), in Spanish.
    box.send_user_message(person, "ya no aguanto más, tengo las pastillas aquí y me las voy a tomar esta noche")
    mexico = load_resources(shipped.CRISIS_RESOURCES)
    await to_person(mexico.text("es", mexico.countries["MX"]), since=mark)

    # /language switches for this and later conversations; /forget erases the choice with everything else.
    mark = box.mark()
    box.send_user_message(person, "/language fr")
    await to_person(texts.say("fr", texts.LANGUAGE_SET), since=mark)
    box.send_user_message(person, "/forget")
    await to_person(texts.say("fr", texts.FORGET_CONFIRM)[:40], since=mark)
    box.send_user_message(person, "/forget oui")
    done = await to_person(
        texts.say("fr", texts.FORGOTTEN, conversations="", messages="", escalations="")[:8], since=mark
    )
    assert texts.count("fr", texts.CONVERSATIONS, 2) in done.body  # the first, and the one at risk
    mark = box.mark()
    box.send_user_message(person, "/privacy")  # the French choice is gone: their app's Spanish again
    await to_person(texts.translate("es", texts.PRIVACY)[:40], since=mark)


async def test_the_command_menu_is_published_in_each_language(bot: Bot, staff: tuple[User, Chat]) -> None:
    """The bridge published its menus while starting (the `staff` fixture runs it); Telegram shows each person
    the one for their app's language."""
    scope = BotCommandScopeAllPrivateChats()
    for _ in range(100):  # published once the adapter has started
        if await bot.get_my_commands(scope=scope, language_code="fr"):
            break
        await asyncio.sleep(0.05)
    for lang in ("es", "pt", "fr"):
        menu = {c.command: c.description for c in await bot.get_my_commands(scope=scope, language_code=lang)}
        assert menu["privacy"] == texts.translate(lang, texts.COMMAND_PRIVACY)
        assert menu["language"] == texts.translate(lang, texts.COMMAND_LANGUAGE)
    default = {c.command: c.description for c in await bot.get_my_commands(scope=scope)}
    assert default["privacy"] == texts.COMMAND_PRIVACY  # anyone whose language we have no catalogue for


async def test_a_french_person_out_of_hours_reads_when_volunteers_are_back_in_french_time(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> None:
    volunteer, _staff, settings = await _set_up(sandbox, tmp_path, redis_server)
    opens = (datetime.now(UTC) + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    (tmp_path / "rota.toml").write_text(  # the only shift is the day after tomorrow: closed now
        f'timezone = "UTC"\n[[staff]]\nid = "vee"\nname = "Vee"\ntelegram = {volunteer.id}\n'
        f'[[shift]]\nvolunteer = "vee"\nday = "{opens.strftime("%a").lower()}"\ntime = "09:00-10:00"\n'
    )
    person = sandbox.create_user("Camille", language_code="fr-FR")
    async with running_bridge(settings):  # the rota file is read at the first start
        sandbox.send_user_message(person, "bonsoir, il y a quelqu'un ?")
        closed = texts.say("fr", texts.OUT_OF_HOURS, next_open="")[:40]
        reply = await sandbox.wait_for(lambda m: m.chat_id == person.id and closed in m.body, timeout=8)
    paris = opens.astimezone(ZoneInfo("Europe/Paris"))
    assert f"{paris:%H:%M} (heure" in reply.body and "UTC" not in reply.body  # Paris time, the zone named


async def test_staff_read_the_organisations_language_while_the_person_keeps_their_own(
    sandbox: TelegramSandbox, bot: Bot, tmp_path: Path, redis_server: EmbeddedRedis
) -> None:
    """`staff.language = "es"`: the card, its button, the topic's notes, the on-call alert and the volunteers'
    command menu are Spanish; the person, whose app is English, reads English."""
    volunteer, group, settings = await _set_up(sandbox, tmp_path, redis_server)
    settings = settings.model_copy(update={"staff": settings.staff.model_copy(update={"language": "es"})})
    es = functools.partial(texts.translate, "es")
    person = sandbox.create_user("Sam", language_code="en-GB")
    async with running_bridge(settings):
        sandbox.send_user_message(person, "hi, rough night")
        await sandbox.wait_for(lambda m: m.chat_id == person.id and texts.say("en", texts.QUEUED, position=1)[:50]
                               in m.body, timeout=8)  # fmt: skip
        waiting = es(texts.CARD).split("{pseudonym}")[1].split("{tier}")[0]  # " espera · riesgo: " or the like
        card = await sandbox.wait_for(lambda m: m.chat_id == group.id and waiting in m.body, timeout=8)
        assert [label for label, _ in card.buttons] == [es(texts.BUTTON_TAKE), es(texts.BUTTON_ESCALATE)]
        sandbox.press_button(volunteer, card, card.buttons[0][1] or "")
        opened_words = es(texts.THREAD_OPENED).split("{tier}")[1].strip(" ).")[:20]
        opened = await sandbox.wait_for(lambda m: m.chat_id == group.id and opened_words in m.body, timeout=8)
        assert "What they sent" not in opened.body

        mark = sandbox.mark()
        sandbox.send_user_message(volunteer, "/note prefers short messages", chat=group, thread=opened.thread_id)
        saved = es(texts.NOTE_SAVED).split("{note}")[0]
        await sandbox.wait_for(lambda m: m.chat_id == group.id and saved in m.body, since=mark, timeout=8)
        sandbox.send_user_message(person, "i have the pills here and i'm going to take them all tonight")
        alert = await sandbox.wait_for(lambda m: "RISK" in m.body or "RIESGO" in m.body, since=mark, timeout=8)
        assert [label for label, _ in alert.buttons] == [
            es(texts.BUTTON_ACKNOWLEDGE), es(texts.BUTTON_TAKE_OVER), es(texts.BUTTON_FALSE_ALARM)]  # fmt: skip
        acknowledge = es(texts.ESCALATION_ALERT).split("\n")[-1].split("{escalation}")[0]
        assert acknowledge.split("{at}")[1] in alert.body  # "UTC. Confirma con el botón o /ack " or the like
        helped = await sandbox.wait_for(lambda m: m.chat_id == person.id and "Please stay here" in m.body,
                                        since=mark, timeout=8)  # fmt: skip
        assert helped.body.startswith(texts.RESOURCES_INTRO)  # the person's own language: English

        menu = {c.command: c.description for c in await bot.get_my_commands(scope=BotCommandScopeChat(group.id))}
        assert menu["next"] == es(texts.STAFF_COMMAND_HELP["next"]) != texts.STAFF_COMMAND_HELP["next"]
        assert menu["escalate"] == es(texts.STAFF_COMMAND_HELP["escalate"])
