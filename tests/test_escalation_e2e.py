"""Escalation end to end through the real python-telegram-bot against the sandbox and real Redis."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.pager import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from bot.settings import Settings
from tests.bridge_fixtures import relayed, running_bridge
from tests.test_telegram_e2e import World, world  # noqa: F401 - the fixture is used by name

pytest_plugins = ["tests.telegram_fixtures"]

RISK = "I want to kill myself tonight"
PAGER_SECRET = "pager-secret-for-tests"


def with_escalation(settings: Settings, **values: object) -> Settings:
    escalation = settings.escalation.model_copy(update=values)
    return settings.model_copy(update={"escalation": escalation})


@asynccontextmanager
async def pager_receiver() -> AsyncIterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/page", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/page", received
    finally:
        await runner.cleanup()


async def test_risk_sends_resources_alerts_with_a_button_and_jumps_the_queue(world: World) -> None:  # noqa: F811
    w, box = world, world.sandbox
    other = box.create_user("Sam")
    async with running_bridge(w.settings):
        box.send_user_message(other, "hello, just a rough week")
        await w.bot_says(lambda m: m.chat_id == other.id and "number 1" in m.body)
        box.send_user_message(w.person, RISK)
        resources = await w.bot_says(lambda m: m.chat_id == w.person.id and "emergency" in m.body)
        assert "being brought in" in resources.body  # a person will be with them: never "refer and end"
        alert = await w.bot_says(lambda m: m.chat_id == w.alerts.id and "RISK" in m.body)
        assert alert.buttons[0][0] == "Acknowledge"
        assert RISK not in alert.body  # what matched, in words; never the message itself unless include_text
        assert "Alex" not in alert.body

        box.send_user_message(w.volunteer, "/next", chat=w.staff)
        opened = await w.bot_says(lambda m: m.chat_id == w.staff.id and "What they sent" in m.body)
        assert "risk: imminent" in opened.body or "risk: high" in opened.body  # the person at risk came first
        await w.bot_says(lambda m: m.thread_id == opened.thread_id and RISK in relayed([m.body]))


async def test_resources_follow_the_persons_country_in_their_language(world: World) -> None:  # noqa: F811
    """Spain's 024 for someone in Spain; for a Spanish speaker whose country we do not know, the international
    lines in Spanish and the question, never another country's number."""
    w, box = world, world.sandbox
    ana = box.create_user("Ana", language_code="es-ES")
    sol = box.create_user("Sol", language_code="es")
    async with running_bridge(w.settings):
        box.send_user_message(ana, "me quiero suicidar, ya no puedo más")
        resources = await w.bot_says(lambda m: m.chat_id == ana.id and "024" in m.body)
        assert "112" in resources.body
        box.send_user_message(sol, "me quiero suicidar, ya no puedo más")
        international = await w.bot_says(lambda m: m.chat_id == sol.id and "findahelpline.com" in m.body)
        assert "024" not in international.body
        await w.bot_says(lambda m: m.chat_id == sol.id and "¿En qué país estás?" in m.body)


async def test_unacknowledged_alert_is_escalated_again_until_acknowledged(world: World) -> None:  # noqa: F811
    w, box = world, world.sandbox
    settings = with_escalation(w.settings, ack_timeout=1.0)
    async with running_bridge(settings):
        box.send_user_message(w.person, RISK)
        alert = await w.bot_says(lambda m: m.chat_id == w.alerts.id and "RISK" in m.body)
        first = await w.bot_says(lambda m: m.chat_id == w.alerts.id and "STILL NOT ACKNOWLEDGED (1×" in m.body)
        second = await w.bot_says(lambda m: m.chat_id == w.alerts.id and "(2×" in m.body)
        assert first.buttons[0][0] == "Acknowledge"
        await w.bot_says(lambda m: m.chat_id == w.staff.id and "(2×" in m.body)  # coordinators see it too

        box.press_button(w.volunteer, second, alert.buttons[0][1] or "")
        await w.bot_says(lambda m: m.chat_id == w.alerts.id and "acknowledged by" in m.body)
        mark = box.mark()
        await asyncio.sleep(2.5)  # more than two deadlines: nothing more may arrive
        assert not [m for m in box.sent(since=mark) if "STILL NOT ACKNOWLEDGED" in m.body]


async def test_a_restart_between_alert_and_deadline_still_re_escalates(world: World) -> None:  # noqa: F811
    w, box = world, world.sandbox
    settings = with_escalation(w.settings, ack_timeout=2.0)
    async with running_bridge(settings):
        box.send_user_message(w.person, RISK)
        await w.bot_says(lambda m: m.chat_id == w.alerts.id and "RISK" in m.body)
    raised = time.monotonic()
    async with running_bridge(settings):
        await w.bot_says(lambda m: m.chat_id == w.alerts.id and "STILL NOT ACKNOWLEDGED (1×" in m.body)
        assert time.monotonic() - raised < 6  # on time, although the process that raised it is gone


async def test_the_external_pager_gets_a_signed_payload(world: World) -> None:  # noqa: F811
    w, box = world, world.sandbox
    async with pager_receiver() as (url, received):
        settings = with_escalation(w.settings, webhook_url=url, webhook_secret=SecretStr(PAGER_SECRET))
        async with running_bridge(settings):
            box.send_user_message(w.person, RISK)
            await w.bot_says(lambda m: m.chat_id == w.alerts.id and "RISK" in m.body)
            async with asyncio.timeout(5):
                while not received:  # noqa: ASYNC110 - the receiver is a plain aiohttp handler
                    await asyncio.sleep(0.05)
    headers, body = received[0]
    assert headers[SIGNATURE_HEADER] == sign(PAGER_SECRET.encode(), headers[TIMESTAMP_HEADER], body)
    assert abs(int(headers[TIMESTAMP_HEADER]) - time.time()) < 30
    payload = json.loads(body)
    assert payload["tier"] in ("high", "imminent")
    assert payload["conversation"].startswith("c-")
    assert "tonight" not in body.decode()  # phrase ids only, never the person's words


async def test_elevated_asks_for_a_review_and_prompts_the_volunteer(world: World) -> None:  # noqa: F811
    w, box = world, world.sandbox
    async with running_bridge(w.settings):
        box.send_user_message(w.person, "hi")
        card = await w.bot_says(lambda m: m.chat_id == w.staff.id and bool(m.buttons))
        box.press_button(w.volunteer, card, card.buttons[0][1] or "")
        opened = await w.bot_says(lambda m: m.chat_id == w.staff.id and "What they sent" in m.body)
        box.send_user_message(w.person, "honestly everyone would be better off without me")
        review = await w.bot_says(lambda m: m.chat_id == w.alerts.id and "REVIEW" in m.body)
        assert review.buttons
        assert f"https://t.me/c/{str(w.staff.id).removeprefix('-100')}/{opened.thread_id}" in review.body
        prompt = await w.bot_says(lambda m: m.thread_id == opened.thread_id and "Ask directly" in m.body)
        assert prompt.chat_id == w.staff.id
        assert not [m for m in box.sent(chat=w.person.id) if "being brought in" in m.body]  # elevated does not page


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_the_on_call_professional_is_paged_privately_and_the_alert_shows_who_acknowledged(
    world: World,  # noqa: F811
) -> None:
    w, box = world, world.sandbox
    lee = box.create_user("Lee")
    box.add_members(w.alerts, lee)
    rota = w.settings.rota.file
    rota.write_text(f'[[staff]]\nid = "dr-lee"\nname = "Dr Lee"\nroles = ["professional"]\ntelegram = {lee.id}\n')
    async with running_bridge(w.settings):
        box.send_user_message(lee, "/start")  # a bot may only write to someone who started it
        await w.bot_says(lambda m: m.chat_id == lee.id)
        box.send_user_message(w.person, RISK)
        alert = await w.bot_says(lambda m: m.chat_id == w.alerts.id and "RISK" in m.body)
        paged = await w.bot_says(lambda m: m.chat_id == lee.id and "paged directly" in m.body)
        assert [label for label, _data in paged.buttons] == ["Acknowledge", "Take over", "False alarm"]
        assert "Alex" not in paged.body
        gap = await w.bot_says(lambda m: m.chat_id == w.staff.id and "No on-call professional" in m.body)
        assert gap.thread_id is None  # the lobby: coordinators fix the rota's gap

        box.press_button(lee, paged, paged.buttons[0][1] or "")  # Acknowledge, from the private chat
        await w.bot_says(lambda m: m.chat_id == lee.id and "acknowledged by Dr Lee" in m.body)
        edited = await w.bot_says(lambda m: m.message_id == alert.message_id and "Acknowledged by Dr Lee" in m.body)
        assert edited.chat_id == w.alerts.id and edited.buttons == []  # the same alert, updated in place
        assert not [m for m in box.sent() if m.chat_id == lee.id and "queue" in m.body]  # never taken for a person


async def test_a_professional_who_never_started_the_bot_is_named_as_unreachable_where_it_can_be_fixed(
    world: World,  # noqa: F811
) -> None:
    w, box = world, world.sandbox
    lee = box.create_user("Lee")  # never pressed Start: the bot may not write to them
    w.settings.rota.file.write_text(
        f'[[staff]]\nid = "dr-lee"\nname = "Dr Lee"\nroles = ["professional"]\ntelegram = {lee.id}\n'
    )
    async with running_bridge(w.settings):
        box.send_user_message(w.person, RISK)
        await w.bot_says(lambda m: m.chat_id == w.alerts.id and "RISK" in m.body)
        told = await w.bot_says(lambda m: m.chat_id == w.alerts.id and "could not be delivered" in m.body)
        assert "press Start" in told.body
        await asyncio.sleep(0.5)
        lobby = [m.body for m in box.sent(chat=w.staff) if m.thread_id is None]
        assert not [t for t in lobby if "set aside for review" in t]  # not a dead letter in the volunteers' lobby
