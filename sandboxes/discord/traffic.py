"""The one path every message takes: stored in state, dispatched on the gateway, logged if a bot wrote it.

Also keeps Discord's thread rules for posting: a message in an archived thread unarchives it (unless the
thread is locked: 50083), a locked open thread takes messages only from members with MANAGE_THREADS, and the
sender joins the thread.
"""

from __future__ import annotations

import dataclasses

from sandboxes.discord import errors
from sandboxes.discord.activity import BotActivity
from sandboxes.discord.drafts import MessageDraft, build_attachments, mentions_in
from sandboxes.discord.fanout import EventFanout
from sandboxes.discord.model import (
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    ActionKind,
    Channel,
    InteractionRecord,
    Message,
    Permission,
    Snowflake,
    utc_now,
)
from sandboxes.discord.state import SandboxState

# SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS and IS_COMPONENTS_V2 may be set by anyone sending a message.
_SENDER_FLAGS = (1 << 2) | (1 << 12) | (1 << 15)
_INTERACTION_FLAGS = _SENDER_FLAGS | EPHEMERAL_FLAG


class MessageTraffic:
    """Creates, edits and deletes messages for users and bots alike."""

    def __init__(self, state: SandboxState, fanout: EventFanout, activity: BotActivity) -> None:
        self._state = state
        self._fanout = fanout
        self._activity = activity

    def post(
        self,
        channel: Channel,
        author_id: Snowflake,
        draft: MessageDraft,
        *,
        interaction: InteractionRecord | None = None,
        message_type: int = 0,
        extra_flags: int = 0,
    ) -> Message:
        """Creates a message; raises 50006 for an empty one unless it is a deferred placeholder."""
        if draft.is_empty() and not extra_flags & LOADING_FLAG:
            raise errors.empty_message()
        self.prepare_thread(channel, author_id)
        allowed = _INTERACTION_FLAGS if interaction is not None else _SENDER_FLAGS
        content = draft.content or ""
        message = Message(
            id=self._state.ids.next(),
            channel_id=channel.id,
            author_id=author_id,
            guild_id=channel.guild_id,
            content=content,
            embeds=draft.embeds or (),
            components=draft.components or (),
            attachments=build_attachments(draft, (), self._state.ids),
            mention_ids=mentions_in(content),
            type=message_type,
            flags=((draft.flags or 0) & allowed) | extra_flags,
            reference_id=draft.reference_id,
            webhook_id=interaction.application_id if interaction is not None else None,
            interaction_id=interaction.id if interaction is not None else None,
        )
        self._state.store(message)
        self._fanout.message_created(message)
        self._record(ActionKind.MESSAGE_CREATE, message, author_id)
        return message

    def edit(
        self, message: Message, draft: MessageDraft, *, editor_id: Snowflake, fill_placeholder: bool = False
    ) -> Message:
        """Stores a new revision. Filling a deferred placeholder clears its loading flag and is not an edit."""
        channel = self._state.channels[message.channel_id]
        self.prepare_thread(channel, editor_id)
        content = message.content if draft.content is None else draft.content
        keep_attachments = draft.attachment_refs is None and not draft.uploads
        flags = message.flags & ~LOADING_FLAG if fill_placeholder else message.flags
        revised = dataclasses.replace(
            message,
            content=content,
            embeds=message.embeds if draft.embeds is None else draft.embeds,
            components=message.components if draft.components is None else draft.components,
            attachments=message.attachments
            if keep_attachments
            else build_attachments(draft, message.attachments, self._state.ids),
            mention_ids=mentions_in(content),
            flags=flags,
            edited_at=message.edited_at if fill_placeholder else utc_now(),
            revision=message.revision + 1,
        )
        self._state.revise(revised)
        self._fanout.message_updated(revised)
        self._record(ActionKind.MESSAGE_UPDATE, revised, editor_id)
        return revised

    def delete(self, message: Message, *, actor_id: Snowflake) -> None:
        """Removes a message from its channel."""
        self._state.remove(message)
        self._fanout.message_deleted(message)
        self._record(ActionKind.MESSAGE_DELETE, message, actor_id)

    def prepare_thread(self, channel: Channel, author_id: Snowflake) -> None:
        """Applies Discord's rules for writing into a thread (see the module docstring)."""
        thread = channel.thread
        if thread is None:
            return
        if thread.archived:
            if thread.locked:
                raise errors.thread_archived()
            thread.archived = False
            thread.archive_timestamp = utc_now()
            self._fanout.thread_updated(channel)
        elif thread.locked and not self._state.permissions(author_id, channel) & Permission.MANAGE_THREADS:
            raise errors.missing_permissions()
        if author_id not in thread.member_ids:
            thread.member_ids.add(author_id)
            self._fanout.thread_members_updated(channel, added=[author_id])

    def _record(self, kind: ActionKind, message: Message, actor_id: Snowflake) -> None:
        if actor_id in self._state.bots:
            self._activity.record(
                kind, actor_id, message.channel_id, message=message, interaction_id=message.interaction_id
            )


def require_post_permission(state: SandboxState, user_id: Snowflake, channel: Channel, *, with_files: bool) -> None:
    """Raises what Discord answers when `user_id` may not post into `channel`."""
    if channel.is_dm:
        if user_id not in channel.recipient_ids:
            raise errors.unknown_channel()
        recipient = channel.recipient_ids[1]
        if recipient in state.dms_closed and user_id != recipient:
            raise errors.cannot_message_user()
        return
    granted = state.permissions(user_id, channel)
    if not granted & Permission.VIEW_CHANNEL:
        raise errors.missing_access()
    needed = Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permission.SEND_MESSAGES
    if with_files:
        needed |= Permission.ATTACH_FILES
    if granted & needed != needed:
        raise errors.missing_permissions()


def require_view(state: SandboxState, user_id: Snowflake, channel: Channel) -> None:
    """Raises 10003 for someone else's DM, 50001 for a guild channel the user cannot see."""
    if channel.is_dm:
        if user_id not in channel.recipient_ids:
            raise errors.unknown_channel()
    elif not state.can_view(user_id, channel):
        raise errors.missing_access()
