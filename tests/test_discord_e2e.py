"""End to end through the real discord.py against the Discord sandbox and real Redis, with the whole bridge
running as `peerbridge run` would.

People DM the bot; volunteers work in a private channel with one thread per conversation; on-call staff get
alerts in an escalation channel.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from routing import texts
from routing.model import Platform
from sandboxes.discord import Upload
from tests.bridge_fixtures import bind_thread_elsewhere, relayed
from tests.discord_bridge_fixtures import (  # the fixtures are imported so pytest finds them here
    MESSAGES_ROUTE,
    PHOTO,
    World,
    box,
    bridge,
    world,
)
from tests.discord_fixtures import BRIDGE_TOKEN

__all__ = ["box", "bridge", "world"]  # fixtures used by name, not by reference
pytestmark = pytest.mark.timeout(30)


async def test_a_person_is_queued_taken_and_served_both_ways(bridge: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    w, box = bridge, bridge.box
    box.send_dm(w.person, "hi, I can't sleep and everything feels heavy")
    ack = await w.seen(w.in_dm("queue"))
    assert "number 1" in ack.content
    card = await w.seen(lambda m: m.channel_id == w.volunteers.id and bool(m.buttons))
    assert [b["label"] for b in card.buttons] == ["Take", "Escalate"]
    assert "ana" not in card.content  # a pseudonym, never the person's name

    box.send_dm(w.person, "are you there?")
    thread = await w.take_first_card()
    assert thread.parent_id == w.volunteers.id and thread.name.split(" · ")[0] in card.content
    for earlier in ("hi, I can't sleep and everything feels heavy", "are you there?"):
        await w.seen(lambda m, text=earlier: m.channel_id == thread.id and text in relayed([m.content]))  # type: ignore[misc]
    taken = await w.seen(lambda m: m.id == card.id and "taken by" in m.content)
    assert taken.buttons == []
    await w.seen(w.in_dm("volunteer has joined"))

    mark = w.mark()
    box.send_dm(w.person, "my room", attachments=[Upload("room.png", PHOTO, "image/png")])
    photo = await w.seen(lambda m: m.channel_id == thread.id and bool(m.attachments), since=mark)
    assert (photo.content, photo.attachments[0].filename, photo.attachments[0].data) == ("my room", "room.png", PHOTO)

    box.send_message(w.volunteer, thread, "I'm here with you. What's keeping you up?")
    await w.seen(w.in_dm("keeping you up"), since=mark)
    box.send_message(
        w.volunteer, thread, "", attachments=[Upload("breathing.pdf", b"%PDF-1.4 tips", "application/pdf")]
    )
    sheet = await w.seen(lambda m: m.channel_id == w.dm().id and bool(m.attachments), since=mark)
    assert (sheet.attachments[0].filename, sheet.attachments[0].data) == ("breathing.pdf", b"%PDF-1.4 tips")

    end = box.invoke_slash(w.volunteer, thread, "end")
    await w.seen(w.in_dm("ended this conversation"), since=mark)
    assert end.response_type == 5 and box.interaction(end.id).responses  # deferred at once (ephemeral)
    await box.wait_until(lambda: thread.thread is not None and thread.thread.archived and thread.thread.locked)

    # Privacy: nothing logged during the conversation carries its words, a name, a raw id or the token.
    logged = "\n".join(r.getMessage() + " " + str(r.exc_info or "") for r in caplog.records)
    assert "conversation c-" in logged  # the bridge did log (so the check below means something)
    for secret in ("can't sleep", "keeping you up", "my room", "ana", "vol-kim", BRIDGE_TOKEN):
        assert secret not in logged
    for raw_id in (w.person.id, w.volunteer.id, w.dm().id):
        assert str(raw_id) not in logged


async def test_commands_by_text_and_slash_where_they_belong(bridge: World) -> None:
    w, box = bridge, bridge.box
    box.send_dm(w.person, "/start")  # typed, not picked from the menu: plain text
    await w.seen(w.in_dm("peer support"))
    privacy = box.invoke_slash(w.person, w.dm(), "privacy")  # from the DM command menu
    await w.seen(w.in_dm("What we keep"))
    assert privacy.response_type == 5
    box.send_dm(w.person, "hello")
    await w.seen(lambda m: m.channel_id == w.volunteers.id and bool(m.buttons))
    box.send_message(w.volunteer, w.volunteers, "!next")
    opened = await w.seen(lambda m: "What they sent" in m.content)
    thread = box.channel(opened.channel_id)
    await w.seen(lambda m: m.channel_id == thread.id and "hello" in relayed([m.content]))
    box.send_message(w.volunteer, thread, "!end")
    await w.seen(w.in_dm("ended this conversation"))
    box.send_message(w.volunteer, w.volunteers, "!next")
    await w.seen(lambda m: m.channel_id == w.volunteers.id and "Nobody is waiting" in m.content)
    elsewhere = box.invoke_slash(w.volunteer, w.general, "next")  # guild commands show in every channel
    refused = await w.seen(lambda m: m.interaction_id == elsewhere.id)
    assert refused.ephemeral and "volunteers' channel" in refused.content
    box.send_message(w.volunteer, w.general, "!next")  # not a staff channel: ignored
    await asyncio.sleep(0.3)
    assert not [m for m in box.bot_messages(w.general) if not m.ephemeral]


async def test_a_gateway_resume_mid_conversation_loses_nothing(bridge: World) -> None:
    w, box = bridge, bridge.box
    box.send_dm(w.person, "hello")
    thread = await w.take_first_card()
    mark = w.mark()
    async with box.gateway_outage():
        box.send_dm(w.person, "written while the bridge was away")
        box.send_message(w.volunteer, thread, "and answered while it was away")
        await asyncio.sleep(0.1)
    away = "written while the bridge was away"
    await w.seen(lambda m: m.channel_id == thread.id and away in relayed([m.content]), since=mark)
    await w.seen(w.in_dm("answered while it was away"), since=mark)
    stats = box.gateway_stats()
    assert (stats.identifies, stats.resumes) == (1, 1)


async def test_429s_are_waited_out_by_discord_py_then_by_the_bridge(bridge: World) -> None:
    w, box = bridge, bridge.box
    box.fail_next(MESSAGES_ROUTE, times=6, status=429, retry_after=0.05)  # discord.py gives up after 5 tries
    box.send_dm(w.person, "/start")
    await w.seen(w.in_dm("peer support"))
    calls = box.calls(MESSAGES_ROUTE)
    assert [c.status for c in calls] == [429] * 6 + [200]
    assert calls[5].at - calls[4].at >= 1.0  # after discord.py's 5 tries, the bridge waited Retry-After
    assert sum("peer support" in m.content for m in box.bot_messages(w.dm())) == 1


async def test_a_person_who_cannot_be_messaged_ends_the_conversation(bridge: World) -> None:
    w, box = bridge, bridge.box
    box.send_dm(w.person, "hello")
    thread = await w.take_first_card()
    await w.seen(w.in_dm("volunteer has joined"))  # delivered before DMs close, so one send is refused
    box.close_dms(w.person)
    mark = w.mark()
    box.send_message(w.volunteer, thread, "how are you feeling now?")
    await w.seen(lambda m: m.channel_id == thread.id and "can no longer be reached" in m.content, since=mark)
    refused = [c for c in box.calls(MESSAGES_ROUTE) if c.status == 403]
    assert len(refused) == 1  # 50007 is final: never retried


async def test_a_risk_message_escalates_and_the_alert_is_acknowledged(bridge: World) -> None:
    w, box = bridge, bridge.box
    box.send_dm(w.person, "I want to kill myself")
    await w.seen(w.in_dm("You matter"))
    alert = await w.seen(lambda m: m.channel_id == w.alerts.id and bool(m.buttons))
    assert alert.buttons[0]["label"] == "Acknowledge" and "RISK" in alert.content
    box.press_button(w.professional, alert, alert.buttons[0]["custom_id"])
    await w.seen(lambda m: m.channel_id == w.alerts.id and "acknowledged by" in m.content)


async def test_archived_locked_and_missing_threads(bridge: World) -> None:
    w, box = bridge, bridge.box
    box.send_dm(w.person, "hello")
    thread = await w.take_first_card()
    box.archive_thread(thread)  # Discord's auto-archive: writing into it reopens it
    box.send_dm(w.person, "still there?")
    await w.seen(lambda m: m.channel_id == thread.id and "still there?" in relayed([m.content]))
    assert thread.thread is not None and not thread.thread.archived

    box.archive_thread(thread, locked=True)  # locked by a moderator: 50083, so a new thread takes over
    box.send_dm(w.person, "hello again")
    again = await w.seen(lambda m: m.content == "hello again")
    replacement = box.channel(again.channel_id)
    assert replacement.parent_id == w.volunteers.id and replacement.id != thread.id

    box.fail_next(MESSAGES_ROUTE, status=404)  # the thread was deleted: Unknown Channel
    box.send_dm(w.person, "are you still with me?")
    last = await w.seen(lambda m: m.content == "are you still with me?")
    assert last.channel_id not in (thread.id, replacement.id)
    box.send_message(w.volunteer, box.channel(last.channel_id), "yes, I am")
    await w.seen(w.in_dm("yes, I am"))


async def test_a_thread_replaced_by_another_gateway_is_used_not_replaced_again(bridge: World) -> None:
    w, box = bridge, bridge.box
    box.send_dm(w.person, "hello")
    thread = await w.take_first_card()
    box.send_dm(w.person, "one")
    await w.seen(lambda m: m.channel_id == thread.id and "one" in relayed([m.content]))  # the bridge knows the thread

    # Another gateway process found the thread locked, opened a new one and bound it in Redis.
    url = f"{box.api_url}/channels/{w.volunteers.id}/threads"
    headers = {"Authorization": f"Bot {BRIDGE_TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as http, http.post(url, json={"name": "new", "type": 11}) as made:
        replacement = int((await made.json())["id"])
    await bind_thread_elsewhere(w.settings, thread.name.split(" · ")[1], Platform.DISCORD, replacement)
    box.archive_thread(thread, locked=True)

    box.send_dm(w.person, "two")
    await w.seen(lambda m: m.channel_id == replacement and "two" in relayed([m.content]))
    assert {t.id for t in box.threads(w.volunteers)} == {thread.id, replacement}  # no third thread


async def test_edits_and_files_too_large_to_carry(bridge: World) -> None:
    w, box = bridge, bridge.box
    first = box.send_dm(w.person, "hello")
    thread = await w.take_first_card()
    box.edit_message(first, "hello, sorry for the typo")
    await w.seen(lambda m: m.channel_id == thread.id and "(edited) hello, sorry for the typo" in relayed([m.content]))
    huge = Upload("video.mp4", b"\0" * (8 * 1024 * 1024 + 1), "video/mp4")
    box.send_dm(w.person, "a video of my day", attachments=[huge])
    noted = await w.seen(lambda m: m.channel_id == thread.id and "too large" in m.content)
    assert noted.content.startswith("a video of my day\n") and "(limit 8 MB)" in noted.content
    assert noted.attachments == ()


async def test_the_intake_question_offers_every_topic_language_and_skip(bridge: World) -> None:
    """Discord allows 5 buttons a row and 5 rows: all eleven intake choices arrive (they were once cut to five).
    A DM carries no language, so every language we write in is offered."""
    w, box = bridge, bridge.box
    box.send_dm(w.person, "hello")
    ack = await w.seen(w.in_dm("queue"))
    labels = [b["label"] for b in ack.buttons]
    assert labels[:2] == ["Grief", "Loneliness"]
    assert labels[-5:] == ["English", "Español", "Português", "Français", "Skip"]
    assert len(labels) == 11 and len(ack.components) == 3  # three action rows
    mark = w.mark()
    box.press_button(w.person, ack, "lang es")
    await w.seen(w.in_dm(texts.say("es", texts.LANGUAGE_SET)), since=mark)
    box.press_button(w.person, ack, "topic -")
    await w.seen(w.in_dm(texts.say("es", texts.TOPIC_SKIPPED)), since=mark)  # in the language they chose


async def test_two_peoples_quick_messages_each_arrive_in_the_order_written(bridge: World) -> None:
    """Events of different DMs are stored concurrently; each person's own messages must keep their order."""
    w, box = bridge, bridge.box
    other = box.create_user("bo")
    for n in range(8):
        box.send_dm(w.person, f"first person {n}")
        box.send_dm(other, f"second person {n}")
    thread = await w.take_first_card()
    last = await w.seen(lambda m: m.channel_id == thread.id and any(p.endswith(" 7") for p in relayed([m.content])))
    shown = [
        part
        for part in relayed(a.message.content for a in box.actions if a.message and a.message.channel_id == thread.id)
        if "person" in part
    ]
    prefix = next(p for p in relayed([last.content]) if p.endswith(" 7")).rsplit(" ", 1)[0]
    assert shown == [f"{prefix} {n}" for n in range(8)]


async def test_only_the_volunteer_speaks_to_the_person_a_colleagues_words_stay_with_staff(bridge: World) -> None:
    w, box = bridge, bridge.box
    box.send_dm(w.person, "I haven't slept in days")
    thread = await w.take_first_card()
    await w.seen(w.in_dm("volunteer has joined"))
    mark = w.mark()
    box.send_message(w.colleague, thread, "ask about sleep and whether they are safe tonight")
    box.send_message(w.colleague, thread, "and who is at home")
    box.send_message(w.volunteer, thread, "How have you been sleeping?")
    await w.seen(w.in_dm("sleeping"), since=mark)
    told = await w.seen(lambda m: m.channel_id == thread.id and "who holds this conversation" in m.content, since=mark)
    assert "Your message stayed here with staff (a whisper)" in told.content
    await asyncio.sleep(0.5)  # room for anything else that might (wrongly) follow
    to_person = [a.message.content for a in box.actions[mark:] if a.message and a.message.channel_id == w.dm().id]
    assert to_person == ["How have you been sleeping?"]
    notices = [a for a in box.actions[mark:] if a.message and "who holds this" in a.message.content]
    assert len(notices) == 1  # told once, not at every message


async def test_a_volunteer_escalates_with_the_button_and_the_alert_updates_when_acknowledged(bridge: World) -> None:
    w, box = bridge, bridge.box
    # Nothing the detector reads as risk (rules or model); the volunteer hears it in what came before.
    box.send_dm(w.person, "sorted out my room today and called a few old friends")
    thread = await w.take_first_card()
    taken = await w.seen(lambda m: m.channel_id == thread.id and any(b["label"] == "Escalate" for b in m.buttons))
    escalate = next(b["custom_id"] for b in taken.buttons if b["label"] == "Escalate")
    box.press_button(w.volunteer, taken, escalate)
    alert = await w.seen(lambda m: m.channel_id == w.alerts.id and "raised by staff" in m.content)
    assert [b["label"] for b in alert.buttons] == ["Acknowledge", "Take over", "False alarm"]
    await w.seen(lambda m: m.channel_id == thread.id and "escalated this conversation (high)" in m.content)
    assert not [
        a for a in box.actions if a.message and a.message.channel_id == w.dm().id and "RISK" in a.message.content
    ]

    box.press_button(w.professional, alert, alert.buttons[0]["custom_id"])
    edited = await w.seen(lambda m: m.id == alert.id and m.content.startswith("✓ Acknowledged by"))
    assert edited.buttons == []  # the alert itself shows who took it; nobody acts on a stale one
    await w.seen(lambda m: m.channel_id == thread.id and "acknowledged the alert" in m.content)
