"""The platforms forget too (issue 23), on Discord: a closed conversation's thread is deleted with all its
messages when its platform retention ends, and at once after /forget; through discord.py and the Discord
sandbox (which answers as Discord does: the thread is gone, its messages too, THREAD_DELETE is sent)."""

from __future__ import annotations

import time

from sandboxes.discord import Channel, DiscordSandbox
from tests.bridge_fixtures import relayed, running_bridge
from tests.discord_bridge_fixtures import World, box, until_ready, world
from tests.sweep_fixtures import DAY, retention_sweep, with_storage

__all__ = ["box", "world"]  # the fixtures, imported for the tests below


def _exists(box: DiscordSandbox, thread: Channel) -> bool:
    return thread.id in box.state.channels


async def _served_and_ended(w: World) -> Channel:
    box = w.box
    box.send_dm(w.person, "my flatmate Tomas borrowed my charger again")
    thread = await w.take_first_card()
    await w.seen(lambda m: m.channel_id == thread.id and "Tomas" in " ".join(relayed([m.content])))
    box.invoke_slash(w.volunteer, thread, "end")
    await w.seen(w.in_dm("ended this conversation"))
    # (A thread takes 5 sends per 5.5 s: the close, the fifth, may wait for the window.)
    await box.wait_until(lambda: thread.thread is not None and thread.thread.archived and thread.thread.locked, 15)
    return thread


async def test_a_closed_thread_is_deleted_when_retention_ends_and_not_before(world: World) -> None:
    w, box = world, world.box
    async with running_bridge(w.settings), retention_sweep(w.settings) as sweep:
        await until_ready(w.settings)
        thread = await _served_and_ended(w)
        assert await sweep.check(now=time.time() + 29 * DAY) == 0
        assert _exists(box, thread) and any("Tomas" in m.content for m in box.messages(thread))

        assert await sweep.check(now=time.time() + 30 * DAY + 60) == 1  # storage.retention_days: 30
        await box.wait_until(lambda: not _exists(box, thread), 15)
        assert not box.messages(thread)  # every message of the thread went with it
        assert thread not in box.threads(w.volunteers)
        assert [c.route for c in box.calls("DELETE /channels/{channel_id}")] == ["DELETE /channels/{channel_id}"]


async def test_a_longer_platform_retention_keeps_the_thread_until_it_ends(world: World) -> None:
    w, box = world, world.box
    settings = with_storage(w.settings, platform_retention_days=60)
    async with running_bridge(settings), retention_sweep(settings) as sweep:
        await until_ready(settings)
        thread = await _served_and_ended(w)
        assert await sweep.check(now=time.time() + 45 * DAY) == 0  # past the Redis retention: still on Discord
        assert _exists(box, thread)
        assert await sweep.check(now=time.time() + 60 * DAY + 60) == 1
        await box.wait_until(lambda: not _exists(box, thread), 15)


async def test_forget_deletes_the_thread_at_once_and_staff_read_why_in_the_channel(world: World) -> None:
    w, box = world, world.box
    async with running_bridge(w.settings):
        await until_ready(w.settings)
        box.send_dm(w.person, "my flatmate Tomas borrowed my charger again")
        thread = await w.take_first_card()
        pseudonym = thread.name.split(" · ")[0]
        box.send_dm(w.person, "/forget yes")
        await w.seen(w.in_dm("Done. We deleted"))
        await box.wait_until(lambda: not _exists(box, thread), 15)
        note = await w.seen(lambda m: "asked for everything stored" in m.content)
        assert note.channel_id == w.volunteers.id  # the volunteers' channel, which stays
        assert pseudonym in note.content and "ana" not in note.content and "Tomas" not in note.content
