"""Building a safety plan with a person, step by step, inside their conversation (issue 25).

The volunteer offers it (`/plan` in the topic or thread), or the person asks for it (`/plan`) while a volunteer
is with them; each question comes with Skip and Stop buttons, and the person's next message is their answer.
Risk comes first: every answer has already been assessed by the router like any message, and one that reads as
high risk is not taken into the plan — the plan pauses and the message goes to the volunteer and up the
escalation chain. Answers are never shown to staff: the topic only learns how far the plan got. At the end the
person receives the whole plan as one message to pin and as a text file; `/myplan` sends both again.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from routing import texts
from routing.i18n import moment, staff_language
from routing.inline_files import inline_ref
from routing.model import (
    Attachment,
    AttachmentKind,
    Audience,
    Button,
    ChatId,
    ConversationState,
    Platform,
    Priority,
    RiskTier,
)
from routing.outbox import Outbox
from routing.safety_plan import MAX_ANSWER, SECTIONS, next_step, question, render
from routing.store.conversations import PLANNING_FIELD, Conversation, ConversationStore
from routing.store.safety_plans import Plan, SafetyPlans
from routing.store.streams import StreamWriter

if TYPE_CHECKING:  # routing.staff imports this module: its voice is only named here
    from routing.staff.voice import StaffVoice

ACTION = "plan"  # a person's plan buttons: "plan start", "plan later", "plan skip", "plan stop"
STEPS = len(SECTIONS)


class PlanFlow:
    """Offers, asks, keeps and gives back a person's safety plan."""

    def __init__(
        self, plans: SafetyPlans, conversations: ConversationStore, writer: StreamWriter, voice: StaffVoice
    ) -> None:
        self._plans = plans
        self._conversations = conversations
        self._voice = voice  # the person's chat and the conversation's topic/thread
        self._writer = writer

    async def offer(self, conversation: Conversation, out: Outbox) -> None:
        """The volunteer's `/plan`: the person is asked whether they want to make one now."""
        lang = conversation.language
        buttons = (Button(texts.say(lang, texts.PLAN_START), f"{ACTION} start"),
                   Button(texts.say(lang, texts.PLAN_NOT_NOW), f"{ACTION} later"))  # fmt: skip
        self._voice.to_person(conversation, texts.say(lang, texts.PLAN_OFFER), out=out, buttons=buttons)
        self._voice.in_thread(conversation, texts.staff(texts.PLAN_OFFERED, pseudonym=conversation.pseudonym), out)

    async def summary(self, person_key: str) -> str:
        """For staff at a hand-over: that a plan exists, how full, when it changed (never its words)."""
        plan = await self._plans.get(person_key)
        if plan is None or not plan.answers:
            return ""
        when = moment(staff_language(), datetime.fromtimestamp(plan.updated_at, UTC), "d MMM yyyy")
        return texts.staff(texts.PLAN_EXISTS, filled=len(plan.answers), steps=STEPS, date=when)

    async def building(self, person_key: str) -> Plan | None:
        """The plan the person is answering a question of right now, if any."""
        plan = await self._plans.get(person_key)
        return plan if plan is not None and plan.step is not None else None

    async def start(self, person_key: str, conversation: Conversation, crisis_lines: str, out: Outbox) -> None:
        """The person's `/plan` or Start: the first question not yet answered (from the top once all were)."""
        if conversation.state != ConversationState.ACTIVE:
            self._voice.to_person(conversation, texts.say(conversation.language, texts.PLAN_NEEDS_VOLUNTEER), out=out)
            return
        plan = await self._plans.get(person_key) or Plan()
        step = next_step(plan.answers, frozenset()) if plan.answers else 0
        plan = dataclasses.replace(plan, step=0 if step is None else step, skipped=frozenset(),
                                   conversation=conversation.id)  # fmt: skip
        await self._ask(person_key, plan, conversation, crisis_lines, out)

    async def answer(
        self, person_key: str, plan: Plan, words: str, tier: RiskTier, conversation: Conversation,
        crisis_lines: str, out: Outbox,
    ) -> bool:  # fmt: skip
        """The person's message while a question is open. Returns whether it was taken as their answer (not to
        be relayed); a high-risk message pauses the plan instead, and the caller relays and escalates it."""
        assert plan.step is not None
        if tier >= RiskTier.HIGH:
            await self._keep(person_key, dataclasses.replace(plan, step=None))
            self._voice.to_person(
                conversation, texts.say(conversation.language, texts.PLAN_PAUSED), out=out, priority=Priority.URGENT
            )
            self._voice.in_thread(
                conversation, texts.staff(texts.PLAN_PAUSED_NOTE, tier=tier.label), out, priority=Priority.URGENT
            )
            await self._writer.audit("safety_plan_paused", conversation=conversation.id)
            return False
        answers = {**plan.answers, SECTIONS[plan.step].key: words.strip()[:MAX_ANSWER]}
        self._voice.in_thread(conversation, texts.staff(texts.PLAN_PROGRESS, step=plan.step + 1, steps=STEPS), out)
        await self._after(person_key, dataclasses.replace(plan, answers=answers), conversation, crisis_lines, out)
        return True

    async def button(
        self, person_key: str, choice: str, conversation: Conversation, crisis_lines: str, out: Outbox
    ) -> None:
        """Start, Not now, Skip this one, Stop for now."""
        lang = conversation.language
        plan = await self._plans.get(person_key)
        if choice == "start":
            await self.start(person_key, conversation, crisis_lines, out)
        elif choice == "later":
            self._voice.to_person(conversation, texts.say(lang, texts.PLAN_DECLINED), out=out)
            self._voice.in_thread(conversation, texts.staff(texts.PLAN_DECLINED_NOTE), out)
        elif plan is None or plan.step is None:
            return  # a button of a question already answered, or of a plan stopped since: nothing to do
        elif choice == "skip":
            self._voice.in_thread(
                conversation, texts.staff(texts.PLAN_SKIPPED_NOTE, step=plan.step + 1, steps=STEPS), out
            )
            skipped = dataclasses.replace(plan, skipped=plan.skipped | {SECTIONS[plan.step].key})
            await self._after(person_key, skipped, conversation, crisis_lines, out)
        elif choice == "stop":
            await self._keep(person_key, dataclasses.replace(plan, step=None))
            self._voice.to_person(conversation, texts.say(lang, texts.PLAN_STOPPED), out=out)
            self._voice.in_thread(
                conversation, texts.staff(texts.PLAN_STOPPED_NOTE, step=plan.step + 1, steps=STEPS), out
            )

    async def send_back(self, person_key: str, platform: Platform, chat: ChatId, lang: str, crisis_lines: str,
                        out: Outbox) -> bool:  # fmt: skip
        """`/myplan`: the plan again, as a message and a file. False when there is none."""
        plan = await self._plans.get(person_key)
        if plan is None or not plan.answers:
            return False
        self._deliver(plan, platform, chat, lang, crisis_lines, out)
        return True

    async def _after(
        self, person_key: str, plan: Plan, conversation: Conversation, crisis_lines: str, out: Outbox
    ) -> None:
        """Ask the next question, or finish."""
        assert plan.step is not None
        step = next_step(plan.answers, plan.skipped, after=plan.step)
        if step is not None:
            await self._ask(person_key, dataclasses.replace(plan, step=step), conversation, crisis_lines, out)
            return
        done = await self._keep(person_key, dataclasses.replace(plan, step=None, skipped=frozenset()))
        lang = conversation.language or "en"
        self._voice.to_person(conversation, texts.say(lang, texts.PLAN_DONE), out=out)
        self._deliver(done, conversation.platform, conversation.chat, lang, crisis_lines, out)
        filled = texts.staff(texts.PLAN_COMPLETE_NOTE, filled=len(done.answers), steps=STEPS)
        self._voice.in_thread(conversation, filled, out)
        await self._writer.audit("safety_plan_completed", conversation=conversation.id, sections=str(len(done.answers)))

    async def _ask(
        self, person_key: str, plan: Plan, conversation: Conversation, crisis_lines: str, out: Outbox
    ) -> None:
        assert plan.step is not None
        await self._keep(person_key, plan)
        lang = conversation.language
        buttons = (Button(texts.say(lang, texts.PLAN_SKIP), f"{ACTION} skip"),
                   Button(texts.say(lang, texts.PLAN_STOP), f"{ACTION} stop"))  # fmt: skip
        self._voice.to_person(conversation, question(lang, plan.step, crisis_lines), out=out, buttons=buttons)

    async def _keep(self, person_key: str, plan: Plan) -> Plan:
        """Store the plan, and mark on its conversation whether a question is open (the router reads that with
        the conversation itself, so a message outside a plan costs no extra round trip)."""
        kept = await self._plans.keep(person_key, plan)
        if plan.conversation is not None:
            await self._conversations.set_field(plan.conversation, PLANNING_FIELD, "" if plan.step is None else "1")
        return kept

    def _deliver(self, plan: Plan, platform: Platform, chat: ChatId, lang: str, crisis_lines: str, out: Outbox) -> None:
        """One message to pin, and the same words as a file (a data URI: the adapter uploads its bytes)."""
        date = moment(lang, datetime.fromtimestamp(plan.updated_at, UTC), "d MMMM yyyy")
        whole = render(lang, plan.answers, crisis_lines, date)
        document = Attachment(
            AttachmentKind.DOCUMENT, inline_ref(whole.encode(), "text/plain;charset=utf-8"),
            filename=f"{texts.say(lang, texts.PLAN_FILE_NAME)}.txt", mime_type="text/plain",
        )  # fmt: skip
        out.add(platform, Audience.SEEKER, whole, chat=chat, priority=Priority.PERSON)
        out.add(platform, Audience.SEEKER, "", chat=chat, attachments=(document,), priority=Priority.PERSON)
