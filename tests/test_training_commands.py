"""`/train` in the platforms' command menus: the staff group's Telegram menu and a Discord slash command.

Both are checked as the platform sees them (what the bridge registered with the sandbox), and the Discord
command is used: its two options arrive as `/train <volunteer> <scenario>` and start a practice session.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from telegram import Bot, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.embedded_redis import EmbeddedRedis
from sandboxes.telegram import TelegramSandbox
from tests.bridge_fixtures import running_bridge, telegram_bridge_settings
from tests.discord_bridge_fixtures import World, box, until_ready, world

__all__ = ["box", "world"]  # fixtures used by name, not by reference
pytest_plugins = ["tests.telegram_fixtures"]  # the `sandbox` fixture: by plugin, as the other Telegram tests do

TOKEN = "123456:sandbox-test-token"  # one of the sandbox fixture's bots


async def test_the_staff_group_menu_offers_train_and_private_chats_do_not(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> None:
    staff = sandbox.create_forum_group("Volunteers", members=[sandbox.create_user("Vee")])
    alerts = sandbox.create_group("On call")
    settings = telegram_bridge_settings(
        tmp_path, redis_server.url, sandbox, staff.id, alerts.id,
    )  # fmt: skip
    async with running_bridge(settings), Bot(TOKEN, base_url=sandbox.bot_api_url) as bot:
        async with asyncio.timeout(10):
            while sandbox.call_counts().get("setMyCommands", 0) < 2:  # noqa: ASYNC110 - the sandbox has no event
                await asyncio.sleep(0.05)
        staff_menu = [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(staff.id))]
        assert "train" in staff_menu and "next" in staff_menu
        person_menu = [c.command for c in await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())]
        assert person_menu and "train" not in person_menu


async def test_train_is_a_discord_slash_command_that_starts_practice(world: World) -> None:
    w, box = world, world.box
    rota = f'[[staff]]\nid = "kim"\nname = "Kim"\ndiscord = "{w.volunteer.id}"\nroles = ["coordinator"]\n'
    await asyncio.to_thread(Path(w.settings.rota.file).write_text, rota)
    async with running_bridge(w.settings):
        await until_ready(w.settings)
        guild = box.channel(w.volunteers.id).guild_id
        train = next(c for c in box.state.commands_of(box.bot.application_id, guild) if c.name == "train")
        assert [(o["name"], o["required"]) for o in train.options] == [("volunteer", True), ("scenario", True)]
        assert "train" not in [c.name for c in box.state.commands_of(box.bot.application_id, None)]

        box.invoke_slash(w.volunteer, w.volunteers, "train", {"volunteer": "kim", "scenario": "loneliness"})
        await w.seen(lambda m: "Practice session t-1 started for Kim" in m.content)
        first = await w.seen(lambda m: "not sure this is the right place" in m.content)
        thread = box.channel(first.channel_id)
        assert thread.parent_id == w.volunteers.id and thread.name.startswith("TRAINING · loneliness · Kim")
