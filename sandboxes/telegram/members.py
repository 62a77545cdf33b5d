"""Who is in a group and with which rights: getChatMember, getChatAdministrators (what `peerbridge doctor` asks).

Bots put in a group by the sandbox's helpers are administrators with every right, as a coordinator following the
guide makes them; `TelegramSandbox.set_admin` takes rights away to show what the platform answers then. Creating
a topic needs the `can_manage_topics` right and deleting one `can_delete_messages`, as on Telegram.
"""

from __future__ import annotations

from sandboxes.telegram.api_common import Handler, MethodContext
from sandboxes.telegram.errors import bad_request
from sandboxes.telegram.model import JsonObject
from sandboxes.telegram.wire import user_wire
from sandboxes.telegram.world import Room

# The rights of a ChatMemberAdministrator (Bot API 9.x); the first ten are always present on the wire.
ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
    "can_delete_stories", "can_pin_messages", "can_manage_topics",
)  # fmt: skip
ALL_RIGHTS = frozenset(ADMIN_RIGHTS)


def member_wire(ctx: MethodContext, room: Room, user_id: int) -> JsonObject:
    """A ChatMember object: administrator (with rights), member, or left."""
    user = ctx.world.users.get(user_id)
    if user is None:
        raise bad_request("PARTICIPANT_ID_INVALID")
    if user_id not in room.members:
        return {"status": "left", "user": user_wire(user)}
    rights = room.admins.get(user_id)
    if rights is None:
        return {"status": "member", "user": user_wire(user)}
    return {
        "status": "administrator",
        "user": user_wire(user),
        "can_be_edited": False,
        "is_anonymous": False,
        **{right: right in rights for right in ADMIN_RIGHTS},
    }


async def get_chat_member(ctx: MethodContext) -> JsonObject:
    """getChatMember."""
    room = ctx.world.room_for_bot(ctx.bot, ctx.params.chat_ref())
    user_id = ctx.params.integer("user_id")
    if user_id is None:
        raise bad_request("PARTICIPANT_ID_INVALID")
    return member_wire(ctx, room, user_id)


async def get_chat_administrators(ctx: MethodContext) -> list[JsonObject]:
    """getChatAdministrators."""
    room = ctx.world.room_for_bot(ctx.bot, ctx.params.chat_ref())
    if room.bot_id is not None:
        raise bad_request("there are no administrators in the private chat")
    return [member_wire(ctx, room, user_id) for user_id in room.admins if user_id in room.members]


def require_right(room: Room, bot_id: int, right: str, error: str) -> None:
    """Telegram's 400 when a bot without an admin right tries what needs it."""
    if right not in room.admins.get(bot_id, frozenset()):
        raise bad_request(error)


MEMBER_METHODS: dict[str, Handler] = {
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
}
