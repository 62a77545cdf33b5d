"""Configuration: the example documents every key, problems are reported in plain words, env overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot import shipped
from bot.check_config import check
from bot.settings import SECRET_KEYS, ConfigError, Settings, load_settings
from routing.model import Platform

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "config" / "peerbridge.example.toml"


@pytest.fixture(autouse=True)
def _clean_env(no_peerbridge_env: None) -> None:
    """Settings read PEERBRIDGE_* variables: none from the shell running the tests."""


def test_example_documents_every_setting() -> None:
    example = tomllib.loads(EXAMPLE.read_text())
    text = EXAMPLE.read_text()
    for section, model in Settings.model_fields.items():
        assert section in example, f"[{section}] missing from the example"
        for key in model.annotation.model_fields:  # type: ignore[union-attr]
            if (section, key) in SECRET_KEYS:
                assert f"PEERBRIDGE_{section.upper()}__{key.upper()}" in text
            else:
                assert key in example[section], f"{section}.{key} missing from the example"


def test_example_loads_as_the_defaults() -> None:
    assert load_settings(EXAMPLE) == Settings()


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[staff]\nplatform = "myspace"\nvolunteer_chat = "general"\nbogus = 1\n'
        '[telegram]\ntoken = "123:abc"\n[routing]\nflood_limit = 0\n[redis]\nurl = "http://x"\n'
    )
    with pytest.raises(ConfigError) as err:
        load_settings(bad)
    problems = "\n".join(err.value.problems)
    assert "telegram.token is a secret" in problems
    assert "PEERBRIDGE_TELEGRAM__TOKEN" in problems
    assert "staff.bogus is not a known setting" in problems
    assert "staff.platform" in problems
    assert "'general' is not a chat id" in problems
    assert "routing.flood_limit" in problems
    assert "redis.url: must start with redis://" in problems
    assert "123:abc" not in problems  # a secret is never echoed back


def test_env_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text('[staff]\nplatform = "telegram"\nvolunteer_chat = "-1001"\n')
    monkeypatch.setenv("PEERBRIDGE_STAFF__PLATFORM", "discord")
    monkeypatch.setenv("PEERBRIDGE_REDIS__SENTINELS", '["10.0.0.1:26379"]')
    s = load_settings(cfg)
    assert s.staff.platform == Platform.DISCORD
    assert s.staff.volunteer_chat == "-1001"
    assert s.redis.sentinels == ["10.0.0.1:26379"]


def test_misspelt_env_section_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERBRIDGE_TELEGARM__TOKEN", "x")
    with pytest.raises(ConfigError, match="there is no \\[telegarm\\] section"):
        load_settings(None)


def test_check_config_finds_missing_token_and_chats(tmp_path: Path) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text("[telegram]\nenabled = true\n")
    _settings, problems = check(cfg)
    assert any("telegram is enabled but has no token" in p for p in problems)
    assert any("staff.volunteer_chat is empty" in p for p in problems)
    assert any("staff.escalation_chat is empty" in p for p in problems)


def test_check_config_reports_an_unreadable_phrase_file(tmp_path: Path) -> None:
    phrases = tmp_path / "risk"
    phrases.mkdir()
    (phrases / "en.toml").write_text("this is [ not toml")
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[risk]\nphrases_dir = "{phrases}"\n')
    _settings, problems = check(cfg)
    assert any("en.toml" in p for p in problems)


def test_check_config_accepts_a_complete_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text(
        f'[telegram]\nenabled = true\n[staff]\nvolunteer_chat = "-1001"\nescalation_chat = "-1002"\n'
        f'[risk]\nphrases_dir = "{shipped.RISK_PHRASES}"\n'
        f'[rota]\nfile = "{ROOT / "config" / "rota.example.toml"}"\n'
    )
    monkeypatch.setenv("PEERBRIDGE_TELEGRAM__TOKEN", "123:abc")
    settings, problems = check(cfg)
    assert problems == []
    assert settings is not None and settings.telegram.token is not None


def test_relative_paths_in_the_file_are_read_from_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "etc"
    conf.mkdir()
    cfg = conf / "p.toml"
    cfg.write_text(
        '[storage]\ndir = "../var"\n[rota]\nfile = "rota.toml"\n[risk]\nphrases_dir = "/srv/phrases"\n'
        '[training]\nscenarios_dir = "practice"\n'
    )
    monkeypatch.chdir(tmp_path)  # anywhere but the config's folder
    s = load_settings(Path("etc/p.toml"))
    assert s.storage.dir.resolve() == (tmp_path / "var").resolve()
    assert s.rota.file == conf.resolve() / "rota.toml"
    assert s.risk.phrases_dir == Path("/srv/phrases")  # absolute stays as written
    assert s.training.scenarios_dir == conf.resolve() / "practice"


def test_empty_or_unset_paths_are_the_shipped_files_and_env_paths_are_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text('[risk]\nphrases_dir = ""\n[storage]\ndir = ""\n')
    monkeypatch.setenv("PEERBRIDGE_ROTA__FILE", "here/rota.toml")
    s = load_settings(cfg)
    assert s.risk.phrases_dir == shipped.RISK_PHRASES
    assert s.escalation.resources_dir == shipped.CRISIS_RESOURCES
    assert s.training.scenarios_dir == shipped.TRAINING_SCENARIOS
    assert s.storage.dir == Path("data")
    assert s.rota.file == Path("here/rota.toml")
    assert sorted(p.name for p in shipped.RISK_PHRASES.glob("*.toml")) == ["en.toml", "es.toml", "fr.toml", "pt.toml"]


def test_a_platform_retention_shorter_than_retention_is_refused_and_check_config_says_what_is_in_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    short = tmp_path / "short.toml"
    short.write_text("[storage]\nretention_days = 30\nplatform_retention_days = 7\n")
    with pytest.raises(ConfigError) as err:
        load_settings(short)
    assert "platform_retention_days (7) is shorter than retention_days (30)" in "\n".join(err.value.problems)

    complete = (
        f'[telegram]\nenabled = true\n[staff]\nvolunteer_chat = "-1001"\nescalation_chat = "-1002"\n'
        f'[risk]\nphrases_dir = "{shipped.RISK_PHRASES}"\n[rota]\nfile = "{ROOT / "config" / "rota.example.toml"}"\n'
    )
    monkeypatch.setenv("PEERBRIDGE_TELEGRAM__TOKEN", "123:abc")
    unset = tmp_path / "unset.toml"
    unset.write_text(complete + "[storage]\nretention_days = 14\n")
    main(["check-config", "--config", str(unset)])
    said = capsys.readouterr().out
    assert "messages in Redis 14 days" in said
    assert "on the platform 14 days after closing (storage.platform_retention_days unset: the same as" in said
    assert "escalation records are kept 2190 days without text or ids" in said
    assert "labelled examples not kept (risk.keep_examples off)" in said

    longer = tmp_path / "longer.toml"
    longer.write_text(
        complete.replace("[risk]\n", "[risk]\nkeep_examples = true\n")
        + "[storage]\nplatform_retention_days = 90\nsafeguarding_records = false\n"
    )
    main(["check-config", "--config", str(longer)])
    said = capsys.readouterr().out
    assert "on the platform 90 days after closing;" in said and "erased too (safeguarding_records off)" in said
    assert "labelled examples kept 30 days, encrypted" in said
