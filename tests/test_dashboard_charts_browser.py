"""The Charts page in a real headless Chromium (Playwright, Debian's /usr/bin/chromium): drawn with the vendored
Chart.js, served by peerbridge itself under its Content-Security-Policy, in the staff language.

The dashboard runs over a real Redis whose audit stream and feedback counts hold a known day: two people waited
(5 min at tier none, 2 min at tier high), their volunteers first replied after 90 s and 30 s, an escalation was
acknowledged after 60 s, and people answered Better twice and Worse once. A supervisor signs in and sees each chart
drawn by the library (its global loaded from /dashboard/static, nothing from elsewhere), its legend naming the
tiers and answers, its axis' unit, and the same numbers in the table under it; with no CSP violation reported.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestServer, unused_port
from redis.asyncio import Redis

from bot.dashboard import words
from bot.dashboard.app import Dashboard
from bot.web import build_web_app
from routing.i18n import translate, use_staff_language
from routing.model import Role, VolunteerId
from routing.store import keys
from routing.store.dashboard_access import SignInLinks
from routing.store.feedback import FeedbackCounts
from tests.browser import chromium, needs_chromium

pytestmark = needs_chromium


async def _ready() -> dict[str, bool]:
    return {}


async def _acknowledge(*_args: object) -> bool:
    return True


async def _a_known_day(redis: Redis) -> float:
    """Audit events and feedback of today (this machine's time); returns when the day's events start."""
    now = time.time()
    midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    start = max(now - 1000, midnight + 1)  # all of them today, even just after midnight
    events = [
        (0, "queued", {"conversation": "c-1"}),
        (100, "queued", {"conversation": "c-2"}),
        (110, "escalation_raised", {"conversation": "c-2", "escalation": "e-1", "tier": "high"}),
        (170, "escalation_acknowledged", {"escalation": "e-1", "by": "dr-lee"}),
        (220, "assigned", {"conversation": "c-2", "volunteer": "ana", "tier": "high"}),
        (250, "first_reply", {"conversation": "c-2", "volunteer": "ana", "seconds": "30", "tier": "high"}),
        (300, "assigned", {"conversation": "c-1", "volunteer": "ben", "tier": "none"}),
        (390, "first_reply", {"conversation": "c-1", "volunteer": "ben", "seconds": "90", "tier": "none"}),
    ]
    for offset, event, fields in events:
        await redis.xadd(keys.AUDIT, {"event": event, "at": f"{start + offset:.3f}", **fields})
    feedback = FeedbackCounts(redis)
    for answer in ("better", "better", "worse"):
        await feedback.count(answer)
    return start


@pytest.fixture
async def served(redis: Redis) -> AsyncIterator[tuple[str, SignInLinks]]:
    """The web app with its dashboard on a real port Chromium can reach (the sign-in links name it)."""
    port = unused_port()
    links = SignInLinks(redis, b"k" * 32, f"http://127.0.0.1:{port}")
    server = TestServer(build_web_app(redis, None, "", _ready, Dashboard(redis, links, _acknowledge)), port=port)
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{port}", links
    finally:
        await server.close()


async def _chart(page: Any, chart_id: str) -> dict[str, Any]:
    """What Chart.js drew on the canvas: its legend, its axes' titles, its bars' values."""
    found: dict[str, Any] = await page.evaluate(
        """id => {
            const chart = Chart.getChart(id);
            return chart && {
                legend: chart.legend.legendItems.map(item => item.text),
                x: chart.options.scales.x.title.text, y: chart.options.scales.y.title.text,
                labels: chart.data.labels, values: chart.data.datasets.map(d => d.data),
            };
        }""",
        chart_id,
    )
    assert found, f"{chart_id} was not drawn"
    return found


async def _numbers(page: Any, chart_id: str) -> tuple[list[str], list[str]]:
    """The headings and today's row (the last) of the table under a chart, once opened."""
    section = page.locator(f"#{chart_id}-section")
    await section.locator("details summary").click()
    headings = await section.locator("table thead th").all_inner_texts()
    today = await section.locator("table tbody tr").last.locator("td").all_inner_texts()
    return headings, today


@pytest.mark.parametrize("language", ["en", "es"])
async def test_the_charts_are_drawn_by_the_vendored_library_with_legends_axes_and_tables(
    served: tuple[str, SignInLinks], redis: Redis, language: str
) -> None:
    use_staff_language(language)  # staff.language: the server runs in this process

    def said(text: str) -> str:
        return translate(language, text)

    base, links = served
    start = await _a_known_day(redis)
    today = words.when(datetime.fromtimestamp(start).date(), "EEE dd")
    async with chromium() as browser, asyncio.timeout(60):
        context = await browser.new_context(viewport={"width": 1200, "height": 900})
        page = await context.new_page()
        page.set_default_timeout(10_000)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.on("pageerror", lambda error: console.append(str(error)))
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        await page.goto(await links.issue(VolunteerId("sam"), {Role.SUPERVISOR}))
        await page.click("#signin")
        await page.wait_for_url(re.compile(r"/dashboard/$"))
        async with page.expect_response(lambda r: r.url == f"{base}/dashboard/static/vendor/chart.umd.min.js") as got:
            await page.goto(f"{base}/dashboard/charts")
        assert (await got.value).status == 200
        await page.locator("#updated").wait_for()

        assert await page.evaluate("() => Chart.version") == "4.6.2"  # the library's global, from our package
        await page.locator("canvas#feedback").wait_for()
        wait = await _chart(page, "wait")
        assert wait["legend"] == ["none", "high"]  # the tiers that waited, in risk order
        assert (wait["x"], wait["y"]) == (said(words.DAY), said(words.MINUTES))
        assert wait["labels"][-1] == today and wait["values"] == [[None] * 6 + [5], [None] * 6 + [2]]
        first = await _chart(page, "first-reply")
        assert first["legend"] == ["none", "high"] and first["y"] == said(words.SECONDS)
        assert first["values"] == [[None] * 6 + [90], [None] * 6 + [30]]
        feedback = await _chart(page, "feedback")
        assert feedback["legend"] == [said(t) for t in words.FEEDBACK_VALUES.values()]
        assert feedback["y"] == said(words.ANSWERS) and [v[-1] for v in feedback["values"]] == [2, 0, 1]
        started = await _chart(page, "started")
        assert started["legend"] == [said(words.STARTED_SERIES)] and started["values"] == [[0] * 6 + [2]]
        ack = await _chart(page, "ack")
        assert ack["legend"] == [said(words.ACK_SERIES)] and ack["values"] == [[None] * 6 + [60]]
        assert (await _chart(page, "taught"))["x"] == said(words.CATEGORY)
        box = await page.locator("canvas#wait").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100  # drawn to the page's width

        assert await _numbers(page, "wait") == ([said(words.DAY), "none", "high"], [today, "5 min", "2 min"])
        assert await _numbers(page, "first-reply") == ([said(words.DAY), "none", "high"], [today, "1 min", "30 s"])
        assert await _numbers(page, "feedback") == (
            [said(words.DAY), *(said(t) for t in words.FEEDBACK_VALUES.values())],
            [today, "2", "0", "1"],
        )
        assert await _numbers(page, "started") == ([said(words.DAY), said(words.STARTED_SERIES)], [today, "2"])
        assert (await page.locator("main h2").all_inner_texts())[:5] == [
            said(words.STARTED_PER_DAY), said(words.MEDIAN_WAIT), said(words.FIRST_REPLY_BY_TIER),
            said(words.ACK_TIME), said(words.FEEDBACK),
        ]  # fmt: skip
        if language != "en":
            assert said(words.MINUTES) != words.MINUTES and said(words.FEEDBACK) != words.FEEDBACK  # translated

        await page.locator("#updated", has_not_text=await page.inner_text("#updated")).wait_for()  # polled again
        assert (await _chart(page, "wait"))["legend"] == ["none", "high"]  # redrawn in place, not duplicated
        assert all(url.startswith(base) for url in requested)  # nothing fetched from anywhere else
        violations = [m for m in console if any(w in m for w in ("Content Security Policy", "violates", "Refused"))]
        assert not violations, violations  # Chromium reports each blocked script, style or eval here
        assert not [m for m in console if "Error" in m or "error" in m], console  # the script ran without one
        await context.close()
