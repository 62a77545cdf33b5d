"""What a button press shows its presser at once (the platform's own short notice), before the router acts on it.

In a busy hour a queue card in the lobby can still show someone who was taken a minute ago (Telegram: ~20 sends a
minute into a group, and card refreshes wait behind conversations). The answer to a press comes back straight
away, in the press's own reply, costing nothing of the group's budget; the router still decides.
"""

from __future__ import annotations

from routing import texts
from routing.model import ConversationId, ConversationState, InboundKind, InboundMessage
from routing.store.conversations import ConversationStore


class PressAnswers:
    """Short answers to button presses, from the conversation's current state."""

    def __init__(self, conversations: ConversationStore) -> None:
        self._conversations = conversations

    async def answer(self, press: InboundMessage) -> str:
        """The notice for `press` ("" for none): a Take on someone already taken, gone or closed."""
        name, _, argument = press.text.strip().partition(" ")
        if press.kind != InboundKind.ACTION or name != "take" or not argument.startswith("c-"):
            return ""
        conversation = await self._conversations.get(ConversationId(argument.split()[0]))
        if conversation is None or conversation.state == ConversationState.CLOSED:
            return texts.staff(texts.PRESS_GONE)
        if conversation.state == ConversationState.ACTIVE:
            return texts.staff(texts.ALREADY_TAKEN, pseudonym=conversation.pseudonym)
        return ""
