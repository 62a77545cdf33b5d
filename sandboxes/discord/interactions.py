"""People triggering interactions: pressing a button, choosing in a select menu, running a slash command.

Each produces INTERACTION_CREATE for the owning application; the bot's answers land on the returned
`InteractionRecord`. Only what the Discord client allows is allowed (a present, enabled component; a
registered command with valid options, usable by that member).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from sandboxes.discord import errors
from sandboxes.discord.core import SandboxCore
from sandboxes.discord.model import (
    BotAccount,
    Channel,
    CommandRecord,
    InteractionKind,
    InteractionRecord,
    JsonObject,
    Message,
    Permission,
    Role,
    Snowflake,
    User,
)
from sandboxes.discord.payloads import role_payload, user_payload

OptionValue = str | int | float | bool | User | Channel | Role
_SUB_COMMAND, _SUB_COMMAND_GROUP = 1, 2
_SELECT_TYPES = (3, 5, 6, 7, 8)


class InteractionStarter:
    """Creates interactions on behalf of people."""

    def __init__(self, core: SandboxCore) -> None:
        self._core = core

    def press_button(self, user: User, message: Message, custom_id: str) -> InteractionRecord:
        """Presses the button with `custom_id` on `message`."""
        current, component = self._component(user, message, custom_id)
        if component.get("type") != 2:
            raise errors.SandboxError("that component is not a button")
        data: JsonObject = {"custom_id": custom_id, "component_type": 2}
        return self._component_interaction(user, current, data, component)

    def select_options(self, user: User, message: Message, custom_id: str, values: Sequence[str]) -> InteractionRecord:
        """Chooses `values` in the select menu with `custom_id`."""
        current, component = self._component(user, message, custom_id)
        kind = component.get("type")
        if kind not in _SELECT_TYPES:
            raise errors.SandboxError("that component is not a select menu")
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        offered = {o.get("value") for o in component.get("options", [])}
        if not low <= len(values) <= high or (kind == 3 and not set(values) <= offered):
            raise errors.SandboxError("the select menu does not allow that choice")
        data: JsonObject = {"custom_id": custom_id, "component_type": kind, "values": list(values)}
        return self._component_interaction(user, current, data, component)

    def _component(self, user: User, message: Message, custom_id: str) -> tuple[Message, JsonObject]:
        current = self._core.state.messages.get(message.id)
        if current is None:
            raise errors.SandboxError("that message was deleted")
        component = current.component(custom_id)
        if component is None:
            raise errors.SandboxError("the message has no component with that custom_id")
        if component.get("disabled"):
            raise errors.SandboxError("that component is disabled")
        if current.author_id not in self._core.state.bots:
            raise errors.SandboxError("only an application's messages have interactive components")
        channel = self._core.state.channels[current.channel_id]
        self._require_sees(user, channel)
        if current.ephemeral and current.interaction_id is not None:
            owner = self._core.state.interactions[current.interaction_id].user_id
            if owner != user.id:
                raise errors.SandboxError("an ephemeral message is visible to its user only")
        return current, component

    def _component_interaction(
        self, user: User, message: Message, data: JsonObject, component: JsonObject
    ) -> InteractionRecord:
        if "id" in component:
            data["id"] = component["id"]
        bot = self._core.state.bots[message.author_id]
        channel = self._core.state.channels[message.channel_id]
        return self._open(InteractionKind.MESSAGE_COMPONENT, bot, user, channel, data, message.id)

    def invoke_slash(
        self,
        user: User,
        channel: Channel,
        command: str,
        options: Mapping[str, OptionValue] | None = None,
        *,
        bot: BotAccount | None = None,
    ) -> InteractionRecord:
        """Runs "/command" (or "/group sub" with spaces) with named options in a channel the user sees."""
        self._require_sees(user, channel)
        name, *path = command.strip().lstrip("/").split()
        record = self._find_command(channel, name, bot)
        self._require_may_use(user, channel, record)
        resolved: dict[str, dict[str, JsonObject]] = {}
        built = _build_options(list(record.options), path, dict(options or {}), self._resolver(channel, resolved))
        data: JsonObject = {"id": str(record.id), "name": record.name, "type": record.type, "options": built}
        if record.guild_id is not None:
            data["guild_id"] = str(record.guild_id)
        if resolved:
            data["resolved"] = resolved
        owner = self._core.state.bots[Snowflake(record.application_id)]
        return self._open(InteractionKind.APPLICATION_COMMAND, owner, user, channel, data, None)

    def _find_command(self, channel: Channel, name: str, bot: BotAccount | None) -> CommandRecord:
        state = self._core.state
        found = [
            c
            for c in state.commands.values()
            if c.name == name and c.type == 1 and (c.guild_id is None or c.guild_id == channel.guild_id)
        ]
        if channel.is_dm:
            found = [c for c in found if c.application_id == channel.recipient_ids[0]]
        if bot is not None:
            found = [c for c in found if c.application_id == bot.application_id]
        apps = {c.application_id for c in found}
        if len(apps) != 1:
            problem = "no application registered" if not apps else "several applications registered"
            raise errors.SandboxError(f"{problem} a /{name} command here; sync the command tree (or pass bot=)")
        return next(c for c in found if c.guild_id is not None) if len(found) > 1 else found[0]

    def _require_sees(self, user: User, channel: Channel) -> None:
        if not self._core.state.can_view(user.id, channel):
            raise errors.SandboxError(f"user {user.id} cannot see channel {channel.id}")

    def _require_may_use(self, user: User, channel: Channel, command: CommandRecord) -> None:
        if channel.is_dm:
            if command.extra.get("dm_permission") is False:
                raise errors.SandboxError("that command is not available in DMs")
            return
        granted = self._core.state.permissions(user.id, channel)
        needed = Permission(int(command.extra.get("default_member_permissions") or 0))
        if command.extra.get("default_member_permissions") == "0":
            needed = Permission.ADMINISTRATOR
        if not granted & Permission.USE_APPLICATION_COMMANDS or granted & needed != needed:
            raise errors.SandboxError("that member may not use this command")

    def _resolver(self, channel: Channel, resolved: dict[str, dict[str, JsonObject]]) -> _Resolver:
        return _Resolver(self._core, channel, resolved)

    def _open(
        self,
        kind: InteractionKind,
        bot: BotAccount,
        user: User,
        channel: Channel,
        data: JsonObject,
        message_id: Snowflake | None,
    ) -> InteractionRecord:
        core = self._core
        record = InteractionRecord(
            id=core.state.ids.next(),
            token=secrets.token_urlsafe(48),
            kind=kind,
            application_id=bot.application_id,
            user_id=user.id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            data=data,
            created_at=core.now(),
            message_id=message_id,
        )
        core.state.add_interaction(record)
        core.fanout.interaction_created(record)
        return record


class _Resolver:
    """Fills `data.resolved` for user, channel and role options."""

    def __init__(self, core: SandboxCore, channel: Channel, resolved: dict[str, dict[str, JsonObject]]) -> None:
        self._core = core
        self._channel = channel
        self.resolved = resolved

    def add(self, value: OptionValue, kind: int) -> str:
        if isinstance(value, User) and kind in (6, 9):
            self._add_user(value)
        elif isinstance(value, Role) and kind in (8, 9):
            self.resolved.setdefault("roles", {})[str(value.id)] = role_payload(value)
        elif isinstance(value, Channel) and kind == 7:
            self.resolved.setdefault("channels", {})[str(value.id)] = self._channel_payload(value)
        else:
            raise errors.SandboxError(f"option of type {kind} needs a User, Role or Channel value")
        return str(value.id)

    def _add_user(self, user: User) -> None:
        self.resolved.setdefault("users", {})[str(user.id)] = user_payload(user)
        guild = self._core.state.guild_of(self._channel)
        member = guild.members.get(user.id) if guild else None
        if member is not None:
            payload = self._core.payloads.member(member, with_user=False)
            payload["permissions"] = str(int(self._core.state.permissions(user.id, self._channel)))
            self.resolved.setdefault("members", {})[str(user.id)] = payload

    def _channel_payload(self, channel: Channel) -> JsonObject:
        payload = self._core.payloads.channel(channel)
        payload["permissions"] = str(int(self._core.state.permissions(self._channel_owner(), channel)))
        return payload

    def _channel_owner(self) -> Snowflake:
        guild = self._core.state.guild_of(self._channel)
        return guild.owner_id if guild else Snowflake(0)


def _build_options(
    definitions: list[JsonObject], path: list[str], values: dict[str, OptionValue], resolver: _Resolver
) -> list[JsonObject]:
    if path:
        head, rest = path[0], path[1:]
        group = next((d for d in definitions if d.get("name") == head and d.get("type") in (1, 2)), None)
        if group is None:
            raise errors.SandboxError(f"the command has no subcommand {head!r}")
        inner = _build_options(list(group.get("options") or []), rest, values, resolver)
        return [{"name": head, "type": group["type"], "options": inner}]
    if any(d.get("type") in (_SUB_COMMAND, _SUB_COMMAND_GROUP) for d in definitions):
        raise errors.SandboxError("that command needs a subcommand")
    known = {d["name"]: d for d in definitions}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise errors.SandboxError(f"the command has no option(s) {unknown}")
    options: list[JsonObject] = []
    for definition in definitions:
        name = definition["name"]
        if name not in values:
            if definition.get("required"):
                raise errors.SandboxError(f"required option {name!r} is missing")
            continue
        value = _option_value(definition, values[name], resolver)
        options.append({"name": name, "type": definition["type"], "value": value})
    return options


def _option_value(definition: JsonObject, value: OptionValue, resolver: _Resolver) -> object:
    kind = definition["type"]
    if kind in (6, 7, 8, 9):
        return resolver.add(value, kind)
    expected: dict[int, tuple[type, ...]] = {3: (str,), 4: (int,), 5: (bool,), 10: (int, float)}
    if kind not in expected:
        raise errors.SandboxError(f"option type {kind} is not supported by the sandbox")
    if not isinstance(value, expected[kind]) or (kind != 5 and isinstance(value, bool)):
        raise errors.SandboxError(f"option {definition['name']!r} needs a value of type {kind}")
    choices = definition.get("choices")
    if choices and value not in [c.get("value") for c in choices]:
        raise errors.SandboxError(f"the value is not one of the choices of {definition['name']!r}")
    return float(value) if kind == 10 else value  # type: ignore[arg-type]
