"""The volunteers page's numbers, from a rota and states (pure), and who may see which rows (real Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from bot.dashboard.app import Dashboard
from bot.dashboard.volunteers import build_loads, cells, staff_of, summary, week_hours
from bot.web import build_web_app
from routing.model import Role, VolunteerId
from routing.rota import parse_rota
from routing.store.dashboard_access import SignInLinks
from routing.store.duty import DutyRoster, DutyState
from routing.store.rota_store import RotaStore

ROTA = {
    "timezone": "Europe/London",
    "staff": [
        {"id": "ana", "name": "Ana", "weekly_hours": 10, "max_concurrent": 2},
        {"id": "sam", "name": "Sam", "roles": ["supervisor"], "weekly_hours": 20},
        {"id": "dr-lee", "name": "Dr Lee", "roles": ["professional"], "max_concurrent": 0},
    ],
    "shift": [
        {"volunteer": "ana", "day": "sun", "time": "22:00-02:00"},  # 2 h of it in the week that starts Monday
        {"volunteer": "ana", "day": "mon", "time": "09:00-17:00"},
        {"volunteer": "sam", "day": "wed", "time": "09:00-12:00"},
    ],
}
IDLE = DutyState(checked_in=False, break_left=0, cooldown_left=0)


def test_hours_count_the_part_of_a_shift_inside_the_week_and_what_is_already_past() -> None:
    rota = parse_rota(ROTA)
    monday_noon = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)  # London is on UTC in January
    week = week_hours(rota, monday_noon)
    assert week.start == datetime(2030, 1, 7, tzinfo=UTC)
    assert week.scheduled[VolunteerId("ana")] == 2 + 8 + 2  # Sunday night into Monday, Monday, next Sunday
    assert week.so_far[VolunteerId("ana")] == 2 + 3  # midnight to 02:00, then 09:00 to noon
    assert week.on_shift == {VolunteerId("ana")}
    loads = build_loads(staff_of(rota, []), week, {VolunteerId("ana"): 2}, {VolunteerId("ana"): 5}, {})
    ana, sam, lee = loads
    assert cells(ana) == [
        "ana", "12.0 h scheduled · 5.0 h so far", "10 h · over by 2.0 h", "2 of 2 · full", "5", "on shift",
    ]  # fmt: skip
    assert ana.flags == ["over-hours", "full"]
    assert cells(sam)[0] == "sam (supervisor)" and sam.flags == []
    assert cells(lee)[3] == "0 of 0" and not lee.full  # a professional with no conversations is not "full"
    assert summary(loads) == "1 over their weekly hours · 1 at capacity"


def test_anyone_who_had_conversations_appears_even_without_a_rota() -> None:
    members = staff_of(None, [VolunteerId("v-1a2b3c4d5e")])
    cooling = DutyState(checked_in=True, break_left=0, cooldown_left=125)
    (load,) = build_loads(members, None, {}, {VolunteerId("v-1a2b3c4d5e"): 1}, {members[0].id: cooling})
    assert cells(load) == ["v-1a2b3c4d5e", "no rota", "none", "0 of 3", "1", "off shift · checked in · "
                           "cooling down, 3 min left"]  # fmt: skip
    assert load.flags == ["cooling"]


@pytest.fixture
async def client(redis: Redis) -> AsyncIterator[tuple[TestClient, SignInLinks]]:  # type: ignore[type-arg]
    async def ack(*_args: object) -> bool:
        return True

    links = SignInLinks(redis, b"k" * 32, "http://test")
    await RotaStore(redis).save(parse_rota(ROTA))
    async with TestClient(TestServer(build_web_app(redis, None, "", _ready, Dashboard(redis, links, ack)))) as http:
        yield http, links


async def _ready() -> dict[str, bool]:
    return {}


async def _rows(http: TestClient, links: SignInLinks, who: str, role: Role) -> list[str]:  # type: ignore[type-arg]
    token = (await links.issue(VolunteerId(who), {role})).split("token=")[1]
    http.session.cookie_jar.clear()
    assert (await http.post("/dashboard/signin", data={"token": token}, allow_redirects=False)).status == 303
    answer = await http.get("/dashboard/api/volunteers")
    return [row["volunteer"] for row in (await answer.json())["rows"]]


async def test_supervisors_see_the_team_and_others_only_their_own_row(
    client: tuple[TestClient, SignInLinks],  # type: ignore[type-arg]
    redis: Redis,
) -> None:
    http, links = client
    await DutyRoster(redis, RotaStore(redis)).cool_down(VolunteerId("ana"), 15)
    assert await _rows(http, links, "sam", Role.SUPERVISOR) == ["ana", "sam", "dr-lee"]
    assert await _rows(http, links, "cora", Role.COORDINATOR) == ["ana", "sam", "dr-lee"]
    assert await _rows(http, links, "ana", Role.VOLUNTEER) == ["ana"]
    assert await _rows(http, links, "dr-lee", Role.PROFESSIONAL) == ["dr-lee"]
    assert await _rows(http, links, "nobody", Role.VOLUNTEER) == []
    page = await (await http.get("/dashboard/volunteers")).text()
    assert "Nothing is recorded for you this week." in page
