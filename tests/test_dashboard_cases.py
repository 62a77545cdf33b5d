"""The Cases pages in a real headless Chromium, after a real relay through the router on real Redis: a supervisor
reads a case (the person's message, the volunteer's reply, a whisper marked staff-only, a note, the escalation
timeline) and exports it as one file; a volunteer opens their own current conversation but not someone
else's; every opening and export is in the audit log with the staff id, and the case page says who opened it
before."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.dashboard.app import Dashboard
from bot.dashboard.cases_page import CaseDesk
from bot.web import build_web_app
from routing.model import ConversationId, Platform, Role, UserId, VolunteerId
from routing.roster import StaffMember
from routing.store import keys
from routing.store.case_records import CaseRecords
from routing.store.dashboard_access import SignInLinks
from tests.browser import chromium, needs_chromium
from tests.routing_harness import Harness, make_harness
from tests.test_router_flow import ANA, BEN, SUE

pytestmark = needs_chromium
PRO = StaffMember(
    id=VolunteerId("pat"), name="Pat", roles=frozenset({Role.PROFESSIONAL}),
    identities={Platform.TELEGRAM: UserId("509")},
)  # fmt: skip
RISK = "I want to kill myself tonight"


@dataclass(frozen=True)
class Site:
    harness: Harness
    links: SignInLinks
    browser: object
    ana_case: ConversationId  # Ana holds it now
    ben_case: ConversationId  # Ben holds it now


@pytest.fixture
async def site(redis: Redis) -> AsyncIterator[Site]:
    h = make_harness(redis, members=[ANA, BEN, SUE, PRO])
    ana_case = await h.taken(person="9001", volunteer="501", thread="77", text="I failed my exams again")
    await h.staff("501", "I'm here. Tell me what happened.", thread="77")
    await h.staff("503", "ask whether they are safe tonight", thread="77")  # Sue, not the holder: a whisper
    await h.person("9001", RISK)
    await h.staff("509", "/ack e-1")
    await h.staff("501", "/note spoke about exams; professional acknowledged", thread="77")
    ben_case = await h.taken(person="9002", volunteer="502", thread="78", text="someone else's words")

    async def ack(*_args: object) -> bool:
        return True

    desk = CaseDesk(CaseRecords(redis, h.cipher), h.stack.writer)  # the router's own audit writer
    unused = SignInLinks(redis, b"k" * 32, "http://unused")  # the app only redeems; the test issues below
    app = build_web_app(redis, None, "", _ready, Dashboard(redis, unused, ack, cases=desk))
    async with TestServer(app, host="127.0.0.1") as server, chromium() as browser:
        links = SignInLinks(redis, b"k" * 32, str(server.make_url("")))
        yield Site(h, links, browser, ana_case, ben_case)


async def _ready() -> dict[str, bool]:
    return {}


async def _signed_in(site: Site, who: str, *roles: Role) -> object:
    link = await site.links.issue(VolunteerId(who), set(roles))
    context = await site.browser.new_context(accept_downloads=True)  # type: ignore[attr-defined]
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(link)
    await page.click("#signin")
    await page.wait_for_url(re.compile(r"/dashboard/$"))
    return page


async def _audit(redis: Redis, event: str) -> list[dict[str, str]]:
    entries = await redis.xrange(keys.AUDIT)
    found = [{k.decode(): v.decode() for k, v in fields.items()} for _id, fields in entries]
    return [e for e in found if e["event"] == event]


async def test_a_supervisor_reads_and_exports_a_case(site: Site, redis: Redis, tmp_path: Path) -> None:
    page = await _signed_in(site, "sue", Role.SUPERVISOR)
    await page.get_by_role("link", name="Cases").click()  # type: ignore[attr-defined]
    await page.wait_for_url(re.compile(r"/dashboard/cases$"))  # type: ignore[attr-defined]
    listing = page.locator("#cases")  # type: ignore[attr-defined]
    assert "ana" in await listing.locator("tr", has_text=site.ana_case).inner_text()
    assert "imminent" in await listing.locator("tr", has_text=site.ana_case).inner_text()

    await listing.get_by_role("link", name=site.ana_case).click()
    await page.wait_for_url(re.compile(rf"/dashboard/cases/{site.ana_case}$"))  # type: ignore[attr-defined]
    messages = page.locator("#messages tbody tr")  # type: ignore[attr-defined]
    said = [await row.inner_text() for row in await messages.all()]
    assert "I failed my exams again" in said[0]
    assert "I'm here. Tell me what happened." in said[1] and "ana (reply to the person)" in said[1]
    assert "ask whether they are safe tonight" in said[2] and "sue (whisper, staff only)" in said[2]
    assert RISK in said[3]
    notes = await page.locator("#notes").inner_text()  # type: ignore[attr-defined]
    assert "spoke about exams; professional acknowledged" in notes and "ana" in notes
    timeline = await page.locator("#escalations").inner_text()  # type: ignore[attr-defined]
    assert "e-1 raised at imminent" in timeline and "the risk detector" in timeline
    assert "e-1 acknowledged" in timeline and "pat" in timeline
    assert "none → imminent" in await page.locator("#tiers").inner_text()  # type: ignore[attr-defined]
    assert "Nobody opened this record before." in await page.locator("#opened-before").inner_text()  # type: ignore[attr-defined]

    async with page.expect_download() as info:  # type: ignore[attr-defined]
        await page.click("#export")  # type: ignore[attr-defined]
    download = await info.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    exported = saved.read_text(encoding="utf-8")
    assert download.suggested_filename == f"case-{site.ana_case}.html"
    for words in ("I failed my exams again", "I&#x27;m here. Tell me what happened.", "spoke about exams", "e-1"):
        assert words in exported
    assert "<style>" in exported and "<script" not in exported and "http" not in exported  # nothing fetched

    await page.reload()  # type: ignore[attr-defined]
    before = await page.locator("#opened-before").inner_text()  # type: ignore[attr-defined]
    assert "opened" in before and "exported" in before and "sue" in before
    opened = await _audit(redis, "case_opened")
    assert [(e["conversation"], e["by"]) for e in opened] == [(site.ana_case, "sue")] * 2
    exports = await _audit(redis, "case_exported")
    assert [(e["conversation"], e["by"]) for e in exports] == [(site.ana_case, "sue")]
    assert all(RISK not in str(e) and "exams" not in str(e) for e in opened + exports)


async def test_a_volunteer_opens_only_their_own_current_conversation(site: Site, redis: Redis) -> None:
    page = await _signed_in(site, "ben", Role.VOLUNTEER)
    await page.goto(page.url + "cases")  # type: ignore[attr-defined]
    listing = await page.locator("#cases").inner_text()  # type: ignore[attr-defined]
    assert site.ben_case in listing and site.ana_case not in listing

    answer = await page.goto(page.url.replace("/cases", f"/cases/{site.ana_case}"))  # type: ignore[attr-defined]
    assert answer.status == 403
    assert "only the records of the conversations you hold now" in await page.locator("#refused").inner_text()  # type: ignore[attr-defined]
    assert "exams" not in await page.content()  # type: ignore[attr-defined]

    answer = await page.goto(page.url.replace(site.ana_case, site.ben_case))  # type: ignore[attr-defined]
    assert answer.status == 200 and answer.headers["cache-control"] == "no-store"  # decrypted for this answer only
    assert "someone else's words" in await page.locator("#messages").inner_text()  # type: ignore[attr-defined]
    assert [(e["conversation"], e["by"]) for e in await _audit(redis, "case_opened")] == [(site.ben_case, "ben")]

    await site.harness.staff("502", "/end", thread="78")  # no longer current: closed
    answer = await page.reload()  # type: ignore[attr-defined]
    assert answer.status == 403
