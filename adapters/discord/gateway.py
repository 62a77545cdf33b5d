"""Receiving from Discord: gateway events, normalised and ingested durably before anything else happens.

Discord does not redeliver gateway events (a RESUME replays what a dropped connection missed, nothing
more). So an event that cannot be stored because Redis is down is lost: it is logged and counted, a
person who wrote is asked (directly, bypassing the queue) to send it again, and a volunteer's button press
or slash command is told to try again. Events of one channel (a person's DM, a conversation's thread) are
stored in the order discord.py dispatched them, so a person's quick messages reach the volunteer in the order
written; different channels are stored concurrently (bounded), so nobody's risk message waits behind a
busy stranger's (see `lanes.py`).
Interactions must be answered within 3 s, so they are acknowledged right after they are stored.
"""

from __future__ import annotations

import asyncio
import logging
import time

import discord

from adapters.discord.normalise import (
    ChannelPlace,
    StaffChannels,
    normalise_interaction,
    normalise_message,
    place_of,
)
from routing.lanes import Lanes
from routing.model import InboundMessage, Origin
from routing.press_answers import PressAnswers
from routing.store.connection import STORE_ERRORS
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)

INTERACTION_INGEST_SECONDS = 2.0  # leaves time to answer within Discord's 3 s
RECEIVED = "Received."
NOT_STORED = "The bridge could not record this just now. Please try again in a moment."
RESEND = (
    "Sorry, we could not receive that message because of a technical problem on our side. Please send it again "
    "in a minute. If you are in danger right now, call your local emergency number."
)
NOT_HERE = "Staff commands work in the volunteers' channel, its conversation threads and the escalation channel."


class DiscordGateway:
    """Turns discord.py events into stored inbound entries and answers interactions."""

    def __init__(
        self,
        client: discord.Client,
        staff: StaffChannels | None,
        writer: StreamWriter,
        answers: PressAnswers | None = None,
    ) -> None:
        self._client = client
        self._answers = answers
        self._staff = staff
        self._writer = writer
        self._order = Lanes()
        self.events_ingested = 0
        self.events_lost = 0

    async def on_message(self, message: discord.Message) -> None:
        await self._message(message, edited=False)

    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        if event.message.edited_at is None:
            return  # Discord also sends updates for link previews and our own card edits: not edits by a person
        await self._message(event.message, edited=True)

    async def _message(self, message: discord.Message, *, edited: bool) -> None:
        """The one place that catches per event: logs our own words only, never the message or its ids."""
        if self._is_own(message.author.id):
            return  # Discord echoes the bot's own messages (loop prevention)
        try:
            async with self._order.hold(message.channel.id):
                place = await self._resolve(message.channel)
                inbound = normalise_message(message, place, self._staff, time.time(), edited=edited) if place else None
                if inbound is not None and not await self._store(inbound) and inbound.origin == Origin.PRIVATE:
                    await self._ask_to_resend(message)
        except Exception as exc:
            log.error("a discord message event could not be handled: %s", type(exc).__name__)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        try:
            stored, notice = await self._ingest_interaction(interaction)
            await self._answer(interaction, stored, notice)
        except Exception as exc:
            log.error("a discord interaction could not be handled: %s", type(exc).__name__)

    async def _ingest_interaction(self, interaction: discord.Interaction) -> tuple[bool | None, str]:
        """True when stored, False when it could not be, None when the bridge does not act on it; with the
        short notice a stale button press gets (a Take on someone already taken), or ""."""
        place = place_of(interaction.channel) or await self._fetch_place(interaction.channel_id)
        inbound = normalise_interaction(interaction, place, self._staff, time.time()) if place else None
        if inbound is None:
            return None, ""
        try:
            async with asyncio.timeout(INTERACTION_INGEST_SECONDS), self._order.hold(interaction.channel_id):
                stored = await self._store(inbound)
                notice = await self._answers.answer(inbound) if stored and self._answers else ""
                return stored, notice
        except TimeoutError:
            self.events_lost += 1
            log.warning("a discord interaction was not stored in time; the volunteer is asked to retry")
            return False, ""
        except STORE_ERRORS as exc:  # only the notice failed: the press itself is stored
            log.info("a stale-press notice could not be looked up (%s)", type(exc).__name__)
            return True, ""

    async def _answer(self, interaction: discord.Interaction, stored: bool | None, notice: str = "") -> None:
        """Acknowledge within 3 s: a deferred update for buttons (a private notice when the press is stale), a
        private "Received." for slash commands."""
        response = interaction.response
        command = interaction.type == discord.InteractionType.application_command
        try:
            if notice:
                await response.send_message(notice, ephemeral=True)
            elif stored is None and command:
                await response.send_message(NOT_HERE, ephemeral=True)
            elif stored is False:
                await response.send_message(NOT_STORED, ephemeral=True)
            elif command:
                await response.defer(ephemeral=True, thinking=True)
                await interaction.edit_original_response(content=RECEIVED)
            else:
                await response.defer()
        except discord.HTTPException as exc:  # cosmetic: the press or command is already stored
            log.info("answering a discord interaction failed (%s, code %s)", exc.status, exc.code)

    async def _ask_to_resend(self, message: discord.Message) -> None:
        """Storage is down and Discord will not redeliver: the person must not think they were heard."""
        try:
            await message.channel.send(RESEND)
        except discord.HTTPException as exc:
            log.warning("could not ask a person to resend (%s)", exc.status)

    async def _store(self, inbound: InboundMessage) -> bool:
        try:
            await self._writer.ingest(inbound)
        except STORE_ERRORS as exc:
            self.events_lost += 1
            log.warning(
                "a discord %s was not stored (%s); Discord will not send it again", inbound.kind, type(exc).__name__
            )
            return False
        self.events_ingested += 1
        return True

    async def _resolve(self, channel: object) -> ChannelPlace | None:
        place = place_of(channel)
        if place is None and isinstance(channel, discord.PartialMessageable):
            place = await self._fetch_place(channel.id)
        return place

    async def _fetch_place(self, channel_id: int | None) -> ChannelPlace | None:
        """A channel discord.py has not cached (a thread it dropped when archived): ask the REST API once."""
        if channel_id is None:
            return None
        try:
            channel = await self._client.fetch_channel(channel_id)
        except (discord.HTTPException, discord.InvalidData):
            return None
        return place_of(channel)

    def _is_own(self, user_id: int) -> bool:
        return self._client.user is not None and user_id == self._client.user.id


class BridgeClient(discord.Client):
    """A discord.py client that hands its events to the bridge's gateway."""

    receiver: DiscordGateway | None = None

    async def on_message(self, message: discord.Message) -> None:
        if self.receiver is not None:
            await self.receiver.on_message(message)

    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        if self.receiver is not None:
            await self.receiver.on_raw_message_edit(event)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if self.receiver is not None:
            await self.receiver.on_interaction(interaction)
