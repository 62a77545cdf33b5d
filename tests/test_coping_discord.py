"""Sharing the coping library on Discord (issue 25), through the real discord.py, the Discord sandbox and real
Redis: /share is a slash command of the staff server; the preview in the conversation's thread shows the Spanish
text a Spanish-speaking person will read; a supervisor's Send is refused, the volunteer's sends it once."""

from __future__ import annotations

import pytest

from bot import shipped
from routing import texts
from routing.coping.files import load_library
from tests.bridge_fixtures import running_bridge
from tests.discord_bridge_fixtures import World, box, until_ready, world

__all__ = ["box", "world"]  # fixtures used by name, not by reference
pytestmark = pytest.mark.timeout(40)
LIBRARY = load_library(shipped.COPING_TEXTS)


async def test_a_volunteer_shares_grounding_in_spanish_and_only_their_send_reaches_the_person(world: World) -> None:
    w, box = world, world.box
    spanish = LIBRARY.get("es", "grounding")
    assert spanish is not None
    w.settings.rota.file.write_text(
        f'[[staff]]\nid = "kim"\nname = "Kim"\ndiscord = "{w.volunteer.id}"\n\n'
        f'[[staff]]\nid = "sam"\nname = "Sam"\nroles = ["supervisor"]\ndiscord = "{w.colleague.id}"\n'
    )
    async with running_bridge(w.settings):
        await until_ready(w.settings)
        staff_menu = {c["name"]: c for c in box.commands(box.state.guild_of(w.volunteers))}
        assert staff_menu["share"]["description"] == texts.STAFF_COMMAND_HELP["share"]

        box.send_dm(w.person, "hola, no consigo calmarme")
        ack = await w.seen(w.in_dm("number 1"))
        box.press_button(w.person, ack, next(b["custom_id"] for b in ack.buttons if b["label"] == "Español"))
        await w.seen(w.in_dm(texts.say("es", texts.LANGUAGE_SET)))
        thread = await w.take_first_card()
        await w.seen(w.in_dm(texts.say("es", texts.CONNECTED)))

        mark = w.mark()
        box.invoke_slash(w.volunteer, thread, "share", {"name": "grounding"})
        preview = await w.seen(lambda m: m.channel_id == thread.id and spanish.title in m.content, since=mark)
        assert spanish.text.splitlines()[0] in preview.content
        buttons = {b["label"]: b["custom_id"] for b in preview.buttons}
        assert set(buttons) == {"Send", "Cancel"}
        assert _coping_in_dm(w, mark) == []  # a preview alone sends nothing

        box.press_button(w.colleague, preview, buttons["Send"])  # the supervisor watching: refused
        await w.seen(lambda m: m.channel_id == thread.id and "Only Kim, who holds" in m.content, since=mark)
        box.press_button(w.volunteer, preview, buttons["Send"])
        received = await w.seen(lambda m: m.channel_id == w.dm().id and spanish.title in m.content, since=mark)
        assert received.content == spanish.message
        await w.seen(lambda m: m.channel_id == thread.id and "Sent to" in m.content, since=mark)
        assert _coping_in_dm(w, mark) == [spanish.message]  # once, and the supervisor's press sent nothing


def _coping_in_dm(w: World, since: int) -> list[str]:
    """The coping texts the person received in their DM (the service's other words aside)."""
    titles = [t.title for named in LIBRARY.texts.values() for t in named.values()]
    found = [a.message for a in w.box.actions[since:] if a.message and a.message.channel_id == w.dm().id]
    return [m.content for m in found if any(m.content.startswith(title) for title in titles)]
