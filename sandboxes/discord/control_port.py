"""What the HTTP control API (`control`) needs of the sandbox: the `DiscordSandbox` methods its routes mirror.

A port, so that `control` does not import `sandbox`, which imports `control` to serve its routes. The methods
are typed as the control API calls them; see `DiscordSandbox` for what each does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from sandboxes.discord.interactions import OptionValue
from sandboxes.discord.model import (
    BotAccount,
    CallRecord,
    Channel,
    Guild,
    InteractionRecord,
    Member,
    Message,
    Permission,
    Role,
    Snowflake,
    Upload,
    User,
)


class ControlledSandbox(Protocol):
    """The sandbox as the control API drives it (`DiscordSandbox` is one)."""

    def create_user(self, name: str, *, dms_open: bool) -> User: ...

    def close_dms(self, user: User) -> None: ...

    def open_dms(self, user: User) -> None: ...

    def create_guild(self, name: str, *, owner: User | None) -> Guild: ...

    def create_role(self, guild: Guild, name: str, *, permissions: Permission) -> Role: ...

    def add_member(self, guild: Guild, user: User, roles: Sequence[Role]) -> Member: ...

    def create_text_channel(
        self, guild: Guild, name: str, *, visible_to: Sequence[Role | User] | None, topic: str | None
    ) -> Channel: ...

    def set_overwrite(self, channel: Channel, target: Role | User, *, allow: Permission, deny: Permission) -> None: ...

    def send_dm(
        self, user: User, content: str, *, bot: BotAccount | None, attachments: Sequence[Upload]
    ) -> Message: ...

    def send_message(
        self, user: User, channel: Channel, content: str, *, attachments: Sequence[Upload], reply_to: Message | None
    ) -> Message: ...

    def edit_message(self, message: Message, content: str) -> Message: ...

    def delete_message(self, message: Message) -> None: ...

    def archive_thread(self, thread: Channel, *, locked: bool) -> Channel: ...

    def press_button(self, user: User, message: Message, custom_id: str) -> InteractionRecord: ...

    def select_options(
        self, user: User, message: Message, custom_id: str, values: Sequence[str]
    ) -> InteractionRecord: ...

    def invoke_slash(
        self,
        user: User,
        channel: Channel,
        command: str,
        options: Mapping[str, OptionValue] | None,
        *,
        bot: BotAccount | None,
    ) -> InteractionRecord: ...

    def fail_next(self, route: str, *, times: int, status: int, retry_after: float, is_global: bool) -> None: ...

    async def disconnect_gateway(self, bot: BotAccount | None, *, code: int, resumable: bool) -> int: ...

    def channel(self, channel_id: Snowflake) -> Channel: ...

    def messages(self, channel: Channel) -> list[Message]: ...

    def calls(self, route: str | None) -> list[CallRecord]: ...
