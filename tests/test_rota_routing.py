"""The rota drives routing: coordinator commands in the staff workspace, out of hours, cool-downs, breaks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from routing.i18n import translate, use_staff_language
from routing.model import Audience, ConversationState, Platform, Role, UserId, VolunteerId
from routing.roster import StaffMember
from routing.rota import parse_rota
from routing.store.rota_store import RotaStore
from tests.routing_harness import Harness, make_harness

COORDINATOR = StaffMember(
    id=VolunteerId("cleo"),
    name="Cleo",
    roles=frozenset({Role.VOLUNTEER, Role.COORDINATOR}),
    identities={Platform.TELEGRAM: UserId("510")},
)
ANA = StaffMember(id=VolunteerId("ana"), name="Ana", identities={Platform.TELEGRAM: UserId("501")})
SUE = StaffMember(
    id=VolunteerId("sue"),
    name="Sue",
    roles=frozenset({Role.VOLUNTEER, Role.SUPERVISOR}),
    identities={Platform.TELEGRAM: UserId("503")},
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _rota_data(shift_day: str, time: str) -> dict[str, object]:
    return {
        "timezone": "UTC",
        "staff": [
            {"id": "cleo", "name": "Cleo", "roles": ["coordinator"], "telegram": 510},
            {"id": "ana", "name": "Ana", "telegram": 501},
            {"id": "sue", "name": "Sue", "roles": ["supervisor"], "telegram": 503},
        ],
        "shift": [{"volunteer": "ana", "day": shift_day, "time": time}],
    }


async def _import(redis: Redis, data: dict[str, object]) -> None:
    await RotaStore(redis).save(parse_rota(data), by="test")


async def _lobby(h: Harness) -> list[str]:
    return [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_LOBBY]


async def test_a_coordinator_edits_the_rota_from_the_staff_chat(redis: Redis) -> None:
    h = make_harness(redis, members=[COORDINATOR, ANA])
    await _import(redis, _rota_data("mon", "09:00-17:00"))
    await h.staff("510", "/shift add ana tue 18:00-22:00")
    assert "ana" in (await _lobby(h))[-1].lower()
    stored = await RotaStore(redis).load()
    assert stored is not None
    assert len(stored.rota.shifts) == 2

    await h.staff("510", "/shift add ana wed 25:00-26:00")
    await h.staff("510", "/shift add nobody wed 10:00-12:00")
    await h.staff("510", "/shift add ana tue 19:00-20:00")  # overlaps the evening shift
    await h.staff("510", "/shift add ana thu 12:00-09:00x")
    answers = await _lobby(h)
    assert "25:00" in answers[0]
    assert "nobody" in answers[1]
    assert "overlap" in answers[2].lower()
    assert answers[3]
    after = await RotaStore(redis).load()
    assert after is not None
    assert after.rota == stored.rota  # nothing changed on any error

    await h.staff("510", "/rota")
    assert "today" in (await _lobby(h))[-1].lower()


async def test_volunteers_are_refused_rota_commands(redis: Redis) -> None:
    h = make_harness(redis, members=[COORDINATOR, ANA])
    await _import(redis, _rota_data("mon", "09:00-17:00"))
    await h.staff("501", "/shift add ana tue 18:00-22:00")
    await h.staff("501", "/capacity ana 9")
    await h.staff("501", "/rota")
    for answer in await _lobby(h):
        assert "Only coordinators" in answer
    stored = await RotaStore(redis).load()
    assert stored is not None
    assert len(stored.rota.shifts) == 1


async def test_a_spanish_speaking_organisation_reads_the_rota_answers_in_spanish(redis: Redis) -> None:
    use_staff_language("es")
    h = make_harness(redis, members=[COORDINATOR, ANA])
    await _import(redis, _rota_data("mon", "09:00-17:00"))
    await h.staff("510", "/rota")
    await h.staff("501", "/shift add ana tue 18:00-22:00")
    await h.staff("510", "/shift add ana wed 25:00-26:00")
    rota, refused, mistyped = await _lobby(h)

    def es(text: str, /, **params: object) -> str:
        return translate("es", text).format(**params)

    assert rota.startswith(es("Rota ({timezone})", timezone="UTC") + "\n")
    assert f"({es('Today')})\n  {es('On shift:')}\n" in rota
    assert refused == es("Only coordinators can use the rota commands; please ask a coordinator.")
    problem = es("{text!r} is not a time: hours go from 00 to 23 (24:00 may end a range)", text="25:00")
    usage = es("/shift add|remove <volunteer> <day> <HH:MM-HH:MM>, e.g. /shift add ana mon 09:00-17:00")
    assert mistyped == es("{problem} (usage: {usage})", problem=problem, usage=usage)


async def test_out_of_hours_a_person_is_told_when_volunteers_are_back_and_their_message_waits(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    tomorrow = DAYS[(datetime.now(UTC) + timedelta(days=2)).weekday()]
    await _import(redis, _rota_data(tomorrow, "09:00-10:00"))
    await h.person("9001", "is anyone there tonight?")
    reply = (await h.to_person())[-1]
    assert "not on shift right now" in reply
    assert "09:00 UTC" in reply
    assert "emergency" in reply
    conv = await h.conversation_of("9001")
    assert len(await h.stack.conversations.take_pending(conv)) == 1  # the message waits in the queue

    await h.person("9002", "I want to kill myself")  # risk is escalated 24/7, whatever the rota says
    assert any(m.audience == Audience.ESCALATION for m in await h.outbound(Platform.TELEGRAM))


async def test_a_rota_without_any_shift_gives_roles_not_hours(redis: Redis) -> None:
    """A rota file that only names the staff and their roles (loaded at first start) never means "closed"."""
    h = make_harness(redis, members=[ANA])
    await _import(redis, {**_rota_data("mon", "09:00-10:00"), "shift": []})
    await h.person("9001", "hello")
    assert "number 1" in (await h.to_person())[-1]


async def test_during_a_shift_people_are_queued_as_usual(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).strftime("%H:00"), (now + timedelta(hours=2)).strftime("%H:00")
    if start >= end:  # around midnight: a whole-day shift keeps the test simple
        start, end = "00:00", "24:00"
    await _import(redis, _rota_data(DAYS[now.weekday()], f"{start}-{end}"))
    await h.person("9001", "hello")
    assert "number 1" in (await h.to_person())[-1]


async def test_a_hard_conversation_brings_a_cool_down_a_check_in_and_a_debrief(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, SUE])
    await h.person("9001", "I want to kill myself")
    lobby = await _lobby(h)
    assert any("reached" in t and "Supervisors: Sue" in t for t in lobby)  # shown to the supervisor at once
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.outbound(Platform.TELEGRAM)

    await h.staff("501", "/end confirm safe with family now, agreed to call back", thread="77")  # no ack yet
    out = await h.outbound(Platform.TELEGRAM)
    assert any("heavy conversation" in m.text for m in out if m.audience == Audience.STAFF_THREAD)
    assert any(m.text.startswith("Debrief please: Ana") for m in out if m.audience == Audience.STAFF_LOBBY)

    await h.person("9002", "hello")
    await h.staff("501", "/next")
    assert any("cool-down" in t for t in await _lobby(h))
    waiting = await h.stack.conversations.get(await h.conversation_of("9002"))
    assert waiting is not None
    assert waiting.state == ConversationState.WAITING


async def test_a_volunteer_on_a_break_gets_no_automatic_assignments(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA], auto_assign=True)
    await h.staff("501", "/on")
    await h.staff("501", "/break 10")
    assert any("on a break for 10 minutes" in t for t in await _lobby(h))
    await h.person("9001", "hello")
    conv = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert conv is not None
    assert conv.state == ConversationState.WAITING
    await h.staff("501", "/on")  # back early
    await h.person("9002", "hello")
    assert (await h.stack.conversations.get(await h.conversation_of("9001"))).state == ConversationState.ACTIVE  # type: ignore[union-attr]


async def test_coordinators_are_alerted_to_gaps_missing_on_call_and_long_waits(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await _import(redis, _rota_data("mon", "09:30-12:00"))
    monday = datetime(2031, 3, 3, 8, 45, tzinfo=UTC)  # nobody until Ana's shift at 09:30
    sent = await h.stack.coverage.check(now=monday)
    assert sent == [
        "Rota gap: no volunteer is on shift from Mon 08:45 UTC. Can someone cover? "
        "(/cover <volunteer> <date> <HH:MM-HH:MM>)",
        "No on-call professional is covering right now. Risk alerts still go to the escalation chat; please "
        "arrange cover (/oncall).",
    ]
    assert await h.stack.coverage.check(now=monday) == []  # each alert once
    lobby = await _lobby(h)
    assert len(lobby) == 2

    await h.person("9001", "hello")
    later = datetime.fromtimestamp(datetime.now(UTC).timestamp() + 11 * 60, UTC)
    waited = await h.stack.coverage.check(now=later)
    assert any("has been waiting 11 minutes" in t for t in waited)


async def test_a_volunteer_whose_shift_ends_is_asked_to_hand_over_each_conversation(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await _import(redis, _rota_data("mon", "09:00-10:00"))
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.outbound(Platform.TELEGRAM)
    await h.stack.coverage.check(now=datetime(2031, 3, 3, 9, 55, tzinfo=UTC))
    prompts = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert [m.text for m in prompts if m.conversation == conv] == [
        "ⓘ Your shift ends at Mon 10:00 UTC. To hand over, use /release <note for the next volunteer>; to stay "
        "with them, just carry on."
    ]


async def test_coordinators_are_warned_when_a_volunteer_is_scheduled_over_their_weekly_hours(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    data = _rota_data("mon", "08:00-20:00")
    data["staff"][1]["weekly_hours"] = 10  # type: ignore[index]
    await _import(redis, data)
    sent = await h.stack.coverage.check(now=datetime(2031, 3, 3, 9, 0, tzinfo=UTC))
    assert any("ana is scheduled 12 hours this week, over their limit of 10" in t for t in sent)


async def test_roles_come_from_the_live_rota_once_imported(redis: Redis) -> None:
    h = make_harness(redis, members=[])  # no roster file: the rota in Redis alone says who is a coordinator
    await _import(redis, _rota_data("mon", "09:00-17:00"))
    await h.staff("510", "/capacity ana 2")
    stored = await RotaStore(redis).load()
    assert stored is not None
    assert next(m for m in stored.rota.staff if m.id == "ana").max_concurrent == 2
