"""Refresh the README screenshots from the running app.

    python tools/screenshots.py [--out DIR] [--only NAME ...]

Starts the app in demo mode in a temporary folder (its own port, outputs folder and
working directory, no YUNYX_* variables), makes a few pictures through its `/generate`
API, then saves full-page screenshots from Chromium, 1366x768 unless noted:

    screenshot-desktop-en.png     Generate tab showing a result, en-US
    screenshot-desktop-zh.png     the same in zh-CN
    screenshot-phone-en.png       the same on a phone (390x844 at 2x, mobile, en-US): the first
                                  screen, as the phone shows it (not the whole page)
    screenshot-phone-zh.png       the same on a phone, zh-CN, scrolled to the picture as after
                                  Generate (Generate and Stop stay in the bar at the bottom)
    screenshot-history-en.png     History tab with one image selected
    screenshot-history-zh.png     the same in zh-CN
    screenshot-pnginfo-en.png     PNG Info with one of the app's own PNGs dropped in
    screenshot-pnginfo-zh.png     the same in zh-CN
    screenshot-compare-en.png     Compare tab after comparing the two models
    screenshot-team-usage-en.png  a second app with accounts (--users, --private-history,
                                  --daily-limit 5): the admin's Usage tab once Alice and
                                  Bob have made some pictures
    screenshot-login-zh.png       that app's login page after a wrong password, zh-CN

`--only NAME` (repeatable; `desktop-zh` or the file name) redoes just those shots, and
an app no chosen shot needs is not started. Both apps are stopped at the end. Needs
the `playwright` package and a Chromium (Debian's `chromium`, or $CHROMIUM); it never
downloads a browser.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python tools/screenshots.py` puts tools/ on the path, not the root
    sys.path.insert(0, str(ROOT))

from tools.appprocess import AppProcess, clean_env, free_port  # noqa: E402

FLUX, SD = "FLUX.1-schnell", "stable-diffusion-3-5-large"


# -- what to draw ----------------------------------------------------------------------

@dataclass(frozen=True)
class Picture:
    prompt: str
    size: str
    model: str = FLUX
    seed: int = -1
    enhance: bool = False


# The demo backend draws the same landscape for the same settings; these seeds were
# picked by eye. Oldest first: the last one is the picture the Generate shots show.
DEMO_PICTURES = [
    Picture("Snowy alpine ridges at first light, soft pastel sky, watercolor", "1024x576", FLUX, 10),
    Picture("A quiet mountain lake under a full moon, long exposure photo", "768x1024", SD, 3),
    Picture("Rolling hills in golden hour haze, oil painting", "768x512", SD, 11),
    Picture("Misty valley at dawn, layered mountains, Chinese ink painting", "576x1024", FLUX, 3),
    Picture("A calm alpine lake at sunset, mountains reflected in the water, 35 mm photo", "1024x1024", FLUX, 9),
]
HERO = DEMO_PICTURES[-1]
# PNG Info shows one whose file name fits the JSON view (long lines are cut there, not wrapped).
INSPECTED = DEMO_PICTURES[2]
# Starred and rated, so History's thumbnails show their badges (★, ★ · 5/5, 4/5).
MARKS = {HERO: (True, 5), DEMO_PICTURES[1]: (True, None), DEMO_PICTURES[2]: (None, 4)}
COMPARED = Picture("Desert mesas under a violet dusk sky, cinematic", "1024x1024", seed=5)

ADMIN = "carol"
PASSWORDS = {"alice": "alice-shots-4242", "bob": "bob-shots-9191", ADMIN: "carol-shots-7373"}
DAILY_LIMIT = 5
TEAM_PICTURES = {
    "alice": [
        Picture("A harbour at dawn, fishing boats, watercolor", "1024x576", FLUX, 21),
        Picture("A harbour at dawn, fishing boats, watercolor", "1024x576", SD, 21),
        Picture("Autumn forest path, warm light", "768x1024", FLUX, 8),
    ],
    "bob": [
        Picture("Night market lanterns in the rain, film photo", "1024x1024", SD, 14),
        Picture("A snowy cabin under the northern lights", "576x1024", FLUX, 30),
    ],
}

def load_helpers():
    """tests/browser.py, loaded by path (tests/ is not an installed package)."""
    spec = importlib.util.spec_from_file_location("_webui_browser_helpers", ROOT / "tests" / "browser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helpers = load_helpers()
DESKTOP, PHONE = helpers.SCREENS["laptop"], helpers.SCREENS["phone"]


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


# -- the apps --------------------------------------------------------------------------

class App(AppProcess):
    """`python launch.py --demo ARGS` in `workdir`, until `stop()`; remembers what was made on it."""

    def __init__(self, workdir: Path, *args: str, timeout: float = 120) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.outputs = workdir / "outputs"
        self.records: dict[Picture, dict[str, Any]] = {}
        argv = [sys.executable, str(ROOT / "launch.py"), "--demo", "--port", str(port),
                "--outputs", str(self.outputs), *args]
        super().__init__(argv, cwd=workdir, port=port, env=clean_env(), log_path=workdir / "app.log")
        try:
            self.wait_ready(timeout, fail=SystemExit)
        except BaseException:
            self.stop()
            raise

    def make(self, pictures: list[Picture], auth: tuple[str, str] | None = None) -> None:
        """Generate `pictures` in order through the `/generate` API (as `auth`'s user, if given)."""
        from gradio_client import Client

        client = Client(self.url, auth=auth, verbose=False, download_files=False)
        for picture in pictures:
            _file, record = client.predict(picture.prompt, picture.model, picture.size, picture.enhance,
                                           picture.seed, api_name="/generate")
            if not record.get("file"):
                raise SystemExit(f"/generate saved nothing for {picture.prompt!r}: {record}")
            self.records[picture] = record

    def mark(self, marks: dict[Picture, tuple[bool | None, int | None]]) -> None:
        """Star and rate pictures already made, through the `/mark` API (None leaves a mark as it is)."""
        from gradio_client import Client

        client = Client(self.url, verbose=False, download_files=False)
        for picture, (starred, rating) in marks.items():
            client.predict(self.records[picture]["id"], starred, rating, api_name="/mark")

    def png(self, picture: Picture) -> Path:
        return self.outputs / self.records[picture]["file"]


def start_demo(folder: Path) -> App:
    app = App(folder)
    app.make(DEMO_PICTURES)
    app.mark(MARKS)
    return app


def start_team(folder: Path) -> App:
    """The shared-app set-up: three accounts (Carol is admin), private history, a daily limit."""
    from webui.accounts import add_user

    folder.mkdir(parents=True, exist_ok=True)
    users = folder / "users.txt"
    for name, password in PASSWORDS.items():
        add_user(users, name, password, admin=(name == ADMIN))
    app = App(folder, "--users", str(users), "--private-history", "--daily-limit", str(DAILY_LIMIT))
    for name, pictures in TEAM_PICTURES.items():
        app.make(pictures, auth=(name, PASSWORDS[name]))
    return app


STARTERS: dict[str, Callable[[Path], App]] = {"demo": start_demo, "team": start_team}
# Each app's working folder, inside the temporary one: History shows paths under it.
FOLDERS = {"demo": "webui", "team": "team-webui"}


@dataclass
class Apps:
    """Starts (and sets up) each app the first time a shot needs it; `stop_all()` stops them."""

    folder: Path
    running: dict[str, App] = field(default_factory=dict)

    def get(self, kind: str) -> App:
        if kind not in self.running:
            self.running[kind] = app = STARTERS[kind](self.folder / FOLDERS[kind])
            print(f"{kind} app on {app.url} with {len(app.records)} pictures", flush=True)
        return self.running[kind]

    def stop_all(self) -> None:
        for app in self.running.values():
            app.stop()

    def print_logs(self) -> None:
        for kind, app in self.running.items():
            print(f"--- {kind} app log ---\n{app.log()}", file=sys.stderr)


# -- bringing a page into shape ----------------------------------------------------------

_BUSY = """() => [...document.querySelectorAll('[data-testid="status-tracker"]')]
  .every((e) => e.classList.contains('hide') || e.offsetParent === null)"""


def settle(page, *image_areas: str) -> None:
    """Wait until the page is ready for a picture: images loaded, nothing pending, no toast,
    fonts in, nothing focused or hovered, scrolled to the top."""
    for selector in image_areas:
        helpers.wait_for_images(page, selector)
    page.wait_for_function(_BUSY, timeout=helpers.TIMEOUT_MS)
    expect(page.locator(".toast-body")).to_have_count(0, timeout=helpers.TIMEOUT_MS)
    page.evaluate("() => document.fonts.ready")
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    page.mouse.move(0, 0)


def open_tab(page, tab_id: str) -> None:
    """Click a tab by its id (its label depends on the language) and wait until it is shown."""
    button = page.locator(f"#tab-{tab_id}-button")
    button.click()
    expect(button).to_have_attribute("aria-selected", "true")
    expect(page.locator(f"#tab-{tab_id}")).to_be_visible()


def short(picture: Picture) -> str:
    """The start of a prompt: enough to find its thumbnail, whose caption may be cut."""
    return picture.prompt[:40]


def select_in_history(page, app: App, picture: Picture) -> None:
    """On the History tab, click `picture`'s thumbnail and wait for its details."""
    expect(page.locator("#history-page")).to_contain_text(re.compile(r"\d"))
    page.locator("#history_gallery .gallery-item").filter(has_text=short(picture)).click()
    expect(page.locator("#history-path")).to_contain_text(app.png(picture).name)
    expect(page.locator("#history-image img")).to_be_visible()
    expect(page.locator("#history-card")).to_contain_text(str(picture.seed))


def log_in(page, name: str) -> None:
    """The app's login page (webui/login_page.py), as a person fills it in."""
    page.locator("#login-name").fill(name)
    page.locator("#login-password").fill(PASSWORDS[name])
    page.locator("#login-submit").click()


# -- the shots -----------------------------------------------------------------------------

def show_result(page, app: App) -> None:
    """Generate tab: the newest picture's settings in the form (History, then Reuse) and the
    picture itself in the result pane (a click on its thumbnail)."""
    open_tab(page, "history")
    select_in_history(page, app, HERO)
    page.locator("#reuse").click()
    expect(page.locator("#tab-generate")).to_be_visible()
    expect(page.locator(helpers.PROMPT)).to_have_value(HERO.prompt)
    expect(page.locator("#seed input")).to_have_value(str(HERO.seed))
    page.locator("#gallery .gallery-item").filter(has_text=short(HERO)).click()
    expect(page.locator("#result img")).to_have_attribute("src", re.compile(re.escape(app.png(HERO).name)))
    expect(page.locator("#result-info")).to_contain_text(app.png(HERO).name)
    expect(page.locator("#gallery .gallery-item")).to_have_count(len(app.records))
    settle(page, "#gallery", "#result")


def show_result_in_view(page, app: App) -> None:
    """As `show_result`, then the picture scrolled to the top, as a phone shows it after Generate."""
    show_result(page, app)
    page.evaluate("() => document.getElementById('result').scrollIntoView({block: 'start'})")


def show_history(page, app: App) -> None:
    open_tab(page, "history")
    select_in_history(page, app, HERO)
    settle(page, "#history_gallery", "#history-image")


def show_pnginfo(page, app: App) -> None:
    open_tab(page, "pnginfo")
    page.locator("#pnginfo-file input[type=file]").set_input_files(app.png(INSPECTED))
    expect(page.locator("#pnginfo-summary")).not_to_be_empty()
    expect(page.locator("#pnginfo-card")).to_contain_text(INSPECTED.prompt)
    expect(page.locator("#pnginfo-image img")).to_be_visible()
    settle(page, "#tab-pnginfo")


def show_compare(page, app: App) -> None:
    """Prompt, size and seed in the Generate form; Compare runs them on both models."""
    page.locator(helpers.PROMPT).fill(COMPARED.prompt)
    page.locator(f'#size input[value="{COMPARED.size}"]').check()
    page.locator("#seed input").fill(str(COMPARED.seed))
    open_tab(page, "compare")
    expect(page.locator("#compare-models .token")).to_have_text([FLUX, SD])
    page.locator("#compare-run").click()
    expect(page.locator("#compare-grid td img")).to_have_count(2)
    expect(page.locator("#compare-grid thead th[scope=col]")).to_have_text([FLUX, SD])
    expect(page.locator("#compare-status .status-line")).to_have_attribute("data-state", "done")
    settle(page, "#compare-grid")


def show_failed_login(page, app: App) -> None:
    """The login page after a mistyped password: the name kept, the message, whom to ask."""
    page.locator("#login-name").fill("alice")
    page.locator("#login-password").fill("a-mistyped-password")
    page.locator("#login-submit").click()
    expect(page.locator("#login-message")).not_to_be_empty()
    expect(page.locator("#login-name")).to_have_value("alice")
    settle(page)


def show_usage(page, app: App) -> None:
    """The admin unticks "Only my images" on History, then opens the Usage tab."""
    team_total = sum(len(pictures) for pictures in TEAM_PICTURES.values())
    open_tab(page, "history")
    mine = page.locator("#history-mine input")
    expect(mine).to_be_checked()
    mine.uncheck()
    expect(page.locator("#history-page")).to_contain_text(f"{team_total} found")
    page.get_by_role("tab", name="Usage").click()
    table = page.locator("#usage-table")
    for name in TEAM_PICTURES:
        expect(table).to_contain_text(name)
    settle(page)


@dataclass(frozen=True)
class Shot:
    name: str
    app: str  # "demo" or "team"
    locale: str
    device: dict
    stage: Callable[[Any, App], None]  # brings the opened page into the state to capture
    login: str | None = None
    ready: bool = True  # False: the shot is of the login page, before the app is drawn
    # False: only the window, as a phone shows it (a full-page capture would draw the phone's
    # fixed Generate bar in the middle of the page)
    full_page: bool = True

    @property
    def file(self) -> str:
        return f"screenshot-{self.name}.png"


# In this order: Compare adds two pictures, so it comes after the shots that count them.
SHOTS = [
    Shot("desktop-en", "demo", "en-US", DESKTOP, show_result),
    Shot("desktop-zh", "demo", "zh-CN", DESKTOP, show_result),
    Shot("phone-en", "demo", "en-US", PHONE, show_result, full_page=False),
    Shot("phone-zh", "demo", "zh-CN", PHONE, show_result_in_view, full_page=False),
    Shot("history-en", "demo", "en-US", DESKTOP, show_history),
    Shot("history-zh", "demo", "zh-CN", DESKTOP, show_history),
    Shot("pnginfo-en", "demo", "en-US", DESKTOP, show_pnginfo),
    Shot("pnginfo-zh", "demo", "zh-CN", DESKTOP, show_pnginfo),
    Shot("compare-en", "demo", "en-US", DESKTOP, show_compare),
    Shot("team-usage-en", "team", "en-US", DESKTOP, show_usage, login=ADMIN),
    Shot("login-zh", "team", "zh-CN", DESKTOP, show_failed_login, ready=False),
]


def take(browser, shot: Shot, app: App, out: Path) -> Path:
    """A fresh browser context (own session, language and device) for one screenshot."""
    context = browser.new_context(locale=shot.locale, color_scheme="light", **shot.device)
    context.set_default_timeout(helpers.TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(app.url)
        if shot.login:
            log_in(page, shot.login)
        if shot.ready:
            helpers.wait_until_ready(page)
        shot.stage(page, app)
        path = out / shot.file
        page.screenshot(path=str(path), full_page=shot.full_page, animations="disabled")
        print(f"saved {path}", flush=True)
        overflow = helpers.horizontal_overflow(page)
        if overflow > 0:
            print(f"  warning: the page is {overflow} px wider than the window", flush=True)
        return path
    finally:
        context.close()


def take_all(shots: list[Shot], apps: Apps, out: Path) -> list[Path]:
    from playwright.sync_api import expect as playwright_expect
    from playwright.sync_api import sync_playwright

    playwright_expect.set_options(timeout=helpers.TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = helpers.launch_chromium(playwright, helpers.find_chromium(shell=False))  # the browser people run
        try:
            return [take(browser, shot, apps.get(shot.app), out) for shot in shots]
        finally:
            browser.close()


# -- command line --------------------------------------------------------------------------

def shot_name(text: str) -> str:
    """`desktop-zh`, `screenshot-desktop-zh` and `screenshot-desktop-zh.png` all name one shot."""
    name = Path(text).name.removesuffix(".png").removeprefix("screenshot-")
    if name not in {shot.name for shot in SHOTS}:
        raise argparse.ArgumentTypeError(f"no shot {text!r}; choose from {', '.join(s.name for s in SHOTS)}")
    return name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets", metavar="DIR",
                        help="folder for the PNGs (default: assets/ in the repository)")
    parser.add_argument("--only", type=shot_name, action="append", metavar="NAME",
                        help="take only this shot (repeatable): " + ", ".join(s.name for s in SHOTS))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if helpers.find_chromium() is None:
        print("error: no Chromium found: install Debian's `chromium` or set $CHROMIUM", file=sys.stderr)
        return 2
    shots = [shot for shot in SHOTS if not args.only or shot.name in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="yunyx-") as tmp:
        apps = Apps(Path(tmp))
        try:
            take_all(shots, apps, args.out)
        except BaseException:
            apps.print_logs()
            raise
        finally:
            apps.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
