"""Refresh the README screenshots from the running app.

    python tools/screenshots.py [--out assets]

Starts the app in demo mode (its own port, outputs folder and working directory, no
YUNYX_* variables), generates three pictures through the page, then saves full-page
screenshots:

    screenshot-desktop-en.png   1280x900, en-US
    screenshot-desktop-zh.png   1280x900, zh-CN
    screenshot-phone-en.png     390x844 at 2x, mobile, en-US

and stops the app. Needs the `playwright` package and a Chromium (Debian's
`chromium`, or $CHROMIUM); it never downloads a browser.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (prompt, size): the last one stays in the result pane of the English desktop shot.
PROMPTS = [
    ("A red fox curled up asleep in fresh snow, soft morning light, shallow depth of field",
     "1024x576"),
    ("A cozy reading nook by a rainy window, warm lamp light, watercolor", "768x1024"),
    ("A lighthouse on a rocky coast at sunset, waves crashing, oil painting", "1024x1024"),
]

SHOTS = [
    # file name, locale, context options
    ("screenshot-desktop-en.png", "en-US", {"viewport": {"width": 1280, "height": 900}}),
    ("screenshot-desktop-zh.png", "zh-CN", {"viewport": {"width": 1280, "height": 900}}),
    ("screenshot-phone-en.png", "en-US", {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    }),
]


def load_helpers():
    """tests/browser.py, loaded by path (tests/ is not an installed package)."""
    spec = importlib.util.spec_from_file_location("_webui_browser_helpers", ROOT / "tests" / "browser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DemoApp:
    """`python launch.py --demo` in a temporary folder, until `stop()`."""

    def __init__(self, workdir: Path, timeout: float = 120) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = workdir / "app.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("YUNYX_")}
        env["GRADIO_ANALYTICS_ENABLED"] = "False"
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "launch.py"), "--demo", "--port", str(self.port),
             "--outputs", str(workdir / "outputs")],
            cwd=workdir,
            env=env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"the app exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the app did not answer GET / within {timeout:g} s:\n{self.log()}")
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def settle(page, helpers, gallery_items: int) -> None:
    """Wait until the page is ready for a picture: gallery full and loaded, nothing focused."""
    from playwright.sync_api import expect

    items = page.locator("#gallery .gallery-item")
    expect(items).to_have_count(gallery_items, timeout=helpers.TIMEOUT_MS)
    helpers.wait_for_images(page, "#gallery")
    helpers.wait_for_images(page, "#result")
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    page.mouse.move(0, 0)


def take_screenshots(url: str, out: Path, helpers) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    saved = []
    with sync_playwright() as playwright:
        browser = helpers.launch_chromium(playwright)
        try:
            for index, (name, locale, options) in enumerate(SHOTS):
                context = browser.new_context(locale=locale, **options)
                context.set_default_timeout(helpers.TIMEOUT_MS)
                page = context.new_page()
                page.goto(url)
                expect(page.locator("#banner")).to_be_visible(timeout=helpers.TIMEOUT_MS)
                helpers.wait_until_ready(page)
                if index == 0:
                    for prompt, size in PROMPTS:
                        page.locator(f'#size input[value="{size}"]').check()
                        helpers.generate(page, prompt)
                else:
                    # Show the newest picture the way a visitor would: click it in the history.
                    page.locator("#gallery .gallery-item").first.click()
                    expect(page.locator("#result img")).to_be_visible(timeout=helpers.TIMEOUT_MS)
                    expect(page.locator("#result-info")).not_to_be_empty(timeout=helpers.TIMEOUT_MS)
                settle(page, helpers, len(PROMPTS))
                path = out / name
                page.screenshot(path=str(path), full_page=True, animations="disabled")
                saved.append(path)
                print(f"saved {path}", flush=True)
                context.close()
        finally:
            browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets",
                        help="folder for the PNGs (default: assets/ in the repository)")
    args = parser.parse_args(argv)

    helpers = load_helpers()
    if helpers.find_chromium() is None:
        print("error: no Chromium found: install Debian's `chromium` or set $CHROMIUM", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="webui-screenshots-") as tmp:
        app = DemoApp(Path(tmp))
        print(f"demo app on {app.url}", flush=True)
        try:
            take_screenshots(app.url, args.out, helpers)
        except BaseException:
            print(f"--- app log ---\n{app.log()}", file=sys.stderr)
            raise
        finally:
            app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
