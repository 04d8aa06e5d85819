"""The app in a real browser: Debian's Chromium driven headless by Playwright.

The app runs as `clincite serve` in its own process with the scripted extractive LLM and the
hashing embedder (stand-ins for the real models, so the test runs in seconds); everything
between the browser and the Python API is real. Skipped where Chromium or Playwright is absent;
.ci/run installs both. The screenshot is kept in $SCREENSHOT_DIR (default: tmp).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .apprunner import running_app
from .conftest import SAMPLE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - CI installs it
    sync_playwright = None

pytestmark = [pytest.mark.slow, pytest.mark.chroma, pytest.mark.skipif(
    CHROMIUM is None or sync_playwright is None,
    reason="needs Debian chromium and playwright (installed by .ci/run)")]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def app_url(tmp_path: Path):
    with running_app(SAMPLE, tmp_path) as url:
        yield url


def test_ask_see_cited_passage_upload_and_find(app_url: str, tmp_path: Path) -> None:
    shots = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    note = tmp_path / "zeta9.md"
    note.write_text("# ZETA-9 trial note\n\nThe fictional ZETA-9 study of ivosidenib reported "
                    "a 35.7% response rate in chondrosarcoma.\n", encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        expect(page.get_by_text("not medical advice")).to_be_visible(timeout=30_000)

        page.locator("#question textarea").fill(
            "How many participants in 1 patient group does the SBRT trial have?")
        page.locator("#ask").click()
        chat = page.locator("#chat")
        expect(chat).to_contain_text("checked against its quoted source", timeout=60_000)
        expect(chat).to_contain_text("43 participants in 1 patient group")
        marker = chat.get_by_role("link", name="[1]").first
        expect(marker).to_be_visible()
        source = page.locator("#sources #src-1")
        expect(source.locator("mark")).to_contain_text("43 participants in 1 patient group")
        marker.click()
        expect(source).to_be_in_viewport()
        page.screenshot(path=str(shots / "clincite-answer.png"), full_page=True)

        page.get_by_role("tab", name="Documents").click()
        page.locator("#upload input[type=file]").set_input_files(str(note))
        expect(page.locator("#upload-result")).to_contain_text("searchable now",
                                                               timeout=60_000)
        expect(page.locator("#documents")).to_contain_text("zeta9.md")
        page.get_by_role("tab", name="Ask").click()
        page.locator("#question textarea").fill(
            "What response rate did the ZETA-9 study of ivosidenib report?")
        page.locator("#ask").click()
        expect(chat).to_contain_text("35.7%", timeout=60_000)
        expect(page.locator("#sources")).to_contain_text("zeta9.md")
        page.screenshot(path=str(shots / "clincite-upload-answer.png"), full_page=True)
        browser.close()
