"""`web.public_url`: where the private sign-in links that `/dashboard` sends point, checked like every setting.

End to end: a volunteer sends `/dashboard` in the Telegram forum group and privately receives a link on the
configured public address, which signs them in once.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.check_config import check
from bot.dashboard.wiring import signin_links
from bot.embedded_redis import EmbeddedRedis
from bot.settings import ConfigError, Settings, WebSettings, load_settings
from routing.model import Role, VolunteerId
from sandboxes.telegram import TelegramSandbox
from tests.bridge_fixtures import ROOT, running_bridge, telegram_bridge_settings

pytest_plugins = ["tests.telegram_fixtures"]

TOKEN = "123456:sandbox-test-token"


@pytest.fixture(autouse=True)
def _clean_env(no_peerbridge_env: None) -> None:
    """Settings read PEERBRIDGE_* variables: none from the shell running the tests."""


def test_links_default_to_this_machine_for_local_runs() -> None:
    assert WebSettings().link_base == "http://127.0.0.1:8080"
    assert WebSettings(host="0.0.0.0", port=9000).link_base == "http://127.0.0.1:9000"  # noqa: S104
    assert WebSettings(host="::1").link_base == "http://[::1]:8080"
    assert WebSettings(public_url="https://peer.example.org/").link_base == "https://peer.example.org"
    assert WebSettings(public_url=" https://peer.example.org:8443 ").link_base == "https://peer.example.org:8443"


def test_a_bad_public_url_is_explained(tmp_path: Path) -> None:
    for bad, words in [
        ("peer.example.org", "must be an http:// or https:// address"),
        ("ftp://peer.example.org", "must be an http:// or https:// address"),
        ("https://peer.example.org/dashboard", "must not have a path"),
        ("https://peer.example.org/?next=x", "without ?query"),
        ("https://admin:pw@peer.example.org", "user:password@"),
    ]:
        cfg = tmp_path / "p.toml"
        cfg.write_text(f'[web]\npublic_url = "{bad}"\n')
        with pytest.raises(ConfigError) as err:
            load_settings(cfg)
        assert any(p.startswith("web.public_url:") and words in p for p in err.value.problems), bad
        assert "pw@" not in " ".join(err.value.problems)  # a credential in the address is never echoed


def test_env_sets_the_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERBRIDGE_WEB__PUBLIC_URL", "https://peer.example.org")
    assert load_settings(None).web.link_base == "https://peer.example.org"


def _web_problems(tmp_path: Path, web: str) -> list[str]:
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[web]\n{web}\n[rota]\nfile = "{ROOT / "config" / "rota.example.toml"}"\n')
    _settings, problems = check(cfg)
    return [p for p in problems if "web." in p]


def test_check_config_wants_an_https_public_url_when_staff_come_over_a_network(tmp_path: Path) -> None:
    everywhere = _web_problems(tmp_path, 'host = "0.0.0.0"')
    assert len(everywhere) == 1 and "web.public_url is empty" in everywhere[0]
    assert "http://127.0.0.1:8080" in everywhere[0]  # what the links would wrongly say
    clear = _web_problems(tmp_path, 'host = "0.0.0.0"\npublic_url = "http://peer.example.org"')
    assert len(clear) == 1 and "not encrypted" in clear[0] and "https://" in clear[0]
    assert _web_problems(tmp_path, 'host = "0.0.0.0"\npublic_url = "https://peer.example.org"') == []
    assert _web_problems(tmp_path, 'public_url = "http://localhost:8080"') == []
    assert _web_problems(tmp_path, "") == []  # the default: a local run


async def test_sign_in_links_use_the_public_url(redis: Redis) -> None:
    settings = Settings(web=WebSettings(public_url="https://peer.example.org"))
    link = await signin_links(settings, redis).issue(VolunteerId("ana"), {Role.VOLUNTEER})
    assert re.fullmatch(r"https://peer\.example\.org/dashboard/signin\?token=[\w-]+\.[0-9a-f]{32}", link)


async def test_dashboard_command_sends_a_private_link_on_the_public_address(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> None:
    volunteer = sandbox.create_user("Vee")
    staff = sandbox.create_forum_group("Volunteers", members=[volunteer])
    alerts = sandbox.create_group("On call", members=[volunteer])
    settings = telegram_bridge_settings(
        tmp_path, redis_server.url, sandbox, staff.id, alerts.id,
    )  # fmt: skip
    settings = settings.model_copy(update={"web": settings.web.model_copy(update={"public_url": "https://pb.example"})})
    sandbox.block_bot(volunteer, blocked=False)  # Vee has opened a private chat with the bot (Telegram's rule)
    async with running_bridge(settings), asyncio.timeout(20):
        sandbox.send_user_message(volunteer, "/dashboard", chat=staff)
        private = await sandbox.wait_for(lambda m: m.chat_id == volunteer.id and "sign-in link" in m.text, 10)
        found = re.search(r"https://pb\.example/dashboard/signin\?token=(\S+)", private.text)
        assert found is not None  # on the public address, never a guessed host
        assert "sign-in link" not in " ".join(m.text for m in sandbox.sent(staff.id))  # never in the group
        here = f"http://127.0.0.1:{settings.web.port}/dashboard/signin"
        async with aiohttp.ClientSession() as http:  # the token signs in once, on this server behind that address
            first = await http.post(here, data={"token": found.group(1)}, allow_redirects=False)
            assert first.status == 303
            again = await http.post(here, data={"token": found.group(1)}, allow_redirects=False)
            assert again.status == 403
