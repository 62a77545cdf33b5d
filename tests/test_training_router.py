"""Practice sessions through the real router on real Redis: /train, the scripted person, timed steps, debriefs,
and the promise that training never reaches a person, the queue, an alert, the audit stream or metrics."""

from __future__ import annotations

import time
from pathlib import Path

from redis.asyncio import Redis

from bot import shipped
from routing import texts
from routing.model import (
    Audience,
    ConversationId,
    Origin,
    OutboundKind,
    OutboundMessage,
    Platform,
    RiskTier,
    Role,
    UserId,
    VolunteerId,
)
from routing.outbox import NOTICE_MARK, Outbox
from routing.roster import Roster, StaffMember
from routing.store import keys
from routing.store.training import TrainingStore
from routing.training.desk import Started, staff_id
from routing.training.scenario_file import ScenarioLibrary, load_library, load_scenario
from tests.routing_harness import Harness, make_harness, real_detector

SHIPPED = shipped.TRAINING_SCENARIOS
T1 = ConversationId("t-1")


def member(vid: str, name: str, telegram: str | None, *roles: Role) -> StaffMember:
    identities = {Platform.TELEGRAM: UserId(telegram)} if telegram else {}
    return StaffMember(VolunteerId(vid), name, frozenset({Role.VOLUNTEER, *roles}), identities=identities)


CORA = member("cora", "Cora", "601", Role.COORDINATOR)
ANA = member("ana", "Ana", "501")
BEN = member("ben", "Ben", "502")
DEE = member("dee", "Dee", None)
STAFF = [CORA, ANA, BEN, DEE]


def harness(redis: Redis, library: ScenarioLibrary | None = None) -> Harness:
    return make_harness(redis, members=STAFF, scenarios=library or load_library(SHIPPED))


async def said(h: Harness) -> list[OutboundMessage]:
    return await h.outbound(Platform.TELEGRAM)


def in_thread(out: list[OutboundMessage], session: ConversationId = T1) -> list[str]:
    return [m.text for m in out if m.audience == Audience.STAFF_THREAD and m.conversation == session and m.text]


def lobby(out: list[OutboundMessage]) -> list[str]:
    return [m.text for m in out if m.audience == Audience.STAFF_LOBBY]


async def start(h: Harness, argument: str, thread: str = "900") -> list[OutboundMessage]:
    """Cora runs /train in the lobby; the adapter opens the topic (as it would on the first message)."""
    await h.staff("601", f"/train {argument}")
    out = await said(h)
    await h.open_thread(T1, thread)
    return out


async def test_a_coordinator_starts_a_practice_session_in_a_topic_marked_training(redis: Redis) -> None:
    h = harness(redis)
    out = await start(h, "ana loneliness")

    thread = [m for m in out if m.audience == Audience.STAFF_THREAD]
    assert {m.conversation for m in thread} == {T1}
    assert {m.pseudonym for m in thread} == {"TRAINING · loneliness · Ana"}  # the adapters name the topic by it
    assert thread[0].text.startswith("ⓘ TRAINING · practice only. Ana, you are practising")
    assert "Nothing here reaches a real person" in thread[0].text
    opening = [m.text for m in thread[1:]]
    assert opening == ["hi", "not sure this is the right place. I just don't really have anyone to talk to"]
    assert lobby(out) == [
        'Practice session t-1 started for Ana: Loneliness: new in town. Their topic is "TRAINING · loneliness · Ana". '
        "The debrief will come here when it ends."
    ]
    assert not [m for m in out if m.audience in (Audience.SEEKER, Audience.STAFF_QUEUE, Audience.ESCALATION)]


async def test_only_coordinators_can_start_practice(redis: Redis) -> None:
    h = harness(redis)
    await h.staff("501", "/train ben loneliness")
    assert lobby(await said(h)) == ["Only coordinators can start practice sessions (/train <volunteer> <scenario>)."]
    assert not await redis.exists(keys.TRAINING_SEQ)


async def test_unknown_names_get_a_precise_answer_listing_the_valid_ones(redis: Redis) -> None:
    h = harness(redis)
    await h.staff("601", "/train zed lonely")
    await h.staff("601", "/train ana")
    await h.staff("601", "/train dee loneliness")
    unknown, usage, no_identity = lobby(await said(h))
    assert unknown == (
        "I don't know a volunteer called 'zed'. Volunteers: cora (Cora), ana (Ana), ben (Ben). "
        "There is no training scenario 'lonely'. Scenarios: goes-silent, loneliness, rising-risk."
    )
    assert usage == (
        "/train needs a volunteer and a scenario, for example: /train ana goes-silent. "
        "Scenarios: goes-silent, loneliness, rising-risk."
    )
    assert no_identity.startswith("Dee has no telegram account in the rota")
    assert not await redis.exists(keys.TRAINING_SEQ)


async def test_a_broken_scenario_file_is_explained_when_asked_for(redis: Redis, tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text((SHIPPED / "loneliness.toml").read_text().replace('next = "share"', ""))
    h = harness(redis, load_library(tmp_path))
    await h.staff("601", "/train ana broken")
    (answer,) = lobby(await said(h))
    assert answer.startswith("The training scenario 'broken' cannot be used until its file is fixed: ")
    assert "broken.toml: step 'opening': needs next" in answer


async def test_replies_drive_the_branches_and_end_gives_both_a_debrief(redis: Redis) -> None:
    h = harness(redis)
    await start(h, "ana loneliness")
    await h.staff("501", "Hi, I'm glad you wrote. What's going on?", thread="900")
    assert in_thread(await said(h)) == [
        "I moved here for work about four months ago. I go to work, come home, and nobody would notice if I "
        "wasn't there. weekends are the worst"
    ]
    await h.staff("501", "That sounds so lonely. Are you having thoughts of suicide?", thread="900")
    assert in_thread(await said(h))[0] == "no. not like that, I wouldn't do anything"

    await h.staff("501", "/end", thread="900")
    out = await said(h)
    (debrief,) = in_thread(out)
    assert debrief.startswith("ⓘ TRAINING DEBRIEF · Loneliness: new in town (loneliness) · Ana")
    assert "How it ended: ended with /end by Ana" in debrief
    assert "Messages: 2 from you, 5 from the person." in debrief
    assert "Response times: first reply " in debrief and ", median " in debrief
    assert "✓ Opened warmly, or with an open question" in debrief
    assert "✓ Reflected their feelings" in debrief and "✓ Asked directly about suicide" in debrief
    assert "✗ Explored small next steps" in debrief
    assert "The script's path: opening → share → not_like_that" in debrief
    assert lobby(out) == [f"For Cora, who started this practice session:\n{debrief.removeprefix(NOTICE_MARK)}"]
    assert [m.kind for m in out if m.conversation == T1][-1] == OutboundKind.CLOSE_THREAD
    session = await redis.hgetall(keys.training(T1))
    assert session[b"phase"] == b"done"


async def test_training_never_reaches_a_person_the_queue_an_alert_the_audit_or_metrics(redis: Redis) -> None:
    h = harness(redis)
    scenario = load_scenario(SHIPPED / "rising-risk.toml")
    lines = [line for step in scenario.steps.values() for line in step.say]
    assert any(real_detector().assess(line).tier >= RiskTier.HIGH for line in lines)  # it would page, if real

    await start(h, "ana rising-risk")
    for reply in ("I'm here. What's happening?", "That sounds so hard.", "Are you thinking of killing yourself?",
                  "Do you have a plan? Have you got pills with you tonight?", "I hear how much pain you're in",
                  "/end"):  # fmt: skip
        await h.staff("501", reply, thread="900")
    out = await said(h)
    assert any("pills saved up" in text for text in in_thread(out))  # the scripted risk lines were said
    assert not [m for m in out if m.audience in (Audience.SEEKER, Audience.STAFF_QUEUE, Audience.ESCALATION)]
    assert not [m for m in out if m.source_platform is not None]  # relays are what the metrics count
    assert await redis.xlen(keys.ESCALATIONS) == 0  # the stream exists (its consumer group) but is empty
    assert not await redis.exists(keys.AUDIT, keys.QUEUE)
    assert not [k async for k in redis.scan_iter(match=keys.PREFIX + "esc:*")]
    assert not [k async for k in redis.scan_iter(match=keys.PREFIX + "person:*")]

    # The same words from a real person do page: the detector is live in this router.
    await h.person("9001", "I've got a box of pills saved up and I'm going to take them tonight to kill myself")
    assert any(m.audience == Audience.ESCALATION for m in await said(h))


async def test_escalate_is_practised_and_nothing_is_sent(redis: Redis) -> None:
    h = harness(redis)
    await start(h, "ana rising-risk")
    for reply in ("hi, I'm here", "that sounds awful", "are you thinking about suicide?", "do you have a plan?"):
        await h.staff("501", reply, thread="900")
    assert "pills saved up" in in_thread(await said(h))[-1]

    await h.staff("501", "/escalate", thread="900")
    out = await said(h)
    assert in_thread(out)[0].startswith("ⓘ TRAINING: escalation noted.")
    assert "I don't really want to die" in in_thread(out)[1]
    assert not [m for m in out if m.audience == Audience.ESCALATION]
    await h.staff("501", "Thank you for telling me. I'll stay right here with you until they arrive", thread="900")
    await h.staff("501", "/end", thread="900")
    debrief = in_thread(await said(h))[-1]
    assert "✓ Escalated: /escalate" in debrief and "✓ Stayed with them" in debrief
    assert "✓ Asked about a plan" in debrief and "✗ Offered emergency help" in debrief
    assert await redis.xlen(keys.ESCALATIONS) == 0 and not await redis.exists(keys.AUDIT)


async def test_timed_steps_play_when_due_and_the_script_finishes_by_itself(redis: Redis) -> None:
    h = harness(redis)
    later = time.time() + 3600
    await start(h, "ana goes-silent")
    await h.staff("501", "Hi, I'm here. What's on your mind?", thread="900")
    assert in_thread(await said(h)) == []  # Alex is still typing (a delay)
    assert await h.stack.training.fire_due(now=later) == 1
    assert in_thread(await said(h)) == [
        "I failed my exam today",
        "my parents are going to kill me. not literally lol. I just feel like such a failure",
    ]
    await h.staff("501", "When you say that, do you mean you're thinking of hurting yourself?", thread="900")
    assert in_thread(await said(h)) == ["no, nothing like that. I just feel like crap"]
    await h.staff("501", "Thank you for telling me. Exam results can feel crushing.", thread="900")
    assert in_thread(await said(h)) == ["wait, someone's coming"]

    await h.staff("501", "No rush, I'm here whenever you're ready.", thread="900")
    assert in_thread(await said(h)) == []  # silent, whatever the volunteer writes
    assert await h.stack.training.fire_due() == 0  # not due yet
    await h.stack.training.fire_due(now=later)
    assert in_thread(await said(h)) == ["sorry. my dad came in. I'm back"]
    await h.staff("501", "Welcome back, no worries at all.", thread="900")
    await h.staff("501", "Take care, and write again any time.", thread="900")
    await h.stack.training.fire_due(now=later)
    out = await said(h)
    debrief = in_thread(out)[-1]
    assert "How it ended: the script finished" in debrief
    assert "Key steps (4 of 4)" in debrief and "✓ Checked in gently while they were silent" in debrief
    assert "The script's path: opening → topic → direct_no → gone → back → wrap" in debrief
    assert any(text.startswith("For Cora") for text in lobby(out))
    assert not await redis.zcard(keys.TRAINING_DUE)


async def test_one_session_per_volunteer_until_it_ends(redis: Redis) -> None:
    h = harness(redis)
    await start(h, "ana loneliness")
    await h.staff("601", "/train Ana goes-silent")
    assert lobby(await said(h)) == [
        "Ana already has a practice session running (t-1); it must end first (/end in its topic)."
    ]
    await h.staff("601", "/end", thread="900")  # a coordinator may end it too
    assert "ended with /end by Cora" in in_thread(await said(h))[0]
    await h.staff("601", "/train ana goes-silent")
    assert lobby(await said(h))[0].startswith("Practice session t-2 started for Ana")


async def test_only_the_trainee_drives_the_script(redis: Redis) -> None:
    h = harness(redis)
    await start(h, "ana loneliness")
    await h.staff("502", "hi there, what's up?", thread="900")
    assert in_thread(await said(h)) == []  # others may watch; only Ana's replies count
    await h.staff("502", "/end", thread="900")
    await h.staff("501", "/next", thread="900")
    assert in_thread(await said(h)) == [
        "ⓘ TRAINING: this practice session is Ana's; only they or a coordinator can end it.",
        "ⓘ TRAINING: in a practice topic only /escalate, /end and /help work.",
    ]
    session = await redis.hgetall(keys.training(T1))
    assert session[b"step"] == b"opening" and session[b"phase"] == b"waiting"


async def test_a_finished_session_says_so(redis: Redis) -> None:
    h = harness(redis)
    await start(h, "ana loneliness")
    await h.staff("501", "/end", thread="900")
    await said(h)
    await h.staff("501", "hello?", thread="900")
    assert in_thread(await said(h)) == ["ⓘ TRAINING: this practice session has ended."]


async def test_handling_an_entry_again_after_a_crash_changes_nothing(redis: Redis) -> None:
    h = harness(redis)
    train = h.inbound("601", "/train ana loneliness", origin=Origin.STAFF)
    for _ in range(2):  # a reclaimed entry is handled again with the same entry id
        await h.stack.router.handle(train, "1-1")
    assert len(in_thread(await said(h))) == 3
    assert await redis.get(keys.TRAINING_SEQ) == b"1"

    await h.open_thread(T1, "900")
    reply = h.inbound("501", "Hi, I'm glad you wrote. What's going on?", origin=Origin.STAFF, thread="900")
    for _ in range(2):
        await h.stack.router.handle(reply, "2-1")
    assert len(in_thread(await said(h))) == 1  # the person answered once
    session = await redis.hgetall(keys.training(T1))
    assert session[b"step"] == b"share"
    assert await redis.hlen(keys.training_log(T1)) == 4  # the person's 3 lines and the reply, each once


async def test_automatic_assignment_passes_over_a_volunteer_in_practice_until_it_ends(redis: Redis) -> None:
    h = make_harness(redis, members=STAFF, scenarios=load_library(SHIPPED), auto_assign=True)
    await h.staff("501", "/on")
    await h.staff("502", "/on")
    await start(h, "ana loneliness")
    await h.person("9001", "hello")
    first = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert first is not None and first.volunteer == "ben"  # Ana has more room, but she is practising

    await h.staff("501", "/end", thread="900")
    await h.person("9002", "hello")
    second = await h.stack.conversations.get(await h.conversation_of("9002"))
    assert second is not None and second.volunteer == "ana"  # her practice is over: she takes people again
    assert await h.stack.training.practising([VolunteerId("ana"), VolunteerId("ben")]) == frozenset()


async def test_the_dashboard_names_staff_by_id_with_the_same_checks_as_the_command(redis: Redis) -> None:
    h = harness(redis)
    roster = Roster(STAFF, h.pseudonyms)
    desk, out = h.stack.training, Outbox("dashboard-1")
    refused = await desk.start_session("dee loneliness", CORA, roster, out, name_of=staff_id)
    assert refused == (
        "dee has no telegram account in the rota, so their replies in a practice topic could not be recognised. "
        "Add `telegram = <their user id>` to their [[staff]] entry first."
    )
    unknown = await desk.start_session("zed loneliness", CORA, roster, out, name_of=staff_id)
    assert unknown == "I don't know a volunteer called 'zed'. Volunteers: cora, ana, ben."
    assert await desk.start_session("ana loneliness", ANA, roster, out, name_of=staff_id) == texts.TRAIN_REFUSED
    started = await desk.start_session("ana loneliness", CORA, roster, out, name_of=staff_id)
    assert isinstance(started, Started) and started.session == T1 and started.trainee == ANA
    await h.stack.writer.emit_all(out.messages)
    assert await desk.practising([VolunteerId("ana"), VolunteerId("ben")]) == {"ana"}
    busy = await desk.start_session("ana goes-silent", CORA, roster, Outbox("dashboard-2"), name_of=staff_id)
    assert busy == "ana already has a practice session running (t-1); it must end first (/end in its topic)."
    (recent,) = await TrainingStore(redis).recent()
    assert (recent.id, recent.volunteer, recent.coordinator, recent.scenario) == (T1, "ana", "cora", "loneliness")
