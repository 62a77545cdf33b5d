"""A person who comes back within retention: their volunteer sees a short summary of the earlier conversations,
and they may ask for the volunteer they had before.

The summary (staff only) goes with the hand-over into the new conversation's topic/thread: dates, the highest
risk each reached, who helped (staff ids) and the handover notes. Asking for the same volunteer never makes
anyone wait longer: it is offered only with an ordinary arrival (not when the first words were high risk), it is
kept only while that volunteer is on duty, and matching still serves high and imminent risk first and lets
anyone take the person once they have waited `match_wait` (routing/intake.py).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from routing import texts
from routing.i18n import moment, staff_count, staff_language
from routing.live_roster import LiveRoster
from routing.model import Button, ConversationState, VolunteerId
from routing.store.availability import Availability
from routing.store.conversations import Conversation, ConversationStore
from routing.store.duty import DutyRoster
from routing.store.history import SHOWN, Earlier, PersonHistory

ASK_ACTION = "same"  # the person's button: "ask for the volunteer I talked to last time"


def summary(earlier: list[Earlier], retention_days: float) -> str:
    """The staff-only lines about a person's earlier conversations (latest first, at most `SHOWN`)."""
    if not earlier:
        return ""
    lines = [texts.staff(texts.RETURNING_SUMMARY, earlier=staff_count(texts.CONVERSATIONS, len(earlier)),
                         days=round(retention_days))]  # fmt: skip
    for before in earlier[:SHOWN]:
        when = moment(staff_language(), datetime.fromtimestamp(before.opened_at, UTC), "d MMM yyyy")
        helpers = ", ".join(before.helpers) or texts.staff(texts.RETURNING_NOBODY)
        lines.append("• " + texts.staff(texts.RETURNING_LINE, date=when, tier=before.tier.label, helpers=helpers))
        lines += ["   " + texts.staff(texts.HANDOVER_NOTE, note=note) for note in before.notes]
    return "\n".join(lines)


def last_helper(earlier: list[Earlier]) -> VolunteerId | None:
    """Who held the person last, in their latest conversation that had a volunteer."""
    return next((before.helpers[-1] for before in earlier if before.helpers), None)


class Returning:
    """Marks a returning person's new conversation and handles their asking for the same volunteer."""

    def __init__(
        self,
        history: PersonHistory,
        conversations: ConversationStore,
        roster: LiveRoster,
        availability: Availability,
        duty: DutyRoster | None,
    ) -> None:
        self._history = history
        self._store = conversations
        self._roster = roster
        self._availability = availability
        self._duty = duty

    async def arrived(self, conversation: Conversation) -> tuple[Conversation, bool]:
        """A new conversation: marks how many earlier ones the person had (the queue card says so). Returns it
        and whether to offer asking for the same volunteer (someone helped them before)."""
        earlier = await self._history.earlier(conversation.person, conversation.id)
        if not earlier:
            return conversation, False
        await self._history.mark_returning(conversation.id, len(earlier))
        return dataclasses.replace(conversation, returning=len(earlier)), last_helper(earlier) is not None

    def offer(self, lang: str) -> Button:
        return Button(texts.say(lang, texts.SAME_VOLUNTEER), ASK_ACTION)

    async def ask(self, conversation: Conversation) -> tuple[str, Conversation | None]:
        """The person pressed "the volunteer I talked to last time". Returns what to tell them (a person's text
        id) and, when the volunteer was asked for, the conversation as it is now (for its queue card and, when
        that volunteer has room and assignment is automatic, the caller's hand-over)."""
        if conversation.state != ConversationState.WAITING:
            return texts.SAME_VOLUNTEER_TOO_LATE, None
        wanted = last_helper(await self._history.earlier(conversation.person, conversation.id))
        if wanted is None or not await self._on_duty(wanted):
            return texts.SAME_VOLUNTEER_AWAY, None
        await self._history.ask_for(conversation.id, wanted)
        return texts.SAME_VOLUNTEER_ASKED, dataclasses.replace(conversation, asked_for=wanted)

    async def has_room(self, volunteer: VolunteerId) -> bool:
        """Checked in, on shift, not resting or practising, with room for one more (as automatic assignment
        asks)."""
        member = (await self._roster.current()).by_id(volunteer)
        if member is None:
            return False
        capacity = {volunteer: member.max_concurrent}
        shift = await self._duty.on_shift_now() if self._duty else None
        return await self._availability.most_free(capacity, member.max_concurrent, shift) == volunteer

    async def _on_duty(self, volunteer: VolunteerId) -> bool:
        """Checked in (/on), or on shift in the rota now: on a break or full still counts, they may free up soon.
        Without either we cannot know, and the person is not kept waiting for someone who may be asleep."""
        if volunteer in await self._store.on_duty():
            return True
        shift = await self._duty.on_shift_now() if self._duty else None
        return shift is not None and volunteer in shift
