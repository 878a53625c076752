"""Screenshots of the web view for the README: ``python docs/screenshots.py``.

Loads the bundled example into a temporary store, starts the real ``ledger serve`` on a
free loopback port, and photographs the agreement page with Playwright driving Debian's
Chromium (``apt-get install chromium``; Playwright's own browser download is not used):

    docs/images/agreement.png   the agreement on 2024-01-01, as known now

Needs the test extra (``pip install -e '.[test]'``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from ledger import Ledger
from ledger.testing.served import served

IMAGES = Path(__file__).resolve().parent / "images"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = {"agreement.png": "/agreements/openai-microsoft?as_of=2024-01-01"}


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        store = Path(directory) / "ledger.sqlite"
        with Ledger(str(store)) as ledger:
            ledger.load_example("openai-microsoft")
        env = {k: v for k, v in os.environ.items() if k != "LEDGER_STORE"}
        with served(store, env=env) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            for name, path in PAGES.items():
                page.goto(base + path, wait_until="networkidle")
                page.screenshot(path=IMAGES / name)
                print(f"wrote {IMAGES / name}")
            browser.close()


if __name__ == "__main__":
    main()
