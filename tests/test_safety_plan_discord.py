"""A safety plan on Discord (issue 25), through the real discord.py, the Discord sandbox and real Redis: the
volunteer offers it with the /plan slash command in the thread, the person answers in their DMs, receives the plan
as a message and a file, gets it again with /myplan, and /forget removes it; a risk phrase escalates."""

from __future__ import annotations

import pytest

from routing import texts
from tests.discord_bridge_fixtures import World, box, bridge, world

__all__ = ["box", "bridge", "world"]  # fixtures used by name, not by reference
pytestmark = pytest.mark.timeout(60)


async def test_a_plan_made_in_dms_comes_back_as_a_file_and_a_risk_answer_escalates(bridge: World) -> None:
    w, box = bridge, bridge.box
    box.send_dm(w.person, "hey. rough night")
    await w.seen(w.in_dm("queue"))
    thread = await w.take_first_card()
    await w.seen(w.in_dm("volunteer has joined"))

    box.invoke_slash(w.volunteer, thread, "plan")
    offer = await w.seen(w.in_dm(texts.PLAN_OFFER[:40]))
    box.press_button(w.person, offer, "plan start")
    await w.seen(w.in_dm("Step 1 of 7"))
    # Answers the risk screen reads as no risk: one it reads as high pauses the plan (the second half, below).
    box.send_dm(w.person, "skipping meals and staying in my room")
    for number in range(2, 8):
        step = await w.seen(w.in_dm(f"Step {number} of 7"))
        if number == 7:
            box.send_dm(w.person, "my cat Miso")
        else:
            box.press_button(w.person, step, "plan skip")
    plan = await w.seen(w.in_dm("MY SAFETY PLAN"))
    assert "skipping meals and staying in my room" in plan.content and "my cat Miso" in plan.content
    document = await w.seen(lambda m: m.channel_id == w.dm().id and bool(m.attachments))
    assert document.attachments[0].filename == "my-safety-plan.txt"
    assert document.attachments[0].data.decode() == plan.content
    await w.seen(lambda m: m.channel_id == thread.id and "Safety plan finished (2 of 7" in m.content)
    in_thread = [a.message.content for a in box.actions if a.message is not None and a.message.channel_id == thread.id]
    assert in_thread and not any("Miso" in content or "meals" in content for content in in_thread)

    mark = w.mark()
    box.send_dm(w.person, "/plan")
    await w.seen(w.in_dm("Step 2 of 7"), since=mark)
    box.send_dm(w.person, "i've got the rope up in the garage and i'm going to do it tonight")
    await w.seen(w.in_dm(texts.PLAN_PAUSED[:40]), since=mark)
    await w.seen(lambda m: m.channel_id == thread.id and "rope up in the garage" in m.content, since=mark)
    await w.seen(lambda m: m.channel_id == w.alerts.id and "RISK" in m.content, since=mark)

    box.send_dm(w.person, "/myplan")
    again = await w.seen(w.in_dm("MY SAFETY PLAN"), since=mark)
    assert "my cat Miso" in again.content
    box.send_dm(w.person, "/forget yes")
    await w.seen(w.in_dm("Done. We deleted"), since=mark)
    box.send_dm(w.person, "/myplan")
    await w.seen(w.in_dm(texts.PLAN_NONE[:40]), since=mark)
