"""The Coping page in a real headless Chromium against the whole bridge (issue 25): a coordinator's edit is
kept, takes precedence over the shipped file and changes what the next share sends (a preview shown before
the edit sends nothing and shows the new words); it is audited by who and which text, never the words; going
back to the shipped text works; a volunteer reads the texts without a form."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bot import shipped
from bot.dashboard.wiring import signin_links
from bot.embedded_redis import EmbeddedRedis
from bot.settings import Settings
from routing import texts
from routing.coping.files import load_library
from routing.model import Role, VolunteerId
from routing.rota import parse_rota
from routing.store.connection import RedisOptions, connect
from routing.store.rota_store import RotaStore
from sandboxes.telegram import Chat, Message, TelegramSandbox, User
from tests.bridge_fixtures import running_bridge, telegram_bridge_settings
from tests.browser import chromium, needs_chromium

pytest_plugins = ["tests.telegram_fixtures"]
pytestmark = [needs_chromium, pytest.mark.timeout(60)]
ENGLISH = load_library(shipped.COPING_TEXTS).get("en", "grounding")
EDITED = "Let's try this together.\nName 5 things you can see around you, slowly, one at a time."


@dataclass(frozen=True)
class Stack:
    sandbox: TelegramSandbox
    settings: Settings
    redis: Redis
    volunteer: User  # Vee, who is "ana" in the rota
    staff: Chat


@pytest.fixture
async def stack(sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis) -> AsyncIterator[Stack]:
    redis = connect(RedisOptions(url=redis_server.url))
    volunteer = sandbox.create_user("Vee")
    staff = sandbox.create_forum_group("Volunteers", members=[volunteer])
    alerts = sandbox.create_group("On call", members=[volunteer])
    settings = telegram_bridge_settings(tmp_path, redis_server.url, sandbox, staff.id, alerts.id)
    rota = {
        "timezone": "Europe/London",
        "staff": [
            {"id": "cora", "name": "Cora", "roles": ["coordinator"]},
            {"id": "ana", "name": "Ana", "telegram": volunteer.id},
        ],
    }
    try:
        await redis.flushall()
        await RotaStore(redis).save(parse_rota(rota))
        async with running_bridge(settings):
            await _web_up(settings)
            yield Stack(sandbox, settings, redis, volunteer, staff)
    finally:
        await redis.aclose()


async def _web_up(settings: Settings) -> None:
    async with aiohttp.ClientSession() as http, asyncio.timeout(10):
        while True:
            try:
                async with http.get(f"{settings.web.link_base}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)


async def _signed_in(browser: Any, s: Stack, who: str, roles: set[Role]) -> Any:
    link = await signin_links(s.settings, s.redis).issue(VolunteerId(who), roles)
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(link)
    await page.click("#signin")
    await page.wait_for_url(re.compile(r"/dashboard/$"))
    return page


async def _in_topic(s: Stack, text: str, since: int) -> Message:
    return await s.sandbox.wait_for(lambda m: m.chat_id == s.staff.id and text in m.body, timeout=8, since=since)


async def test_a_coordinators_edit_is_what_the_next_share_sends_and_is_audited(stack: Stack) -> None:
    s, box = stack, stack.sandbox
    assert ENGLISH is not None
    person = box.create_user("Alex", language_code="en")
    box.send_user_message(person, "my thoughts are racing")
    card = await box.wait_for(lambda m: m.chat_id == s.staff.id and bool(m.buttons), timeout=8)
    box.press_button(s.volunteer, card, card.buttons[0][1] or "")
    thread = (await _in_topic(s, "What they sent", 0)).thread_id
    joined = texts.say("en", texts.CONNECTED)
    await box.wait_for(lambda m: m.chat_id == person.id and m.body == joined, timeout=8)
    mark = box.mark()
    box.send_user_message(s.volunteer, "/share grounding", chat=s.staff, thread=thread)
    before = await _in_topic(s, "Preview of Grounding", mark)
    assert ENGLISH.text.splitlines()[0] in before.body

    async with chromium() as browser:
        page = await _signed_in(browser, s, "cora", {Role.COORDINATOR})
        await page.get_by_role("link", name="Coping").click()
        await page.wait_for_url(re.compile(r"/dashboard/coping$"))
        assert "shipped text (from its file)" in await page.locator("#coping-en-grounding").inner_text()
        await page.locator("#text-en-grounding").fill(EDITED)
        await page.locator("#save-en-grounding").click()
        await page.locator("#notice").wait_for()
        edited = await page.locator("#coping-en-grounding .edited").inner_text()
        assert edited.startswith("Edited here by cora")
        assert await page.locator("#text-en-grounding").input_value() == EDITED
        assert await page.locator("#text-es-grounding").input_value() != EDITED  # one language at a time

        # The preview shown before the edit sends nothing: the volunteer sees the new words and sends those.
        box.press_button(s.volunteer, before, dict(before.buttons)["Send"] or "")
        await _in_topic(s, "was edited since this preview", mark)
        after = await box.wait_for(
            lambda m: m.chat_id == s.staff.id and "Preview of" in m.body and EDITED.splitlines()[1] in m.body,
            timeout=8, since=mark,
        )  # fmt: skip
        assert [m.body for m in box.sent(since=mark) if m.chat_id == person.id and ENGLISH.title in m.body] == []
        box.press_button(s.volunteer, after, dict(after.buttons)["Send"] or "")
        received = await box.wait_for(lambda m: m.chat_id == person.id and ENGLISH.title in m.body, timeout=8)
        assert received.body == f"{ENGLISH.title}\n\n{EDITED}"

        audit = [fields for _, fields in await s.redis.xrange("pb:stream:audit")]
        edits = [f for f in audit if f[b"event"] == b"coping_edited"]
        assert [(f[b"by"], f[b"coping"], f[b"lang"]) for f in edits] == [(b"cora", b"grounding", b"en")]
        assert not any(b"Name 5 things" in value for f in audit for value in f.values())

        await page.locator("#revert-en-grounding").click()
        await page.locator("#notice").wait_for()
        assert "shipped text (from its file)" in await page.locator("#coping-en-grounding").inner_text()
        assert await page.locator("#text-en-grounding").input_value() == ENGLISH.text
        reverted = [f for _, f in await s.redis.xrange("pb:stream:audit") if f[b"event"] == b"coping_reverted"]
        assert [(f[b"by"], f[b"coping"]) for f in reverted] == [(b"cora", b"grounding")]
        mark = box.mark()
        box.send_user_message(s.volunteer, "/share grounding", chat=s.staff, thread=thread)
        assert ENGLISH.text.splitlines()[0] in (await _in_topic(s, "Preview of Grounding", mark)).body

        reader = await _signed_in(browser, s, "ana", {Role.VOLUNTEER})
        await reader.goto(f"{s.settings.web.link_base}/dashboard/coping")
        assert await reader.locator("textarea").count() == 0
        assert ENGLISH.text.splitlines()[0] in await reader.locator("#coping-en-grounding .coping-text").inner_text()
