"""The router end to end on real Redis: queueing, taking, relaying, ending, releasing, transferring."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from routing.codec import decode_inbound
from routing.model import (
    Attachment,
    AttachmentKind,
    Audience,
    ChatId,
    ConversationState,
    InboundKind,
    Origin,
    OutboundKind,
    Platform,
    Priority,
    Role,
    UserId,
    VolunteerId,
)
from routing.roster import StaffMember
from routing.store import keys
from tests.routing_harness import make_harness

ANA = StaffMember(id=VolunteerId("ana"), name="Ana", max_concurrent=2, identities={Platform.TELEGRAM: UserId("501")})
BEN = StaffMember(id=VolunteerId("ben"), name="Ben", max_concurrent=1, identities={Platform.TELEGRAM: UserId("502")})
SUE = StaffMember(
    id=VolunteerId("sue"),
    name="Sue",
    roles=frozenset({Role.VOLUNTEER, Role.SUPERVISOR}),
    identities={Platform.TELEGRAM: UserId("503")},
)


async def test_first_message_queues_the_person_and_posts_a_card(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", "hi, I don't know who else to talk to")

    out = await h.outbound(Platform.TELEGRAM)
    to_person = [m for m in out if m.audience == Audience.SEEKER]
    assert len(to_person) == 1
    assert "number 1" in to_person[0].text and "emergency" in to_person[0].text
    assert to_person[0].chat == "9001"
    card = next(m for m in out if m.audience == Audience.STAFF_QUEUE)
    assert card.kind == OutboundKind.UPSERT_CARD
    assert card.buttons[0].label == "Take" and card.buttons[0].action.startswith("take c-")
    assert card.pseudonym is not None and card.pseudonym in card.text
    conv = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert conv is not None and conv.state == ConversationState.WAITING


async def test_queue_positions_follow_arrival(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", "hello")
    await h.person("9002", "hello")
    await h.to_person()
    await h.person("9003", "is anyone there")
    assert any("number 3" in t for t in await h.to_person())


async def test_next_catches_the_volunteer_up_and_relays_both_ways(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "first message")
    await h.person("9001", "second message while waiting")
    await h.outbound(Platform.TELEGRAM)

    await h.staff("501", "/next")
    out = await h.outbound(Platform.TELEGRAM)
    thread = [m.text for m in out if m.audience == Audience.STAFF_THREAD]
    assert thread[1:3] == ["first message", "second message while waiting"]
    # The whole hand-over (header, what they wrote, "you are now talking") goes with the person's own
    # messages, ahead of staff notices, in a busy staff group.
    assert {m.priority for m in out if m.audience == Audience.STAFF_THREAD} == {Priority.PERSON}
    assert any("A volunteer has joined" in m.text for m in out if m.audience == Audience.SEEKER)
    taken_card = next(m for m in out if m.audience == Audience.STAFF_QUEUE)
    assert "taken by Ana" in taken_card.text and not taken_card.buttons

    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.person("9001", "thank you for being here")
    relayed = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert [m.text for m in relayed] == ["thank you for being here"]
    assert relayed[0].conversation == conv

    await h.staff("501", "I'm glad you wrote. What's been happening?", thread="77")
    assert await h.to_person() == ["I'm glad you wrote. What's been happening?"]
    assert not await redis.exists(keys.pending(conv))


async def test_take_button_assigns_that_person_once(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    await h.person("9001", "hello")
    await h.person("9002", "hello")
    second = await h.conversation_of("9002")

    await h.staff("501", f"take {second}", kind=InboundKind.ACTION)
    await h.staff("502", f"take {second}", kind=InboundKind.ACTION)
    lobby = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_LOBBY]
    assert any("already taken" in t for t in lobby)
    conv = await h.stack.conversations.get(second)
    assert conv is not None and conv.volunteer == "ana"


async def test_end_closes_and_the_next_message_starts_afresh(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.outbound(Platform.TELEGRAM)

    await h.staff("501", "/end", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    assert any("ended this conversation" in m.text for m in out if m.audience == Audience.SEEKER)
    assert any(m.kind == OutboundKind.CLOSE_THREAD and m.conversation == conv for m in out)
    closed = await h.stack.conversations.get(conv)
    assert closed is not None and closed.state == ConversationState.CLOSED
    assert await h.stack.conversations.active_of(VolunteerId("ana")) == set()

    await h.person("9001", "me again")
    assert await h.conversation_of("9001") != conv
    assert any("number 1" in t for t in await h.to_person())


async def test_release_returns_the_person_with_a_handover_note(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.outbound(Platform.TELEGRAM)

    await h.staff("501", "/release prefers short messages", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    assert any("back in the queue" in m.text for m in out if m.audience == Audience.SEEKER)
    assert (await h.stack.conversations.waiting()) == [conv]

    await h.staff("502", "/next")
    thread = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert "ⓘ Handover note: prefers short messages" in thread  # marked: the service's words, not the person's


async def test_transfer_respects_the_receivers_capacity(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN])
    await h.person("9001", "one")
    await h.person("9002", "two")
    await h.staff("502", "/next")  # Ben (capacity 1) is now full
    await h.staff("501", "/next")
    conv = await h.conversation_of("9002")
    await h.open_thread(conv, "88")
    await h.outbound(Platform.TELEGRAM)

    await h.staff("501", "/transfer ben", thread="88")
    assert any("at capacity" in m.text for m in await h.outbound(Platform.TELEGRAM))
    await h.staff("501", "/transfer nobody", thread="88")
    assert any("don't know a volunteer" in m.text for m in await h.outbound(Platform.TELEGRAM))
    assert (await h.stack.conversations.get(conv)).volunteer == "ana"  # type: ignore[union-attr]


async def test_notes_stay_with_staff(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.outbound(Platform.TELEGRAM)

    await h.staff("501", "/note mentioned a sister nearby", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    assert not [m for m in out if m.audience == Audience.SEEKER]
    assert any("Note saved" in m.text for m in out)
    assert await h.stack.conversations.notes(conv) == ["mentioned a sister nearby"]


async def test_only_the_assigned_volunteer_or_a_supervisor_can_end(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA, BEN, SUE])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.outbound(Platform.TELEGRAM)

    await h.staff("502", "/end", thread="77")
    assert any("assigned to ana" in m.text for m in await h.outbound(Platform.TELEGRAM))
    await h.staff("503", "/end", thread="77")
    assert (await h.stack.conversations.get(conv)).state == ConversationState.CLOSED  # type: ignore[union-attr]


async def test_staff_get_clear_answers_for_wrong_commands(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.staff("501", "/frobnicate")
    await h.staff("501", "/end")
    await h.staff("501", "/next")
    lobby = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_LOBBY]
    assert lobby[0].startswith("Unknown command '/frobnicate'")
    assert lobby[1] == "Use /end inside a conversation's thread."
    assert lobby[2] == "Nobody is waiting right now."


async def test_capacity_is_enforced_on_next(redis: Redis) -> None:
    h = make_harness(redis, members=[BEN])
    await h.person("9001", "one")
    await h.person("9002", "two")
    await h.staff("502", "/next")
    await h.staff("502", "/next")
    assert any("your limit" in m.text for m in await h.outbound(Platform.TELEGRAM))
    assert len(await h.stack.conversations.active_of(VolunteerId("ben"))) == 1


async def test_person_can_leave_the_queue(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", "hello")
    conv = await h.conversation_of("9001")
    await h.outbound(Platform.TELEGRAM)
    await h.person("9001", "/stop")
    out = await h.outbound(Platform.TELEGRAM)
    assert any("left the queue" in m.text for m in out if m.audience == Audience.SEEKER)
    assert any(m.kind == OutboundKind.UPSERT_CARD and "left the queue" in m.text for m in out)
    assert await h.stack.conversations.waiting() == []
    assert (await h.stack.conversations.get(conv)).state == ConversationState.CLOSED  # type: ignore[union-attr]
    await h.person("9001", "/stop")
    assert any("not in a conversation" in t for t in await h.to_person())


async def test_start_and_privacy_explain_the_service_without_queueing(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", "/start")
    await h.person("9001", "/privacy")
    welcome, privacy = await h.to_person()
    assert "peer support" in welcome and "screened" in welcome and "/privacy" in welcome and "emergency" in welcome
    assert "30 days" in privacy and "encrypted" in privacy
    assert await h.stack.conversations.waiting_count() == 0


async def test_auto_assignment_pushes_to_an_available_volunteer(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA], auto_assign=True)
    await h.staff("501", "/on")
    await h.person("9001", "hello")
    conv = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert conv is not None and conv.state == ConversationState.ACTIVE and conv.volunteer == "ana"
    assert any("A volunteer has joined" in t for t in await h.to_person())


async def test_auto_assignment_among_sixty_volunteers_picks_the_one_with_most_room(redis: Redis) -> None:
    def volunteer(i: int, capacity: int) -> StaffMember:
        return StaffMember(
            id=VolunteerId(f"v{i}"),
            name=f"V{i}",
            max_concurrent=capacity,
            identities={Platform.TELEGRAM: UserId(str(600 + i))},
        )

    team = [volunteer(i, {30: 3, 59: 5}.get(i, 1)) for i in range(60)]
    h = make_harness(redis, members=team, auto_assign=True)
    for i in range(60):
        await h.staff(str(600 + i), "/on")
    await h.staff("659", "/break 15")  # the most room of all, but on a break
    await h.person("9001", "hello")
    first = await h.stack.conversations.get(await h.conversation_of("9001"))
    assert first is not None and first.volunteer == "v30"
    await h.person("9002", "hello")
    second = await h.stack.conversations.get(await h.conversation_of("9002"))
    assert second is not None and second.volunteer == "v30"  # two places left, the others one each


async def test_attachments_are_relayed_by_reference(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    photo = Attachment(kind=AttachmentKind.PHOTO, ref="file-123", size=2048)
    await h.person("9001", "", attachments=(photo,))
    await h.staff("501", "/next")
    thread = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    relayed = next(m for m in thread if m.attachments)
    assert relayed.attachments == (photo,) and relayed.source_platform == Platform.TELEGRAM


async def test_cross_platform_person_on_discord_served_from_telegram(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA], staff_platform=Platform.TELEGRAM)
    await h.person("dc-42", "hi from discord", platform=Platform.DISCORD)
    assert any("number 1" in t for t in await h.to_person(Platform.DISCORD))
    await h.staff("501", "/next")
    staff_side = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert "hi from discord" in [m.text for m in staff_side]
    conv = await h.conversation_of("dc-42", Platform.DISCORD)
    await h.open_thread(conv, "77")
    await h.staff("501", "hello!", thread="77")
    to_discord = [m for m in await h.outbound(Platform.DISCORD) if m.audience == Audience.SEEKER]
    assert to_discord[-1].text == "hello!" and to_discord[-1].chat == "dc-42"


async def test_waiting_people_hear_their_new_position_now_and_then(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    for person in ("9001", "9002", "9003"):
        await h.person(person, "hello")
    positions = h.stack.positions
    assert await positions.notify_once() == 0  # remembers the positions the queued replies gave
    await h.staff("501", "/next")
    await h.outbound(Platform.TELEGRAM)

    assert await positions.notify_once() == 0  # changed, but the last update was just now: not yet
    later = time.time() + 121
    assert await positions.notify_once(now=later) == 2
    updates = {m.chat: m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER}
    assert "number 1" in updates[ChatId("9002")]
    assert "number 2" in updates[ChatId("9003")]
    assert await positions.notify_once(now=later + 500) == 0  # unchanged positions are not repeated


async def test_a_staff_edit_is_never_a_command(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    await h.open_thread(conv, "77")
    await h.staff("501", "!end", thread="77", kind=InboundKind.EDIT)
    still = await h.stack.conversations.get(conv)
    assert still is not None
    assert still.state == ConversationState.ACTIVE


async def test_one_tap_hand_off_returns_the_person_to_the_queue(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    conv = await h.conversation_of("9001")
    taken = next(m for m in await h.outbound(Platform.TELEGRAM) if m.buttons and m.audience == Audience.STAFF_THREAD)
    await h.open_thread(conv, "77")
    await h.staff("501", taken.buttons[0].action, thread="77", kind=InboundKind.ACTION)
    assert await h.stack.conversations.waiting() == [conv]
    assert any("back in the queue" in t for t in await h.to_person())


async def test_a_message_written_while_being_taken_reaches_the_volunteer_after_the_kept_ones(redis: Redis) -> None:
    """The take (the volunteer's lane) and the person's next message (their own lane) are handled at the same
    time. Whichever wins, the volunteer sees what was kept while waiting first, then the new message, once."""
    team = StaffMember(
        id=VolunteerId("team"), name="Team", max_concurrent=50, identities={Platform.TELEGRAM: UserId("501")}
    )
    h = make_harness(redis, members=[team])
    for n in range(12):
        person = str(9100 + n)
        await h.person(person, f"kept {n}")
        await h.outbound(Platform.TELEGRAM)
        # The take and the person's next message in one batch of the router's stream: concurrent lanes.
        await h.stack.writer.ingest(h.inbound("501", "/next", origin=Origin.STAFF))
        await h.stack.writer.ingest(h.inbound(person, f"new {n}"))
        await h.pump()
        thread = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
        assert [t for t in thread if t in (f"kept {n}", f"new {n}")] == [f"kept {n}", f"new {n}"], thread
        assert not await redis.exists(keys.pending(await h.conversation_of(person)))


async def test_kept_messages_hand_over_in_order_even_when_more_arrive_during_the_hand_over(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "while waiting")
    conv = await h.conversation_of("9001")
    store = h.stack.conversations
    kept = await store.take_pending(conv)  # the take read what was kept ...
    assert [entry for entry, _ in kept] and len(kept) == 1
    await store.assign(ANA.id, ANA.max_concurrent, conv)  # ... and the person is now assigned
    await h.outbound(Platform.TELEGRAM)

    await h.person("9001", "during the hand-over")  # not relayed ahead of the kept message: kept behind it
    assert not [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    late = await store.finish_pending(conv, [entry for entry, _ in kept])
    assert [decode_inbound(raw).text for _, raw in late] == ["during the hand-over"]
    assert await store.finish_pending(conv, [entry for entry, _ in late]) == []
    assert not await redis.exists(keys.pending(conv))

    await h.person("9001", "after the hand-over")  # relayed directly again
    thread = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    assert thread == ["after the hand-over"]


async def test_the_volunteer_sees_what_the_person_chose_and_the_services_words_marked(redis: Redis) -> None:
    h = make_harness(redis, members=[ANA])
    await h.person("9001", "hello")
    await h.person("9001", "topic loneliness", kind=InboundKind.ACTION)
    await h.staff("501", "/next")
    thread = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    header = thread[0].text
    assert header.startswith("ⓘ Conversation with") and "wants to talk about: loneliness" in header
    assert "Writes on Telegram" in header
    relayed = [m.text for m in thread if m.source_platform is not None]
    assert relayed == ["hello"]  # the person's own words are never marked as the service's
    assert all(m.text.startswith("ⓘ ") for m in thread if m.source_platform is None and m.text)
