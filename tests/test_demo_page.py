"""The sandbox chat page of `peerbridge demo`, in headless Debian chromium, against the whole bridge.

The page talks only to its own server, which forwards a fixed allow-list of control calls to the Telegram and
Discord sandboxes; the real python-telegram-bot, the real discord.py and the real bridge do the work. The person's
phone offers Telegram or Discord; volunteers work in the Telegram forum group either way. Also: the forwarders
refuse anything outside their allow-lists, the `risk` scenario ends in an acknowledged escalation, and a scripted
person on Discord is served from the Telegram group.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.demo import COORDINATOR, SUPERVISOR, bridge_connected, build_world, discord_settings, pseudonyms_for, rota_toml
from bot.demo_page.forwarder import DiscordPhone, NotAllowed, Pane, SandboxForwarder
from bot.demo_page.scenarios import ScenarioError, ScenarioPlayer, load_scenario, parse_scenario
from bot.demo_page.server import DemoNames, DemoPage
from bot.embedded_redis import EmbeddedRedis
from routing.model import Platform
from routing.store.connection import RedisOptions, connect
from sandboxes.discord import DiscordSandbox, RateLimits, SandboxSettings
from sandboxes.telegram import TelegramSandbox
from tests.bridge_fixtures import bridge_settings, running_bridge, telegram_bridge_settings
from tests.browser import chromium, needs_chromium
from tests.discord_fixtures import BRIDGE_TOKEN, eventually, running_sandbox

pytest_plugins = ["tests.telegram_fixtures"]

RISK = "I want to kill myself"
BOT_TOKEN = "123456:sandbox-test-token"  # the first bot of the `sandbox` fixture


@pytest.fixture
async def discord_box(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordSandbox]:
    """The Discord sandbox as the demo starts it, but with limits relaxed so two browsers' worth of tests stay quick."""
    relaxed = SandboxSettings(rate_limits=RateLimits.relaxed())
    async with running_sandbox(monkeypatch, relaxed) as box:
        yield box


def _settings(tmp_path: Path, redis_url: str, sandbox: TelegramSandbox, world: Any) -> Any:
    return bridge_settings(
        tmp_path, redis_url,
        telegram={"enabled": True, "token": BOT_TOKEN, "api_url": sandbox.url},
        discord=discord_settings(world.discord, BRIDGE_TOKEN),
        staff={"platform": "telegram", "volunteer_chat": str(world.staff_chat),
               "escalation_chat": str(world.escalation_chat)},
    )  # fmt: skip


async def _connected(world: Any, seconds: float = 15) -> None:
    """Until the bridge polls Telegram and holds a Discord gateway session (Discord drops events otherwise)."""
    await eventually(lambda: bridge_connected(world), seconds)


@pytest.fixture
async def demo(
    sandbox: TelegramSandbox, discord_box: DiscordSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> AsyncIterator[tuple[TelegramSandbox, Any, str]]:
    """The demo's world in both sandboxes, the bridge on them, and the page server; yields (sandbox, world, url)."""
    redis = connect(RedisOptions(url=redis_server.url))
    world = build_world(sandbox, load_scenario("risk"), discord_box)
    (tmp_path / "rota.toml").write_text(rota_toml(world))
    settings = _settings(tmp_path, redis_server.url, sandbox, world)
    names = DemoNames("Alex", "Jo", "Dr Rivera", supervisor=SUPERVISOR, coordinator=COORDINATOR)
    page = DemoPage(sandbox.url, world.chats, names, discord_url=discord_box.url)
    try:
        await redis.flushall()
        url = await page.start()
        async with running_bridge(settings):
            await _connected(world)
            yield sandbox, world, url
    finally:
        await page.stop()
        await redis.aclose()


@contextlib.asynccontextmanager
async def _phone_page(url: str, default_timeout_ms: int) -> AsyncIterator[tuple[Any, list[str]]]:
    """The demo page in headless chromium at a phone's size, once it is live; yields (page, its script errors)."""
    async with chromium(launch_timeout_ms=15_000) as browser:
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.set_default_timeout(default_timeout_ms)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(url)
        await page.locator("#status", has_text="live").wait_for()
        yield page, errors


@needs_chromium
async def test_newcomer_writes_takes_replies_and_sees_risk_escalate(demo: tuple[TelegramSandbox, Any, str]) -> None:
    sandbox, world, url = demo
    async with asyncio.timeout(45), _phone_page(url, 8_000) as (page, errors):
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
        await page.locator("#alerts-chat .bubble", has_text="e-1 acknowledged by Dr Rivera").wait_for()
        edited = page.locator("#alerts-chat .bubble", has_text="✓ Acknowledged by Dr Rivera")  # the alert itself
        await edited.wait_for()
        assert await edited.locator("button").count() == 0  # its buttons are gone

        # Jo asks for the dashboard: the link arrives privately, on this machine's address, and signs in.
        await page.locator("#topics button", has_text="General").click()
        await page.fill("#staff-input", "/dashboard")
        await page.click("#staff-send")
        await page.click("details summary")
        link = page.locator("#direct-chat .bubble", has_text="sign-in link")
        await link.wait_for()
        found = re.search(r"http://127\.0\.0\.1:\d+/dashboard/signin\?token=\S+", await link.inner_text())
        assert found is not None
        await page.goto(found.group(0))
        await page.click("#signin")
        await page.locator("h1", has_text="Live").wait_for()
        await page.locator("#active tbody tr", has_text="jo").wait_for()  # Jo's conversation, by staff id
        assert not errors
    acknowledged = [m for m in sandbox.sent(world.escalation_chat) if "acknowledged by Dr Rivera" in m.text]
    assert acknowledged


@needs_chromium
async def test_a_person_on_discord_is_taken_and_answered_from_the_telegram_workspace(
    demo: tuple[TelegramSandbox, Any, str],
) -> None:
    sandbox, world, url = demo
    async with asyncio.timeout(40), _phone_page(url, 10_000) as (page, errors):
        assert await page.is_hidden("#discord-app")  # Telegram first; the newcomer chooses

        await page.click("#app-discord")
        await page.locator("#phone-title", has_text="Alex's phone · Discord").wait_for()
        assert await page.is_hidden("#telegram-app")
        assert await page.get_attribute("#app-discord", "aria-pressed") == "true"
        await page.fill("#discord-input", "hello from discord, I could use someone")
        await page.click("#discord-send")
        await page.locator("#discord-chat .bubble.from-you", has_text="hello from discord").wait_for()
        queued = page.locator("#discord-chat .bubble.from-bot", has_text="You are in the queue")
        await queued.wait_for()  # the bot's answer in Alex's Discord DMs, by long poll
        await queued.locator("button", has_text="Loneliness").click()  # a Discord button, pressed as Alex
        await page.locator("#discord-chat .bubble.from-bot", has_text="who knows about loneliness").wait_for()

        card = page.locator("#staff-chat .bubble", has_text="is waiting")  # in the Telegram forum group
        await card.wait_for()
        await card.locator("button", has_text="Take").click()
        await page.locator("#topics button.current", has_text="c-1").wait_for()
        await page.locator("#staff-chat .bubble", has_text="hello from discord, I could use someone").wait_for()
        await page.fill("#staff-input", "Hi, I'm Jo. I'm here with you on Discord.")
        await page.click("#staff-send")
        reply = page.locator("#discord-chat .bubble.from-bot", has_text="I'm here with you on Discord.")
        await reply.wait_for()
        assert "I'm here with you" not in (await page.text_content("#phone-chat") or "")  # not on Telegram
        assert not errors
    box: DiscordSandbox = world.discord
    dm = box.dm_channel(box.state.user(world.discord_person_id))
    assert dm is not None and any("I'm here with you on Discord." in m.content for m in box.bot_messages(dm))
    assert not sandbox.sent(world.person_id)  # Alex on Telegram was never written to


async def _dashboard_link(page: Any, name: str) -> str:
    """Send /dashboard in General as whoever the role switch says; the sign-in link the bot sent them."""
    await page.locator("#topics button", has_text="General").click()
    await page.fill("#staff-input", "/dashboard")
    await page.click("#staff-send")
    if not await page.locator("details").evaluate("d => d.open"):
        await page.click("details summary")
    link = page.locator("#direct-chat .bubble", has_text=f"peerbridge bot to {name}").filter(has_text="sign-in link")
    await link.last.wait_for()
    found = re.search(r"http://127\.0\.0\.1:\d+/dashboard/signin\?token=\S+", await link.last.inner_text())
    assert found is not None
    return found.group(0)


@needs_chromium
async def test_the_role_switch_lets_a_supervisor_and_a_coordinator_open_their_dashboards(
    demo: tuple[TelegramSandbox, Any, str],
) -> None:
    sandbox, world, url = demo
    async with asyncio.timeout(45), _phone_page(url, 8_000) as (page, errors):
        await page.select_option("#staff-role", "supervisor")
        assert "as Sam" in (await page.get_attribute("#staff-input", "placeholder") or "")
        supervisor_link = await _dashboard_link(page, SUPERVISOR)
        await page.select_option("#staff-role", "coordinator")
        coordinator_link = await _dashboard_link(page, COORDINATOR)
        assert not errors
        await page.goto(supervisor_link)
        await page.click("#signin")
        await page.locator("h1", has_text="Live").wait_for()
        await page.locator("nav a", has_text="Rota").click()
        await page.locator("text=Coordinators can edit the rota.").wait_for()  # a supervisor reads it
        await page.goto(coordinator_link)
        await page.click("#signin")
        await page.locator("h1", has_text="Live").wait_for()
        await page.locator("nav a", has_text="Rota").click()
        await page.locator("h1", has_text="Rota").wait_for()
        assert await page.locator("text=Coordinators can edit the rota.").count() == 0  # the coordinator edits
    # Each link went to that person's own private chat, written there by the bot, never into the group.
    assert any("sign-in link" in m.text for m in sandbox.sent(world.supervisor_id))
    assert any("sign-in link" in m.text for m in sandbox.sent(world.coordinator_id))
    assert not any("signin?token=" in m.text for m in sandbox.sent(world.staff_chat))


@needs_chromium
async def test_the_page_fits_a_phone_with_twenty_topics(demo: tuple[TelegramSandbox, Any, str]) -> None:
    sandbox, world, url = demo
    volunteer = sandbox.world.users[world.volunteer_id]
    for n in range(20):
        sandbox.create_topic(world.staff_chat, f"Quiet Conversation Number {n} · c-{100 + n}", by=volunteer)
    async with asyncio.timeout(30), _phone_page(url, 8_000) as (page, errors):
        await page.locator("#topics button", has_text="c-119").wait_for()
        widths = await page.evaluate(
            """() => ({page: document.documentElement.scrollWidth, view: window.innerWidth,
                      nav: document.getElementById("topics").scrollWidth,
                      navBox: document.getElementById("topics").clientWidth})"""
        )
        assert widths["page"] <= widths["view"] == 390  # no sideways scrolling of the page itself…
        assert widths["nav"] > widths["navBox"]  # …the topic tabs scroll in their own row instead
        last = page.locator("#topics button", has_text="c-119")
        await last.scroll_into_view_if_needed()
        await last.click()
        assert "current" in (await last.get_attribute("class") or "")
        assert not errors


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
        box: DiscordSandbox = world.discord
        phone = DiscordPhone(box.url, world.discord_person_id, http)
        for method, route in [
            ("GET", "/_sandbox/state"), ("POST", "/_sandbox/users"), ("POST", "/_sandbox/faults"),
            ("POST", "/_sandbox/channels/{channel}/messages"), ("POST", "/_sandbox/interactions/slash"),
            ("GET", "/_sandbox/calls"), ("POST", "/_sandbox/gateway/disconnect"), ("GET", "/api/v10/users/@me"),
        ]:  # fmt: skip
            with pytest.raises(NotAllowed):
                await phone.forward(method, route)
        with pytest.raises(NotAllowed):  # an allowed route, but not the person's own DM
            await phone.forward("GET", "/_sandbox/channels/{channel}/messages", channel=world.staff_chat)
        with pytest.raises(NotAllowed):  # a button on a message the person was never shown
            await phone.press(12345, "take c-1")

        json_headers = {"Content-Type": "application/json"}
        refused = [
            ("POST", "/demo/api/say", {"pane": "nobody", "text": "hi"}),
            ("POST", "/demo/api/say", {"pane": "direct", "text": "hi"}),
            ("POST", "/demo/api/say", {"pane": "phone", "text": ""}),
            ("POST", "/demo/api/press", {"pane": "staff", "message_id": "x", "data": "take c-1"}),
            ("POST", "/demo/api/say", {"pane": "discord", "text": " "}),
            ("POST", "/demo/api/say", {"pane": "staff", "text": "hi", "as": "professional"}),  # not a staff role
            ("POST", "/demo/api/say", {"pane": "staff", "text": "hi", "as": "admin"}),
            ("POST", "/demo/api/press", {"pane": "discord", "message_id": "123", "data": "take c-1"}),
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
        body = {"pane": "discord", "text": "hello", "user_id": str(world.volunteer_id), "channel_id": "1"}
        async with http.post(base + "/demo/api/say", json=body) as answer:
            assert answer.status == 200
        person = box.state.user(world.discord_person_id)
        dm = box.dm_channel(person)
        assert dm is not None and box.messages(dm)[-1].author_id == person.id
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
    settings = telegram_bridge_settings(
        tmp_path, redis_server.url, sandbox, world.staff_chat, world.escalation_chat,
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


async def test_a_scripted_person_on_discord_is_served_from_the_telegram_group(
    sandbox: TelegramSandbox, discord_box: DiscordSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> None:
    redis = connect(RedisOptions(url=redis_server.url))
    scenario = load_scenario("quiet")  # Lee writes on Discord; Ana takes and answers Lee in the Telegram group
    world = build_world(sandbox, scenario, discord_box)
    (tmp_path / "rota.toml").write_text(rota_toml(world))
    settings = _settings(tmp_path, redis_server.url, sandbox, world)
    try:
        await redis.flushall()
        async with running_bridge(settings), asyncio.timeout(40):
            await _connected(world)
            player = ScenarioPlayer(
                sandbox, world.staff_chat, world.escalation_chat, world.staff, pseudonyms_for(settings), speed=6.0,
                discord=discord_box,
            )  # fmt: skip
            report = await player.play(scenario)
            assert report.skipped == 0
            await discord_box.wait_until(lambda: _lee_heard(discord_box, "I'm Ana. I'm here."), 8)
        lee = pseudonyms_for(settings)(Platform.DISCORD, int(_user(discord_box, "Lee").id))
        topics = [t.name for t in sandbox.topics(world.staff_chat)]
        assert any(name.startswith(f"{lee} · ") for name in topics)  # Lee's topic, under their pseudonym
        relayed = [m.text for m in sandbox.transcript(world.staff_chat)]
        assert "Hello, is anyone there? I've had a rough week" in relayed  # Lee's words, relayed from Discord
        assert not any(u.first_name == "Lee" for u in sandbox.world.users.values())  # never a Telegram user
    finally:
        await redis.aclose()


def _user(box: DiscordSandbox, name: str) -> Any:
    return next(u for u in box.state.users.values() if u.username == name)


def _lee_heard(box: DiscordSandbox, text: str) -> bool:
    dm = box.dm_channel(_user(box, "Lee"))
    return dm is not None and any(text in m.content for m in box.bot_messages(dm))


def test_scenario_files_parse_and_bad_ones_are_explained() -> None:
    quiet = load_scenario("quiet")
    assert len(quiet.actions) == 8
    assert {a.actor for a in quiet.actions if a.platform == "discord"} == {"Lee"}
    busy = load_scenario("busy")
    assert len({a.actor for a in busy.actions if a.role == "person"}) == 30
    assert len({a.actor for a in busy.actions if a.platform == "discord"}) == 10  # every third guest
    with pytest.raises(ScenarioError, match="telegram or discord"):
        parse_scenario("x", {"step": [{"person": "A", "say": "hi", "platform": "myspace"}]})
    with pytest.raises(ScenarioError, match="only a person step"):
        parse_scenario("x", {"step": [{"volunteer": "A", "next": True, "platform": "discord"}]})
    assert busy.staff("volunteer") == ["Ana", "Ben", "Chi"]
    with pytest.raises(ScenarioError, match="choose one of"):
        load_scenario("../etc/passwd")
    with pytest.raises(ScenarioError, match="exactly one"):
        parse_scenario("x", {"step": [{"person": "A", "volunteer": "B", "say": "hi"}]})
    with pytest.raises(ScenarioError, match="one of"):
        parse_scenario("x", {"step": [{"person": "A", "take": "B"}]})
