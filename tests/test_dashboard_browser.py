"""The dashboard in a real headless Chromium (Playwright, Debian's /usr/bin/chromium) against the whole bridge.

A person writes through the Telegram sandbox; the coordinator signs in by a one-time link (the test plays the
router's part and issues it), watches the queue update live, edits the rota, acknowledges an escalation and
watches a volunteer's load and wellbeing change live, watches the charts refresh, and starts a practice session
whose scripted person then writes in a TRAINING topic; a volunteer sees only their own week and no training form.
An organisation whose staff read Spanish (`staff.language`) gets the dashboard in Spanish.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from babel import Locale
from redis.asyncio import Redis

from bot import shipped
from bot.dashboard import words
from bot.dashboard.wiring import signin_links
from bot.embedded_redis import EmbeddedRedis
from bot.settings import Settings
from routing.i18n import translate
from routing.model import Role, VolunteerId
from routing.rota import parse_rota
from routing.store.connection import RedisOptions, connect
from routing.store.rota_store import RotaStore
from sandboxes.telegram import TelegramSandbox, User
from tests.bridge_fixtures import relayed, running_bridge, telegram_bridge_settings
from tests.browser import chromium, needs_chromium

pytest_plugins = ["tests.telegram_fixtures"]

pytestmark = needs_chromium
TOKEN = "123456:sandbox-test-token"
ROOT = Path(__file__).parent.parent
RISK = "I want to kill myself tonight"
ROTA = {
    "timezone": "Europe/London",
    "staff": [
        {"id": "cora", "name": "Cora", "roles": ["coordinator", "professional"]},
        {"id": "ana", "name": "Ana", "weekly_hours": 6, "max_concurrent": 1},  # Vee in the sandbox
        {"id": "ben", "name": "Ben", "weekly_hours": 20},
    ],
    "shift": [{"volunteer": "ana", "day": "mon", "time": "09:00-17:00"}],  # 8 h every week: over her 6
}


@dataclass(frozen=True)
class Stack:
    sandbox: TelegramSandbox
    settings: Settings
    redis: Redis
    volunteer: User  # Vee, who is "ana" in the rota
    staff_chat: int


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def stack(
    request: pytest.FixtureRequest, sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> AsyncIterator[Stack]:
    """The whole bridge with a rota; its staff read English unless a test parametrizes `stack` with a language."""
    redis = connect(RedisOptions(url=redis_server.url))
    volunteer = sandbox.create_user("Vee")
    staff = sandbox.create_forum_group("Volunteers", members=[volunteer])
    alerts = sandbox.create_group("On call", members=[volunteer])
    settings = telegram_bridge_settings(
        tmp_path, redis_server.url, sandbox, staff.id, alerts.id,
        training={"scenarios_dir": str(shipped.TRAINING_SCENARIOS)},
        staff={"language": getattr(request, "param", "en")},
    )  # fmt: skip
    rota = {**ROTA, "staff": [{**m, "telegram": volunteer.id} if m["id"] == "ana" else m for m in ROTA["staff"]]}
    try:
        await redis.flushall()
        await RotaStore(redis).save(parse_rota(rota))
        async with running_bridge(settings):
            await _web_up(settings)
            yield Stack(sandbox, settings, redis, volunteer, staff.id)
    finally:
        await redis.aclose()


async def _web_up(settings: Settings) -> None:
    """The bridge's web server answers (it starts a moment after the bridge task)."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(10):
        while True:
            try:
                async with http.get(f"{settings.web.link_base}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)


async def _signed_in_page(
    browser: object, settings: object, redis: object, roles: set[Role], who: str = "cora"
) -> object:
    link = await signin_links(settings, redis).issue(VolunteerId(who), roles)  # type: ignore[arg-type]
    context = await browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(link)
    await page.click("#signin")
    await page.wait_for_url(re.compile(r"/dashboard/$"))
    return page


_TOKEN = re.compile(r'="[A-Za-z0-9_-]{32,}"')


def _without_tokens(html: str) -> str:
    """The page without its random tokens (a CSRF token is 32 random characters; one once held "Vee")."""
    return _TOKEN.sub('=""', html)


async def test_sign_in_queue_live_escalation_ack_and_privacy(browser: object, stack: Stack) -> None:
    sandbox, settings, redis = stack.sandbox, stack.settings, stack.redis
    async with asyncio.timeout(60):
        page = await _signed_in_page(browser, settings, redis, {Role.COORDINATOR, Role.PROFESSIONAL})
        cookie = next(c for c in await page.context.cookies() if c["name"] == "pb_dashboard")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert "Nobody is waiting" in await page.inner_text("#queue")

        person = sandbox.create_user("Alex Realname", language_code="en")
        sandbox.send_user_message(person, "my secret words about my exams")  # no risk: tier none
        row = page.locator("#queue tbody tr", has_text="none")
        await row.first.wait_for()  # arrived by live refresh, no reload
        assert "c-1" in await page.inner_text("#queue")

        sandbox.send_user_message(person, RISK)
        ack = page.locator("#escalations button[data-ack]")
        await ack.first.wait_for()
        escalations = await page.inner_text("#escalations")
        assert ("e-1" in escalations and "high" in escalations) or "imminent" in escalations

        html = _without_tokens(await page.content())
        for secret in ("my secret words", "kill myself", "Alex Realname", str(person.id)):
            assert secret not in html  # pseudonyms and our own ids only

        await ack.first.click()
        await page.locator("#escalations tbody tr", has_text="acknowledged").first.wait_for()
        assert "cora" in await page.inner_text("#escalations")
        await page.context.close()


async def test_the_live_page_keeps_keyboard_focus_announces_new_escalations_and_marks_acknowledged_ones(
    browser: object, stack: Stack
) -> None:
    """A professional working the Live page from the keyboard (or a screen reader): focus stays on the
    Acknowledge button across refreshes, a new escalation is read out, and an acknowledged one looks different."""
    sandbox, settings, redis = stack.sandbox, stack.settings, stack.redis
    async with asyncio.timeout(60):
        page = await _signed_in_page(browser, settings, redis, {Role.PROFESSIONAL})
        assert await page.inner_text("#announce") == ""
        person = sandbox.create_user("Alex Realname", language_code="en")
        sandbox.send_user_message(person, RISK)
        ack = page.locator("#escalations button[data-ack]")
        await ack.first.wait_for()
        row = page.locator("#escalations tr[data-esc]").first
        assert "state-open" in (await row.get_attribute("class") or "").split()
        announced = await page.inner_text("#announce")  # arrived after the page loaded: read out
        assert announced.startswith(f"New escalation {await row.get_attribute('data-esc')}: ")

        await ack.first.focus()
        esc_id = await ack.first.get_attribute("data-ack")
        for _ in range(2):  # two refreshes (every 2 s), each rebuilding the row: its timer moved
            before = await page.inner_text("#updated")
            await page.locator("#updated", has_not_text=before).wait_for()
        assert await page.evaluate("document.activeElement && document.activeElement.dataset.ack") == esc_id

        await page.keyboard.press("Enter")  # acknowledged from the keyboard
        done = page.locator("#escalations tr.state-acknowledged")
        await done.first.wait_for()
        background = await done.first.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
        assert background == "rgb(255, 255, 255)"  # no longer coloured as an open alert
        assert await page.locator("#escalations button[data-ack]").count() == 0
        await page.context.close()


async def test_a_used_link_does_not_sign_in_twice(browser: object, stack: Stack) -> None:
    settings, redis = stack.settings, stack.redis
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


async def test_a_coordinator_edits_a_shift_and_a_volunteer_cannot(browser: object, stack: Stack) -> None:
    settings, redis = stack.settings, stack.redis
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


async def test_volunteers_load_and_wellbeing_update_live_and_a_volunteer_sees_only_their_week(
    browser: object, stack: Stack
) -> None:
    sandbox, settings, redis, vee = stack.sandbox, stack.settings, stack.redis, stack.volunteer
    async with asyncio.timeout(60):
        page = await _signed_in_page(browser, settings, redis, {Role.COORDINATOR})
        await page.goto(page.url + "volunteers")
        ana = page.locator("#volunteers tr[data-volunteer=ana]")
        row = await ana.inner_text()
        assert "8.0 h scheduled" in row and "6 h · over by 2.0 h" in row  # her Monday shift, every week
        assert "0 of 1" in row and ("off shift" in row or "on shift" in row)
        assert "over-hours" in (await ana.get_attribute("class") or "")
        assert "20 h" in await page.inner_text("#volunteers tr[data-volunteer=ben]")  # within his limit
        assert "1 over their weekly hours" in await page.inner_text("#volunteers-summary")

        person = sandbox.create_user("Alex Realname", language_code="en")
        sandbox.send_user_message(person, "please, someone")
        await sandbox.wait_for(lambda m: m.chat_id == stack.staff_chat and "is waiting" in m.text, 10)
        sandbox.send_user_message(vee, "/next", chat=stack.staff_chat)  # Vee is ana: she takes the person
        opened = await sandbox.wait_for(lambda m: "You are now talking with" in m.text, 10)
        await page.locator("#volunteers tr[data-volunteer=ana]", has_text="1 of 1 · full").wait_for()  # live
        assert "full" in (await ana.get_attribute("class") or "").split()
        sandbox.send_user_message(vee, "/break 10", chat=stack.staff_chat)
        await page.locator("#volunteers tr[data-volunteer=ana]", has_text="on a break, 10 min left").wait_for()
        assert "on a break" in await page.inner_text("#volunteers-summary")

        sandbox.send_user_message(vee, "Hi, I'm here", chat=stack.staff_chat, thread=opened.thread_id)
        await sandbox.wait_for(lambda m: m.chat_id == person.id and m.text == "Hi, I'm here", 10)
        html = _without_tokens(await page.content())
        for secret in ("Vee", str(vee.id), "Alex Realname", str(person.id), "please, someone", "Ana"):
            assert secret not in html  # staff ids only: no names, platform ids or message text
        await page.goto(page.url.replace("/volunteers", "/charts"))
        assert "over 1 conversation" in await page.inner_text("#first-reply-summary")  # first reply, timed
        await page.context.close()

        own = await _signed_in_page(browser, settings, redis, {Role.VOLUNTEER}, who="ana")
        await own.goto(own.url + "volunteers")
        assert await own.inner_text("h1") == "Your week"
        assert await own.locator("#volunteers tbody tr").count() == 1
        assert await own.get_attribute("#volunteers tbody tr", "data-volunteer") == "ana"
        assert await own.locator("#volunteers-summary").count() == 0
        assert "ben" not in await own.inner_text("#volunteers")
        answer = await own.request.get(own.url.split("/dashboard")[0] + "/dashboard/api/volunteers")
        assert [r["volunteer"] for r in (await answer.json())["rows"]] == ["ana"]
        await own.context.close()


async def test_a_coordinator_starts_practice_and_the_scripted_person_writes_in_a_training_topic(
    browser: object, stack: Stack
) -> None:
    sandbox, settings, redis = stack.sandbox, stack.settings, stack.redis
    async with asyncio.timeout(60):
        page = await _signed_in_page(browser, settings, redis, {Role.COORDINATOR})
        await page.click("nav a[href='/dashboard/training']")
        assert "Loneliness: new in town (loneliness)" in await page.inner_text("#scenarios")
        assert "No practice sessions yet." in await page.inner_text("#practice")
        await page.select_option("#train-volunteer", "ana")
        await page.select_option("#train-scenario", "loneliness")
        await page.click("#train-start")
        assert "Practice session t-1 started for ana" in await page.inner_text("#notice")
        assert "running" in await page.inner_text("#practice tbody tr")

        # "hi" on its own, or as a part of a send that carried several (the topic catching up under Telegram's limit)
        first = await sandbox.wait_for(lambda m: m.chat_id == stack.staff_chat and "hi" in relayed([m.text or ""]), 15)
        topic = next(t for t in sandbox.topics(stack.staff_chat) if t.thread_id == first.thread_id)
        assert topic.name == "TRAINING · loneliness · Ana · t-1"  # the scripted person, in a TRAINING topic
        html = _without_tokens(await page.content())
        for secret in ("Ana", "Vee", str(stack.volunteer.id)):
            assert secret not in html  # staff ids only
        await page.context.close()

        viewer = await _signed_in_page(browser, settings, redis, {Role.VOLUNTEER}, who="ana")
        await viewer.goto(viewer.url + "training")
        assert await viewer.locator("#train-start").count() == 0
        assert "t-1" in await viewer.inner_text("#practice")  # her own session
        csrf = await viewer.get_attribute("body", "data-csrf")
        answer = await viewer.request.post(
            viewer.url.split("/dashboard")[0] + "/dashboard/training/sessions",
            form={"csrf": csrf or "", "volunteer": "ben", "scenario": "loneliness"},
        )
        assert answer.status == 403
        await viewer.context.close()


async def test_the_charts_refresh_without_a_reload(browser: object, stack: Stack) -> None:
    sandbox, settings, redis = stack.sandbox, stack.settings, stack.redis
    async with asyncio.timeout(60):
        page = await _signed_in_page(browser, settings, redis, {Role.SUPERVISOR})
        await page.goto(page.url + "charts")
        assert await page.inner_text("#started-caption") == "No conversation started in the last 7 days."
        assert "Nobody was taken from the queue" in await page.inner_text("#wait-caption")
        coverage = await page.inner_text("#risk-coverage")  # where screening reads, and where it is limited
        assert "Reads messages in English, Spanish, French, Portuguese." in coverage
        assert "screening is limited" not in coverage
        await page.evaluate("window.stillTheSamePage = true")

        person = sandbox.create_user("Alex Realname", language_code="en")
        sandbox.send_user_message(person, "is anyone there?")
        await sandbox.wait_for(lambda m: m.chat_id == stack.staff_chat and "is waiting" in m.text, 10)
        sandbox.send_user_message(stack.volunteer, "/next", chat=stack.staff_chat)
        # a conversation started, then its wait, once taken: captions, tables and the drawn charts follow
        await page.locator("#started-caption", has_text="highest: 1 · ").wait_for()
        await page.locator("#wait-table th", has_text="none").wait_for(state="attached")  # the tier's column
        assert await page.evaluate("() => Chart.getChart('wait').legend.legendItems.map(i => i.text)") == ["none"]
        assert await page.evaluate("() => Chart.getChart('started').data.datasets[0].data.at(-1)") == 1
        assert await page.evaluate("window.stillTheSamePage") is True  # no reload happened
        await page.context.close()


def _spanish(*texts: str) -> list[str]:
    """The texts as a Spanish-speaking organisation reads them; each must differ from its English (a missing
    translation would fall back to English, and the test below could not fail)."""
    said = [translate("es", text) for text in texts]
    assert all(spanish != english for spanish, english in zip(said, texts, strict=True)), "untranslated"
    return said


async def _headings(page: object) -> list[str]:
    """The page's section headings, without the live counts some of them carry ("Waiting 2")."""
    found = await page.locator("main h2").all_inner_texts()  # type: ignore[attr-defined]
    return [h.rstrip("0123456789 ") for h in found]


@pytest.mark.parametrize("stack", ["es"], indirect=True)  # staff.language = "es"
async def test_a_supervisor_reads_the_live_and_charts_pages_in_the_organisations_language(
    browser: object, stack: Stack
) -> None:
    settings, redis = stack.settings, stack.redis
    async with asyncio.timeout(60):
        page = await _signed_in_page(browser, settings, redis, {Role.SUPERVISOR}, who="sam")
        assert await page.get_attribute("html", "lang") == "es"
        nav = await page.locator("header nav a").all_inner_texts()
        assert nav == _spanish(
            words.LIVE, words.ROTA, words.VOLUNTEERS, words.CHARTS, words.TRAINING, words.CASES, words.COPING
        )
        (sign_out,) = _spanish(words.SIGN_OUT)
        assert await page.inner_text("header nav button") == sign_out

        assert [await page.inner_text("h1")] == _spanish(words.LIVE)
        assert await _headings(page) == _spanish(words.WAITING, words.ACTIVE_CONVERSATIONS, words.ESCALATIONS)
        queue_th = await page.locator("#queue th").all_inner_texts()
        assert queue_th[1:4] == _spanish(words.PERSON, words.TIER, words.WAITING)
        first = await page.inner_text("#updated")
        await page.locator("#updated", has_not_text=first).wait_for()  # the script has refilled the tables once
        assert await page.inner_text("#queue tbody") == _spanish(words.NOBODY_WAITING)[0]  # refilled by the script

        await page.goto(page.url + "charts")
        assert [await page.inner_text("h1")] == _spanish(words.CHARTS_TITLE)
        assert await _headings(page) == _spanish(
            words.STARTED_PER_DAY, words.MEDIAN_WAIT, words.FIRST_REPLY_BY_TIER, words.ACK_TIME, words.FEEDBACK,
            words.SUPPORT_SHARED, words.TAUGHT, words.RISK_SCREENING,
        )  # fmt: skip
        assert await page.inner_text("header nav button") == sign_out
        assert await page.inner_text("#wait-caption") == _spanish(words.NO_WAITS)[0]
        assert await page.inner_text("#started-caption") == _spanish(words.NO_STARTED)[0]
        english = Locale.parse("en").get_display_name("es")  # "inglés": language names in Spanish too
        assert f"{english}, " in await page.inner_text("#risk-coverage")
        (minutes,) = _spanish(words.MINUTES)  # the axes' units too (the charts are drawn with the numbers' titles)
        await page.locator("#updated", has_not_text=await page.inner_text("#updated")).wait_for()
        assert await page.evaluate("() => Chart.getChart('wait').options.scales.y.title.text") == minutes
        await page.context.close()
