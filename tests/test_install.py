"""peerbridge as a charity installs it: the wheel, with the locked dependencies, in a new virtualenv outside the
checkout, run from an empty folder. Proves the shipped data travels in the package and that config paths do not
depend on the folder a command is started from."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.process_fixtures import distinct_free_ports, read_until

ROOT = Path(__file__).parent.parent
UV = Path(sys.executable).parent / "uv"  # from the dev group of uv.lock


@dataclass(frozen=True, slots=True)
class Installed:
    """A virtualenv holding only the built wheel and its locked dependencies."""

    venv: Path

    @property
    def peerbridge(self) -> Path:
        return self.venv / "bin" / "peerbridge"

    def run(self, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.peerbridge), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
            env={**_clean_env(), **(env or {})},
        )  # fmt: skip


def _clean_env() -> dict[str, str]:
    """No PEERBRIDGE_* settings and no path back into the checkout."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PEERBRIDGE_", "PYTHON", "VIRTUAL_ENV"))}


def _uv(*args: str, cwd: Path) -> str:
    env = {**_clean_env(), "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    result = subprocess.run([str(UV), *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, f"uv {args[0]} failed:\n{result.stderr[-3000:]}"
    return result.stdout


def test_requirements_txt_is_the_runtime_part_of_the_lock() -> None:
    exported = _uv("export", "--frozen", "--no-dev", "--no-emit-project", "--no-header", "--quiet", cwd=ROOT)
    committed = (ROOT / "requirements.txt").read_text()
    pinned = "".join(line for line in committed.splitlines(keepends=True) if not line.startswith("# "))
    assert pinned == exported, "requirements.txt is out of date with uv.lock: run ./dev lock"
    assert "--hash=sha256:" in pinned and "redis==" in pinned


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("install")
    dist, venv = work / "dist", work / "venv"
    # An sdist first, then the wheel from it: what a release would publish, and nothing of the checkout's
    # working files can slip into the wheel.
    _uv("build", "--python", sys.executable, "--out-dir", str(dist), str(ROOT), cwd=work)
    wheels = list(dist.glob("peerbridge-*.whl"))
    assert len(wheels) == 1, wheels
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    # What docs/deploy.md tells a charity to run (with pip there; uv here, for its cache).
    _uv("pip", "install", "--python", python, "--require-hashes", "-r", str(ROOT / "requirements.txt"), cwd=work)
    _uv("pip", "install", "--python", python, "--no-deps", str(wheels[0]), cwd=work)
    yield Installed(venv)
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def empty_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_the_wheel_runs_its_own_code_and_data(installed: Installed, empty_folder: Path) -> None:
    code = (
        "import bot, bot.shipped as s; from routing import texts; print(bot.__file__); "
        "print(*sorted(p.name for p in s.RISK_PHRASES.iterdir())); "
        "print(len(list(s.CRISIS_RESOURCES.glob('*.toml')))); print(texts.say('pt', texts.LANGUAGE_SET)); "
        "from bot.dashboard.app import STATIC; print(*sorted(p.name for p in (STATIC / 'vendor').iterdir()))"
    )
    result = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", code], cwd=empty_folder, capture_output=True, text=True,
        env=_clean_env(), timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    where, phrase_files, countries, portuguese, vendored = result.stdout.splitlines()
    assert Path(where).is_relative_to(installed.venv)  # the installed package, not the checkout
    # the phrase files and the risk model
    assert phrase_files.split() == ["en.toml", "es.toml", "fr.toml", "model.tsv", "pt.toml"]
    assert int(countries) >= 16  # the crisis lines of every country, and the international file
    assert portuguese == "A partir de agora, vamos escrever em português."  # the catalogues ship with the code
    assert vendored.split() == ["README.md", "chart.js.LICENSE.md", "chart.umd.min.js"]  # the Charts page's library


def test_check_config_in_an_empty_folder_reads_paths_beside_the_config(
    installed: Installed, empty_folder: Path
) -> None:
    conf = empty_folder / "conf"
    conf.mkdir()
    shutil.copy(ROOT / "config" / "rota.example.toml", conf / "rota.toml")
    (conf / "peerbridge.toml").write_text(
        '[telegram]\nenabled = true\n[staff]\nvolunteer_chat = "-1001"\nescalation_chat = "-1002"\n'
        '[rota]\nfile = "rota.toml"\n'  # beside the config, not in the folder the command runs in
    )
    token = {"PEERBRIDGE_TELEGRAM__TOKEN": "123:abc"}
    ok = installed.run("check-config", "--config", "conf/peerbridge.toml", cwd=empty_folder, env=token)
    assert ok.returncode == 0, ok.stderr
    assert "Configuration OK (conf/peerbridge.toml)" in ok.stdout

    with open(conf / "peerbridge.toml", "a") as f:
        f.write('[risk]\nphrases_dir = "own-phrases"\n')
    missing = installed.run("check-config", "--config", "conf/peerbridge.toml", cwd=empty_folder, env=token)
    assert missing.returncode == 2
    assert f"{conf / 'own-phrases'}: has no <lang>.toml phrase files" in missing.stderr


def test_demo_from_an_empty_folder_prints_its_page_and_stops(installed: Installed, empty_folder: Path) -> None:
    telegram, web, page, discord = distinct_free_ports(4)
    args = ["--port", str(telegram), "--web-port", str(web), "--page-port", str(page), "--discord-port", str(discord)]
    with (
        open(empty_folder.parent / "demo.log", "w") as log,
        subprocess.Popen(
            [str(installed.peerbridge), "demo", "--scenario", "quiet", *args], cwd=empty_folder,
            stdout=subprocess.PIPE, stderr=log, text=True, env=_clean_env(),
        ) as process,
    ):  # fmt: skip
        printed = read_until(process, f"http://127.0.0.1:{page}/demo/")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert f"http://127.0.0.1:{page}/demo/" in printed, (empty_folder.parent / "demo.log").read_text()[-3000:]
    assert (empty_folder / "data" / "demo").is_dir()  # its data where it was started, nothing in the checkout


def test_rota_import_from_an_empty_folder_needs_no_phrase_files(installed: Installed, empty_folder: Path) -> None:
    no_phrases = {"PEERBRIDGE_RISK__PHRASES_DIR": str(empty_folder / "nowhere")}  # a rota command never reads them
    config = str(ROOT / "config" / "peerbridge.example.toml")
    result = installed.run(
        "rota", "import", str(ROOT / "config" / "rota.example.toml"), "--config", config, cwd=empty_folder,
        env=no_phrases,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Imported the rota as version 1" in result.stdout
    shown = installed.run(
        "rota", "show", "--config", str(ROOT / "config" / "peerbridge.example.toml"), cwd=empty_folder
    )
    assert shown.returncode == 0, shown.stderr
    assert "Live rota, version 1" in shown.stdout
    assert (empty_folder / "data" / "redis").is_dir()  # storage.dir left empty: "data" where the command runs
