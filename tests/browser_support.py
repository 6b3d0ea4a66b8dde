"""Real-browser helpers shared by the end-to-end tests: a Streamlit server on a free port with a
throwaway workspace, a headless Debian Chromium page (Playwright, no browser download), and
widget helpers that survive Streamlit's reruns."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from process_support import served

from crewbench.llm.local_server import free_loopback_port

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]




@pytest.fixture
def server(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium chromium-driver)")
    root = tmp_path / "ws"
    root.mkdir()
    for folder in ("roles", "crews", "scenarios", "policies"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("*.db", "__pycache__", ".cache"))
    port = free_loopback_port()
    env = {**os.environ, "CREWBENCH_WORKSPACE": str(root), "CREWBENCH_DB": str(tmp_path / "runs.db"),
           "CREWBENCH_HOME": str(tmp_path / "home")}
    env.pop("OPENAI_API_KEY", None)  # the preflight step expects no key
    url = f"http://127.0.0.1:{port}"
    with served([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                 "--server.port", str(port), "--server.address", "127.0.0.1",
                 "--browser.gatherUsageStats", "false"],
                ready_url=f"{url}/_stcore/health", log_path=tmp_path / "streamlit.log", timeout_s=60,
                cwd=REPO, env=env):
        yield url, root, tmp_path


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1700}, accept_downloads=True)
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        yield tab
        browser.close()


def _shot(page, name: str) -> None:
    folder = os.environ.get("CREWBENCH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(1200)  # let charts and graphs finish drawing
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _open(page, url: str, path: str, title: str) -> None:
    page.goto(f"{url}/{path}")
    page.get_by_role("heading", name=title).first.wait_for()
    _idle(page)


def _idle(page) -> None:
    # Streamlit shows a "running" status widget while the script runs.
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)


def _widget(page, testid: str, label: str):
    return page.locator(f'[data-testid="{testid}"]').filter(has=page.get_by_text(label, exact=True)).first


def _choose(page, testid: str, label: str, option: str) -> None:
    """Pick an option in a selectbox or multiselect by typing it and pressing Enter."""
    from playwright.sync_api import Error as PlaywrightError

    box = _widget(page, testid, label)
    for attempt in range(4):
        # A rerun can redraw the dropdown under the click on a loaded machine ("element was
        # detached"): open it again and retry, instead of waiting out one 60 s click.
        try:
            box.locator("input").first.click(timeout=15_000)
            box.locator("input").first.fill(option, timeout=15_000)
            page.get_by_role("option", name=option, exact=True).first.click(timeout=15_000)
            break
        except PlaywrightError:
            if attempt == 3:
                raise
            page.keyboard.press("Escape")
            _idle(page)
    _idle(page)


def _open_comparison_from_run(page) -> str:
    """After "Experiment finished": follow the run's own link to the Compare page and return
    the verdict's text."""
    link = page.get_by_role("link", name="Compare this experiment's crews")
    link.wait_for(timeout=60_000)
    _idle(page)
    link.click()
    page.get_by_role("heading", name="Compare").first.wait_for()
    _idle(page)
    page.get_by_text(" vs ").first.wait_for()
    return page.locator('[data-testid="stAlert"]').filter(has_text=" vs ").first.inner_text()
