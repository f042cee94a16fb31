"""Browser-test harness: one real console server (a `python run.py` subprocess on a scratch
SQLite database with the demo data), Debian's Chromium through Playwright, a fresh browser
context per page, and a screenshot of every open page when a test fails
(tests/e2e/artifacts/<test>.png).

E2E tests use `console_url`, `page`, `new_page` and `sign_in`, never the root conftest's `app`,
so they run once (SQLite), not once per database backend."""
import os
import re
import sys
from pathlib import Path

import pytest
from servers import flask_cli, server_env, start_servers

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "Demo@2026"
TIMEOUT_MS = 10_000
DEMO_ARGS = ["--scale", "0.1", "--orders", "400"]  # people, catalogue and demo orders
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    """Everything under tests/e2e/ is a browser test (`-m "not e2e"` leaves them out)."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def console_server(tmp_path_factory):
    """(base URL, environment) of a console served by a real process on a migrated,
    demo-seeded SQLite file; the environment runs `flask` commands on the same database."""
    workdir = tmp_path_factory.mktemp("e2e")
    env = server_env(f"sqlite:///{workdir / 'console.db'}")
    flask_cli(env, "init-db")
    flask_cli(env, "demo", *DEMO_ARGS)
    [server] = start_servers(env, workdir)
    yield server.url, env
    server.stop()


@pytest.fixture(scope="session")
def console_url(console_server):
    return console_server[0]


@pytest.fixture(scope="session")
def console_env(console_server):
    return console_server[1]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium")
    from playwright.sync_api import expect, sync_playwright
    expect.set_options(timeout=TIMEOUT_MS)  # two shared cores: give a busy server time
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, console_url, request):
    """new_page() opens a page in a fresh browser context (its own cookies: another user)."""
    contexts = []
    stem = re.sub(r"[^\w.-]+", "_", request.node.name)
    for stale in ARTIFACTS.glob(f"{stem}*.png"):  # an earlier failure of this same test
        if re.fullmatch(rf"{re.escape(stem)}(-\d+)?\.png", stale.name):
            stale.unlink()

    def open_page(locale="zh-CN"):
        context = browser.new_context(base_url=console_url, locale=locale,
                                      viewport={"width": 1400, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    reports = (getattr(request.node, f"report_{when}", None) for when in ("setup", "call"))
    if any(report is not None and report.failed for report in reports):
        _save_screenshots(stem, contexts)
    for context in contexts:
        context.close()


def _save_screenshots(stem, contexts):
    ARTIFACTS.mkdir(exist_ok=True)
    pages = [p for c in contexts for p in c.pages]
    for number, page in enumerate(pages, start=1):
        suffix = "" if number == 1 else f"-{number}"
        try:
            page.screenshot(path=str(ARTIFACTS / f"{stem}{suffix}.png"), full_page=True)
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"could not save a screenshot of {page.url}: {exc}", file=sys.stderr)


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def sign_in():
    """sign_in(page, "admin") logs in through the login form and waits for the console."""
    def do(page, identity, password=PASSWORD):
        page.goto("/login")
        page.fill("#identity", identity)
        page.fill("#password", password)
        page.click("#login-submit")
        page.wait_for_selector("#logout")
        return page
    return do
