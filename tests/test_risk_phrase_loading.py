"""Loading phrase files: a bad file is refused with a PhraseFileError naming the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.model import RiskCategory, RiskTier
from routing.risk.detector import RiskDetector
from routing.risk.phrases import PhraseFileError, PhraseKind, load_phrase_file

GOOD = """
lang = "en"
must_flag = [{ text = "i want to vanish", tier = "elevated" }]
must_not_flag = ["vanishing cream"]
phrases = [
    { id = "en.suicide.vanish", text = "want to vanish", tier = "elevated", category = "suicide" },
    { id = "en.means.rope", text = "rope", tier = "review", category = "suicide", kind = "means" },
]
suppress = [{ id = "en.idiom.vanish_act", text = "want to vanish act", kind = "idiom" }]

[cues]
negation = ["not"]

[slang]
vnsh = "vanish"
"""


def write(tmp_path: Path, text: str, name: str = "en.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_loads_with_its_parts(tmp_path: Path) -> None:
    phrase_file = load_phrase_file(write(tmp_path, GOOD))
    assert phrase_file.lang == "en"
    assert [p.id for p in phrase_file.phrases] == ["en.suicide.vanish", "en.means.rope"]
    assert phrase_file.phrases[0].tier is RiskTier.ELEVATED
    assert phrase_file.phrases[0].category is RiskCategory.SUICIDE
    assert phrase_file.phrases[1].kind is PhraseKind.MEANS
    assert phrase_file.slang == {"vnsh": "vanish"}
    assert phrase_file.must_flag[0].tier is RiskTier.ELEVATED


def test_a_phrase_added_to_a_file_takes_effect_without_code_changes(tmp_path: Path) -> None:
    detector = RiskDetector.from_files([write(tmp_path, GOOD)])
    assert detector.assess("i want to vanish").phrase_ids == ("en.suicide.vanish",)
    assert detector.assess("i w4nt to vnsh").tier is RiskTier.ELEVATED  # leet and the file's own slang
    assert detector.assess("i do not want to vanish").tier is RiskTier.REVIEW  # the file's negation cue


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ('tier = "elevated", category = "suicide" },', 'tier = "urgent", category = "suicide" },'),
            "unknown risk tier 'urgent'",
        ),
        (
            ('category = "suicide" },\n    { id = "en.means', 'category = "sadness" },\n    { id = "en.means'),
            "category 'sadness' is not one of",
        ),
        (('id = "en.suicide.vanish"', 'id = "suicide.vanish"'), "id must look like en.<group>.<name>"),
        (('id = "en.means.rope"', 'id = "en.suicide.vanish"'), "id 'en.suicide.vanish' is used twice"),
        (
            ('text = "want to vanish",', 'text = "want to {vanish",'),
            "en.suicide.vanish: text 'want to {vanish': '{vanish' opens {",
        ),
        (('text = "want to vanish",', 'text = "want ... ",'), "gap"),
        (('text = "want to vanish",', 'text = "want to <what>",'), "unknown placeholder '<what>'"),
        (
            ('tier = "elevated", category = "suicide" },', 'tier = "elevated", category = "suicide", teir = "x" },'),
            "unknown key(s) teir",
        ),
        (('lang = "en"', 'lang = "English"'), 'needs lang = "<two or three letter code>"'),
        (('must_not_flag = ["vanishing cream"]', "must_not_flag = []"), "must_not_flag"),
        (('kind = "means"', 'kind = "tool"'), "kind 'tool' is not one of risk, means, goodbye"),
        (('negation = ["not"]', 'negations = ["not"]'), "[cues] has unknown key(s) negations"),
        (('tier = "review", category', 'tier = "none", category'), "tier none is not a risk"),
        (("phrases = [", "phrases = [[1],"), "phrases[0] must be a table"),
        (("[slang]", "whatever = 1\n[slang]"), "unknown key(s) whatever"),
    ],
)
def test_bad_file_names_the_file_and_the_problem(tmp_path: Path, change: tuple[str, str], problem: str) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(PhraseFileError) as caught:
        RiskDetector.from_files([path])
    assert caught.value.path == path
    assert problem in caught.value.problem
    assert str(path) in str(caught.value)


def test_invalid_toml_is_reported_with_its_position(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('lang = "en"', 'lang = "en'))
    with pytest.raises(PhraseFileError, match=r"is not valid TOML.*line 2"):
        load_phrase_file(path)


def test_file_name_must_match_its_language(tmp_path: Path) -> None:
    with pytest.raises(PhraseFileError, match=r"name it en\.toml"):
        load_phrase_file(write(tmp_path, GOOD, name="es.toml"))


def test_missing_file_is_a_phrase_file_error(tmp_path: Path) -> None:
    with pytest.raises(PhraseFileError, match="cannot be read"):
        load_phrase_file(tmp_path / "xx.toml")


def test_directory_without_phrase_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PhraseFileError, match=r"has no <lang>\.toml phrase files"):
        RiskDetector.from_directory(tmp_path)


def test_the_same_id_in_two_files_is_refused(tmp_path: Path) -> None:
    other = GOOD.replace('lang = "en"', 'lang = "es"').replace("en.", "es.")
    other = other.replace("es.suicide.vanish", "en.suicide.vanish", 1)
    with pytest.raises(PhraseFileError):
        RiskDetector.from_files([write(tmp_path, GOOD), write(tmp_path, other, name="es.toml")])


def test_example_without_a_tier_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace(', tier = "elevated" }]', " }]"))
    with pytest.raises(PhraseFileError, match=r"must_flag\[0\] needs a non-empty tier"):
        load_phrase_file(path)
