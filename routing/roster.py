"""Who the staff are: roles, languages, tags, capacity and weekly hours (pure; parsed from the rota file's data).

Anyone who can post in the private staff workspace is a volunteer (the platform guards that chat); the roster
only adds roles beyond volunteer, languages, lived-experience tags and capacity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from routing.model import Platform, Role, UserId, VolunteerId
from routing.pseudonyms import Pseudonymiser

DEFAULT_MAX_CONCURRENT = 3
MAX_CONCURRENT_LIMIT = 20
MAX_WEEKLY_HOURS = 7 * 24


class RosterError(ValueError):
    """A problem in the roster data, in words a coordinator understands."""


@dataclass(frozen=True, slots=True)
class StaffMember:
    """One staff member as the router sees them."""

    id: VolunteerId
    name: str
    roles: frozenset[Role] = frozenset({Role.VOLUNTEER})
    languages: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    identities: Mapping[Platform, UserId] = field(default_factory=dict)
    weekly_hours: float | None = None  # scheduled hours a week before a warning; None = no limit

    def has(self, role: Role) -> bool:
        return role in self.roles


class Roster:
    """Looks staff up by platform identity; unknown staff are plain volunteers with a derived id."""

    def __init__(self, members: list[StaffMember], pseudonyms: Pseudonymiser) -> None:
        self._pseudonyms = pseudonyms
        self._by_identity: dict[tuple[Platform, UserId], StaffMember] = {}
        self._by_id: dict[VolunteerId, StaffMember] = {}
        for m in members:
            self._by_id[m.id] = m
            for platform, user in m.identities.items():
                self._by_identity[(platform, user)] = m

    def member(self, platform: Platform, user: UserId) -> StaffMember:
        """The roster entry for this identity, or a default volunteer (stable id, no raw id in it)."""
        found = self._by_identity.get((platform, user))
        if found is not None:
            return found
        vid = VolunteerId("v-" + self._pseudonyms.key(platform, user)[:10])
        return self._by_id.get(vid) or StaffMember(id=vid, name=vid)

    def identified(self, platform: Platform, user: UserId) -> StaffMember | None:
        """The roster entry naming this identity, or None (no default: someone the rota does not know)."""
        return self._by_identity.get((platform, user))

    def by_id(self, volunteer: VolunteerId) -> StaffMember | None:
        return self._by_id.get(volunteer)

    def resolve(self, reference: str) -> StaffMember | None:
        """Find a member by id or (case-insensitive) name, as typed in `/transfer ana`."""
        ref = reference.strip().lstrip("@").casefold()
        for m in self._by_id.values():
            if m.id.casefold() == ref or m.name.casefold() == ref:
                return m
        return None

    @property
    def members(self) -> list[StaffMember]:
        return list(self._by_id.values())


def parse_roster(data: Mapping[str, Any], pseudonyms: Pseudonymiser) -> Roster:
    """Build a roster from the `[[staff]]` tables of the rota file; raises RosterError naming the entry."""
    return Roster(parse_staff(data), pseudonyms)


def parse_staff(data: Mapping[str, Any]) -> list[StaffMember]:
    """The `[[staff]]` tables of the rota file's data, in file order; raises RosterError naming the entry."""
    entries = data.get("staff", [])
    if not isinstance(entries, list):
        raise RosterError("staff must be a list of [[staff]] tables")
    members = [_parse_member(index, entry) for index, entry in enumerate(entries, start=1)]
    seen: set[str] = set()
    for m in members:
        if m.id in seen:
            raise RosterError(f"staff entry {m.id!r} appears twice")
        seen.add(m.id)
    return members


def _parse_member(index: int, entry: Mapping[str, Any]) -> StaffMember:
    where = f"staff entry #{index}"
    if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str) or not entry["id"].strip():
        raise RosterError(f'{where}: needs an id (a short name such as "ana")')
    where = f"staff entry {entry['id']!r}"
    try:
        roles = frozenset({Role.VOLUNTEER, *(Role(r) for r in entry.get("roles", []))})
    except ValueError:
        allowed = ", ".join(r.value for r in Role if r != Role.SEEKER)
        raise RosterError(f"{where}: unknown role; allowed roles are {allowed}") from None
    capacity = entry.get("max_concurrent", DEFAULT_MAX_CONCURRENT)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 <= capacity <= MAX_CONCURRENT_LIMIT:
        raise RosterError(f"{where}: max_concurrent must be a whole number from 0 to {MAX_CONCURRENT_LIMIT}")
    identities: dict[Platform, UserId] = {}
    for platform in Platform:
        if platform.value in entry:
            account = str(entry[platform.value]).strip()
            if not account.isdigit():  # a name or a typo would never match anyone: nobody could be reached
                example = "123456789" if platform == Platform.TELEGRAM else '"222222222222222222"'
                raise RosterError(  # the value itself stays out: it may be a person's username
                    f"{where}: {platform.value} must be the account's numeric user id (for example {example})"
                )
            identities[platform] = UserId(account)
    return StaffMember(
        id=VolunteerId(entry["id"].strip()),
        name=str(entry.get("name", entry["id"])),
        roles=roles,
        languages=tuple(str(x) for x in entry.get("languages", [])),
        tags=tuple(str(x) for x in entry.get("tags", [])),
        max_concurrent=capacity,
        identities=identities,
        weekly_hours=_weekly_hours(where, entry.get("weekly_hours")),
    )


def _weekly_hours(where: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_WEEKLY_HOURS:
        raise RosterError(f"{where}: weekly_hours must be a number of hours from 0 to {MAX_WEEKLY_HOURS}")
    return float(value)
