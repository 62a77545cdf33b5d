"""Discord's permission arithmetic: guild roles, then channel overwrites (everyone, roles, member).

Follows https://discord.com/developers/docs/topics/permissions#permission-overwrites. Threads use their parent
channel's overwrites.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandboxes.discord.model import (
    ALL_PERMISSIONS,
    NO_PERMISSIONS,
    Guild,
    Member,
    Overwrite,
    Permission,
)


def base_permissions(guild: Guild, member: Member) -> Permission:
    """Permissions from the member's roles alone; the owner and administrators get everything."""
    if member.user_id == guild.owner_id:
        return ALL_PERMISSIONS
    granted = guild.roles[guild.id].permissions
    for role_id in member.role_ids:
        role = guild.roles.get(role_id)
        if role is not None:
            granted |= role.permissions
    if granted & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    return granted


def apply_overwrites(granted: Permission, guild: Guild, member: Member, overwrites: Iterable[Overwrite]) -> Permission:
    """Applies the @everyone overwrite, then the member's role overwrites together, then the member's own."""
    by_target = {o.target_id: o for o in overwrites}
    everyone = by_target.get(guild.id)
    if everyone is not None:
        granted = (granted & ~everyone.deny) | everyone.allow
    allow, deny = NO_PERMISSIONS, NO_PERMISSIONS
    for role_id in member.role_ids:
        role_overwrite = by_target.get(role_id)
        if role_overwrite is not None and not role_overwrite.is_member:
            allow |= role_overwrite.allow
            deny |= role_overwrite.deny
    granted = (granted & ~deny) | allow
    own = by_target.get(member.user_id)
    if own is not None and own.is_member:
        granted = (granted & ~own.deny) | own.allow
    return granted


def channel_permissions(guild: Guild, member: Member, overwrites: Iterable[Overwrite]) -> Permission:
    """A member's effective permissions in a channel with these overwrites."""
    granted = base_permissions(guild, member)
    if granted == ALL_PERMISSIONS:
        return granted
    granted = apply_overwrites(granted, guild, member, overwrites)
    if not granted & Permission.VIEW_CHANNEL:
        return NO_PERMISSIONS
    return granted
