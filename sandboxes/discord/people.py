"""What simulated people do: write DMs and channel messages, edit them, and what Discord itself does to
threads (auto-archive).

A person can only do what the Discord client would let them; anything else raises `SandboxError`.
"""

from __future__ import annotations

from sandboxes.discord import errors
from sandboxes.discord.core import SandboxCore
from sandboxes.discord.drafts import MessageDraft, user_draft
from sandboxes.discord.model import BotAccount, Channel, Message, Upload, User, utc_now
from sandboxes.discord.traffic import require_post_permission


class PeopleActions:
    """Messages from people, and thread housekeeping done by Discord."""

    def __init__(self, core: SandboxCore) -> None:
        self._core = core

    def send_dm(self, user: User, content: str, *, bot: BotAccount, uploads: tuple[Upload, ...] = ()) -> Message:
        """The user writes to the bot in their DM channel (created on first use)."""
        channel = self._core.state.dm_channel(bot.id, user.id)
        return self._post(user, channel, user_draft(content, uploads))

    def send_message(
        self,
        user: User,
        channel: Channel,
        content: str,
        *,
        uploads: tuple[Upload, ...] = (),
        reply_to: Message | None = None,
    ) -> Message:
        """The user writes in a guild channel or thread they can see (an archived thread reopens)."""
        if channel.is_dm and user.id not in channel.recipient_ids:
            raise errors.SandboxError("that DM channel is not this user's")
        draft = user_draft(content, uploads, reply_to.id if reply_to else None)
        return self._post(user, channel, draft)

    def _post(self, user: User, channel: Channel, draft: MessageDraft) -> Message:
        try:
            require_post_permission(self._core.state, user.id, channel, with_files=bool(draft.uploads))
            return self._core.traffic.post(channel, user.id, draft)
        except errors.ApiError as error:
            raise errors.SandboxError(f"user {user.id} cannot post in channel {channel.id}: {error.message}") from error

    def edit_message(self, message: Message, content: str) -> Message:
        """The author (a person) edits their message: MESSAGE_UPDATE."""
        current = self._current(message)
        if current.author_id in self._core.state.bots:
            raise errors.SandboxError("bots edit their messages through the REST API")
        return self._core.traffic.edit(current, MessageDraft(content=content), editor_id=current.author_id)

    def delete_message(self, message: Message) -> None:
        """The author (a person) deletes their message: MESSAGE_DELETE."""
        current = self._current(message)
        if current.author_id in self._core.state.bots:
            raise errors.SandboxError("bots delete their messages through the REST API")
        self._core.traffic.delete(current, actor_id=current.author_id)

    def _current(self, message: Message) -> Message:
        current = self._core.state.messages.get(message.id)
        if current is None:
            raise errors.SandboxError("that message was deleted")
        return current

    def archive_thread(self, thread: Channel, *, locked: bool = False) -> Channel:
        """Archives a thread as Discord's auto-archive does (optionally locked, as a moderator would)."""
        state = thread.thread
        if state is None:
            raise errors.SandboxError("not a thread")
        state.archived = True
        state.locked = state.locked or locked
        state.archive_timestamp = utc_now()
        self._core.fanout.thread_updated(thread)
        self._core.activity.notify()
        return thread

    def join_thread(self, user: User, thread: Channel) -> None:
        """A person joins a thread they can see (or is added to a private one)."""
        state = thread.thread
        if state is None:
            raise errors.SandboxError("not a thread")
        if user.id not in state.member_ids:
            state.member_ids.add(user.id)
            self._core.fanout.thread_members_updated(thread, added=[user.id])
