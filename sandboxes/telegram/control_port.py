"""What the HTTP control API (`control`) needs of the sandbox: the `TelegramSandbox` methods its routes mirror.

A port, so that `control` does not import `sandbox`, which imports `control` to serve its routes. The methods
are typed as the control API calls them (chats, topics and bots by id, as they arrive in JSON); see
`TelegramSandbox` for what each does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sandboxes.telegram.faults import ApiCall, FaultPlan
from sandboxes.telegram.inbound import Attachment
from sandboxes.telegram.model import CallbackQuery, Chat, Message, Topic, User
from sandboxes.telegram.world import World


class ControlledSandbox(Protocol):
    """The sandbox as the control API drives it (`TelegramSandbox` is one)."""

    @property
    def world(self) -> World: ...

    @property
    def faults(self) -> FaultPlan: ...

    def create_user(self, first_name: str, *, username: str | None, user_id: int | None) -> User: ...

    def create_forum_group(self, title: str, *, members: Iterable[User], bots: Iterable[int] | None) -> Chat: ...

    def create_group(
        self, title: str, *, members: Iterable[User], bots: Iterable[int] | None, supergroup: bool
    ) -> Chat: ...

    def create_channel(
        self, title: str, *, members: Iterable[User], bots: Iterable[int] | None, username: str
    ) -> Chat: ...

    def add_members(self, chat: int, *users: User) -> None: ...

    def topics(self, chat: int) -> list[Topic]: ...

    def create_topic(self, chat: int, name: str, *, by: User | None, icon_color: int | None) -> Topic: ...

    def delete_topic(self, chat: int, thread: int) -> None: ...

    def send_user_message(
        self,
        user: User,
        text: str,
        *,
        chat: int | None,
        thread: int | None,
        bot: int | None,
        attachment: Attachment | None,
        caption: str,
        reply_to: int | None,
    ) -> Message: ...

    def edit_user_message(self, message: Message, text: str) -> Message: ...

    def press_button(self, user: User, message: Message, data: str) -> CallbackQuery: ...

    def block_bot(self, user: User, bot: int | None, *, blocked: bool) -> None: ...

    def fail_next(
        self,
        method: str,
        *,
        times: int,
        status: int,
        retry_after: int,
        description: str | None,
        bot: int | None,
        delay: float,
    ) -> None: ...

    def sent(self, chat: int | None, thread: int | None, *, bot: int | None, since: int) -> list[Message]: ...

    def mark(self) -> int: ...

    def transcript(self, chat: int, thread: int | None = None, *, bot: int | None = None) -> list[Message]: ...

    def calls(self, method: str | None, *, bot: int | None) -> list[ApiCall]: ...

    def call_counts(self) -> dict[str, int]: ...
