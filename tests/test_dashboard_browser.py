"""The dashboard in a real headless Chromium (Playwright, Debian's /usr/bin/chromium) against the whole bridge.

A person writes through the Telegram sandbox; the coordinator signs in by a one-time link (the test plays the
router's part and issues it), watches the queue update live, edits the rota and acknowledges an escalation.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from adapters.telegram.sandbox import TelegramSandbox
from bot.dashboard.wiring import signin_links
from bot.embedded_redis import EmbeddedRedis
from routing.model import Role, VolunteerId
from routing.rota_file import parse_rota
from routing.store.connection import RedisOptions, connect
from routing.store.rota_store import RotaStore
from tests.bridge_fixtures import bridge_settings, running_bridge

pytest_plugins = ["tests.telegram_fixtures"]

playwright_api = pytest.importorskip("playwright.async_api")
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: run .ci/browser.sh")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
TOKEN = "123456:sandbox-test-token"
RISK = "I want to kill myself tonight"
ROTA = {
    "timezone": "Europe/London",
    "staff": [
        {"id": "cora", "name": "Cora", "roles": ["coordinator", "professional"]},
        {"id": "ana", "name": "Ana"},
    ],
    "shift": [{"volunteer": "ana", "day": "mon", "time": "09:00-17:00"}],
}


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def stack(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> AsyncIterator[tuple[TelegramSandbox, object, object]]:
    redis = connect(RedisOptions(url=redis_server.url))
    volunteer = sandbox.create_user("Vee")
    staff = sandbox.create_forum_group("Volunteers", members=[volunteer])
    alerts = sandbox.create_group("On call", members=[volunteer])
    settings = bridge_settings(
        tmp_path, redis_server.url,
        telegram={"enabled": True, "token": TOKEN, "api_url": sandbox.url},
        staff={"platform": "telegram", "volunteer_chat": str(staff.id), "escalation_chat": str(alerts.id)},
    )  # fmt: skip
    try:
        await redis.flushall()
        await RotaStore(redis).save(parse_rota(ROTA))
        async with running_bridge(settings):
            yield sandbox, settings, redis
    finally:
        await redis.aclose()


async def _signed_in_page(browser: object, settings: object, redis: object, roles: set[Role]) -> object:
    link = await signin_links(settings, redis).issue(VolunteerId("cora"), roles)  # type: ignore[arg-type]
    context = await browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(link)
    await page.click("#signin")
    await page.wait_for_url(re.compile(r"/dashboard/$"))
    return page


async def test_sign_in_queue_live_escalation_ack_and_privacy(browser: object, stack: tuple) -> None:  # type: ignore[type-arg]
    sandbox, settings, redis = stack
    async with asyncio.timeout(60):
        page = await _signed_in_page(browser, settings, redis, {Role.COORDINATOR, Role.PROFESSIONAL})
        cookie = next(c for c in await page.context.cookies() if c["name"] == "pb_dashboard")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert "Nobody is waiting" in await page.inner_text("#queue")

        person = sandbox.create_user("Alex Realname", language_code="en")
        sandbox.send_user_message(person, "my secret words about tonight")
        row = page.locator("#queue tbody tr", has_text="none")
        await row.first.wait_for()  # arrived by live refresh, no reload
        assert "c-1" in await page.inner_text("#queue")

        sandbox.send_user_message(person, RISK)
        ack = page.locator("#escalations button[data-ack]")
        await ack.first.wait_for()
        escalations = await page.inner_text("#escalations")
        assert ("e-1" in escalations and "high" in escalations) or "imminent" in escalations

        html = await page.content()
        for secret in ("my secret words", "kill myself", "Alex Realname", str(person.id)):
            assert secret not in html  # pseudonyms and our own ids only

        await ack.first.click()
        await page.locator("#escalations tbody tr", has_text="acknowledged").first.wait_for()
        assert "cora" in await page.inner_text("#escalations")
        await page.context.close()


async def test_a_used_link_does_not_sign_in_twice(browser: object, stack: tuple) -> None:  # type: ignore[type-arg]
    _sandbox, settings, redis = stack
    link = await signin_links(settings, redis).issue(VolunteerId("cora"), {Role.VOLUNTEER})
    async with aiohttp.ClientSession() as http:
        first = await http.post(link.split("?")[0], data={"token": link.split("token=")[1]}, allow_redirects=False)
        assert first.status == 303
        again = await http.post(link.split("?")[0], data={"token": link.split("token=")[1]}, allow_redirects=False)
        assert again.status == 403
        forged = await http.post(link.split("?")[0], data={"token": "abc.def"}, allow_redirects=False)
        assert forged.status == 403
        base = link.split("/dashboard")[0]
        anonymous = await http.get(f"{base}/dashboard/api/live", allow_redirects=False)
        assert anonymous.status in (200, 401)  # the first session cookie may still be in this jar


async def test_a_coordinator_edits_a_shift_and_a_volunteer_cannot(browser: object, stack: tuple) -> None:  # type: ignore[type-arg]
    _sandbox, settings, redis = stack
    async with asyncio.timeout(60):
        page = await _signed_in_page(browser, settings, redis, {Role.COORDINATOR})
        await page.goto(page.url + "rota?week=2030-01-07")
        assert "09:00-17:00 ana" in await page.inner_text("[data-day=mon]")
        assert "gap" in await page.inner_text("[data-day=tue]")
        await page.select_option("#shift-volunteer", "ana")
        await page.select_option("#shift-day", "tue")
        await page.fill("#shift-time", "18:00-22:00")
        await page.click("#shift-add")
        await page.wait_for_selector("#notice")
        assert "18:00-22:00 ana" in await page.inner_text("[data-day=tue]")
        await page.select_option("#shift-volunteer", "ana")
        await page.select_option("#shift-day", "tue")
        await page.fill("#shift-time", "19:00-21:00")  # overlaps her new shift: refused like /shift add
        await page.click("#shift-add")
        assert "ana" in await page.inner_text("#problems")
        stored = await RotaStore(redis).load()
        assert stored is not None and len(stored.rota.shifts) == 2
        await page.context.close()

        viewer = await _signed_in_page(browser, settings, redis, {Role.VOLUNTEER})
        await viewer.goto(viewer.url + "rota")
        assert await viewer.locator("#shift-add").count() == 0
        csrf = await viewer.get_attribute("body", "data-csrf")
        answer = await viewer.request.post(
            viewer.url.split("/dashboard")[0] + "/dashboard/rota/shifts",
            form={"csrf": csrf or "", "volunteer": "ana", "day": "wed", "time": "09:00-10:00"},
        )
        assert answer.status == 403
        await viewer.context.close()
