"""The router: platform-agnostic handling of every inbound message.

People are queued, volunteers pull the most urgent person (`next`), and once a volunteer has a conversation
messages relay both ways. Every message from a person is risk-assessed before anything else happens to it.
All state is in Redis (`ConversationStore`), so a restarted router carries on where the last one stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from routing import texts
from routing.codec import MalformedEntry, decode_inbound, encode_inbound
from routing.commands import SeekerCommand, parse_command, seeker_command
from routing.escalation import EscalationDesk
from routing.i18n import LANGUAGES, local_moment, moment, negotiate
from routing.intake import (
    DEFAULT_MATCH_WAIT,
    DEFAULT_TOPICS,
    FEEDBACK_CHOICES,
    country_name,
    language_buttons,
    topic_buttons,
)
from routing.live_roster import LiveRoster
from routing.model import (
    Audience,
    Button,
    ConversationId,
    ConversationState,
    InboundKind,
    InboundMessage,
    Origin,
    OutboundKind,
    Platform,
    Priority,
    Pseudonym,
    RiskTier,
)
from routing.outbox import Outbox
from routing.plan_flow import ACTION as PLAN_ACTION
from routing.plan_flow import PlanFlow
from routing.platform_sweep import delete_thread
from routing.ports import RiskAssessor
from routing.pseudonyms import Pseudonymiser
from routing.resources import Country, CrisisResources
from routing.risk.assessment import Assessment
from routing.staff.assignment import Assignments
from routing.staff.commands import StaffCommands
from routing.staff.ending import Endings
from routing.staff.returning import ASK_ACTION, Returning
from routing.staff.voice import escalate_button
from routing.store.blocks import BlockStore
from routing.store.case_records import CaseEvent, CaseRecords
from routing.store.cipher import TextCipher
from routing.store.conversations import TOPIC_FIELD, Conversation, ConversationStore
from routing.store.duty import DutyRoster
from routing.store.erasure import ErasureReport, PersonEraser
from routing.store.escalations import RECORD_TTL
from routing.store.feedback import FeedbackCounts
from routing.store.streams import StreamWriter
from routing.workspace import PrivateDesk, Workspace

log = logging.getLogger(__name__)

URGENT_ENTRY_PREFIX = "urgent:"

DEFAULT_RESOURCES = CrisisResources(countries={})  # the international text only


@dataclass(frozen=True, slots=True)
class RouterConfig:
    """Router policy knobs (validated by the settings layer)."""

    staff_platform: Platform
    max_text_length: int = 4000
    flood_limit: int = 20  # messages per flood window (see StreamWriter) before non-risk ones are held back
    retention_days: float = 30
    auto_assign: bool = False
    topics: tuple[str, ...] = DEFAULT_TOPICS  # offered at intake; empty: don't ask
    languages: tuple[str, ...] = ("en", "es")  # offered at intake for matching volunteers' languages
    match_wait: float = DEFAULT_MATCH_WAIT  # seconds a person may wait extra for a volunteer who fits
    workspace: Workspace = Workspace.TOPICS  # PRIVATE: volunteers answer in their private chat (Telegram)
    platform_retention_days: float | None = None  # a closed conversation's topic/thread goes then; None: retention
    safeguarding_days: float | None = 2190  # /forget keeps text-free escalation records this long; None: erased
    examples_days: float | None = None  # staff's corrections keep labelled examples this long; None: not kept


@dataclass(frozen=True, slots=True)
class Streams:
    """Where entries come from and go: inbound entries are decrypted with `cipher`; what handling one produces
    is emitted (and audited) by `writer`."""

    cipher: TextCipher
    writer: StreamWriter


@dataclass(frozen=True, slots=True)
class Records:
    """A person's records, each kept in Redis by its store (`routing/store/`), and how a person is known there."""

    conversations: ConversationStore
    pseudonyms: Pseudonymiser
    blocks: BlockStore
    feedback: FeedbackCounts
    cases: CaseRecords  # each conversation's record for a safeguarding review
    eraser: PersonEraser | None = None  # /forget; None: the command cannot run
    plans: PlanFlow | None = None  # /plan and /myplan: the person's safety plan; None: not offered


@dataclass(frozen=True, slots=True)
class Safety:
    """The path every person's message takes first: assessed, and on risk escalated, with crisis resources."""

    detector: RiskAssessor
    escalations: EscalationDesk
    resources: CrisisResources = DEFAULT_RESOURCES


@dataclass(frozen=True, slots=True)
class StaffSide:
    """The staff as the router reaches them (`routing/staff/`)."""

    roster: LiveRoster  # who is staff (their private messages are not a person's); supervisors on duty
    commands: StaffCommands  # everything staff write
    assignments: Assignments  # a waiting person's queue card; automatic assignment when someone arrives
    endings: Endings  # a person who leaves: their volunteer's cool-down, the next person
    duty: DutyRoster | None = None  # opening hours: a person who arrives out of hours is told when
    desk: PrivateDesk | None = None  # staff.workspace = "private": the conversation a private message is for
    returning: Returning | None = None  # a returning person's summary and their asking for the same volunteer


class Router:
    """Handles inbound entries: decides, updates state, and emits outbound messages."""

    def __init__(
        self, config: RouterConfig, streams: Streams, records: Records, safety: Safety, staff: StaffSide
    ) -> None:
        self._config = config
        self._cipher, self._writer = streams.cipher, streams.writer
        self._store, self._pseudonyms = records.conversations, records.pseudonyms
        self._blocks, self._feedback, self._eraser = records.blocks, records.feedback, records.eraser
        self._plans, self._cases = records.plans, records.cases
        self._detector, self._escalations, self._resources = safety.detector, safety.escalations, safety.resources
        self._roster, self._duty, self._desk = staff.roster, staff.duty, staff.desk
        self._returning = staff.returning
        self._commands, self._assignments, self._endings = staff.commands, staff.assignments, staff.endings

    async def handle_urgent_entry(self, entry_id: str, fields: dict[bytes, bytes]) -> None:
        """An entry of the urgent inbound lane. Stream ids are per stream, so the same id can exist in both
        lanes: the prefix keeps its outbound keys, escalation dedupe and kept-message key its own."""
        await self.handle_entry(URGENT_ENTRY_PREFIX + entry_id, fields)

    async def handle_entry(self, entry_id: str, fields: dict[bytes, bytes]) -> None:
        """Stream-worker entry point: decrypt, decode (MalformedEntry → dead letter), handle."""
        payload = fields.get(b"d")
        if payload is None:
            raise MalformedEntry("inbound entry has no payload")
        message = decode_inbound(self._cipher.decrypt(payload))
        await self.handle(message, entry_id, int(fields.get(b"flood", b"1")))

    async def handle(self, message: InboundMessage, entry_id: str, flood_count: int = 1) -> None:
        """Handle one message; all outbound messages are emitted at the end, idempotently."""
        out = Outbox(entry_id)
        if message.sender_is_bot:
            return  # our own echoes and other bots: never relayed (loop prevention)
        roster = await self._roster.current()
        if message.origin == Origin.PRIVATE:
            # With staff.workspace = "private", rostered staff answer their people in their own private chat.
            member = roster.identified(message.platform, message.sender)
            if self._desk is not None and member is not None:
                await self._commands.from_desk(message, await self._desk.target(member, message), out)
            elif member is not None and _answers_a_page(message):  # Acknowledge / Take over on a private alert
                await self._commands.handle(message, out)
            else:
                await self._from_person(message, out, flood_count)
        else:
            await self._commands.handle(message, out)
        await self._writer.emit_all(out.unsent())
        for action in out.after_emit:
            await action()

    async def _from_person(self, message: InboundMessage, out: Outbox, flood_count: int) -> None:
        if message.kind == InboundKind.UNSUPPORTED:
            kind = message.text[:40] or "unknown"
            self._reply(message, out, texts.say(await self._language(message), texts.UNSUPPORTED, kind=kind))
            return
        if message.kind == InboundKind.UNDELIVERABLE:
            await self._person_unreachable(message, out)
            return
        if message.kind == InboundKind.ACTION:
            await self._person_button(message, out)
            return
        if message.kind == InboundKind.EDIT:
            message = dataclasses.replace(message, text=texts.staff(texts.EDITED, text=message.text))
        parsed = parse_command(message.text) if message.kind == InboundKind.MESSAGE else None
        command = seeker_command(parsed) if parsed else None
        if command is not None and not self._risky(parsed.argument if parsed else ""):
            await self._person_command(command, message, out)
            return
        # A command with risk in its words ("/stop I'm going to end it tonight") is a message like any other:
        # assessed, escalated and relayed; the person can give the command again.
        full_text = message.text  # assessed whole: a risk phrase past the trimming limit still counts
        message = await self._trimmed(message, out)
        if not message.text.strip() and not message.attachments:
            self._reply(message, out, texts.say(await self._language(message), texts.EMPTY_MESSAGE))
            return
        person_key = self._pseudonyms.key(message.platform, message.sender)
        if await self._held_by_block(message, person_key, full_text, out):
            return
        pseudonym = self._pseudonyms.alias(message.platform, message.sender)
        found = await self._store.open_record(  # one round trip: open or find, and add to the recent window
            message.platform, message.chat, person_key, pseudonym, message.language, remember=message.text,
            urgent=out.entry_id.startswith(URGENT_ENTRY_PREFIX),
        )  # fmt: skip
        opened, created, context = found.conversation, found.created, found.earlier
        if found.reconnect > opened.tier:
            # They said they felt worse after a hard conversation: they come back at the front of the queue.
            await self._store.raise_tier(opened.id, found.reconnect, opened.arrival)
            await self._cases.add(opened.id, CaseEvent.TIER, by="reconnect", tier=found.reconnect.label,
                                  before=opened.tier.label)  # fmt: skip
            opened = dataclasses.replace(opened, tier=found.reconnect)
        conv_id = opened.id
        assessment = self._detector.assess(full_text, context) if full_text else Assessment(RiskTier.NONE, None)
        if flood_count > self._config.flood_limit and assessment.tier < RiskTier.ELEVATED:
            # Only messages with no risk at all are held back in a flood: elevated ones are relayed and reviewed.
            await self._slow_down(message, person_key, negotiate(opened.language or message.language), out)
            return
        # An answer to an open safety-plan question stays the person's own: the record notes that one came.
        private = opened.planning and assessment.tier < RiskTier.HIGH and not message.attachments
        if private:
            await self._cases.add(conv_id, CaseEvent.PERSON, plan="answer")
        else:
            await self._cases.add(conv_id, CaseEvent.PERSON, words=message.text, attachments=len(message.attachments))
        previous = opened.tier
        if assessment.tier > opened.tier:
            previous = await self._store.raise_tier(conv_id, assessment.tier, opened.arrival)
            if assessment.tier > previous:
                await self._cases.add(conv_id, CaseEvent.TIER, by="detector", tier=assessment.tier.label,
                                      before=previous.label)  # fmt: skip
        conversation = dataclasses.replace(opened, tier=max(opened.tier, assessment.tier))
        high = assessment.tier >= RiskTier.HIGH
        # With a volunteer, a high-risk message goes to them at once, with the alerts, just before the notice
        # that names it (not after the rest of the handling, where it missed the staff group's next send).
        relay_now = high and conversation.state == ConversationState.ACTIVE and not found.handing_over
        if relay_now:
            self._relay_to_staff(conversation, message, out, urgent=True)
        if high:
            await self._escalate(conversation, assessment, message, out, arriving=created)
        elif assessment.tier == RiskTier.ELEVATED and previous < RiskTier.ELEVATED:
            await self._request_review(conversation, assessment, message, out)
        if (
            conversation.planning
            and self._plans is not None
            and await self._plan_answer(person_key, conversation, message, assessment.tier, out)
        ):
            return  # their answer stays in their plan: not relayed, and staff see only how far it got
        if conversation.state == ConversationState.WAITING:
            await self._while_waiting(conversation, message, out, created, assessment.tier > previous, calm=high)
        elif conversation.state == ConversationState.ACTIVE and not relay_now:
            # Just taken, and the messages kept while waiting are still being sent: this one goes after them.
            held = found.handing_over and await self._store.keep_pending(conv_id, out.entry_id, encode_inbound(message))
            if not held:
                self._relay_to_staff(conversation, message, out, urgent=high)

    async def _held_by_block(self, message: InboundMessage, person_key: str, full_text: str, out: Outbox) -> bool:
        """A blocked person's message is still screened: below high risk it stops here (they are reminded,
        kindly, at most twice a day); at high risk it goes on like any other, so help and the professional on
        call are never gated by a block."""
        block = await self._blocks.blocked(person_key)
        if block is None:
            return False
        if full_text and self._detector.assess(full_text).tier >= RiskTier.HIGH:
            await self._writer.audit("blocked_person_at_risk", conversation=block.conversation)
            return False
        if await self._writer.first_notice(f"blocked:{person_key}", ttl=12 * 3600):
            lang = await self._language(message)
            when = moment(lang, datetime.fromtimestamp(block.until, UTC), "d MMM HH:mm")
            self._reply(message, out, texts.say(lang, texts.BLOCKED_REMINDER, until=when))
        await self._writer.audit("blocked_message", conversation=block.conversation)
        return True

    def _risky(self, words: str) -> bool:
        """Whether a command's words read as elevated risk or more (on their own)."""
        return bool(words.strip()) and self._detector.assess(words).tier >= RiskTier.ELEVATED

    async def _person_command(self, command: SeekerCommand, message: InboundMessage, out: Outbox) -> None:
        retention = int(self._config.retention_days)
        lang = await self._language(message)
        if command in (SeekerCommand.START, SeekerCommand.HELP):
            self._reply(message, out, texts.say(lang, texts.WELCOME, retention=retention))
        elif command == SeekerCommand.PRIVACY:
            self._reply(message, out, self._privacy(lang))
        elif command == SeekerCommand.LANGUAGE:
            parsed = parse_command(message.text)
            wanted = parsed.argument.strip().casefold() if parsed else ""
            if wanted in LANGUAGES:
                await self._choose_language(message, wanted, out)
            else:
                out.add(message.platform, Audience.SEEKER, texts.say(lang, texts.LANGUAGE_CHOOSE), chat=message.chat,
                        buttons=language_buttons(LANGUAGES), priority=Priority.PERSON)  # fmt: skip
        elif command == SeekerCommand.STOP:
            await self._person_stops(message, out)
        elif command in (SeekerCommand.PLAN, SeekerCommand.MYPLAN):
            await self._plan_command(command, message, lang, out)
        elif command == SeekerCommand.FORGET:
            await self._forget(message, out)

    def _privacy(self, lang: str) -> str:
        """What is kept where and for how long, with this deployment's numbers (docs/privacy.md)."""
        config = self._config
        kept = config.safeguarding_days
        after = (
            texts.say(lang, texts.PRIVACY_FORGET_KEEPS, days=texts.days(kept))
            if kept is not None
            else texts.say(lang, texts.PRIVACY_FORGET_ALL)
        )
        kept_where = texts.say(
            lang, texts.PRIVACY, retention=texts.days(config.retention_days),
            platform_days=texts.days(config.platform_retention_days or config.retention_days),
            alert_days=texts.days(RECORD_TTL / 86400), after_forget=after,
        )  # fmt: skip
        continuity = texts.say(lang, texts.PRIVACY_CONTINUITY, retention=texts.days(config.retention_days))
        if config.examples_days is not None:  # the organisation keeps labelled risk examples: the person is told
            continuity += "\n\n" + texts.say(lang, texts.PRIVACY_EXAMPLES, days=texts.days(config.examples_days))
        return f"{kept_where}\n\n{continuity}"

    async def _forget(self, message: InboundMessage, out: Outbox) -> None:
        """GDPR erasure after an explicit confirmation; the person is told what was deleted and what stays. The
        conversation's staff topics/threads are deleted on their platforms at once; staff learn of it in the
        lobby (the topic itself is going), by pseudonym only."""
        parsed = parse_command(message.text)
        if parsed is None or parsed.argument.strip().casefold() not in _YES:
            self._reply(message, out, texts.say(await self._language(message), texts.FORGET_CONFIRM))
            return
        person_key, conversation = await self._open_conversation(message)
        if conversation is not None:
            await self._store.close(conversation.id)
        if self._eraser is None:
            raise RuntimeError("router built without an eraser: /forget cannot run")
        lang = await self._language(message)  # read before it is erased: the answer is the last thing in it
        report = await self._eraser.erase(message.platform, message.sender, message.chat, person_key)
        alias = conversation.pseudonym if conversation else self._pseudonyms.alias(message.platform, message.sender)
        self._staff_learn_of_forgetting(conversation, alias, report, out)
        self._reply(message, out, self._forgotten(lang, report))
        await self._writer.audit("forgotten", conversations=str(report.conversations))
        log.info("a person's data was erased on request (%d conversations)", report.conversations)

    def _staff_learn_of_forgetting(
        self, conversation: Conversation | None, alias: Pseudonym, report: ErasureReport, out: Outbox
    ) -> None:
        staff = self._config.staff_platform
        if conversation is not None and conversation.state == ConversationState.WAITING:
            out.add(staff, Audience.STAFF_QUEUE, texts.staff(texts.CARD_CLOSED, pseudonym=conversation.pseudonym),
                    kind=OutboundKind.UPSERT_CARD, conversation=conversation.id, pseudonym=conversation.pseudonym,
                    priority=Priority.BACKGROUND)  # fmt: skip
        if conversation is not None or report.staff_spaces:
            out.add(staff, Audience.STAFF_LOBBY, texts.staff(texts.FORGET_STAFF_NOTE, pseudonym=alias))
        for platform, thread in report.staff_spaces:
            delete_thread(out, platform, thread)

    def _forgotten(self, lang: str, report: ErasureReport) -> str:
        """The answer to /forget yes: what went, and what stays (the safeguarding records, when kept)."""
        n = report.escalations
        if not n:
            safety = ""
        elif report.kept_escalations:
            kept = texts.days(self._config.safeguarding_days or 0)
            safety = texts.count(lang, texts.SAFETY_RECORDS_KEPT, n, days=kept)
        else:
            safety = texts.count(lang, texts.SAFETY_RECORDS, n)
        return texts.say(
            lang, texts.FORGOTTEN, conversations=texts.count(lang, texts.CONVERSATIONS, report.conversations),
            messages=texts.count(lang, texts.STORED_MESSAGES, report.stored_messages), escalations=safety,
        )  # fmt: skip

    async def _person_stops(self, message: InboundMessage, out: Outbox) -> None:
        _person_key, conversation = await self._open_conversation(message)
        if conversation is None or not await self._store.close(conversation.id):
            self._reply(message, out, texts.say(await self._language(message), texts.NOTHING_TO_STOP))
            return
        staff = self._config.staff_platform
        lang = negotiate(conversation.language or message.language)
        if conversation.state == ConversationState.WAITING:
            self._reply(message, out, texts.say(lang, texts.LEFT_QUEUE))
            out.add(
                staff,
                Audience.STAFF_QUEUE,
                texts.staff(texts.CARD_CLOSED, pseudonym=conversation.pseudonym),
                kind=OutboundKind.UPSERT_CARD,
                conversation=conversation.id,
                pseudonym=conversation.pseudonym,
                priority=Priority.BACKGROUND,
            )
        else:
            self._reply(message, out, texts.say(lang, texts.ENDED_BY_PERSON))
            note = texts.staff(texts.CLOSED_NOTE, who=conversation.pseudonym)
            out.add(staff, Audience.STAFF_THREAD, note, conversation=conversation.id, pseudonym=conversation.pseudonym)
            out.add(
                staff,
                Audience.STAFF_THREAD,
                kind=OutboundKind.CLOSE_THREAD,
                conversation=conversation.id,
                pseudonym=conversation.pseudonym,
            )
            await self._endings.after_ending(conversation, out)
        await self._writer.audit("closed", conversation=conversation.id, by="person")
        await self._cases.add(conversation.id, CaseEvent.CLOSED, by="person")

    async def _person_button(self, message: InboundMessage, out: Outbox) -> None:
        """A person's button: a topic at intake (skippable) or the anonymous feedback at the end."""
        name, _, value = message.text.strip().partition(" ")
        value, _, about = value.partition(" ")
        lang = await self._language(message)
        if name == "feedback" and value in {choice for _label, choice in FEEDBACK_CHOICES}:
            # "feedback worse c-12 care": the conversation, and whether a Worse is acted on (after high risk).
            # Buttons sent before conversations were named carry no mark; then a conversation meant care.
            conv_word, _, mark = about.partition(" ")
            conv = ConversationId(conv_word) if conv_word.startswith("c-") else None
            if conv is None or await self._first_answer(message, conv):
                await self._feedback.count(value)  # counted anonymously, once per conversation
            if value == "worse" and conv is not None and mark in ("care", ""):
                await self._feeling_worse(message, conv, lang, out)
            else:
                self._reply(message, out, texts.say(lang, texts.FEEDBACK_THANKS))
        elif name == "lang" and (value in LANGUAGES or value in self._config.languages):
            await self._choose_language(message, value, out)
        elif name == "country":
            await self._choose_country(message, value, lang, out)
        elif name == PLAN_ACTION and self._plans is not None:
            await self._plan_button(message, value, lang, out)
        elif name == ASK_ACTION and self._returning is not None:
            await self._ask_for_same(message, lang, out)
        elif name == "topic":
            conv = await self._store.open_conversation_of(self._pseudonyms.key(message.platform, message.sender))
            if conv is None:
                return
            if value in self._config.topics:
                await self._store.set_field(conv, TOPIC_FIELD, value)
                self._reply(message, out, texts.say(lang, texts.TOPIC_NOTED, topic=value))
            else:
                self._reply(message, out, texts.say(lang, texts.TOPIC_SKIPPED))

    async def _ask_for_same(self, message: InboundMessage, lang: str, out: Outbox) -> None:
        """A returning person asks for the volunteer they had last time: asked for while that one is on duty,
        and handed to them at once when assignment is automatic and they have room."""
        assert self._returning is not None
        _person_key, conversation = await self._open_conversation(message)
        if conversation is None:
            return
        answer, asked = await self._returning.ask(conversation)
        self._reply(message, out, texts.say(lang, answer))
        if asked is None or asked.asked_for is None:
            return
        wanted = asked.asked_for
        automatic = self._config.auto_assign and await self._returning.has_room(wanted)
        if automatic and await self._assignments.assign_to(wanted, asked.id, out):
            return
        self._assignments.queue_card(asked, out)  # the card says whom they asked for

    async def _plan_command(self, command: SeekerCommand, message: InboundMessage, lang: str, out: Outbox) -> None:
        """/plan: build (or go on with) a safety plan with their volunteer; /myplan: the plan again."""
        if self._plans is None:
            self._reply(message, out, texts.say(lang, texts.PLAN_NONE))
            return
        person_key, conversation = await self._open_conversation(message)
        lines = await self._crisis_lines(message, conversation, lang)
        if command == SeekerCommand.MYPLAN:
            if not await self._plans.send_back(person_key, message.platform, message.chat, lang, lines, out):
                self._reply(message, out, texts.say(lang, texts.PLAN_NONE))
        elif conversation is None or conversation.state != ConversationState.ACTIVE:
            self._reply(message, out, texts.say(lang, texts.PLAN_NEEDS_VOLUNTEER))
        else:
            await self._plans.start(person_key, dataclasses.replace(conversation, language=lang), lines, out)

    async def _plan_button(self, message: InboundMessage, choice: str, lang: str, out: Outbox) -> None:
        assert self._plans is not None
        person_key, conversation = await self._open_conversation(message)
        if conversation is None:
            self._reply(message, out, texts.say(lang, texts.PLAN_NEEDS_VOLUNTEER))
            return
        lines = await self._crisis_lines(message, conversation, lang)
        await self._plans.button(person_key, choice, dataclasses.replace(conversation, language=lang), lines, out)

    async def _crisis_lines(self, message: InboundMessage, conversation: Conversation | None, lang: str) -> str:
        """The person's crisis lines for their plan (their country's, else the international text)."""
        return self._resources.text(lang, await self._country(message, conversation))

    async def _plan_answer(
        self, person_key: str, conversation: Conversation, message: InboundMessage, tier: RiskTier, out: Outbox
    ) -> bool:
        """A message while a plan question is open: their answer (True), unless it is high risk (the plan pauses
        and the message goes on like any other) or carries files (relayed: a plan holds words)."""
        assert self._plans is not None
        plan = await self._plans.building(person_key)
        if plan is None or plan.conversation != conversation.id or message.attachments:
            return False
        lang = await self._language(message)
        lines = await self._crisis_lines(message, conversation, lang)
        speaking = dataclasses.replace(conversation, language=lang)
        return await self._plans.answer(person_key, plan, message.text, tier, speaking, lines, out)

    async def _first_answer(self, message: InboundMessage, conv: ConversationId) -> bool:
        """Whether this is the person's first feedback answer for their conversation `conv` (one gone with
        retention counts; a button naming someone else's conversation was not ours to send, and does not)."""
        owner = await self._store.person_of(conv)
        if owner is not None and owner != self._pseudonyms.key(message.platform, message.sender):
            return False
        return await self._store.first_feedback(conv)

    async def _choose_language(self, message: InboundMessage, lang: str, out: Outbox) -> None:
        """The person picked a language: kept for this and later conversations (pseudonymously, within
        retention), volunteers who speak it are preferred, and from now on they are written to in it when we
        have its catalogue."""
        person_key = self._pseudonyms.key(message.platform, message.sender)
        await self._store.choose_language(person_key, lang, await self._store.open_conversation_of(person_key))
        said = texts.LANGUAGE_SET if lang in LANGUAGES else texts.LANGUAGE_NOTED
        self._reply(message, out, texts.say(lang, said))

    async def _open_conversation(self, message: InboundMessage) -> tuple[str, Conversation | None]:
        """The sender's pseudonymous key and their open conversation (waiting or active), if any."""
        person_key = self._pseudonyms.key(message.platform, message.sender)
        conv_id = await self._store.open_conversation_of(person_key)
        return person_key, await self._store.get(conv_id) if conv_id else None

    async def _language(self, message: InboundMessage) -> str:
        """The language to write to a person in: the one they chose, else the one their app reports."""
        chosen = await self._store.person_language(self._pseudonyms.key(message.platform, message.sender))
        return negotiate(chosen or message.language)

    async def _feeling_worse(self, message: InboundMessage, conv: ConversationId, lang: str, out: Outbox) -> None:
        """After a conversation that reached high risk, "Worse" is a reason to reach out again: the person is
        offered someone at once (the front of the queue for an hour) and the on-call professional is told."""
        person_key = self._pseudonyms.key(message.platform, message.sender)
        ended = await self._store.get(conv)
        if ended is None or await self._store.person_of(conv) != person_key:
            self._reply(message, out, texts.say(lang, texts.FEEDBACK_THANKS))  # not theirs (or gone): as usual
            return
        await self._store.offer_reconnect(person_key, ended.tier)
        self._reply(message, out, texts.say(lang, texts.WORSE_OFFER), priority=Priority.URGENT)
        alert = texts.staff(texts.WORSE_ALERT, conversation=conv, tier=ended.tier.label, pseudonym=ended.pseudonym)
        out.add(self._config.staff_platform, Audience.ESCALATION, alert, priority=Priority.URGENT)
        await self._writer.audit("feeling_worse", conversation=conv)

    async def _person_unreachable(self, message: InboundMessage, out: Outbox) -> None:
        """The platform refused delivery for good: end the conversation and tell the volunteer why."""
        # Delivery reports name the conversation in `text`; a platform-side report names only the person.
        if message.text.startswith("c-"):
            conv_id: ConversationId | None = ConversationId(message.text)
        else:
            conv_id = await self._store.open_conversation_of(self._pseudonyms.key(message.platform, message.sender))
        conversation = await self._store.get(conv_id) if conv_id else None
        if conversation is None or not await self._store.close(conversation.id):
            return
        staff = self._config.staff_platform
        note = texts.staff(texts.UNREACHABLE_NOTE, pseudonym=conversation.pseudonym)
        audience = Audience.STAFF_THREAD if conversation.state == ConversationState.ACTIVE else Audience.STAFF_QUEUE
        kind = OutboundKind.SEND if audience == Audience.STAFF_THREAD else OutboundKind.UPSERT_CARD
        out.add(staff, audience, note, kind=kind, conversation=conversation.id, pseudonym=conversation.pseudonym)
        if conversation.state == ConversationState.ACTIVE:
            await self._endings.after_ending(conversation, out)
        await self._writer.audit("closed", conversation=conversation.id, by="unreachable")
        await self._cases.add(conversation.id, CaseEvent.CLOSED, by="unreachable")

    async def _trimmed(self, message: InboundMessage, out: Outbox) -> InboundMessage:
        limit = self._config.max_text_length
        if len(message.text) <= limit:
            return message
        self._reply(message, out, texts.say(await self._language(message), texts.TRIMMED, limit=limit))
        return dataclasses.replace(message, text=message.text[:limit])

    async def _slow_down(self, message: InboundMessage, person_key: str, lang: str, out: Outbox) -> None:
        if await self._writer.first_notice(f"flood:{person_key}", ttl=30):
            self._reply(message, out, texts.say(lang, texts.SLOW_DOWN))
        log.info("flood limit: a message was held back (entry %s)", out.entry_id)

    async def _while_waiting(
        self,
        conversation: Conversation,
        message: InboundMessage,
        out: Outbox,
        created: bool,
        tier_rose: bool,
        *,
        calm: bool = False,
    ) -> None:
        if not await self._store.keep_pending(conversation.id, out.entry_id, encode_inbound(message)):
            # Taken since it was opened, and what was kept is already with the volunteer: relay it now.
            current = await self._store.get(conversation.id)
            if current is not None and current.state == ConversationState.ACTIVE:
                self._relay_to_staff(current, message, out)
            if created:
                # Another arrival's assignment took this person: this arrival's turn goes to whoever waits.
                await self._assignments.assign_if_automatic(out)
            return
        offer = False
        if created and self._returning is not None:
            conversation, offer = await self._returning.arrived(conversation)
        if created:
            await self._acknowledge_arrival(conversation, message, out, calm=calm, offer_same=offer)
        if created or tier_rose:
            self._assignments.queue_card(conversation, out)
        if created:
            await self._assignments.assign_if_automatic(out)

    async def _acknowledge_arrival(
        self,
        conversation: Conversation,
        message: InboundMessage,
        out: Outbox,
        *,
        calm: bool = False,
        offer_same: bool = False,
    ) -> None:
        """Tell a new person where they stand (queue place, or out of hours), offering the intake topics.
        `calm`: their first words were high risk and they already have one calm message (resources, someone
        is coming): no second emergency list, no queue number, no topic picker, no asking for a volunteer.
        `offer_same`: they are back, and may ask for the volunteer they had last time."""
        lang = negotiate(conversation.language or message.language)
        chosen = await self._store.person_country(self._pseudonyms.key(message.platform, message.sender))
        if calm:
            await self._writer.audit("queued", conversation=conversation.id)
            self._ask_country(message, conversation, chosen, lang, out)
            return
        closed = await self._duty.out_of_hours() if self._duty else None
        if closed is not None:
            country = self._resources.country_of(chosen, message.language or conversation.language)
            zone = country.zone if country else None
            opens = closed.next_open
            when = texts.say(lang, texts.OUT_OF_HOURS_NEXT, when=_when(lang, opens, zone)) if opens else ""
            text = texts.say(lang, texts.OUT_OF_HOURS, next_open=when)
            await self._writer.audit("queued_out_of_hours", conversation=conversation.id)
        else:
            position = await self._store.position(conversation.id) or 1
            text = texts.say(lang, texts.QUEUED, position=position)
            await self._writer.audit("queued", conversation=conversation.id)
            log.info("conversation %s queued at position %d", conversation.id, position)
        topics, offered = self._config.topics, self._config.languages
        unknown = not (conversation.language or message.language)  # e.g. a Discord message: no language sent
        if unknown:  # ask, with a button for each language we write in (and each the volunteers speak)
            offered = tuple(dict.fromkeys((*LANGUAGES, *offered)))
        buttons = topic_buttons(topics, offered, lang) if topics else language_buttons(offered) if unknown else ()
        if topics:
            text = f"{text}\n\n{texts.say(lang, texts.TOPIC_QUESTION)}"
        if unknown:
            text = f"{text}\n\n{texts.say(lang, texts.LANGUAGE_CHOOSE)}"
        if offer_same and self._returning is not None:
            buttons = (self._returning.offer(lang), *buttons)
        out.add(message.platform, Audience.SEEKER, text, chat=message.chat, conversation=conversation.id,
                buttons=buttons, priority=Priority.PERSON)  # fmt: skip
        self._ask_country(message, conversation, chosen, lang, out)

    async def _country(self, message: InboundMessage, conversation: Conversation | None) -> Country | None:
        """The person's country: the one they chose at intake, else their language tag's region ("es-MX")."""
        chosen = await self._store.person_country(self._pseudonyms.key(message.platform, message.sender))
        return self._resources.country_of(chosen, message.language or (conversation.language if conversation else None))

    def _ask_country(
        self, message: InboundMessage, conversation: Conversation, chosen: str | None, lang: str, out: Outbox
    ) -> None:
        """Once (skippable): which country they are in, so crisis lines and times can be theirs. Not asked when
        they answered or skipped before (`chosen` is not None), when their app told us (a region in the
        language tag), nor when we have no country file for their language."""
        if chosen is not None:
            return
        if self._resources.country_of(None, message.language or conversation.language) is not None:
            return
        codes = sorted(self._resources.codes_for(lang), key=lambda code: _sort_key(country_name(code, lang)))
        if not codes:
            return
        buttons = (
            *(Button(country_name(code, lang), f"country {code}") for code in codes),
            Button(texts.say(lang, texts.COUNTRY_OTHER), "country -"),
        )
        out.add(message.platform, Audience.SEEKER, texts.say(lang, texts.COUNTRY_QUESTION), chat=message.chat,
                conversation=conversation.id, buttons=buttons, priority=Priority.BACKGROUND)  # fmt: skip

    async def _choose_country(self, message: InboundMessage, code: str, lang: str, out: Outbox) -> None:
        """Their answer to the country question; during a risk episode, that country's lines follow at once."""
        person_key = self._pseudonyms.key(message.platform, message.sender)
        country = self._resources.countries.get(code)
        await self._store.choose_country(person_key, country.code if country else "")
        if country is None:
            self._reply(message, out, texts.say(lang, texts.COUNTRY_SKIPPED))
            return
        self._reply(message, out, texts.say(lang, texts.COUNTRY_NOTED, country=country_name(country.code, lang)))
        conv_id = await self._store.open_conversation_of(person_key)
        conversation = await self._store.get(conv_id) if conv_id else None
        if conversation is not None and conversation.tier >= RiskTier.ELEVATED:
            self._reply(message, out, self._resources.text(lang, country), priority=Priority.URGENT,
                        conversation=conversation.id)  # fmt: skip

    def _relay_to_staff(
        self, conversation: Conversation, message: InboundMessage, out: Outbox, *, urgent: bool = False
    ) -> None:
        """Carry the person's message into the volunteer's topic/thread; a high-risk one goes ahead of every
        ordinary relay and queue card waiting for the staff group's turn (Telegram: ~20 sends a minute)."""
        out.add(
            self._config.staff_platform,
            Audience.STAFF_THREAD,
            message.text,
            conversation=conversation.id,
            pseudonym=conversation.pseudonym,
            attachments=message.attachments,
            source_platform=message.platform,
            priority=Priority.URGENT if urgent else Priority.PERSON,
        )

    async def _escalate(
        self,
        conversation: Conversation,
        assessment: Assessment,
        message: InboundMessage,
        out: Outbox,
        *,
        arriving: bool = False,
    ) -> None:
        """One escalation per episode: the first risky message raises it (crisis resources to the person, the
        chain starts, supervisors are told); further ones update it, and the person gets the resources again
        only when the tier rises or after a while."""
        if await self._escalations.resources_due(conversation.id, assessment.tier, out.entry_id):
            lang = negotiate(conversation.language or message.language)
            resources = self._resources.text(lang, await self._country(message, conversation))
            if arriving:  # their first words: one calm message, not a welcome and a second list after it
                resources = f"{texts.say(lang, texts.URGENT_ARRIVAL)}\n\n{resources}"
            self._reply(message, out, resources, priority=Priority.URGENT, conversation=conversation.id)
        episode = await self._escalations.episode(conversation.id, out.entry_id)
        if episode is not None:
            await self._escalations.update(episode, conversation, assessment, out, text=message.text)
        else:
            await self._escalations.raise_(conversation, assessment, out, text=message.text)
            supervisors = await self._roster.supervisors_on_duty()
            who = texts.staff(texts.SUPERVISORS_NAMED, names=", ".join(supervisors)) if supervisors else ""
            notice = texts.staff(
                texts.SUPERVISOR_NOTICE,
                conversation=conversation.id,
                pseudonym=conversation.pseudonym,
                tier=assessment.tier.label,
                who=who,
            )
            out.add(self._config.staff_platform, Audience.STAFF_LOBBY, notice, priority=Priority.STAFF)
        if conversation.state == ConversationState.ACTIVE:
            alert = texts.staff(
                texts.VOLUNTEER_RISK_ALERT,
                tier=assessment.tier.label,
                category=assessment.category or texts.staff(texts.UNSPECIFIED),
            )
            raise_more = (
                (Button(texts.staff(texts.BUTTON_RAISE_IMMINENT), "escalate imminent"),)
                if assessment.tier < RiskTier.IMMINENT
                else ()
            )
            out.add(self._config.staff_platform, Audience.STAFF_THREAD, alert, conversation=conversation.id,
                    pseudonym=conversation.pseudonym, buttons=raise_more, priority=Priority.URGENT)  # fmt: skip
        # The crisis resources and the alerts leave now, not after the rest of this message's handling (a new
        # person's queue place, kept messages): each of its round trips is a turn of a loop that may be busy.
        await self._writer.emit_all(out.unsent())

    async def _request_review(
        self, conversation: Conversation, assessment: Assessment, message: InboundMessage, out: Outbox
    ) -> None:
        """`elevated`: a professional reviews within a deadline; the volunteer is prompted to ask directly; and
        the person, who may be alone in a queue, is told once, calmly, where help is at any hour (docs/risk.md:
        a wish to be dead or thoughts of suicide without a plan, C-SSRS 1-2, get the crisis line, not an alarm)."""
        if await self._escalations.resources_due(conversation.id, assessment.tier, out.entry_id):
            lang = negotiate(conversation.language or message.language)
            resources = self._resources.text(lang, await self._country(message, conversation))
            support = texts.say(lang, texts.ELEVATED_SUPPORT)
            self._reply(message, out, f"{support}\n\n{resources}", conversation=conversation.id)
        await self._escalations.raise_(conversation, assessment, out, review=True)
        if conversation.state == ConversationState.ACTIVE:
            prompt = texts.staff(texts.VOLUNTEER_REVIEW_PROMPT, pseudonym=conversation.pseudonym)
            out.add(self._config.staff_platform, Audience.STAFF_THREAD, prompt, conversation=conversation.id,
                    pseudonym=conversation.pseudonym, buttons=(escalate_button(),),
                    priority=Priority.URGENT)  # fmt: skip

    def _reply(
        self,
        message: InboundMessage,
        out: Outbox,
        text: str,
        priority: Priority = Priority.PERSON,
        conversation: ConversationId | None = None,
    ) -> None:
        out.add(
            message.platform, Audience.SEEKER, text, chat=message.chat, conversation=conversation, priority=priority
        )


def _answers_a_page(message: InboundMessage) -> bool:
    """A staff member's button press or /ack, /takeover on an alert sent to their private chat."""
    parsed = parse_command(message.text) if message.kind == InboundKind.MESSAGE else None
    name = parsed.name if parsed else message.text.strip().partition(" ")[0]
    return (message.kind == InboundKind.ACTION or parsed is not None) and name in _PAGE_ANSWERS


_PAGE_ANSWERS = frozenset({"ack", "takeover", "falsealarm"})
_YES = frozenset({"yes", "sí", "si", "sim", "oui"})  # /forget yes, in every language a person may be told it in


def _sort_key(name: str) -> str:
    """Alphabetical as people read it: "México" between "Estados Unidos" and "Perú"."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


def _when(lang: str, at: datetime, zone: str | None) -> str:
    """A time a person can read: in their country's time zone, named ("lundi 09:00 (heure normale d'Europe
    centrale)"); in UTC, named, when we do not know where they are."""
    return local_moment(lang, at, zone) if zone else f"{moment(lang, at)} UTC"
