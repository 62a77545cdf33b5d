"""The coping library's files (issue 25): the shipped starter set, and a broken file named with its field by the
loader and by `peerbridge check-config` (a real subprocess, as a coordinator runs it), never a crash later."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot import shipped
from routing.coping.files import load_library
from routing.coping.library import MAX_TEXT

ROOT = Path(__file__).parent.parent
STARTER = ("grounding", "breathing", "night", "urge-surfing", "reaching-out")


def _copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(shipped.COPING_TEXTS, tmp_path / "coping"))


def test_the_starter_set_is_in_english_and_spanish_with_its_sources() -> None:
    library = load_library(shipped.COPING_TEXTS)
    assert library.problems == {}
    assert set(STARTER) <= set(library.names)
    for lang in ("en", "es"):
        for name in STARTER:
            text = library.get(lang, name)
            assert text is not None, f"{lang}/{name}.toml"
            assert len(text.message) <= MAX_TEXT + 100 and text.source and text.reviewed_by
    assert library.get("es", "grounding") != library.get("en", "grounding")


def test_a_spanish_speaker_reads_spanish_and_a_french_speaker_english_with_a_note() -> None:
    library = load_library(shipped.COPING_TEXTS)
    spanish = library.for_person("grounding", "es-MX")
    french = library.for_person("grounding", "fr")
    assert spanish is not None and spanish.in_their_language and spanish.text.lang == "es"
    assert french is not None and not french.in_their_language and french.text.lang == "en"
    assert library.for_person("grounding-exercise", "en") is None


def test_a_broken_file_is_left_out_and_named_with_its_field(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    broken = folder / "es" / "grounding.toml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("reviewed_on = 2026-12-07", ""), encoding="utf-8")
    (folder / "es" / "sleep.toml").write_text((folder / "es" / "night.toml").read_text(encoding="utf-8"))
    (folder / "en" / "Bad Name.toml").write_text("title = 'x'")
    (folder / "en" / "typo.toml").write_text('title = "Typo"\ntext = "hi"\nsorce = "x"\n')
    (folder / "en" / "unclosed.toml").write_text('title = "Unclosed\n')
    library = load_library(folder)
    problems = library.problems
    assert "reviewed_on must be the date the text was last reviewed" in problems[str(broken)]
    assert str(broken) in problems[str(broken)]
    assert (
        "there is no en/sleep.toml: every text needs an English version" in problems[str(folder / "es" / "sleep.toml")]
    )
    assert "the file name is typed in /share" in problems[str(folder / "en" / "Bad Name.toml")]
    assert "unknown key(s) sorce" in problems[str(folder / "en" / "typo.toml")]
    assert "is not valid TOML" in problems[str(folder / "en" / "unclosed.toml")]
    assert library.names == tuple(sorted(STARTER))  # the rest still loads; the broken Spanish falls back to English
    fallback = library.for_person("grounding", "es")
    assert fallback is not None and fallback.text.lang == "en" and not fallback.in_their_language


def test_check_config_names_a_broken_coping_file_and_its_field(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    broken = folder / "en" / "breathing.toml"
    broken.write_text(broken.read_text(encoding="utf-8").replace('title = "Slow breathing"', 'title = ""'))
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[coping]\ndir = "{folder}"\n')
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(cfg)], cwd=ROOT, capture_output=True,
        text=True, timeout=60, env={**os.environ},
    )  # fmt: skip
    assert result.returncode == 2
    assert f"coping text {broken}: title: needs a non-empty string" in result.stderr
    cfg.write_text(f'[coping]\ndir = "{tmp_path / "nowhere"}"\n')
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(cfg)], cwd=ROOT, capture_output=True,
        text=True, timeout=60, env={**os.environ},
    )  # fmt: skip
    assert f"{tmp_path / 'nowhere'}: the coping library folder does not exist" in result.stderr
