"""`peerbridge demo` stops on Ctrl-C with a browser on its page (long polls open to the page server, which holds
long polls open to both sandboxes) and with a conversation under way, well inside the 10 s a service manager
allows, leaving no port open."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from tests.browser import chromium, needs_chromium
from tests.process_fixtures import distinct_free_ports, port_open

ROOT = Path(__file__).resolve().parent.parent


@needs_chromium
async def test_ctrl_c_stops_the_whole_demo_with_a_browser_on_its_page(tmp_path: Path) -> None:
    ports = distinct_free_ports(4)
    telegram, web, page_port, discord = ports
    args = ["--port", str(telegram), "--web-port", str(web), "--page-port", str(page_port), "--discord-port",
            str(discord)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERBRIDGE_")}
    log = (tmp_path / "demo.log").open("wb")
    demo = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--data", str(tmp_path / "demo"), *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=log,
    )  # fmt: skip
    log.close()
    try:
        assert demo.stdout is not None
        async with asyncio.timeout(60):
            while b"Ctrl-C stops everything" not in await demo.stdout.readline():
                pass
        async with chromium(launch_timeout_ms=15_000) as browser:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            page.set_default_timeout(15_000)
            await page.goto(f"http://127.0.0.1:{page_port}/demo/")
            await page.locator("#status", has_text="live").wait_for()
            await page.fill("#phone-input", "hi, is anyone there?")
            await page.click("#phone-send")
            await page.locator("#phone-chat .bubble.from-bot", has_text="You are in the queue").wait_for()
            await asyncio.sleep(0.5)  # the page's long polls are open again
            asked = time.monotonic()
            demo.send_signal(signal.SIGINT)
            async with asyncio.timeout(10):  # what systemd's default stop timeout would still allow, with margin
                code = await demo.wait()
            took = time.monotonic() - asked
            print(f"demo stopped {took:.2f} s after Ctrl-C with a browser on its page")
        assert code == 0, (tmp_path / "demo.log").read_text()[-2000:]
        assert not any(port_open(port) for port in ports)
        assert "Traceback" not in (tmp_path / "demo.log").read_text()
    finally:
        if demo.returncode is None:
            demo.kill()
            await demo.wait()
