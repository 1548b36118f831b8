"""Shared fixtures: a demo backend over HTTP, apps built in this process (`serve`, `demo_app`),
and, for the few tests about processes, the real app launched as one (`launch_app`)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
import uuid
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

import pytest
import requests
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tools.appprocess import AppProcess, clean_env, free_port, free_ports

from .support.apps import ServedApp, serve_app
from .support.fake_api import FakeApi

ROOT = Path(__file__).resolve().parent.parent
LAUNCH = ROOT / "launch.py"
ARTIFACTS = ROOT / "tests" / "artifacts"
T = TypeVar("T")
TEST_KEY = "sk-test-KEY-5b7e9c2d41f0"  # a known fake key to search for in leak tests

# Property tests: a quick look by default, 10,000 examples each where .ci/run sets
# HYPOTHESIS_PROFILE=ci. No deadline: a busy shared machine is not a failure.
hypothesis_settings.register_profile("dev", max_examples=100, deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.register_profile("ci", max_examples=10_000, deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.05, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def pngs(outputs: Path) -> set[Path]:
    """Saved images (hidden folders such as .thumbs and .trash left out)."""
    return {
        p for p in outputs.rglob("*.png")
        if not any(part.startswith(".") for part in p.relative_to(outputs).parts)
    }


def record_of(png: Path) -> dict:
    """The record a saved PNG carries in its `generation` chunk."""
    from PIL import Image

    with Image.open(png) as image:
        return json.loads(image.text["generation"])


def token() -> str:
    """A short unique word, to find one test's images among others'."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def backend() -> Iterator[FakeApi]:
    """A demo backend that requires TEST_KEY, like the real API requires yours."""
    with FakeApi(api_key=TEST_KEY) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A requests session that ignores proxies from the environment: everything here is loopback."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.fixture
def closed_after() -> Iterator[Callable[[T], T]]:
    """`closed_after(thing)` returns `thing` and closes it when the test ends, pass or fail:
    a Storage, a HistoryIndex, anything with close() (no SQLite file is left open)."""
    with ExitStack() as stack:
        yield lambda thing: stack.enter_context(closing(thing))


class LaunchedApp(AppProcess):
    """`python launch.py` started by a test, with its outputs folder."""

    def __init__(self, tmp: Path, args: Sequence[str], env: dict[str, str], port: int, outputs: Path) -> None:
        argv = [sys.executable, str(LAUNCH), "--port", str(port), "--outputs", str(outputs), *args]
        super().__init__(argv, cwd=tmp, port=port, env=env)
        self.outputs = outputs


def launch_app(tmp: Path, *args: str, env: dict[str, str] | None = None, port: int | None = None,
               outputs: Path | None = None) -> LaunchedApp:
    """Start `python launch.py` in `tmp` (its own cwd, so no stray .env) and wait for GET / = 200."""
    return _ready([LaunchedApp(tmp, args, clean_env(env), port or free_port(), outputs or tmp / "outputs")])[0]


def launch_apps(folders: Sequence[Path], *args: str, env: dict[str, str] | None = None,
                outputs: Path | None = None) -> list[LaunchedApp]:
    """`launch_app` in each folder, all started before the first is waited for: they start side by side."""
    ports = free_ports(len(folders))
    return _ready([LaunchedApp(tmp, args, clean_env(env), port, outputs or tmp / "outputs")
                   for tmp, port in zip(folders, ports)])


# `python launch.py` answers within seconds alone, but took 63 s on a 2-core machine loaded
# twenty-fold (two started together missed 90 s): the wait ends as soon as GET / answers or
# the process exits, so only a stuck start uses all of it.
START_TIMEOUT = 300


def _ready(apps: list[LaunchedApp]) -> list[LaunchedApp]:
    """Wait until every app answers GET / = 200; stop them all if one does not."""
    try:
        for app in apps:
            app.wait_ready(timeout=START_TIMEOUT, fail=AssertionError)
    except BaseException:
        for app in apps:
            app.stop()
        raise
    return apps


@pytest.fixture
def serve(tmp_path: Path):
    """`serve(*args, env=None, outputs=None, name="app", **settings_overrides)`: an app built in
    this process as `python launch.py *args` would build it (cwd a fresh folder under tmp_path),
    served on a free port, stopped after the test. Call it twice for two apps side by side."""
    apps: list[ServedApp] = []

    def serve_(*args: str, env: dict[str, str] | None = None, outputs: Path | None = None,
               name: str = "app", **overrides) -> ServedApp:
        app = serve_app(tmp_path / f"{name}-{len(apps)}", *args, env=env, outputs=outputs, **overrides)
        apps.append(app)
        return app

    yield serve_
    for app in apps:
        app.stop()


@pytest.fixture(scope="module")
def module_app(tmp_path_factory, request) -> Iterator[ServedApp]:
    """A demo app of the test module's own: no other module adds or deletes its images
    (a module's `app` fixture returns it where its tests count or delete what they made)."""
    app = serve_app(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
    yield app
    app.stop()


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory) -> Iterator[ServedApp]:
    """One in-process app in demo mode (no key), shared by the end-to-end tests: a test that
    needs a fresh history or its own settings uses `serve` instead."""
    app = serve_app(tmp_path_factory.mktemp("demo-app"))
    yield app
    app.stop()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeApi]:
    """A fake image API shared by a test module; it wants TEST_KEY, like the real one wants yours."""
    with FakeApi(api_key=TEST_KEY) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test (Debian's, through Playwright)."""
    from playwright.sync_api import sync_playwright

    from .browser import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


class PagePool:
    """Warm browser pages, kept between tests: one idle page per kind of context (locale and
    context options). A page handed out has no cookies and no storage left from the test before
    and is navigated to its app afresh (a new document and Gradio session, as after a reload);
    only its renderer is already running. That halves what opening the app costs: 1.25 against
    2.8 CPU-seconds a page, measured on the 2-core machine, with about a hundred pages a run."""

    def __init__(self, browser) -> None:
        self._browser = browser
        self._idle: dict[str, list[_PooledPage]] = {}
        self._all: list[_PooledPage] = []

    def take(self, locale: str, options: dict) -> "_PooledPage":
        key = json.dumps([locale, options], sort_keys=True, default=str)
        idle = self._idle.setdefault(key, [])
        if idle:
            return idle.pop()
        from .browser import WAIT_MS, record_errors

        context = self._browser.new_context(locale=locale, **options)
        context.set_default_timeout(WAIT_MS)
        pooled = _PooledPage(key, context, context.new_page())
        record_errors(pooled.page, pooled.errors, locale)
        self._all.append(pooled)
        return pooled

    def give_back(self, pooled: "_PooledPage") -> None:
        """Wipe what the test left (other pages, routes, storage, cookies) and keep the page idle;
        a page that cannot be wiped is closed instead."""
        try:
            for other in pooled.context.pages:
                if other is not pooled.page:
                    other.close()
            pooled.page.unroute_all(behavior="ignoreErrors")
            if pooled.page.url.startswith("http"):
                pooled.page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
            pooled.context.clear_cookies()
            pooled.page.goto("about:blank")
        except Exception:  # a crashed or closed page: no reuse
            self._all.remove(pooled)
            pooled.context.close()
            return
        pooled.errors.clear()
        self._idle[pooled.key].append(pooled)

    def close(self) -> None:
        for pooled in self._all:
            pooled.context.close()


@dataclasses.dataclass
class _PooledPage:
    key: str
    context: Any
    page: Any
    errors: list[str] = dataclasses.field(default_factory=list)  # the page's, since it was handed out


@pytest.fixture(scope="session")
def page_pool(browser) -> Iterator[PagePool]:
    pool = PagePool(browser)
    yield pool
    pool.close()


@pytest.fixture
def open_page(browser, page_pool, request):
    """`open_page(app=demo_app, locale="en-US", **context_options)`: a page on the app (ServedApp
    or LaunchedApp) with no cookies or storage from other tests, ready for input. Uncaught
    JavaScript errors and console errors on any page fail the test (tests/browser.py:
    record_errors). `init_script=` runs in the page before the app's own scripts (that page
    gets a browser context of its own)."""
    from playwright.sync_api import expect

    from .browser import WAIT_MS, record_errors, wait_until_ready

    pooled, contexts, errors = [], [], []

    def open_(app: ServedApp | LaunchedApp | None = None, locale: str = "en-US", init_script: str | None = None,
              **options):
        app = app or request.getfixturevalue("demo_app")
        if init_script:
            context = browser.new_context(locale=locale, **options)
            context.set_default_timeout(WAIT_MS)
            contexts.append(context)
            context.add_init_script(init_script)
            page = context.new_page()
            record_errors(page, errors, locale)
        else:
            pooled.append(page_pool.take(locale, options))
            page = pooled[-1].page
        page.goto(app.url)
        expect(page.locator("#banner")).to_be_visible()
        wait_until_ready(page)
        return page

    yield open_
    for context in contexts:
        context.close()
    for entry in pooled:
        errors.extend(entry.errors)
        page_pool.give_back(entry)
    assert not errors, f"JavaScript errors on the page: {errors}"


def pytest_xdist_auto_num_workers(config):
    """`-n auto` (pytest.ini) means every core for the suite or a marked part of it, but one
    process when the run names test files or tests: starting workers (each imports Gradio and
    starts its own browser) takes longer than such a run."""
    if any("::" in arg or Path(arg).is_file() for arg in config.args):
        return 0
    return None  # xdist's own count of the cores


# End-to-end tests get one more try, as Playwright's own test runner gives them on CI: a
# real browser and real app processes sharing 2 cores meet timing that no unit test does.
# The summary counts reruns ("1 rerun" and an R line with the reason); a test that fails
# twice fails the run, and each rerun seen in CI is a race to find and fix.
E2E_RERUNS = 1


def pytest_collection_modifyitems(config, items):
    if not config.pluginmanager.hasplugin("rerunfailures"):
        return
    for item in items:
        if item.get_closest_marker("browser") or item.get_closest_marker("process"):
            item.add_marker(pytest.mark.flaky(reruns=E2E_RERUNS))


def pytest_terminal_summary(terminalreporter):
    """Why each rerun test failed the first time: the race to fix, not just a count."""
    reruns = terminalreporter.stats.get("rerun", [])
    if reruns:
        terminalreporter.section("first failures of rerun tests")
        for report in reruns:
            terminalreporter.line(f"{report.nodeid}:")
            terminalreporter.line("\n".join(report.longreprtext.splitlines()[-25:]))
