"""Small Playwright helpers shared by the browser test and `tools/screenshots.py`.

No pytest here: the screenshot tool loads this file directly.
"""

from __future__ import annotations

import os
import re
import shutil

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Without the background-networking flags Chromium's own connections are refused on a
# closed network and slow everything down; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The two screens the page is checked on: a common laptop, and a phone (touch, no hover).
SCREENS = {"laptop": {"viewport": {"width": 1366, "height": 768}},
           "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
                     "has_touch": True}}

PROMPT = "#prompt textarea, #prompt input"  # the documented way to find the prompt box
TIMEOUT_MS = WAIT_MS = 30_000


# Debian's `chromium-headless-shell`: the same Chromium (Blink, V8, same release) without the
# browser's windows, as Playwright itself runs headless. A fresh page of this app costs it about
# 1.8 CPU-seconds against 2.8 in the full browser (renderer 1.0 against 1.7, browser process
# 0.2 against 0.5; measured here), and the browser tests use two cores.
HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
FULL_BROWSER = "/usr/bin/chromium"


def find_chromium(shell: bool = True) -> str | None:
    """Path of a Chromium executable: $CHROMIUM; else Debian's headless shell (unless `shell` is
    False: what people run, for the README's screenshots), Debian's chromium, or one on PATH."""
    for candidate in (os.environ.get("CHROMIUM"), HEADLESS_SHELL if shell else None, FULL_BROWSER):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_playwright(timeout_ms: int = TIMEOUT_MS):
    """At a browser test module's top: Playwright's `expect`, or skip the module.

    Skips when Chromium or Playwright is missing; under REQUIRE_BROWSER=1 (CI) that
    is a failure instead, so the browser tests can never be skipped quietly there.
    """
    import pytest

    try:
        from playwright.sync_api import expect
    except ImportError as exc:  # pragma: no cover - depends on the machine
        missing = f"the Python package playwright is not installed ({exc})"
    else:
        missing = None if find_chromium() else "no Chromium executable (/usr/bin/chromium or `chromium` on PATH)"
    if missing:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {missing}", pytrace=False)
        pytest.skip(missing, allow_module_level=True)
    expect.set_options(timeout=timeout_ms)
    return expect


def launch_chromium(playwright, executable: str | None = None):
    """A headless Chromium through Playwright, never a downloaded browser."""
    executable = executable or find_chromium()
    if executable is None:
        raise RuntimeError("no Chromium found (install Debian's `chromium` or set $CHROMIUM)")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)


# Gradio 6 serves the page with `head=` only in its config and appends those scripts to
# <head> after the app has mounted: until then the page is drawn and clickable, but
# the app's own key handling (Enter generates) is not there yet.
_HEAD_APPLIED = """() => {
  const config = window.gradio_config;
  if (!config) return false;
  if (!config.head) return true;
  const parsed = new DOMParser().parseFromString(`<head>${config.head}</head>`, "text/html");
  const wanted = [...parsed.head.querySelectorAll("script:not([src])")]
    .map((s) => s.textContent.trim()).filter(Boolean);
  const present = new Set([...document.scripts].filter((s) => !s.src).map((s) => s.textContent.trim()));
  return wanted.every((text) => present.has(text));
}"""


def wait_until_ready(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until the app is drawn (#prompt and #generate shown) and its `head=` scripts run."""
    from playwright.sync_api import expect

    expect(page.locator(PROMPT)).to_be_visible(timeout=timeout)
    expect(page.locator("#generate")).to_be_visible(timeout=timeout)
    page.wait_for_function(_HEAD_APPLIED, timeout=timeout)


def generate(page, prompt: str, timeout: float = TIMEOUT_MS) -> str:
    """Type `prompt`, click Generate, wait for the new result and its info line.

    Returns the result image's `src` (a new one: the previous result does not count).
    """
    from playwright.sync_api import expect

    image = page.locator("#result img")
    previous = image.get_attribute("src") if image.count() else None
    page.locator(PROMPT).fill(prompt)
    page.locator("#generate").click()
    expect(image).to_have_attribute("src", _other_than(previous), timeout=timeout)
    src = image.get_attribute("src")
    # The info line names the saved file, whose name is the result's file name.
    expect(page.locator("#result-info")).to_contain_text(src.rsplit("/", 1)[-1], timeout=timeout)
    return src


def wait_for_images(page, selector: str, timeout: float = TIMEOUT_MS) -> None:
    """Wait until every <img> under `selector` has loaded (gallery thumbnails are lazy)."""
    page.locator(selector).last.scroll_into_view_if_needed(timeout=timeout)
    page.wait_for_function(
        """(sel) => [...document.querySelectorAll(sel + ' img')]
                   .every(img => img.complete && img.naturalWidth > 0)""",
        arg=selector,
        timeout=timeout,
    )


def _other_than(previous: str | None):
    import re

    if not previous:
        return re.compile(r".+")
    return re.compile(rf"^(?!{re.escape(previous)}$).+")


# -- helpers for the journey tests (tests/test_browser_journeys.py) -------------------

_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const owner = e.id ? e : e.closest('[id]');
  return {tag: e.tagName.toLowerCase(), id: owner ? owner.id : '', html: e.outerHTML.slice(0, 300)};
}"""


def focused_control(page, cdp) -> dict | None:
    """What has keyboard focus, or None when nothing in the page has it.

    Returns tag, id (the element's or its nearest ancestor's), role and accessible
    name as Chromium computes them for screen readers (through `cdp`, a session from
    `page.context.new_cdp_session(page)`), and the start of its HTML.
    """
    info = page.evaluate(_FOCUSED)
    if info is None:
        return None
    handle = cdp.send("Runtime.evaluate", {"expression": "document.activeElement"})["result"]
    try:
        nodes = cdp.send("Accessibility.getPartialAXTree",
                         {"objectId": handle["objectId"], "fetchRelatives": False})["nodes"]
    finally:
        cdp.send("Runtime.releaseObject", {"objectId": handle["objectId"]})
    node = nodes[0] if nodes else {}
    info["role"] = (node.get("role") or {}).get("value", "")
    info["name"] = " ".join(str((node.get("name") or {}).get("value", "")).split())
    return info


def horizontal_overflow(page) -> int:
    """CSS pixels the page is wider than the window: 0 means no horizontal scrolling."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


_SETTLED = """(el) => {
  for (let e = el; e; e = e.parentElement) {
    if (getComputedStyle(e).opacity !== '1') return false;
    if (e.getAnimations().some((a) => a.playState === 'running' && !(a.effect && a.effect.getTiming().duration > 2000))) return false;
  }
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth;
}"""


def wait_until_settled(locator, timeout: float = TIMEOUT_MS) -> None:
    """Wait until an element has finished flying in: fully opaque, no short animation
    running on it or its ancestors, inside the window (e.g. a toast before a screenshot).
    Long animations (over 2 s, such as a toast's countdown bar) do not count."""
    handle = locator.element_handle(timeout=timeout)
    locator.page.wait_for_function(_SETTLED, arg=handle, timeout=timeout)


def record_errors(page, errors: list[str], label: str = "") -> None:
    """The suite's one rule for a page: uncaught JavaScript errors and console errors are
    appended to `errors`, and the test that owns the page fails when it is not empty."""
    prefix = f"{label}: " if label else ""
    page.on("pageerror", lambda error: errors.append(f"{prefix}pageerror: {error}"))
    page.on("console", lambda msg: errors.append(f"{prefix}console.{msg.type}: {msg.text}{_where(msg)}")
            if msg.type == "error" else None)


def _where(msg) -> str:
    """The resource a console message is about (a failed load names no URL in its text)."""
    url = (msg.location or {}).get("url")
    return f" ({url})" if url else ""


def _spaced(label: str) -> str:
    """`re.escape(label)` where a no-break space (which keeps "3 found" on one line) matches
    any space: Playwright reads some texts with it folded into an ordinary space."""
    return re.escape(label).replace("\u00a0", r"\s")


def open_history(page, lang: str = "en"):
    """Open the History tab (by its label in `lang`) and wait for its first listing, so a
    later search cannot be overtaken by it; returns the grid's thumbnails."""
    from playwright.sync_api import expect

    from webui.i18n import LABELS

    page.get_by_role("tab", name=LABELS[lang]["tab_history"], exact=True).click()
    listed = re.sub(r"\\\{\w+\\\}", r"\\d+", _spaced(LABELS[lang]["page_of"]))  # "Page 1 of 1 · 3 found"
    expect(page.locator("#history-page")).to_contain_text(re.compile(listed))
    return page.locator("#history_gallery .gallery-item")


def search_history(page, text: str, found: int, lang: str = "en"):
    """Search History (Enter submits) and wait until the page says `found` matches and shows
    them (a page of them at most); returns the grid's thumbnails."""
    from playwright.sync_api import expect

    from webui.handlers.history import PAGE_SIZE
    from webui.i18n import LABELS

    box = page.locator("#history-search textarea, #history-search input")
    box.fill(text)
    box.press("Enter")
    said = _spaced(LABELS[lang]["page_of"]).replace(re.escape("{total}"), str(found))  # "... · 3 found"
    said = re.sub(r"\\\{\w+\\\}", r"\\d+", said).replace("\\ ", r"\s*")
    expect(page.locator("#history-page")).to_have_text(re.compile(said))
    items = page.locator("#history_gallery .gallery-item")
    expect(items).to_have_count(min(found, PAGE_SIZE))
    return items



def open_fold(page, selector: str) -> None:
    """Open a closed gr.Accordion (Gradio mounts what is inside only once it is open)."""
    from playwright.sync_api import expect

    toggle = page.locator(f"{selector} > .label-wrap").first
    if "open" not in (toggle.get_attribute("class") or "").split():
        toggle.click()
    expect(toggle).to_have_class(re.compile(r"\bopen\b"))


_COUNT_SET = """({range, plan, value, pattern}) =>
  range.value === value && new RegExp(pattern).test(plan.textContent)"""


def set_batch_count(page, count: int) -> None:
    """Open the Batch fold and set "Images per click" to `count`, confirmed by the server.

    Gradio mounts a fold's contents only once it opens, and on a busy machine the slider
    can be drawn again after the first keystrokes reached it, dropping them (seen in CI):
    so this types again until the range shows `count` and the server's plan line names it.
    """
    import time

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    open_fold(page, "#batch")
    number = page.locator("#batch-count input[type=number]")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        number.fill(str(count))
        number.press("Enter")
        arg = {"range": page.locator("#batch-count input[type=range]").element_handle(),
               "plan": page.locator("#batch-plan").element_handle(),
               "value": str(count), "pattern": rf"(?<!\d){count}(?!\d)"}
        try:
            page.wait_for_function(_COUNT_SET, arg=arg, timeout=3_000)
            return
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise
