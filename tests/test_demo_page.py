"""The sandbox chat page of `peerbridge demo`, in headless Debian chromium, against the whole bridge.

The page talks only to its own server, which forwards a fixed allow-list of control calls to the Telegram
sandbox; the real python-telegram-bot and the real bridge do the work. Also: the forwarder refuses anything
outside its allow-list, and the `risk` scenario ends in an acknowledged escalation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.telegram.sandbox import TelegramSandbox
from bot.demo import build_world, pseudonyms_for, rota_toml
from bot.demo_page.forwarder import NotAllowed, Pane, SandboxForwarder
from bot.demo_page.scenarios import ScenarioError, ScenarioPlayer, load_scenario, parse_scenario
from bot.demo_page.server import DemoNames, DemoPage
from bot.embedded_redis import EmbeddedRedis
from routing.store.connection import RedisOptions, connect
from tests.bridge_fixtures import bridge_settings, running_bridge

pytest_plugins = ["tests.telegram_fixtures"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
RISK = "I want to kill myself"
BOT_TOKEN = "123456:sandbox-test-token"  # the first bot of the `sandbox` fixture


@pytest.fixture
async def demo(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> AsyncIterator[tuple[TelegramSandbox, Any, str]]:
    """The demo's world in the sandbox, the bridge on it, and the page server; yields (sandbox, world, url)."""
    redis = connect(RedisOptions(url=redis_server.url))
    world = build_world(sandbox, load_scenario("risk"))
    (tmp_path / "rota.toml").write_text(rota_toml(world))
    settings = bridge_settings(
        tmp_path, redis_server.url,
        telegram={"enabled": True, "token": BOT_TOKEN, "api_url": sandbox.url},
        staff={"platform": "telegram", "volunteer_chat": str(world.staff_chat),
               "escalation_chat": str(world.escalation_chat)},
    )  # fmt: skip
    page = DemoPage(sandbox.url, world.chats, DemoNames("Alex", "Jo", "Dr Rivera"))
    try:
        await redis.flushall()
        url = await page.start()
        async with running_bridge(settings):
            yield sandbox, world, url
    finally:
        await page.stop()
        await redis.aclose()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: run .ci/browser.sh")
async def test_newcomer_writes_takes_replies_and_sees_risk_escalate(demo: tuple[TelegramSandbox, Any, str]) -> None:
    playwright_api = pytest.importorskip("playwright.async_api")
    sandbox, world, url = demo
    async with asyncio.timeout(30), playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=15_000)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.set_default_timeout(8_000)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(url)
            await page.locator("#status", has_text="live").wait_for()

            await page.fill("#phone-input", "hi, I could use someone to talk to")
            await page.click("#phone-send")
            await page.locator("#phone-chat .bubble.from-bot", has_text="You are in the queue").wait_for()
            card = page.locator("#staff-chat .bubble", has_text="is waiting")
            await card.wait_for()  # the queue card in General, by long poll, no reload
            await card.locator("button", has_text="Take").click()

            # Take opens the conversation's topic and the page follows it.
            await page.locator("#topics button.current", has_text="c-1").wait_for()
            await page.locator("#staff-chat .bubble", has_text="You are now talking with").wait_for()
            await page.locator("#phone-chat .bubble", has_text="A volunteer has joined").wait_for()
            await page.fill("#staff-input", "Hi Alex, I'm Jo. I'm here with you.")
            await page.click("#staff-send")
            await page.locator("#phone-chat .bubble.from-bot", has_text="I'm Jo. I'm here with you.").wait_for()

            await page.fill("#phone-input", RISK)
            await page.click("#phone-send")
            await page.locator("#phone-chat .bubble.from-bot", has_text="You matter").wait_for()  # resources
            alert = page.locator("#alerts-chat .bubble", has_text="RISK")
            await alert.first.wait_for()
            await alert.first.locator("button", has_text="Acknowledge").click()
            await page.locator("#alerts-chat .bubble", has_text="acknowledged by Dr Rivera").wait_for()
            assert not errors
        finally:
            await browser.close()
    acknowledged = [m for m in sandbox.sent(world.escalation_chat) if "acknowledged by Dr Rivera" in m.text]
    assert acknowledged


async def test_the_forwarder_refuses_anything_outside_its_allow_list(demo: tuple[TelegramSandbox, Any, str]) -> None:
    sandbox, world, url = demo
    base = url.removesuffix("/demo/")
    async with aiohttp.ClientSession() as http:
        forwarder = SandboxForwarder(sandbox.url, world.chats, http)
        for method, route in [
            ("POST", "/_sandbox/faults"), ("DELETE", "/_sandbox/faults"), ("POST", "/_sandbox/users"),
            ("POST", "/_sandbox/chats"), ("GET", "/_sandbox/calls"), ("POST", "/_sandbox/edits"),
            ("GET", "/bot" + BOT_TOKEN + "/getMe"),
        ]:  # fmt: skip
            with pytest.raises(NotAllowed):
                await forwarder.forward(method, route)
        with pytest.raises(NotAllowed):  # an allowed route, but a chat outside the demo
            await forwarder.forward("GET", "/_sandbox/chats/{chat}/topics", chat=12345)
        with pytest.raises(NotAllowed):
            await forwarder.say(Pane.DIRECT, "hello")

        json_headers = {"Content-Type": "application/json"}
        refused = [
            ("POST", "/demo/api/say", {"pane": "nobody", "text": "hi"}),
            ("POST", "/demo/api/say", {"pane": "direct", "text": "hi"}),
            ("POST", "/demo/api/say", {"pane": "phone", "text": ""}),
            ("POST", "/demo/api/press", {"pane": "staff", "message_id": "x", "data": "take c-1"}),
        ]
        for method, path, body in refused:
            async with http.request(method, base + path, json=body, headers=json_headers) as answer:
                assert answer.status == 400, path
        for path in ("/_sandbox/faults", "/demo/api/forward", "/demo/api/../../_sandbox/faults", "/_sandbox/sent"):
            async with http.post(base + path, json={}, headers=json_headers) as answer:
                assert answer.status in (404, 405), path
        # A raw user or chat id in the body is ignored: the person the page plays is fixed by the pane.
        body = {"pane": "phone", "text": "hello", "user_id": world.volunteer_id, "chat_id": world.staff_chat}
        async with http.post(base + "/demo/api/say", json=body) as answer:
            assert answer.status == 200
        assert sandbox.transcript(world.person_id)[-1].sender_id == world.person_id
        # Cross-site: a form post, a foreign Origin, a rebinding Host.
        async with http.post(base + "/demo/api/say", data={"pane": "phone", "text": "hi"}) as answer:
            assert answer.status == 415
        async with http.post(base + "/demo/api/say", json=body, headers={"Origin": "http://evil.example"}) as answer:
            assert answer.status == 403
        async with http.get(base + "/demo/api/state", headers={"Host": "evil.example"}) as answer:
            assert answer.status == 421


async def test_the_risk_scenario_ends_in_an_acknowledged_escalation(sandbox: TelegramSandbox, tmp_path: Path,
                                                                    redis_server: EmbeddedRedis) -> None:  # fmt: skip
    redis = connect(RedisOptions(url=redis_server.url))
    scenario = load_scenario("risk")
    world = build_world(sandbox, scenario)
    (tmp_path / "rota.toml").write_text(rota_toml(world))
    settings = bridge_settings(
        tmp_path, redis_server.url,
        telegram={"enabled": True, "token": BOT_TOKEN, "api_url": sandbox.url},
        staff={"platform": "telegram", "volunteer_chat": str(world.staff_chat),
               "escalation_chat": str(world.escalation_chat)},
    )  # fmt: skip
    try:
        await redis.flushall()
        async with running_bridge(settings), asyncio.timeout(25):
            player = ScenarioPlayer(
                sandbox, world.staff_chat, world.escalation_chat, world.staff, pseudonyms_for(settings), speed=8.0
            )
            report = await player.play(scenario)
            assert report.skipped == 0
            await sandbox.wait_for(lambda m: "acknowledged by Dr Rivera" in m.text, 5)
            await sandbox.wait_for(lambda m: "Thank you for telling me" in m.text, 5)  # relayed to Robin
        robin = next(u for u in sandbox.world.users.values() if u.first_name == "Robin")
        assert any("You matter" in m.text for m in sandbox.sent(robin.id))  # crisis resources reached Robin
        alerts = [m for m in sandbox.sent(world.escalation_chat) if "RISK HIGH" in m.text or "IMMINENT" in m.text]
        assert alerts
    finally:
        await redis.aclose()


def test_scenario_files_parse_and_bad_ones_are_explained() -> None:
    assert len(load_scenario("quiet").actions) == 8
    busy = load_scenario("busy")
    assert len({a.actor for a in busy.actions if a.role == "person"}) == 30
    assert busy.staff("volunteer") == ["Ana", "Ben", "Chi"]
    with pytest.raises(ScenarioError, match="choose one of"):
        load_scenario("../etc/passwd")
    with pytest.raises(ScenarioError, match="exactly one"):
        parse_scenario("x", {"step": [{"person": "A", "volunteer": "B", "say": "hi"}]})
    with pytest.raises(ScenarioError, match="one of"):
        parse_scenario("x", {"step": [{"person": "A", "take": "B"}]})
