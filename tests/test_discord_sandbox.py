"""The Discord sandbox, exercised by the real discord.py client over REST and the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import Callable, Coroutine

import aiohttp
import pytest

from sandboxes.discord import DiscordSandbox, Permission, RateLimit, RateLimits, SandboxError, SandboxSettings, Upload
from tests.discord_fixtures import (  # the fixtures are imported so pytest finds them here
    BRIDGE_TOKEN,
    Staff,
    app_commands,
    connected,
    discord,
    eventually,
    make_client,
    running_sandbox,
    sandbox,
    staff,
)

__all__ = ["sandbox", "staff"]  # fixtures used by name, not by reference
pytestmark = pytest.mark.timeout(15)

MESSAGES_ROUTE = "POST /channels/{channel_id}/messages"


def echo_client() -> tuple[discord.Client, list[discord.Message]]:
    """A client that answers every DM from a person with "echo: <text>" and records what it received."""
    client = make_client()
    received: list[discord.Message] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        received.append(message)
        if message.author != client.user and isinstance(message.channel, discord.DMChannel):
            await message.channel.send(f"echo: {message.content}")

    return client, received


async def test_login_ready_and_guild_cache(sandbox: DiscordSandbox, staff: Staff) -> None:
    async with connected(make_client()) as client:
        assert client.user is not None and client.user.id == sandbox.bot.id
        guild = client.get_guild(staff.guild.id)
        assert guild is not None and guild.name == "Staff"
        channel = guild.get_channel(staff.channel.id)
        assert isinstance(channel, discord.TextChannel) and channel.name == "volunteers"
        assert {r.name for r in guild.roles} >= {"@everyone", "volunteer", "peerbridge"}
        volunteer = guild.get_member(staff.volunteer.id)
        assert volunteer is not None and [r.name for r in volunteer.roles[1:]] == ["volunteer"]
        assert channel.permissions_for(volunteer).view_channel
        assert not channel.permissions_for(guild.default_role).view_channel
        assert channel.permissions_for(guild.me).send_messages
    assert len(sandbox.calls("GET /users/@me")) == 1
    assert sandbox.gateway_stats().identifies == 1


async def test_bad_token_is_refused_with_401(sandbox: DiscordSandbox) -> None:
    client = make_client()
    with pytest.raises(discord.LoginFailure):
        await client.login("not-a-registered-token")
    await client.close()
    assert sandbox.calls("GET /users/@me")[0].status == 401


async def test_dm_reaches_the_bot_and_its_reply_reaches_the_person(sandbox: DiscordSandbox, staff: Staff) -> None:
    client, received = echo_client()
    async with connected(client):
        sandbox.send_dm(staff.person, "hi, is anyone there?")
        dm = sandbox.dm_channel(staff.person)
        assert dm is not None
        reply = await sandbox.wait_for(lambda m: m.channel_id == dm.id)
    incoming = received[0]
    assert incoming.author.id == staff.person.id and incoming.content == "hi, is anyone there?"
    assert isinstance(incoming.channel, discord.DMChannel)
    assert reply.content == "echo: hi, is anyone there?" and reply.author_id == sandbox.bot.id
    assert [m.content for m in sandbox.messages(dm)] == [
        "hi, is anyone there?",
        "echo: hi, is anyone there?",
    ]


async def test_the_bots_own_message_is_echoed_back_as_its_own(sandbox: DiscordSandbox, staff: Staff) -> None:
    async with connected(make_client()) as client:
        channel = client.get_channel(staff.channel.id)
        assert isinstance(channel, discord.TextChannel)
        echoed = asyncio.create_task(client.wait_for("message", check=lambda m: m.channel.id == channel.id))
        sent = await channel.send("new person waiting: c-1")
        echo = await asyncio.wait_for(echoed, 5)
    assert echo.id == sent.id and echo.author == client.user and echo.content == "new person waiting: c-1"


async def test_two_bots_share_a_sandbox_and_content_needs_the_intent(sandbox: DiscordSandbox) -> None:
    echo_bot = sandbox.add_bot("echo-bot-token", "echo")
    guild = sandbox.create_guild("Staff")
    volunteer = sandbox.create_user("vol-lee")
    sandbox.add_member(guild, volunteer)
    channel = sandbox.create_text_channel(guild, "volunteers")
    bridge, bridge_seen = echo_client()
    echo, echo_seen = make_client(message_content=False), list[discord.Message]()
    echo.event(_recorder(echo_seen))
    async with connected(bridge), connected(echo, "echo-bot-token"):
        assert echo.user is not None and echo.user.id == echo_bot.id
        sandbox.send_message(volunteer, channel, "hello both")
        await eventually(lambda: bridge_seen and echo_seen)
    assert bridge_seen[0].content == "hello both"
    assert echo_seen[0].content == "" and echo_seen[0].author.id == volunteer.id


def _recorder(seen: list[discord.Message]) -> Callable[[discord.Message], Coroutine[None, None, None]]:
    async def on_message(message: discord.Message) -> None:
        seen.append(message)

    return on_message


async def test_thread_create_post_archive_and_lock(sandbox: DiscordSandbox, staff: Staff) -> None:
    client, received = echo_client()
    async with connected(client):
        channel = client.get_channel(staff.channel.id)
        assert isinstance(channel, discord.TextChannel)
        guild = channel.guild
        thread = await channel.create_thread(name="c-1", type=discord.ChannelType.private_thread)
        await thread.send("conversation c-1 starts here")
        box_thread = sandbox.channel(thread.id)
        assert sandbox.threads(staff.channel) == [box_thread]
        sandbox.join_thread(staff.volunteer, box_thread)
        sandbox.send_message(staff.volunteer, box_thread, "I'll take this one")
        await eventually(lambda: any(m.content == "I'll take this one" for m in received))
        assert isinstance(received[-1].channel, discord.Thread) and received[-1].channel.id == thread.id

        sandbox.archive_thread(box_thread)
        await eventually(lambda: guild.get_thread(thread.id) is None)  # discord.py drops archived threads
        await thread.send("the person wrote again")  # Discord unarchives the thread for the sender
        assert box_thread.thread is not None and not box_thread.thread.archived
        await eventually(lambda: guild.get_thread(thread.id) is not None)
        cached = guild.get_thread(thread.id)
        assert cached is not None and not cached.archived

        await thread.edit(archived=True, locked=True)
        assert box_thread.thread.archived and box_thread.thread.locked
        with pytest.raises(discord.HTTPException) as refused:
            await thread.send("too late")
    assert refused.value.status == 400 and refused.value.code == 50083
    assert [m.content for m in sandbox.bot_messages(box_thread)] == [
        "conversation c-1 starts here",
        "the person wrote again",
    ]


class TakeView(discord.ui.View):
    """One "Take" button that edits the message to say who took the conversation."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Take", style=discord.ButtonStyle.primary, custom_id="take:c-1")
    async def take(self, interaction: discord.Interaction, _: discord.ui.Button[TakeView]) -> None:
        await interaction.response.edit_message(content=f"c-1 taken by {interaction.user.name}", view=None)


async def test_button_press_reaches_the_view_and_its_update_is_recorded(sandbox: DiscordSandbox, staff: Staff) -> None:
    async with connected(make_client()) as client:
        channel = client.get_channel(staff.channel.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("c-1 is waiting", view=TakeView())
        offer = sandbox.message(sent.id)
        assert [b["label"] for b in offer.buttons] == ["Take"]
        with pytest.raises(SandboxError):
            sandbox.press_button(staff.volunteer, offer, "no-such-button")
        press = sandbox.press_button(staff.volunteer, offer, "take:c-1")
        taken = await sandbox.wait_for(lambda m: m.id == sent.id)
    assert press.response_type == 7
    assert taken.content == "c-1 taken by vol-kim" and taken.components == ()
    assert [r.content for r in sandbox.revisions(offer)] == ["c-1 is waiting", "c-1 taken by vol-kim"]


async def test_slash_commands_sync_and_answer(sandbox: DiscordSandbox, staff: Staff) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)

    @tree.command(name="next", description="Take the next person waiting")
    @app_commands.describe(note="A note for the team")
    async def next_person(interaction: discord.Interaction, note: str | None = None) -> None:
        await interaction.response.send_message(
            f"{interaction.user.name} takes the next person ({note})", ephemeral=True
        )

    @tree.command(name="close", description="Close a conversation")
    async def close(interaction: discord.Interaction, case: int) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"case {case} closed")

    async with connected(client):
        tree.copy_global_to(guild=discord.Object(staff.guild.id))
        synced = await tree.sync(guild=discord.Object(staff.guild.id))
        assert sorted(c.name for c in synced) == ["close", "next"]
        ask = sandbox.invoke_slash(staff.volunteer, staff.channel, "next", {"note": "on shift"})
        reply = await sandbox.wait_for(lambda m: m.interaction_id == ask.id)
        close_it = sandbox.invoke_slash(staff.volunteer, staff.channel, "close", {"case": 7})
        closed = await sandbox.wait_for(lambda m: m.interaction_id == close_it.id and not m.loading)
        with pytest.raises(SandboxError):
            sandbox.invoke_slash(staff.volunteer, staff.channel, "close", {})  # required option missing
    assert ask.response_type == 4 and reply.ephemeral
    assert reply.content == "vol-kim takes the next person (on shift)"
    assert close_it.response_type == 5 and closed.content == "case 7 closed"
    assert [m.id for m in sandbox.messages(staff.channel)] == [reply.id, closed.id]


class SlowView(discord.ui.View):
    """A button whose callback answers too late, and which keeps the error discord.py raises."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.errors: list[Exception] = []

    @discord.ui.button(label="Slow", custom_id="slow")
    async def slow(self, interaction: discord.Interaction, _: discord.ui.Button[SlowView]) -> None:
        await asyncio.sleep(0.3)
        await interaction.response.send_message("sorry, I was busy")

    async def on_error(self, _: discord.Interaction, error: Exception, __: discord.ui.Item[SlowView]) -> None:
        self.errors.append(error)


async def test_an_interaction_answered_too_late_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = SandboxSettings(interaction_deadline_s=0.1)  # Discord's is 3 s
    async with running_sandbox(monkeypatch, settings) as box:
        guild = box.create_guild("Staff")
        volunteer = box.create_user("vol-kim")
        box.add_member(guild, volunteer)
        volunteers = box.create_text_channel(guild, "volunteers")
        view = SlowView()
        async with connected(make_client()) as client:
            channel = client.get_channel(volunteers.id)
            assert isinstance(channel, discord.TextChannel)
            sent = await channel.send("c-4 is waiting", view=view)
            press = box.press_button(volunteer, box.message(sent.id), "slow")
            await eventually(lambda: view.errors)
    assert isinstance(view.errors[0], discord.NotFound) and view.errors[0].code == 10062
    assert not press.responded and box.bot_messages() == [box.message(sent.id)]


async def test_closed_dms_and_missing_permissions_are_forbidden(sandbox: DiscordSandbox, staff: Staff) -> None:
    sandbox.close_dms(staff.person)
    sandbox.set_overwrite(staff.channel, sandbox.bot, allow=Permission.VIEW_CHANNEL, deny=Permission.SEND_MESSAGES)
    async with connected(make_client()) as client:
        person = await client.fetch_user(staff.person.id)
        with pytest.raises(discord.Forbidden) as closed:
            await person.send("we are here for you")
        channel = client.get_channel(staff.channel.id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.Forbidden) as muted:
            await channel.send("hello team")
    assert closed.value.code == 50007 and closed.value.text == "Cannot send messages to this user"
    assert muted.value.code == 50013
    assert sandbox.bot_messages() == []


async def test_rate_limit_and_server_errors_are_retried(sandbox: DiscordSandbox, staff: Staff) -> None:
    sandbox.fail_next(MESSAGES_ROUTE, status=502)  # first: discord.py waits 1 s + 2 s per earlier try on 5xx
    sandbox.fail_next(MESSAGES_ROUTE, times=2, status=429, retry_after=0.2)
    async with connected(make_client()) as client:
        channel = client.get_channel(staff.channel.id)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("delivered in the end")
    calls = sandbox.calls(MESSAGES_ROUTE)
    assert [c.status for c in calls] == [502, 429, 429, 200]
    assert calls[2].at - calls[1].at >= 0.2 and calls[3].at - calls[2].at >= 0.2
    assert [m.content for m in sandbox.bot_messages(staff.channel)] == ["delivered in the end"]


async def test_rate_limit_headers_pace_discord_py_without_a_429(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = RateLimits(per_route={MESSAGES_ROUTE: RateLimit(2, 0.5)})
    async with running_sandbox(monkeypatch, SandboxSettings(rate_limits=limits)) as box:
        guild = box.create_guild("Staff")
        volunteers = box.create_text_channel(guild, "volunteers")
        async with connected(make_client()) as client:
            channel = client.get_channel(volunteers.id)
            assert isinstance(channel, discord.TextChannel)
            for n in range(3):
                await channel.send(f"update {n}")
        calls = box.calls(MESSAGES_ROUTE)
    assert [c.status for c in calls] == [200, 200, 200]  # the client waited as the headers told it
    assert calls[2].at - calls[0].at >= 0.5


class TierView(discord.ui.View):
    """A select menu whose callback acknowledges first (type 6) and edits the message afterwards."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="tier",
        options=[discord.SelectOption(label="Peer", value="peer"), discord.SelectOption(label="Pro", value="pro")],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[TierView]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content=f"escalated to {select.values[0]}", view=None)


async def test_select_menu_with_deferred_update_then_edit(sandbox: DiscordSandbox, staff: Staff) -> None:
    async with connected(make_client()) as client:
        channel = client.get_channel(staff.channel.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("c-2 needs a professional?", view=TierView())
        with pytest.raises(SandboxError):
            sandbox.select_options(staff.volunteer, sandbox.message(sent.id), "tier", ["nobody"])
        choice = sandbox.select_options(staff.volunteer, sandbox.message(sent.id), "tier", ["pro"])
        edited = await sandbox.wait_for(lambda m: m.id == sent.id)
    assert choice.response_type == 6 and choice.data["values"] == ["pro"]
    assert edited.content == "escalated to pro" and edited.components == ()


async def test_thread_from_a_message_and_channel_history(sandbox: DiscordSandbox, staff: Staff) -> None:
    sandbox.send_message(staff.volunteer, staff.channel, "shift starts")
    async with connected(make_client()) as client:
        channel = client.get_channel(staff.channel.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("c-3 waiting")
        thread = await sent.create_thread(name="c-3")
        history = [m.content async for m in channel.history(limit=10)]
    assert thread.id == sent.id and sandbox.message(sent.id).thread_id == thread.id
    assert sandbox.channel(thread.id).parent_id == staff.channel.id
    assert history == ["c-3 waiting", "shift starts"]


async def test_gateway_disconnect_resumes_and_replays_missed_events(sandbox: DiscordSandbox, staff: Staff) -> None:
    client, received = echo_client()
    resumed = asyncio.Event()
    client.event(_setter("on_resumed", resumed))
    async with connected(client):
        async with sandbox.gateway_outage():
            sandbox.send_dm(staff.person, "sent while the bot was away")
            await asyncio.sleep(0.05)
            assert received == []
        await asyncio.wait_for(resumed.wait(), 5)
        reply = await sandbox.wait_for(lambda m: m.author_id == sandbox.bot.id)
    assert [m.content for m in received if m.author.id == staff.person.id] == ["sent while the bot was away"]
    assert reply.content == "echo: sent while the bot was away"
    stats = sandbox.gateway_stats()
    assert (stats.identifies, stats.resumes) == (1, 1)


def _setter(name: str, event: asyncio.Event) -> Callable[[], Coroutine[None, None, None]]:
    async def handler() -> None:
        event.set()

    handler.__name__ = name
    return handler


async def test_attachments_upload_and_download_the_same_bytes(sandbox: DiscordSandbox, staff: Staff) -> None:
    upload = bytes(range(256)) * 40
    client, received = echo_client()
    async with connected(client):
        channel = client.get_channel(staff.channel.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("handover notes", file=discord.File(io.BytesIO(upload), "notes.bin"))
        stored = sandbox.message(sent.id).attachments[0]
        assert (stored.filename, stored.data) == ("notes.bin", upload)
        assert await sent.attachments[0].read() == upload

        sandbox.send_dm(staff.person, "my photo", attachments=[Upload("photo.png", b"\x89PNG-bytes", "image/png")])
        await eventually(lambda: any(m.author.id == staff.person.id for m in received))
        attachment = next(m for m in received if m.author.id == staff.person.id).attachments[0]
        assert (attachment.filename, attachment.content_type) == ("photo.png", "image/png")
        assert await attachment.read() == b"\x89PNG-bytes"


async def test_the_http_control_api_drives_a_conversation(sandbox: DiscordSandbox) -> None:
    client, _ = echo_client()
    async with connected(client), aiohttp.ClientSession(sandbox.url + "/_sandbox/") as http:
        async with http.post("users", json={"name": "sam"}) as response:
            user = await response.json()
        async with http.post("dms", json={"user_id": user["id"], "content": "hello?"}) as response:
            assert response.status == 200
        async with http.get("actions", params={"after": "0", "timeout": "5"}) as response:
            actions = await response.json()
        press = {"user_id": user["id"], "message_id": actions[-1]["message"]["id"], "custom_id": "take"}
        async with http.post("interactions/button", json=press) as response:
            refused = (response.status, await response.json())
        async with http.post("interactions/button", json={**press, "message_id": "1"}) as response:
            unknown = response.status
    assert [a["kind"] for a in actions][-1] == "message_create"
    assert actions[-1]["message"]["content"] == "echo: hello?"
    assert refused[0] == 400 and "custom_id" in refused[1]["error"]  # the reply has no buttons
    assert unknown == 404
    assert sandbox.bot_messages()[0].content == "echo: hello?"


async def test_unknown_channel_and_empty_message_answer_like_discord(sandbox: DiscordSandbox) -> None:
    headers = {"Authorization": f"Bot {BRIDGE_TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{sandbox.api_url}/channels/123/messages", json={"content": "x"}) as response:
            unknown = (response.status, response.headers["Content-Type"], await response.json())
        person = sandbox.create_user("ana")
        async with http.post(f"{sandbox.api_url}/users/@me/channels", json={"recipient_id": str(person.id)}) as r:
            dm = await r.json()
        async with http.post(f"{sandbox.api_url}/channels/{dm['id']}/messages", json={}) as response:
            empty = (response.status, await response.json())
    assert unknown == (404, "application/json", {"message": "Unknown Channel", "code": 10003})
    assert empty == (400, {"message": "Cannot send an empty message", "code": 50006})


async def test_more_than_five_rows_or_five_buttons_in_a_row_is_refused(sandbox: DiscordSandbox, staff: Staff) -> None:
    def rows(count: int, per_row: int) -> list[dict[str, object]]:
        return [
            {"type": 1, "components": [
                {"type": 2, "style": 1, "label": "b", "custom_id": f"b{r}-{i}"} for i in range(per_row)
            ]}
            for r in range(count)
        ]  # fmt: skip

    url = f"{sandbox.api_url}/channels/{staff.channel.id}/messages"
    headers = {"Authorization": f"Bot {BRIDGE_TOKEN}"}
    statuses = []
    async with aiohttp.ClientSession(headers=headers) as http:
        for count, per_row in ((5, 5), (6, 1), (1, 6)):
            async with http.post(url, json={"content": "pick", "components": rows(count, per_row)}) as response:
                statuses.append(response.status)
    assert statuses == [200, 400, 400]
    assert [len(m.buttons) for m in sandbox.bot_messages()] == [25]  # the refused ones were not posted


async def test_the_sandbox_stops_promptly_with_a_long_poll_open() -> None:
    """The demo page keeps a long poll open; Ctrl-C must not wait for it (aiohttp's default is a minute)."""
    box = DiscordSandbox(tokens=["stop-test-token"])
    url = await box.start()
    async with aiohttp.ClientSession() as http:
        poll = asyncio.create_task(http.get(f"{url}/_sandbox/actions?after=0&timeout=30"))
        await asyncio.sleep(0.3)  # the request is in the handler, waiting
        started = time.monotonic()
        await box.stop()
        assert time.monotonic() - started < 3
        poll.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
            await poll


async def test_deleting_a_thread_takes_its_messages_and_needs_manage_threads(
    sandbox: DiscordSandbox, staff: Staff
) -> None:
    client, _received = echo_client()
    deleted: list[int] = []

    async def on_raw_thread_delete(payload: discord.RawThreadDeleteEvent) -> None:
        deleted.append(payload.thread_id)

    client.event(on_raw_thread_delete)
    async with connected(client):
        channel = client.get_channel(staff.channel.id)
        assert isinstance(channel, discord.TextChannel)
        kept = await channel.create_thread(name="c-1", type=discord.ChannelType.public_thread)
        doomed = await channel.create_thread(name="c-2", type=discord.ChannelType.public_thread)
        await doomed.send("words that must not outlive the thread")
        await kept.send("another conversation")
        sandbox.set_overwrite(staff.channel, sandbox.bot, allow=Permission.VIEW_CHANNEL, deny=Permission.MANAGE_THREADS)
        with pytest.raises(discord.Forbidden) as refused:
            await client.http.delete_channel(doomed.id)
        assert refused.value.code == 50013 and sandbox.channel(doomed.id)  # still there
        sandbox.set_overwrite(staff.channel, sandbox.bot, allow=Permission.VIEW_CHANNEL)  # its role's rights again

        await client.http.delete_channel(doomed.id)
        await eventually(lambda: deleted == [doomed.id])  # THREAD_DELETE, as Discord sends it
        assert [t.id for t in sandbox.threads(staff.channel)] == [kept.id]
        assert all("must not outlive" not in m.content for m in sandbox.bot_messages())
        with pytest.raises(discord.NotFound) as again:  # already gone: 404 Unknown Channel
            await client.http.delete_channel(doomed.id)
    assert again.value.code == 10003
