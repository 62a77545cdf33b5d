"""The escalation chain from the live rota: who is paged, privately, at each level; the end of the chain; one
escalation per risk episode. Real Redis; deadlines are claimed as the deadline worker would, with a later clock."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from routing.escalation import EscalationPolicy
from routing.model import Audience, InboundKind, Origin, OutboundMessage, Platform, Role, UserId, VolunteerId
from routing.roster import StaffMember
from routing.rota import parse_rota
from routing.store import keys
from routing.store.escalations import EscalationStore
from routing.store.risk_labels import RiskLabels
from routing.store.rota_store import RotaStore
from tests.routing_harness import Harness, make_harness

ANA = StaffMember(id=VolunteerId("ana"), name="Ana", identities={Platform.TELEGRAM: UserId("501")})
LEE = StaffMember(
    id=VolunteerId("dr-lee"), name="Dr Lee", roles=frozenset({Role.VOLUNTEER, Role.PROFESSIONAL}),
    identities={Platform.TELEGRAM: UserId("700")},
)  # fmt: skip
KIM = StaffMember(
    id=VolunteerId("dr-kim"), name="Dr Kim", roles=frozenset({Role.VOLUNTEER, Role.PROFESSIONAL}),
    identities={Platform.TELEGRAM: UserId("701")},
)  # fmt: skip
CLEO = StaffMember(
    id=VolunteerId("cleo"), name="Cleo", roles=frozenset({Role.VOLUNTEER, Role.COORDINATOR}),
    identities={Platform.TELEGRAM: UserId("510")},
)  # fmt: skip
STAFF = [ANA, LEE, KIM, CLEO]
RISK_TEXT = "I have the pills in front of me and I'm going to take them all tonight"
ALL_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


async def _rota(redis: Redis, *, on_call: bool = True) -> None:
    data: dict[str, object] = {
        "timezone": "UTC",
        "staff": [
            {"id": "ana", "name": "Ana", "telegram": 501},
            {"id": "dr-lee", "name": "Dr Lee", "roles": ["professional"], "telegram": 700},
            {"id": "dr-kim", "name": "Dr Kim", "roles": ["professional"], "telegram": 701},
            {"id": "cleo", "name": "Cleo", "roles": ["coordinator"], "telegram": 510},
        ],
        "shift": [{"volunteer": "cleo", "days": ALL_WEEK, "time": "00:00-24:00"}],
    }
    if on_call:
        data["oncall"] = [{"professional": "dr-lee", "backup": "dr-kim", "days": ALL_WEEK, "time": "00:00-24:00"}]
    await RotaStore(redis).save(parse_rota(data), by="test")


async def _risk_in_conversation(redis: Redis) -> tuple[Harness, str]:
    """Ana holds a person (thread "77") who has just written a high-risk message."""
    h = make_harness(redis, members=STAFF)
    await _rota(redis)
    conv = await h.taken()
    await h.person("9001", RISK_TEXT)
    return h, conv


def _paged(out: list[OutboundMessage]) -> set[str]:
    """Whose private chats an alert reached."""
    return {m.chat or "" for m in out if m.audience == Audience.STAFF_DIRECT and "paged directly" in m.text}


async def _next_level(h: Harness, redis: Redis, minutes: float) -> list[OutboundMessage]:
    """The deadline worker's pass once `minutes` have gone by; what it sent."""
    await EscalationStore(redis).claim_due(now=time.time() + minutes * 60, last_level=3)
    await h.pump()
    return await h.outbound(Platform.TELEGRAM)


async def test_the_chain_pages_on_call_then_backup_then_coordinators_then_says_unanswered(redis: Redis) -> None:
    h = make_harness(redis, members=STAFF, policy=EscalationPolicy(ack_timeout=60))
    await _rota(redis)
    await h.person("9001", RISK_TEXT)
    first = await h.outbound(Platform.TELEGRAM)
    assert _paged(first) == {"700"}  # the on-call professional of this hour, privately
    assert any(m.audience == Audience.ESCALATION for m in first)
    dm = next(m for m in first if m.chat == "700")
    assert [b.label for b in dm.buttons] == ["Acknowledge", "Take over", "False alarm"]

    second = await _next_level(h, redis, 1.1)
    assert _paged(second) == {"701"}  # the backup
    third = await _next_level(h, redis, 2.2)
    assert _paged(third) == {"510"}  # the coordinator on shift
    assert any(m.audience == Audience.STAFF_LOBBY for m in third)
    last = await _next_level(h, redis, 3.3)
    assert any("UNANSWERED after 3 min" in m.text for m in last if m.audience == Audience.ESCALATION)
    assert any("UNANSWERED" in m.text for m in last if m.audience == Audience.STAFF_LOBBY)
    record = await EscalationStore(redis).get("e-1")  # type: ignore[arg-type]
    assert record is not None and record.state == "unanswered"
    assert await redis.zcard("pb:esc:unanswered") == 1

    assert await _next_level(h, redis, 60) == []  # the end: no more alerts, ever
    await h.staff("701", "/ack e-1", origin=Origin.PRIVATE)  # still acknowledged from a private chat
    said = [m for m in await h.outbound(Platform.TELEGRAM) if m.chat == "701"]
    assert any("acknowledged by Dr Kim" in m.text for m in said)
    assert await redis.zcard("pb:esc:unanswered") == 0
    events = [e[b"event"] for _id, e in await redis.xrange(keys.AUDIT)]
    assert events.count(b"escalation_unanswered") == 1


async def test_a_professional_acknowledges_or_takes_over_from_the_private_alert(redis: Redis) -> None:
    h = make_harness(redis, members=STAFF)
    await _rota(redis)
    await h.person("9001", RISK_TEXT)
    dm = next(m for m in await h.outbound(Platform.TELEGRAM) if m.chat == "700")
    await h.staff("700", dm.buttons[1].action, kind=InboundKind.ACTION, origin=Origin.PRIVATE)
    out = await h.outbound(Platform.TELEGRAM)
    assert any("crisis professional has joined" in m.text for m in out if m.audience == Audience.SEEKER)
    taken = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert taken is not None and taken.volunteer == "dr-lee"
    assert not [m for m in out if m.audience == Audience.SEEKER and m.chat == "700"]  # never treated as a person


async def test_with_nobody_on_call_every_professional_is_paged_and_coordinators_hear_of_the_gap(redis: Redis) -> None:
    h = make_harness(redis, members=STAFF)
    await _rota(redis, on_call=False)
    await h.person("9001", RISK_TEXT)
    out = await h.outbound(Platform.TELEGRAM)
    assert _paged(out) == {"700", "701"}
    gap = [m.text for m in out if m.audience == Audience.STAFF_LOBBY and "No on-call professional" in m.text]
    assert gap and "Cleo" in gap[0]


async def test_further_risk_updates_the_one_escalation_and_resources_go_again_only_when_it_rises(redis: Redis) -> None:
    h = make_harness(redis, members=STAFF)
    await _rota(redis)
    await h.person("9001", "I want to kill myself")  # high
    first = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER]
    assert len(first) == 1  # one calm message: someone is coming, and the resources; no queue number, no picker
    assert first[0].text.startswith("Thank you for telling us") and "emergency" in first[0].text.lower()
    assert not first[0].buttons
    await h.person("9001", "I want to kill myself, really")  # high again: the same episode
    again = await h.outbound(Platform.TELEGRAM)
    assert not [m for m in again if m.audience == Audience.SEEKER]  # not the same list again a minute later
    update = [m.text for m in again if m.audience == Audience.ESCALATION]
    assert len(update) == 1 and update[0].startswith("⚠ UPDATE to escalation e-1")
    await h.person("9001", RISK_TEXT)  # imminent: the tier rises
    risen = await h.outbound(Platform.TELEGRAM)
    again_sent = [m.text for m in risen if m.audience == Audience.SEEKER]
    assert len(again_sent) == 1 and "emergency" in again_sent[0].lower()  # the tier rose: the resources again
    assert _paged(risen) == {"700"}  # a rise pages the on-call professional again
    raised = [e for _id, e in await redis.xrange(keys.AUDIT) if e[b"event"] == b"escalation_raised"]
    assert len(raised) == 1  # one episode, one escalation
    record = await EscalationStore(redis).get("e-1")  # type: ignore[arg-type]
    assert record is not None and record.tier.label == "imminent"


async def test_a_volunteer_escalates_by_hand_what_the_detector_did_not_see(redis: Redis) -> None:
    h = make_harness(redis, members=STAFF)
    await _rota(redis)
    await h.person("9001", "I sorted everything out, gave the cat to my sister")  # no risk phrase the detector knows
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    taken = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD and m.buttons]
    assert ("Escalate", "escalate high") in [(b.label, b.action) for m in taken for b in m.buttons]

    await h.staff("501", "/escalate high giving things away, says goodbye", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    alert = next(m for m in out if m.audience == Audience.ESCALATION)
    assert "raised by staff (ana)" in alert.text and "Why: giving things away, says goodbye" in alert.text
    assert _paged(out) == {"700"}  # the same chain as the detector's
    assert any("Ana escalated this conversation (high)" in m.text for m in out if m.audience == Audience.STAFF_THREAD)
    assert not [m for m in out if m.audience == Audience.SEEKER]  # the volunteer decides what the person hears
    record = await EscalationStore(redis).get("e-1")  # type: ignore[arg-type]
    assert record is not None and record.raised_by == "ana"
    stored = await h.stack.conversations.get(conv)
    assert stored is not None and stored.tier.label == "high"
    events = [e[b"event"] for _id, e in await redis.xrange(keys.AUDIT)]
    assert b"escalation_raised" in events and b"escalation_raised_by_staff" in events

    await h.staff("501", "escalate high", thread="77", kind=InboundKind.ACTION)  # the button, pressed again
    again = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.ESCALATION]
    assert len(again) == 1 and again[0].text.startswith("⚠ UPDATE to escalation e-1 · ")  # one episode


async def test_escalate_with_a_tier_below_elevated_explains_itself(redis: Redis) -> None:
    h = make_harness(redis, members=STAFF)
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.outbound(Platform.TELEGRAM)
    await h.staff("501", "/escalate none", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    assert not [m for m in out if m.audience == Audience.ESCALATION]
    assert any("/escalate pages the on-call professional" in m.text for m in out)


async def test_a_high_risk_conversation_is_not_ended_before_a_professional_has_the_alert(redis: Redis) -> None:
    h, _conv = await _risk_in_conversation(redis)
    await h.outbound(Platform.TELEGRAM)
    await h.staff("501", "/end", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    assert any("no professional has acknowledged the alert yet" in m.text for m in out)
    assert not [m for m in out if m.audience == Audience.SEEKER]  # still open: nothing said to the person
    await h.staff("501", "/end confirm they said they are with their sister now", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    assert any("ended this conversation" in m.text for m in out if m.audience == Audience.SEEKER)
    events = [e[b"event"] for _id, e in await redis.xrange(keys.AUDIT)]
    assert b"ended_before_acknowledgement" in events


async def test_worse_after_a_hard_conversation_offers_someone_again_and_tells_the_professional(redis: Redis) -> None:
    h, conv = await _risk_in_conversation(redis)
    await h.staff("700", "/ack e-1", origin=Origin.ESCALATION)
    await h.outbound(Platform.TELEGRAM)
    await h.staff("501", "/end", thread="77")  # acknowledged: the volunteer may end it
    question = next(m for m in await h.outbound(Platform.TELEGRAM) if m.buttons and m.audience == Audience.SEEKER)
    assert "Worse, we will offer you someone" in question.text  # the person is told what Worse does
    worse = next(b.action for b in question.buttons if b.label == "Worse")
    await h.person("9001", worse, kind=InboundKind.ACTION)
    out = await h.outbound(Platform.TELEGRAM)
    assert any("front of the queue" in m.text for m in out if m.audience == Audience.SEEKER)
    told = [m.text for m in out if m.audience == Audience.ESCALATION]
    assert told and "says they feel worse" in told[0] and conv in told[0]
    await h.person("9001", "I'm back")
    again = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert again is not None and again.id != conv and again.tier.label == "imminent"  # the front of the queue


async def test_an_alert_says_in_plain_words_what_was_detected(redis: Redis) -> None:
    h = make_harness(redis, members=STAFF)
    await h.person("9001", RISK_TEXT)
    alert = next(m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.ESCALATION)
    detected = next(line for line in alert.text.splitlines() if line.startswith("Detected: "))
    assert "means: pills" in detected and "means with plan" in detected  # words first, ids after for tuning
    assert RISK_TEXT not in alert.text  # never the person's words unless escalation.include_text


async def test_the_escalate_button_on_a_queue_card_escalates_a_person_still_waiting(redis: Redis) -> None:
    h = make_harness(redis, members=STAFF)
    await _rota(redis)
    await h.person("9001", "everything is sorted now, the letters are written")
    card = next(m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_QUEUE)
    escalate = next(b.action for b in card.buttons if b.label == "Escalate")
    await h.staff("501", escalate, kind=InboundKind.ACTION)  # pressed in the lobby: no thread
    out = await h.outbound(Platform.TELEGRAM)
    assert any("raised by staff (ana)" in m.text for m in out if m.audience == Audience.ESCALATION)
    assert not [m for m in out if m.audience == Audience.STAFF_THREAD]  # nobody has taken them: no topic yet
    refreshed = [m.text for m in out if m.audience == Audience.STAFF_QUEUE]
    assert refreshed and "risk: high" in refreshed[-1]  # the card moves up, and says why
    waiting = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert waiting is not None and waiting.tier.label == "high"


async def test_staff_teach_the_detector_by_category_never_by_text(redis: Redis) -> None:
    """Issue 20, part 4: an escalation by hand above the detector's tier counts as a miss of its category; an
    alert a professional marks as a false alarm is acknowledged (the chain stops) and counted; a volunteer
    cannot mark one; nothing of the message's words is kept in the counts."""
    h = make_harness(redis, members=STAFF)
    await _rota(redis)
    await h.person("9001", "he took my phone again and says I'm not going out")  # no phrase the detector knows
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.staff("501", "/escalate high abuse controlling partner, took her phone", thread="77")
    alert = next(m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.ESCALATION)
    assert "abuse" in alert.text and "Why: controlling partner, took her phone" in alert.text
    labels = RiskLabels(redis)
    assert await labels.totals() == {"missed": {"abuse": 1}, "false_alarm": {}}

    await h.person("9002", RISK_TEXT)  # the detector's own alert: e-2
    await h.outbound(Platform.TELEGRAM)
    await h.staff("501", "/falsealarm e-2")  # a volunteer may not
    refused = await h.outbound(Platform.TELEGRAM)
    assert any("Only a professional, a supervisor or a coordinator" in m.text for m in refused)
    assert (await EscalationStore(redis).get("e-2")).state != "acknowledged"  # type: ignore[arg-type, union-attr]
    await h.staff("700", "falsealarm e-2", kind=InboundKind.ACTION, origin=Origin.PRIVATE)  # the page's button
    await h.staff("700", "falsealarm e-2", kind=InboundKind.ACTION, origin=Origin.PRIVATE)  # pressed twice
    out = await h.outbound(Platform.TELEGRAM)
    assert any("e-2 acknowledged by Dr Lee" in m.text for m in out)
    assert (await EscalationStore(redis).get("e-2")).acknowledged_by == "dr-lee"  # type: ignore[arg-type, union-attr]
    assert await labels.totals() == {"missed": {"abuse": 1}, "false_alarm": {"suicide": 1}}
    stored = await redis.hgetall(f"{keys.PREFIX}risklabels:" + _today())
    assert set(stored) == {b"missed:abuse:none", b"false_alarm:suicide"}  # category (and tier) only, no words
    due = await EscalationStore(redis).claim_due(now=time.time() + 3600, last_level=3)
    assert [esc for esc, _level in due] == ["e-1"]  # e-2's chain stopped; the unanswered hand escalation climbs


def _today() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d")
