"""The private desk's routing (staff.workspace = "private"): who gets a copy of what, at which priority, and what
a message in a volunteer's private chat is taken to mean. Real Redis; the outbound streams are read as the
adapters would read them."""

from __future__ import annotations

import dataclasses

from redis.asyncio import Redis

from routing.model import (
    Audience,
    ChatId,
    ConversationId,
    InboundMessage,
    MessageId,
    Origin,
    OutboundKind,
    Platform,
    Priority,
    Role,
    UserId,
    VolunteerId,
)
from routing.pseudonyms import Pseudonymiser
from routing.roster import StaffMember
from routing.store.desk_messages import DeskMessages
from routing.workspace import DESK_KEY_SUFFIX, Workspace
from tests.routing_harness import SECRET, make_harness

VEE = StaffMember(id=VolunteerId("vee"), name="Vee", identities={Platform.TELEGRAM: UserId("501")})
SAM = StaffMember(
    id=VolunteerId("sam"), name="Sam", roles=frozenset({Role.VOLUNTEER, Role.SUPERVISOR}),
    identities={Platform.TELEGRAM: UserId("700")},
)  # fmt: skip
RISK_TEXT = "I have the pills in front of me and I'm going to take them all tonight"


async def test_each_topic_message_of_a_held_conversation_is_copied_to_the_holders_private_chat(redis: Redis) -> None:
    h = make_harness(redis, members=[VEE], workspace=Workspace.PRIVATE)
    await h.person("9001", "hello, is anyone there")
    await h.staff("501", "/next")
    out = await h.outbound(Platform.TELEGRAM)
    desk = [m for m in out if m.audience == Audience.STAFF_DIRECT]
    topic = [m for m in out if m.audience == Audience.STAFF_THREAD and m.kind == OutboundKind.SEND]
    assert {m.chat for m in desk} == {"501"}
    assert len(desk) == len(topic) >= 3  # header, what they sent while waiting, "you are now talking with"
    pseudonym = topic[0].pseudonym
    assert f"{pseudonym}: hello, is anyone there" in [m.text for m in desk]  # their words, named by nickname
    assert all(m.text.startswith(f"[{pseudonym}]") for m in desk if "hello" not in m.text)  # notices about them
    assert {m.key for m in desk} == {m.key + DESK_KEY_SUFFIX for m in topic}
    assert all(m.priority == Priority.BACKGROUND for m in topic)  # the forum's copy waits behind the desk's
    assert all(m.priority == Priority.PERSON for m in desk)

    await h.person("9001", RISK_TEXT)
    out = await h.outbound(Platform.TELEGRAM)
    risky = [m for m in out if RISK_TEXT in m.text]
    assert {(m.audience, m.priority) for m in risky} >= {
        (Audience.STAFF_DIRECT, Priority.URGENT), (Audience.STAFF_THREAD, Priority.URGENT)
    }  # fmt: skip


async def test_a_holder_the_rota_cannot_reach_privately_works_in_the_topic_as_before(redis: Redis) -> None:
    h = make_harness(redis, members=[], workspace=Workspace.PRIVATE)  # "501" is not on the rota
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    out = await h.outbound(Platform.TELEGRAM)
    assert not [m for m in out if m.audience == Audience.STAFF_DIRECT]
    assert {m.priority for m in out if m.audience == Audience.STAFF_THREAD} == {Priority.PERSON}


async def test_in_the_private_chat_a_reply_or_a_single_conversation_says_who_is_meant(redis: Redis) -> None:
    h = make_harness(redis, members=[VEE], workspace=Workspace.PRIVATE)
    await h.person("9001", "first")
    await h.staff("501", "/next")
    await h.outbound(Platform.TELEGRAM)
    await h.staff("501", "hi, I'm Vee", origin=Origin.PRIVATE)  # one conversation held: it is that one
    assert await h.to_person() == ["hi, I'm Vee"]

    await h.person("9002", "second")
    await h.staff("501", "/next", origin=Origin.PRIVATE)
    await h.outbound(Platform.TELEGRAM)
    await h.staff("501", "who is this for?", origin=Origin.PRIVATE)
    out = await h.outbound(Platform.TELEGRAM)
    assert not [m for m in out if m.audience == Audience.SEEKER]  # ambiguous: nothing sent to anyone
    assert any("Nothing was sent" in m.text for m in out if m.audience == Audience.STAFF_DIRECT and m.chat == "501")

    await sent_privately(redis, "42", await h.conversation_of("9002"))
    await h.send(replying(h.inbound("501", "this is for you, second", origin=Origin.PRIVATE), to="42"))
    out = await h.outbound(Platform.TELEGRAM)
    assert [(m.chat, m.text) for m in out if m.audience == Audience.SEEKER] == [("9002", "this is for you, second")]


async def test_a_command_in_the_private_chat_acts_on_the_replied_conversation_and_answers_there(redis: Redis) -> None:
    h = make_harness(redis, members=[VEE], workspace=Workspace.PRIVATE)
    await h.person("9001", "first")
    await h.staff("501", "/next")
    await h.person("9002", "second")
    await h.staff("501", "/next")
    await h.outbound(Platform.TELEGRAM)
    await h.staff("501", "/end", origin=Origin.PRIVATE)  # two held, no reply: which one?
    out = await h.outbound(Platform.TELEGRAM)
    assert any("Reply to a message of the person you mean with /end" in m.text for m in out)
    assert not [m for m in out if m.audience == Audience.SEEKER]

    await sent_privately(redis, "7", await h.conversation_of("9001"))
    await h.send(replying(h.inbound("501", "/end", origin=Origin.PRIVATE), to="7"))
    out = await h.outbound(Platform.TELEGRAM)
    assert [m.chat for m in out if m.audience == Audience.SEEKER and "ended" in m.text] == ["9001"]
    ended = [m for m in out if m.audience == Audience.STAFF_DIRECT and "Conversation ended by Vee" in m.text]
    assert [m.chat for m in ended] == ["501"]  # the volunteer hears it in the chat they work in


async def test_a_supervisors_whisper_reaches_the_holder_privately_never_the_person(redis: Redis) -> None:
    h = make_harness(redis, members=[VEE, SAM], workspace=Workspace.PRIVATE)
    await h.taken()
    await h.staff("700", "ask about sleep", thread="77")
    out = await h.outbound(Platform.TELEGRAM)
    assert not [m for m in out if m.audience == Audience.SEEKER]
    to_vee = [m.text for m in out if m.audience == Audience.STAFF_DIRECT and m.chat == "501"]
    assert any("Sam (staff only, not sent to the person): ask about sleep" in t for t in to_vee)


async def test_a_person_whose_account_is_not_on_the_rota_is_never_taken_for_staff(redis: Redis) -> None:
    h = make_harness(redis, members=[VEE], workspace=Workspace.PRIVATE)
    await h.person("9001", "/next")  # a person typing a staff command: an ordinary message, queued
    out = await h.outbound(Platform.TELEGRAM)
    assert any("queue" in m.text for m in out if m.audience == Audience.SEEKER and m.chat == "9001")


async def test_a_topics_workspace_copies_nothing(redis: Redis) -> None:
    h = make_harness(redis, members=[VEE])
    await h.person("9001", "hello")
    await h.staff("501", "/next")
    await h.staff("501", "hi", origin=Origin.PRIVATE)  # in "topics", a private chat is a person's
    out = await h.outbound(Platform.TELEGRAM)
    assert not [m for m in out if m.audience == Audience.STAFF_DIRECT]
    assert any(m.chat == "501" for m in out if m.audience == Audience.SEEKER)


async def sent_privately(redis: Redis, message: str, conv: ConversationId) -> None:
    """What the Telegram adapter records when it delivers a desk copy into Vee's private chat."""
    desk = DeskMessages(redis, Pseudonymiser(SECRET))
    await desk.remember(Platform.TELEGRAM, ChatId("501"), [MessageId(message)], conv)


def replying(message: InboundMessage, to: str) -> InboundMessage:
    return dataclasses.replace(message, reply_to=MessageId(to))
