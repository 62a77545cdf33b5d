"""Character tables for the normaliser: invisible characters, emoji tokens, look-alike letters and leetspeak.

Written for this project, deliberately small: each entry is here because people use it to hide or to say a
risk word (an emoji for a means, a Cyrillic letter inside an English word, a digit for a letter).
"""

from __future__ import annotations

import re


def _format_char_table() -> dict[int, None]:
    """Characters that render as nothing but split words for a matcher: strip them."""
    points: list[int] = [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF]
    points += list(range(0x200B, 0x2010))  # zero-width space/joiners, LRM/RLM
    points += list(range(0x202A, 0x202F))  # bidi embeddings and overrides
    points += list(range(0x2060, 0x2070))  # word joiner, invisible operators, deprecated format chars
    points += list(range(0xFE00, 0xFE10))  # variation selectors (emoji/text presentation)
    points += list(range(0xE0100, 0xE01F0))  # variation selectors supplement
    points += list(range(0xE0000, 0xE0080))  # tag characters (emoji flag sequences)
    points += list(range(0x1F3FB, 0x1F400))  # skin-tone modifiers: carry no meaning for risk
    return dict.fromkeys(points)


FORMAT_CHARS: dict[int, None] = _format_char_table()

# Emoji that carry a risk meaning, by their CLDR short names. Crisis Text Line found the pill emoji 4.4x as
# likely as the word "suicide" in conversations that ended in an active rescue; knives, guns, blood and
# coffins name means or death; crying faces are weaker signals that phrases may use.
EMOJI_TOKENS: dict[str, str] = {
    "\U0001f48a": ":pill:",
    "\U0001f52a": ":knife:",
    "\U0001f5e1": ":dagger:",
    "\U0001fa78": ":drop_of_blood:",
    "\u26b0": ":coffin:",
    "\U0001faa6": ":headstone:",
    "\U0001f52b": ":gun:",
    "\U0001f489": ":syringe:",
    "\U0001fa62": ":knot:",
    "\u2702": ":scissors:",
    "\U0001fa92": ":razor:",
    "\U0001f309": ":bridge_at_night:",
    "\u2620": ":skull_and_crossbones:",
    "\U0001f480": ":skull:",
    "\U0001f62d": ":sob:",
    "\U0001f622": ":cry:",
    "\U0001f494": ":broken_heart:",
    "\U0001f940": ":wilted_flower:",
    "\U0001f44b": ":wave:",
    "\U0001f602": ":joy:",
    "\U0001f923": ":rofl:",
    "\U0001f6ab": ":no_entry_sign:",
}

EMOJI_PATTERN = re.compile("|".join(re.escape(e) for e in sorted(EMOJI_TOKENS, key=len, reverse=True)))
EMOJI_TOKEN = re.compile(r":[a-z_]+:")

# Cyrillic and Greek letters that look like Latin ones (lower case: casefolding runs first). Used only inside
# tokens that mix scripts, so a real Russian or Greek word is left alone (the UTS #39 skeleton idea, small).
CONFUSABLES: dict[int, str] = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "г": "r",
        "е": "e",
        "ё": "e",
        "з": "3",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "п": "n",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ь": "b",
        "ѕ": "s",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "ɡ": "g",
        "α": "a",
        "β": "b",
        "γ": "y",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "σ": "o",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
    }
)

# Leetspeak, applied only to tokens that mix letters with these characters (never to "800mg" or "3am").
LEET: dict[int, str] = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "+": "t",
        "€": "e",
    }
)
LEET_CHARS = frozenset("0134578 9@$!|+€".replace(" ", ""))
# "1" and "|" are also read as "l" ("ki11"): the normaliser tries this when the "i" reading is no word it knows.
LEET_ALT: dict[int, str] = str.maketrans({"1": "l", "!": "l"})
