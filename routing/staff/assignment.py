"""Who holds whom: a volunteer's Take and /next (with peer matching), automatic assignment, the hand-over that
opens the conversation's thread, /release and /transfer, and the queue card with its Take button.

Every assignment is atomic in Redis (the `ASSIGN` script); this module decides whom to ask for and says what
followed."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

from routing import texts
from routing.codec import MalformedEntry, decode_inbound
from routing.i18n import primary as negotiate_primary
from routing.i18n import staff_count
from routing.intake import DEFAULT_MATCH_WAIT, Candidate, first_fit, pick_for
from routing.live_roster import LiveRoster
from routing.model import Audience, Button, ConversationId, InboundMessage, Origin, Priority, VolunteerId
from routing.outbox import Outbox
from routing.plan_flow import PlanFlow
from routing.roster import DEFAULT_MAX_CONCURRENT, StaffMember
from routing.staff.returning import summary
from routing.staff.voice import StaffVoice, escalate_button
from routing.store.availability import Availability
from routing.store.case_records import CaseEvent, CaseRecords
from routing.store.conversations import Assignment, AssignOutcome, Conversation, ConversationStore
from routing.store.duty import DutyRoster
from routing.store.history import PersonHistory
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)
MATCH_FIRST_LOOK, MATCH_LOOK = 8, 50  # waiting people peer matching reads first, and at most


class Assignments:
    """Gives waiting people to volunteers and takes them back; `automatic`: assignment is pushed, not pulled."""

    def __init__(
        self,
        voice: StaffVoice,
        conversations: ConversationStore,
        writer: StreamWriter,
        roster: LiveRoster,
        availability: Availability,
        duty: DutyRoster | None = None,
        *,
        automatic: bool = False,
        match_wait: float = DEFAULT_MATCH_WAIT,
        screened: frozenset[str] = frozenset(),
        cases: CaseRecords,
        history: PersonHistory | None = None,
        retention_days: float = 30,
        plans: PlanFlow | None = None,
    ) -> None:
        """`screened`: the languages the risk detector has phrases for (empty: not known, nothing is marked);
        `history`: a returning person's earlier conversations, summarised at the hand-over (None: not kept)."""
        self._voice = voice
        self._cases = cases
        self._store = conversations
        self._writer = writer
        self._roster = roster
        self._availability = availability
        self._duty = duty
        self._automatic = automatic
        self._match_wait = match_wait
        self._screened = screened
        self._history = history
        self._retention_days = retention_days
        self._plans = plans  # that a returning person has a safety plan is said at the hand-over (never its words)

    async def take(
        self,
        member: StaffMember,
        target: ConversationId | None,
        message: InboundMessage,
        conv: ConversationId | None,
        out: Outbox,
    ) -> None:
        """/next (the person `member` fits best), or Take on a queue card (`target`)."""
        cooling = await self._duty.cooling_down_for(member.id) if self._duty else 0
        if cooling:
            self._voice.answer(message, conv, texts.staff(texts.COOLING_DOWN, minutes=max(1, cooling // 60)), out)
            return
        result = await self._assign(member, target)
        if result.outcome == AssignOutcome.OK and result.conversation is not None:
            await self.connect(result.conversation, member, out)
        elif result.outcome == AssignOutcome.FULL:
            count = len(await self._store.active_of(member.id))
            self._voice.answer(message, conv, texts.staff(texts.AT_CAPACITY, count=count), out)
        elif result.outcome == AssignOutcome.EMPTY:
            self._voice.answer(message, conv, texts.staff(texts.NOBODY_WAITING), out)
        else:
            found = await self._store.get(result.conversation) if result.conversation else None
            pseudonym = found.pseudonym if found else "that person"
            self._voice.answer(message, conv, texts.staff(texts.ALREADY_TAKEN, pseudonym=pseudonym), out)

    async def _assign(self, member: StaffMember, target: ConversationId | None) -> Assignment:
        """Take `target`, or the person `member` fits best (peer matching); atomic in Redis either way."""
        if target is not None:
            return await self._store.assign(member.id, member.max_concurrent, target)
        for _attempt in range(3):  # another volunteer may take our pick between reading and assigning
            pick = await self._match(member)
            if pick is None:
                break
            result = await self._store.assign(member.id, member.max_concurrent, pick.conversation)
            if result.outcome != AssignOutcome.TAKEN:
                return result
        return await self._store.assign(member.id, member.max_concurrent)

    async def _match(self, member: StaffMember) -> Candidate | None:
        """Peer matching over the queue's head: usually the first few people settle it (the head fits, or is
        urgent); only when none of them does is the longer list read."""
        now = time.time()
        head = await self._store.candidates(MATCH_FIRST_LOOK)
        if len(head) < MATCH_FIRST_LOOK:
            return pick_for(member, head, now, self._match_wait)
        return first_fit(member, head, now, self._match_wait) or pick_for(
            member, await self._store.candidates(MATCH_LOOK), now, self._match_wait
        )

    async def connect(self, conv: ConversationId, member: StaffMember, out: Outbox) -> None:
        """Open the staff thread for a newly assigned conversation and catch the volunteer up."""
        conversation = await self._store.get(conv)
        if conversation is None:
            return
        header = texts.staff(texts.THREAD_OPENED, pseudonym=conversation.pseudonym, tier=conversation.tier.label)
        header += "\n" + texts.staff(texts.THREAD_ABOUT,
            platform=conversation.platform.value.capitalize(), language=conversation.language or "not given",
            topic=conversation.topic or "not chosen",
        )  # fmt: skip
        language = negotiate_primary(conversation.language)
        if self._screened and language and language not in self._screened:
            header += "\n" + texts.staff(texts.RISK_SCREENING_LIMITED, language=language)
        if self._history is not None:
            await self._history.helped(conv, member.id, time.time())
            if conversation.returning:  # one message with the header: the staff group's sends are few
                earlier = await self._history.earlier(conversation.person, conv)
                header += "\n\n" + summary(earlier, self._retention_days)
                if conversation.asked_for is not None:
                    header += "\n" + texts.staff(texts.RETURNING_ASKED, volunteer=conversation.asked_for)
        has_plan = await self._plans.summary(conversation.person) if self._plans is not None else ""
        if has_plan:
            header += "\n" + has_plan
        # The hand-over opens the volunteer's topic: it goes with the person's own messages (PERSON), ahead of
        # notices, else a busy staff group (Telegram: ~20 sends a minute) keeps a taken person waiting unseen.
        self._voice.in_thread(conversation, header, out, priority=Priority.PERSON)
        kept, notes = await asyncio.gather(self._store.take_pending(conv), self._store.notes(conv))  # one round trip
        self._kept_to_thread(conversation, kept, out)
        for note in notes:
            self._voice.in_thread(
                conversation, texts.staff(texts.HANDOVER_NOTE, note=note), out, priority=Priority.PERSON
            )
        # One tap returns the person to the queue: nobody should stay in a conversation they cannot carry.
        buttons = (Button(texts.staff(texts.BUTTON_HAND_OFF), "release handed off with one tap"), escalate_button())
        out.add(self._voice.platform, Audience.STAFF_THREAD, texts.staff(texts.TAKEN, pseudonym=conversation.pseudonym),
                conversation=conversation.id, pseudonym=conversation.pseudonym, priority=Priority.PERSON,
                buttons=buttons)  # fmt: skip
        self._voice.say_to_person(conversation, texts.CONNECTED, out=out)
        taken_card = texts.staff(texts.CARD_TAKEN, pseudonym=conversation.pseudonym, volunteer=member.name)
        self._voice.card(conversation, taken_card, out)
        out.then(lambda: self._finish_handover(conversation, [entry for entry, _raw in kept]))
        # the tier the person waited with: the Charts page's waits by tier
        await self._writer.audit("assigned", conversation=conv, volunteer=member.id, tier=conversation.tier.label)
        await self._cases.add(conv, CaseEvent.ASSIGNED, by=member.id)
        log.info("conversation %s assigned to volunteer %s", conv, member.id)

    def _kept_to_thread(self, conversation: Conversation, kept: list[tuple[str, bytes]], out: Outbox) -> None:
        for _entry, raw in kept:
            try:
                earlier = decode_inbound(raw)
            except MalformedEntry:
                log.error("conversation %s: a kept message could not be decoded", conversation.id)
                continue
            self._voice.in_thread(conversation, earlier.text, out, earlier, priority=Priority.PERSON)

    async def _finish_handover(self, conversation: Conversation, sent: list[str]) -> None:
        """After the kept messages are emitted: send what the person wrote meanwhile (it was kept too, so it
        stays behind them), until nothing is left and their messages are relayed directly again."""
        while late := await self._store.finish_pending(conversation.id, sent):
            more = Outbox(f"handover:{late[0][0]}")  # named after its first message: a retry emits it once
            self._kept_to_thread(conversation, late, more)
            await self._writer.emit_all(more.messages)
            sent = [entry for entry, _raw in late]

    async def assign_to(self, volunteer: VolunteerId, conv: ConversationId, out: Outbox) -> bool:
        """Hand `conv` to `volunteer` (a returning person asked for them and they have room); atomic, so False
        when someone else took the person or the volunteer filled up meanwhile."""
        member = (await self._roster.current()).by_id(volunteer)
        if member is None:
            return False
        result = await self._store.assign(member.id, member.max_concurrent, conv)
        if result.outcome != AssignOutcome.OK or result.conversation is None:
            return False
        await self.connect(result.conversation, member, out)
        return True

    async def assign_if_automatic(self, out: Outbox, without: VolunteerId | None = None) -> None:
        """When assignment is automatic (nothing otherwise): push the most urgent waiting person to the on-duty
        volunteer with the most free capacity (on shift, not resting, not practising; `without`: who just handed
        someone back). Who that is is one question to Redis however many volunteers are on duty; the assignment
        is atomic, so one who filled up meanwhile is asked about again, never overfilled."""
        if not self._automatic:
            return
        shift = await self._duty.on_shift_now() if self._duty else None
        roster = await self._roster.current()
        capacities = {m.id: m.max_concurrent for m in roster.members}
        # A "full" answer means that volunteer filled up since they were named (a burst of arrivals asks at
        # once): ask again. Each such answer is a volunteer who is now full, so this ends; the bound covers
        # volunteers who free up and fill again meanwhile.
        for _attempt in range(len(capacities) + 3):
            volunteer = await self._availability.most_free(capacities, DEFAULT_MAX_CONCURRENT, shift, without)
            if volunteer is None:
                return
            member = roster.by_id(volunteer) or StaffMember(id=volunteer, name=volunteer)
            result = await self._assign(member, None)  # the person who fits them best (peer matching)
            if result.outcome == AssignOutcome.OK and result.conversation is not None:
                await self.connect(result.conversation, member, out)
                return
            if result.outcome == AssignOutcome.EMPTY:
                return

    async def release(
        self, note: str, member: StaffMember, message: InboundMessage, conversation: Conversation, out: Outbox
    ) -> None:
        """/release (and the Hand off button): the person goes back to the queue, with `note` for whoever is next."""
        holder = conversation.volunteer or member.id
        if await self._store.release(conversation.id, holder) != "ok":
            self._voice.in_thread(conversation, "This conversation could not be released; nothing was changed.", out)
            return
        if note:
            await self._store.add_note(conversation.id, note)
            await self._cases.add(conversation.id, CaseEvent.NOTE, by=member.id, words=note)
        released = texts.staff(texts.RELEASED_NOTE, volunteer=member.name, note=note or "(none)")
        self._voice.in_thread(conversation, released, out)
        if message.origin == Origin.PRIVATE:  # no longer theirs, so the topic's copy no longer reaches them
            notice = texts.DESK_NOTICE.format(pseudonym=conversation.pseudonym, text=released)
            self._voice.answer(message, conversation.id, notice, out)
        await self._back_in_queue(conversation, holder, member.id, out)

    async def release_for_silence(self, conversation: Conversation, minutes: int, out: Outbox) -> None:
        """Nobody answered the person for `minutes`: they go back to the front of the queue, with a note."""
        if conversation.volunteer is None or await self._store.release(conversation.id, conversation.volunteer) != "ok":
            return
        silence_note = texts.staff(texts.SILENCE_NOTE, minutes=minutes)
        await self._store.add_note(conversation.id, silence_note)
        await self._cases.add(conversation.id, CaseEvent.NOTE, by="silence", words=silence_note)
        released = texts.staff(texts.SILENCE_RELEASED, minutes=minutes)
        self._voice.in_thread(conversation, released, out, priority=Priority.PERSON)
        await self._back_in_queue(conversation, conversation.volunteer, "silence", out)

    async def _back_in_queue(self, conversation: Conversation, holder: VolunteerId, by: str, out: Outbox) -> None:
        """The person is told, their card can be taken again, and (when automatic) someone other than `holder`,
        who just handed them back, is given the next person."""
        self._voice.say_to_person(conversation, texts.VOLUNTEER_LEFT, out=out)
        waiting = await self._store.get(conversation.id)
        if waiting is not None:
            self.queue_card(waiting, out)
        await self._writer.audit("released", conversation=conversation.id, by=by)
        await self._cases.add(conversation.id, CaseEvent.RELEASED, by=by)
        await self.assign_if_automatic(out, without=holder)

    async def transfer(self, reference: str, message: InboundMessage, conversation: Conversation, out: Outbox) -> None:
        """/transfer <volunteer>: the conversation goes straight to another volunteer (if they have room)."""
        if not reference:
            text = texts.staff(texts.NEEDS_ARGUMENT, command="transfer", what="a volunteer", example="ana")
            self._voice.answer(message, conversation.id, text, out)
            return
        roster = await self._roster.current()
        target = roster.resolve(reference)
        if target is None or conversation.volunteer is None:
            self._voice.answer(message, conversation.id, texts.staff(texts.UNKNOWN_VOLUNTEER, name=reference[:40]), out)
            return
        result = await self._store.transfer(conversation.id, conversation.volunteer, target.id, target.max_concurrent)
        if result == "full":
            self._voice.answer(message, conversation.id, texts.staff(texts.TRANSFER_FULL, name=target.name), out)
            return
        source = roster.by_id(conversation.volunteer)
        text = texts.staff(
            texts.TRANSFERRED_NOTE, source=source.name if source else conversation.volunteer, target=target.name
        )
        self._voice.in_thread(conversation, text, out)
        if message.origin == Origin.PRIVATE:  # now the new holder's: the topic's copy goes to them
            notice = texts.DESK_NOTICE.format(pseudonym=conversation.pseudonym, text=text)
            self._voice.answer(message, conversation.id, notice, out)
        await self._writer.audit("transferred", conversation=conversation.id, to=target.id)
        await self._cases.add(conversation.id, CaseEvent.TRANSFERRED, by=conversation.volunteer, to=target.id)

    def queue_card(self, conversation: Conversation, out: Outbox) -> None:
        """Create or refresh the queue card of a waiting conversation, with its Take and Escalate buttons."""
        since = dt.datetime.fromtimestamp(conversation.arrival, dt.UTC).strftime("%H:%M UTC")
        text = texts.staff(texts.CARD, pseudonym=conversation.pseudonym, tier=conversation.tier.label, since=since)
        if conversation.returning:
            earlier = staff_count(texts.CONVERSATIONS, conversation.returning)
            text += " · " + texts.staff(texts.CARD_RETURNING, earlier=earlier)
        if conversation.asked_for is not None:
            text += " · " + texts.staff(texts.CARD_ASKED_FOR, volunteer=conversation.asked_for)
        take = Button(texts.staff(texts.BUTTON_TAKE), f"take {conversation.id}")
        self._voice.card(
            conversation,
            text,
            out,
            buttons=(take, Button(texts.staff(texts.BUTTON_ESCALATE), f"escalate high {conversation.id}")),
        )
