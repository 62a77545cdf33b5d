"""What staff's corrections teach the risk detector (issue 20, part 4; docs/risk.md section 4).

An escalation by hand above the detector's tier is a miss, an alert an overseer marks as a false alarm is a
false alarm. Each is always counted by category, never with words (`routing/store/risk_labels.py`). When the
organisation opts in (`risk.keep_examples`), each also keeps a labelled example: the person's message it is
about, with the messages before it, read from the conversation's case record, encrypted and expiring
(`routing/store/risk_examples.py`). The audit stream learns only that an example was kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.model import ConversationId, RiskCategory, RiskTier
from routing.store.case_records import CaseEntry, CaseEvent, CaseRecords
from routing.store.conversations import RECENT_WINDOW, Conversation, ConversationStore
from routing.store.escalations import Escalation
from routing.store.risk_examples import RiskExample, RiskExamples, today
from routing.store.risk_labels import RiskLabels
from routing.store.streams import StreamWriter

CONTEXT = RECENT_WINDOW - 1  # the earlier messages the detector reads with a message: the same for an example


def labelled_words(entries: Sequence[CaseEntry], escalation: str | None = None) -> tuple[str, tuple[str, ...]] | None:
    """The person's message a correction is about, and the earlier ones as its context (oldest first): the
    latest they wrote, or the one that raised `escalation`. None when it has no words: an attachment alone,
    or a safety-plan answer (the record keeps only that one came; it stays the person's own)."""
    if escalation is not None:
        raised = [
            i for i, e in enumerate(entries)
            if e.event == CaseEvent.ESCALATION_RAISED and e.detail.get("escalation") == escalation
        ]  # fmt: skip
        if not raised:
            return None
        entries = entries[: raised[0]]
    said = [e.text for e in entries if e.event == CaseEvent.PERSON]
    if not said or not said[-1]:
        return None
    return said[-1], tuple(words for words in said[-1 - CONTEXT : -1] if words)


class Teaching:
    """Counts staff's corrections of the detector and, with `examples`, keeps them as labelled examples."""

    def __init__(
        self,
        labels: RiskLabels,
        cases: CaseRecords,
        conversations: ConversationStore,
        writer: StreamWriter,
        examples: RiskExamples | None = None,
    ) -> None:
        """`examples`: None unless the organisation keeps labelled examples (`risk.keep_examples`)."""
        self._labels = labels
        self._cases = cases
        self._store = conversations
        self._writer = writer
        self._examples = examples

    async def missed(
        self, conversation: Conversation, tier: RiskTier, category: RiskCategory | None, entry: str
    ) -> None:
        """Staff escalated `conversation` to `tier` above the detector's tier; `entry`: the staff member's inbound
        entry (handled again after a crash, the same example is written again, not a second one)."""
        await self._labels.missed(category.value if category else None, conversation.tier)
        if self._examples is None:
            return
        words = labelled_words(await self._cases.entries(conversation.id))
        if words is None:
            return
        example = RiskExample(
            text=words[0], context=words[1], source="missed", tier=tier, category=category,
            detected=conversation.tier, detected_category=None, lang=conversation.language, day=today(),
        )  # fmt: skip
        await self._keep(conversation.id, entry, example)

    async def false_alarm(self, esc: Escalation) -> None:
        """An overseer marked the detector's alert `esc` as a false alarm (once per alert)."""
        await self._labels.false_alarm(esc.category.value if esc.category else None)
        if self._examples is None:
            return
        words = labelled_words(await self._cases.entries(esc.conversation), esc.id)
        if words is None:
            return
        conversation = await self._store.get(esc.conversation)
        example = RiskExample(
            text=words[0], context=words[1], source="false_alarm", tier=None, category=None, detected=esc.tier,
            detected_category=esc.category, lang=conversation.language if conversation else None, day=today(),
        )  # fmt: skip
        await self._keep(esc.conversation, esc.id, example)

    async def _keep(self, conv: ConversationId, name: str, example: RiskExample) -> None:
        person = await self._store.person_of(conv)
        if self._examples is None or person is None:  # erased meanwhile: nothing to keep
            return
        await self._examples.keep(person, name, example)
        await self._writer.audit("risk_example_kept", source=example.source)  # that one was kept: nothing of it
