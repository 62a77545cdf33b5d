"""A person on Discord, in their own language: through the real discord.py, the Discord sandbox and real Redis.

A Discord DM carries no language, so the first answer asks (a button per language); an interaction carries the
person's client locale; the command menu is localised the way Discord shows it (description_localizations).
"""

from __future__ import annotations

import functools

import pytest

from routing import texts
from tests.bridge_fixtures import running_bridge
from tests.discord_bridge_fixtures import World, box, bridge, until_ready, world

__all__ = ["box", "bridge", "world"]  # fixtures used by name, not by reference
pytestmark = pytest.mark.timeout(30)


async def test_a_discord_person_who_picks_portuguese_is_written_to_in_portuguese(bridge: World) -> None:
    w, box = bridge, bridge.box
    box.send_dm(w.person, "oi, tá difícil hoje")  # a plain DM: Discord sends no language with it
    ack = await w.seen(w.in_dm("number 1"))  # English until they choose, with the question and a button each
    assert texts.say("en", texts.LANGUAGE_CHOOSE) in ack.content
    labels = {b["label"]: b["custom_id"] for b in ack.buttons}
    assert {"English", "Español", "Português", "Français"} <= set(labels)

    mark = w.mark()
    box.press_button(w.person, ack, labels["Português"])
    await w.seen(w.in_dm(texts.say("pt", texts.LANGUAGE_SET)), since=mark)
    box.invoke_slash(w.person, w.dm(), "privacy")
    await w.seen(w.in_dm(texts.translate("pt", texts.PRIVACY)[:40]), since=mark)

    thread = await w.take_first_card()
    await w.seen(w.in_dm(texts.say("pt", texts.CONNECTED)), since=mark)
    box.send_message(w.volunteer, thread, "!end")
    await w.seen(w.in_dm(texts.say("pt", texts.ENDED_BY_VOLUNTEER)[:50]), since=mark)
    feedback = await w.seen(w.in_dm(texts.say("pt", texts.FEEDBACK_QUESTION)), since=mark)
    assert [b["label"] for b in feedback.buttons] == [texts.say("pt", t) for t in (
        texts.FEEDBACK_BETTER, texts.FEEDBACK_SAME, texts.FEEDBACK_WORSE)]  # fmt: skip

    # Kept with the person (pseudonymously) for their next conversation, without asking again.
    mark = w.mark()
    box.send_dm(w.person, "voltei")
    again = await w.seen(w.in_dm(texts.say("pt", texts.QUEUED, position=1)[:40]), since=mark)
    assert texts.say("pt", texts.LANGUAGE_CHOOSE) not in again.content


async def test_an_interaction_brings_the_client_language_and_the_menu_is_localised(bridge: World) -> None:
    w, box = bridge, bridge.box
    french = box.create_user("camille", locale="fr")
    box.send_dm(french, "bonjour")  # opens the DM (the answer is in English: a DM carries no language)
    dm = box.dm_channel(french)
    assert dm is not None
    await w.seen(lambda m: m.channel_id == dm.id and "number 1" in m.content)
    box.invoke_slash(french, dm, "start")  # an interaction carries the client's locale
    await w.seen(lambda m: m.channel_id == dm.id and texts.say("fr", texts.WELCOME, retention=30)[:60] in m.content)

    menu = {c["name"]: c for c in box.commands()}  # the DM commands, global
    assert {"start", "privacy", "stop", "language"} <= set(menu)
    localized = menu["privacy"]["description_localizations"]
    assert localized["fr"] == texts.translate("fr", texts.COMMAND_PRIVACY)
    assert localized["pt-BR"] == texts.translate("pt", texts.COMMAND_PRIVACY)
    assert localized["es-ES"] == localized["es-419"] == texts.translate("es", texts.COMMAND_PRIVACY)


async def test_a_french_speaking_organisation_reads_its_threads_and_commands_in_french(world: World) -> None:
    """`staff.language = "fr"`: the staff server's slash commands, the card, the thread's opening words and the
    volunteer's answers are French; the person, who has not chosen, reads English."""
    w, box = world, world.box
    fr = functools.partial(texts.translate, "fr")
    w.settings = w.settings.model_copy(update={"staff": w.settings.staff.model_copy(update={"language": "fr"})})
    async with running_bridge(w.settings):
        await until_ready(w.settings)
        staff_menu = {c["name"]: c["description"] for c in box.commands(box.state.guild_of(w.volunteers))}
        assert staff_menu["next"] == fr(texts.STAFF_COMMAND_HELP["next"]) != texts.STAFF_COMMAND_HELP["next"]
        assert staff_menu["release"] == fr(texts.STAFF_COMMAND_HELP["release"])

        box.send_dm(w.person, "hi, can't sleep")
        await w.seen(w.in_dm(texts.say("en", texts.QUEUED, position=1)[:40]))
        card = await w.seen(lambda m: m.channel_id == w.volunteers.id and bool(m.buttons))
        assert [b["label"] for b in card.buttons] == [fr(texts.BUTTON_TAKE), fr(texts.BUTTON_ESCALATE)]
        box.press_button(w.volunteer, card, card.buttons[0]["custom_id"])
        opened_words = fr(texts.THREAD_OPENED).split("{tier}")[1].strip(" ).")[:20]
        opened = await w.seen(lambda m: opened_words in m.content)
        thread = box.channel(opened.channel_id)
        await w.seen(w.in_dm(texts.say("en", texts.CONNECTED)))

        mark = w.mark()
        box.send_message(w.volunteer, thread, "!transfer nobody-here")
        unknown = fr(texts.UNKNOWN_VOLUNTEER).split("{name}")[0]
        await w.seen(lambda m: m.channel_id == thread.id and unknown in m.content, since=mark)
