"""The first start of the bridge loads the rota file into the empty live rota; later starts never replace it."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from bot.app import seed_live_rota
from routing.store.rota_store import RotaStore

ROTA = 'timezone = "UTC"\n[[staff]]\nid = "ana"\ntelegram = 501\n[[staff]]\nid = "kim"\nroles = ["coordinator"]\n'


async def test_an_empty_live_rota_is_loaded_from_the_file_once(redis: Redis, tmp_path: Path) -> None:
    path = tmp_path / "rota.toml"
    path.write_text(ROTA)
    rotas = RotaStore(redis)
    await seed_live_rota(path, rotas)
    first = await rotas.load()
    assert first is not None and first.version == 1
    assert [m.id for m in first.rota.staff] == ["ana", "kim"]
    path.write_text(ROTA.replace('id = "kim"', 'id = "lou"'))  # edited later: the live rota is the truth now
    await seed_live_rota(path, rotas)
    again = await rotas.load()
    assert again is not None and again.version == 1 and [m.id for m in again.rota.staff] == ["ana", "kim"]


async def test_a_missing_or_broken_file_leaves_the_live_rota_empty(redis: Redis, tmp_path: Path) -> None:
    rotas = RotaStore(redis)
    await seed_live_rota(tmp_path / "missing.toml", rotas)
    (tmp_path / "broken.toml").write_text("[[staff]]\nid = 3\n")
    await seed_live_rota(tmp_path / "broken.toml", rotas)
    assert await rotas.load() is None
