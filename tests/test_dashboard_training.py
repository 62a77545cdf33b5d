"""The training page on real Redis with the real routing stack: coordinators start practice sessions with the
same checks and answers as `/train`; others see no form, cannot post one, and see only what they may."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from bot import shipped
from bot.dashboard.app import Dashboard
from bot.dashboard.practice import PracticeBoard
from bot.web import build_web_app
from routing.model import Audience, ConversationId, Platform, Role, UserId, VolunteerId
from routing.roster import Roster, StaffMember
from routing.store import keys
from routing.store.dashboard_access import SignInLinks
from routing.store.training import TrainingStore
from routing.training.scenario_file import load_library
from tests.routing_harness import Harness, make_harness

SHIPPED = shipped.TRAINING_SCENARIOS


def _member(vid: str, name: str, telegram: str | None, *roles: Role) -> StaffMember:
    identities = {Platform.TELEGRAM: UserId(telegram)} if telegram else {}
    return StaffMember(VolunteerId(vid), name, frozenset({Role.VOLUNTEER, *roles}), identities=identities)


STAFF = [
    _member("cora", "Cora Coordinator", "601", Role.COORDINATOR),
    _member("sam", "Sam Supervisor", "602", Role.SUPERVISOR),
    _member("ana", "Ana Volunteer", "501"),
    _member("ben", "Ben Volunteer", "502"),
    _member("dee", "Dee Volunteer", None),
]


@dataclass
class Site:
    http: TestClient  # type: ignore[type-arg]
    links: SignInLinks
    harness: Harness

    async def sign_in(self, who: str, *roles: Role) -> str:
        """Sign in as `who`; returns the session's CSRF token."""
        token = (await self.links.issue(VolunteerId(who), set(roles))).split("token=")[1]
        self.http.session.cookie_jar.clear()
        assert (await self.http.post("/dashboard/signin", data={"token": token}, allow_redirects=False)).status == 303
        body = await (await self.http.get("/dashboard/training")).text()
        found = re.search(r'data-csrf="([^"]+)"', body)
        assert found
        return found.group(1)

    async def start(self, csrf: str, volunteer: str, scenario: str) -> tuple[int, str, str]:
        answer = await self.http.post(
            "/dashboard/training/sessions", data={"csrf": csrf, "volunteer": volunteer, "scenario": scenario},
            allow_redirects=False,
        )  # fmt: skip
        return answer.status, answer.headers.get("Location", ""), await answer.text()


@pytest.fixture
async def site(redis: Redis) -> AsyncIterator[Site]:
    library = load_library(SHIPPED)
    h = make_harness(redis, members=STAFF, scenarios=library)
    roster = Roster(STAFF, h.pseudonyms)

    async def live_roster() -> Roster:
        return roster

    board = PracticeBoard(
        Platform.TELEGRAM, h.stack.training, TrainingStore(redis), library, h.stack.writer, live_roster
    )

    async def ack(*_args: object) -> bool:
        return True

    links = SignInLinks(redis, b"k" * 32, "http://test")
    app = build_web_app(redis, None, "", _ready, Dashboard(redis, links, ack, board))
    async with TestClient(TestServer(app)) as http:
        yield Site(http, links, h)


async def _ready() -> dict[str, bool]:
    return {}


async def test_a_coordinator_starts_a_session_and_the_scripted_person_writes(site: Site, redis: Redis) -> None:
    csrf = await site.sign_in("cora", Role.COORDINATOR)
    form = await (await site.http.get("/dashboard/training")).text()
    assert 'id="train-start"' in form
    assert re.findall(r'<option value="([^"]+)">', form)[:5] == ["cora", "sam", "ana", "ben", "dee"]
    assert "dee (no telegram account in the rota)" in form
    assert "Loneliness: new in town (loneliness)</dt><dd>" in form  # each scenario's title and brief

    status, location, _ = await site.start(csrf, "ana", "loneliness")
    assert (status, location) == (303, "/dashboard/training?started=t-1")
    out = await site.harness.outbound(Platform.TELEGRAM)
    thread = [m for m in out if m.audience == Audience.STAFF_THREAD and m.conversation == "t-1"]
    assert {m.pseudonym for m in thread} == {"TRAINING · loneliness · Ana Volunteer"}  # as /train names it
    assert [m.text for m in thread][1] == "hi"  # the scripted person's first line

    page = await (await site.http.get(location)).text()
    assert "Practice session t-1 started for ana: Loneliness: new in town." in page
    assert "ana (practising now)" in page
    row = re.search(r'<tr><td data-label="Session">t-1</td>.*?</tr>', page)
    assert row and "running" in row.group(0) and '<td data-label="Started by">cora</td>' in row.group(0)
    for name in ("Cora Coordinator", "Ana Volunteer", "Dee Volunteer"):
        assert name not in page  # staff ids only


async def test_refusals_are_the_chat_commands_sentences_naming_staff_by_id(site: Site, redis: Redis) -> None:
    csrf = await site.sign_in("cora", Role.COORDINATOR)
    status, _, page = await site.start(csrf, "dee", "loneliness")
    assert status == 400 and "dee has no telegram account in the rota, so their replies" in page
    status, _, page = await site.start(csrf, "ana", "lonely")
    assert status == 400 and "There is no training scenario &#x27;lonely&#x27;." in page
    assert not await redis.exists(keys.TRAINING_SEQ)
    assert (await site.start(csrf, "ana", "loneliness"))[0] == 303
    status, _, page = await site.start(csrf, "ana", "goes-silent")
    assert status == 400 and "ana already has a practice session running (t-1)" in page
    assert "Ana Volunteer" not in page
    forged = await site.http.post(
        "/dashboard/training/sessions", data={"csrf": "nope", "volunteer": "ben", "scenario": "loneliness"}
    )
    assert forged.status == 403 and await redis.get(keys.TRAINING_SEQ) == b"1"


async def test_others_see_no_form_cannot_post_one_and_see_only_what_they_may(site: Site, redis: Redis) -> None:
    csrf = await site.sign_in("cora", Role.COORDINATOR)
    await site.start(csrf, "ana", "loneliness")
    await site.start(csrf, "ben", "goes-silent")
    h = site.harness
    await h.open_thread(ConversationId("t-1"), "900")  # what the adapter does when it opens the topic
    await h.staff("501", "Hi, I'm glad you wrote. What's going on?", thread="900")

    for who, role, sessions in (("sam", Role.SUPERVISOR, ["t-2", "t-1"]), ("ana", Role.VOLUNTEER, ["t-1"])):
        csrf = await site.sign_in(who, role)
        page = await (await site.http.get("/dashboard/training")).text()
        assert 'id="train-start"' not in page and "<select" not in page
        assert re.findall(r'<tr><td data-label="Session">(t-\d+)</td>', page) == sessions
        status, _, _ = await site.start(csrf, "ben", "rising-risk")
        assert status == 403
    assert await redis.get(keys.TRAINING_SEQ) == b"2"
    row = re.search(r'<tr><td data-label="Session">t-1</td>.*?</tr>', page)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0))
    assert cells[6] == "1" and cells[7].endswith(" s") and cells[9] == "1 of 5"  # one reply, one key step


async def test_without_practice_the_page_says_so(redis: Redis) -> None:
    async def ack(*_args: object) -> bool:
        return True

    links = SignInLinks(redis, b"k" * 32, "http://test")
    app = build_web_app(redis, None, "", _ready, Dashboard(redis, links, ack))
    async with TestClient(TestServer(app)) as http:
        assert (await http.get("/dashboard/training")).status == 401
        token = (await links.issue(VolunteerId("cora"), {Role.COORDINATOR})).split("token=")[1]
        await http.post("/dashboard/signin", data={"token": token})
        page = await (await http.get("/dashboard/training")).text()
        assert "Practice sessions are not available in this deployment." in page
