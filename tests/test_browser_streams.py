"""What a page shows when it reads an event's streamed steps late, in real Chromium.

Gradio sends a generator's steps as patches, and its page applies each patch in place
onto the objects it handed out for the previous step. On a busy machine the page may
read a step only after the next one arrived, already patched: a step that skipped the
result image then emptied the update that showed it ("Done" and the info line, but no
picture; the CI failure of test_enter_generates_and_the_image_is_in_history_with_its_prompt).

A later step that skipped an output an earlier one set did the same to Stop (disabled
during the run), Try again and the record. Here the late reading is made certain instead
of a matter of load: the page gets each event's stream in one piece (the `page` fixture),
or, to look at a run while it is still in flight, its streams are held in the page and let
through by the test (`held`, with the fake API holding the run's last picture).
"""

from __future__ import annotations

import re
from typing import Iterator

import pytest

from .browser import PROMPT, WAIT_MS, require_playwright, set_batch_count, wait_for_images
from .conftest import TEST_KEY, token
from .support.apps import ServedApp, serve_app
from .support.fake_api import FakeApi

pytestmark = pytest.mark.browser

expect = require_playwright()

STREAMS = re.compile(r"/gradio_api/queue/data\b")


@pytest.fixture
def page(open_page, demo_app) -> Iterator:
    """The demo app in a page that gets every event stream (`/gradio_api/queue/data`) whole, once it ends."""
    def whole(route) -> None:
        route.fulfill(response=route.fetch(timeout=2 * WAIT_MS))

    page = open_page(demo_app)
    page.route(STREAMS, whole)
    yield page
    page.unroute_all(behavior="ignoreErrors")  # a stream still open when the page closes


def expect_result(page, prompt: str) -> str:
    """The result shows a saved PNG described by `prompt`, the one the info line names; its file name."""
    image = page.locator("#result img")
    expect(image).to_have_attribute("alt", re.compile(re.escape(prompt)))
    expect(image).to_have_attribute("src", re.compile(r"\.png$"))
    name = image.get_attribute("src").rsplit("/", 1)[-1]
    expect(page.locator("#result-info")).to_contain_text(name)
    return name


def test_a_picture_read_late_is_still_shown(page):
    for _ in range(2):  # the second replaces the first
        prompt = f"a lantern in the snow {token()}"
        page.locator(PROMPT).fill(prompt)
        page.locator(PROMPT).press("Enter")
        expect(page.locator("#status .status-line")).to_have_attribute("data-state", "done")
        expect_result(page, prompt)


def test_a_batch_read_late_ends_on_its_last_picture(page):
    set_batch_count(page, 3)
    expect(page.locator("#batch-results")).to_be_visible()
    prompt = f"three paper cranes {token()}"
    page.locator(PROMPT).fill(prompt)
    page.locator("#generate").click()
    expect(page.locator("#status .status-line")).to_have_attribute("data-state", "done")
    expect(page.locator("#batch-results .gallery-item")).to_have_count(3)
    expect_result(page, prompt)


# -- in flight: streams held in the page, let through by the test ---------------------------

# Wraps the page's fetch of `/gradio_api/queue/data` (Gradio's event streams). Once held, a
# stream keeps what arrives from a run's first step on (events without steps, such as the
# page's own loading, go on, so a stream they close is closed for the page too). `let()`
# hands what was kept to the page in one piece while the page reports itself hidden, as a
# background tab does: Gradio's client then applies every step of the piece (in place) before
# the page reads the first, so each step but the last is read late, for certain.
# `steps` counts the steps kept, `ended` the runs whose end was kept.
GATE = r"""(() => {
  const realFetch = window.fetch.bind(window);
  const gate = window.__streams = {holding: false, kept: [], steps: 0, runs: new Set(), ended: 0};
  const visibility = Object.getOwnPropertyDescriptor(Document.prototype, "visibilityState");
  let background = false;
  Object.defineProperty(document, "visibilityState", {
    configurable: true, get() { return background ? "hidden" : visibility.get.call(this); },
  });
  const send = (controller, part) => {
    if (part instanceof Uint8Array) controller.enqueue(part);
    else if (part === "end") controller.close();
    else controller.error(part);
  };
  gate.let = () => {
    background = true;
    setTimeout(() => { background = false; }, 0);
    const kept = gate.kept.splice(0);
    gate.steps = 0;
    gate.ended = 0;
    const byStream = new Map();
    for (const [controller, part] of kept) {
      if (!byStream.has(controller)) byStream.set(controller, []);
      byStream.get(controller).push(part);
    }
    for (const [controller, parts] of byStream) {
      const chunks = parts.filter((p) => p instanceof Uint8Array);
      const whole = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      chunks.reduce((at, c) => (whole.set(c, at), at + c.length), 0);
      if (whole.length) send(controller, whole);
      const end = parts.find((p) => !(p instanceof Uint8Array));
      if (end !== undefined) send(controller, end);
    }
  };
  gate.hold = () => { gate.holding = true; };
  gate.release = () => { gate.holding = false; gate.let(); };
  window.fetch = async (input, init) => {
    const response = await realFetch(input, init);
    const url = typeof input === "string" ? input : String(input.url || input);
    if (!url.includes("/gradio_api/queue/data") || !response.body) return response;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const body = new ReadableStream({
      start(controller) {
        const keep = (part, messages) => {
          const keeping = gate.kept.some(([c]) => c === controller)
            || (gate.holding && messages.some((m) => m.msg === "process_generating"));
          if (!keeping) { send(controller, part); return; }
          gate.kept.push([controller, part]);
          for (const m of messages) {
            if (m.msg === "process_generating") { gate.steps += 1; gate.runs.add(m.event_id); }
            if (m.msg === "process_completed" && gate.runs.has(m.event_id)) gate.ended += 1;
          }
        };
        (async () => {
          for (;;) {
            let read;
            try { read = await reader.read(); } catch (error) { keep(error, []); return; }
            if (read.done) { keep("end", []); return; }
            text += decoder.decode(read.value, {stream: true});
            const events = text.split("\n\n");
            text = events.pop();
            const messages = [];
            for (const event of events) {
              const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5)).join("\n");
              try { messages.push(JSON.parse(data)); } catch (e) { /* a heartbeat */ }
            }
            keep(read.value, messages);
          }
        })();
      },
      cancel(reason) { return reader.cancel(reason); },
    });
    return new Response(body, {status: response.status, statusText: response.statusText, headers: response.headers});
  };
})();"""


@pytest.fixture(scope="module")
def served(fake: FakeApi, tmp_path_factory) -> Iterator[ServedApp]:
    """The app against the fake API, whose `hold_after` keeps a run in flight."""
    app = serve_app(tmp_path_factory.mktemp("streams"), env={"YUNYX_API_KEY": TEST_KEY, "YUNYX_API_BASE": fake.base_url})
    yield app
    app.stop()


@pytest.fixture
def held(open_page, served: ServedApp, fake: FakeApi) -> Iterator:
    """A page on `served` whose event streams the test holds (`hold`) and lets through (`let_through`)."""
    page = open_page(served, init_script=GATE)
    yield page
    fake.set_faults(hold_after=None)  # nothing stays held at the API after a failed test
    page.evaluate("window.__streams.release()")
    fake.reset()


def hold(page) -> None:
    page.evaluate("window.__streams.hold()")


def let_through(page, steps: int = 0, ended: bool = False) -> None:
    """Wait until the held streams carry `steps` steps of a run (and its end, if `ended`),
    then hand them to the page together."""
    page.wait_for_function("([steps, ended]) => window.__streams.steps >= steps && window.__streams.ended >= ended",
                           arg=[steps, int(ended)])
    page.evaluate("window.__streams.let()")


def finish(page, fake: FakeApi) -> None:
    """Let the held picture go and give the page the rest of the run in one piece; then stop holding."""
    fake.set_faults(hold_after=None)
    let_through(page, ended=True)
    page.evaluate("window.__streams.release()")


# A run's steps: start, then a picture and a status line per picture but the last, then the end.
# With the API holding all but the first picture, start, picture and status reach the page together.
IN_FLIGHT_STEPS = 3


def test_stop_is_on_while_one_picture_is_made_and_off_after(held, fake):
    fake.set_faults(hold_after=0)
    hold(held)
    prompt = f"a kite over a harbour {token()}"
    held.locator(PROMPT).fill(prompt)
    held.locator("#generate").click()
    let_through(held, steps=1)  # start: the one step before the picture
    expect(held.locator("#status .status-line")).to_have_attribute("data-state", "waiting")
    expect(held.locator("#stop")).to_be_enabled()
    finish(held, fake)  # the picture and the end, read together
    expect(held.locator("#status .status-line")).to_have_attribute("data-state", "done")
    expect(held.locator("#stop")).to_be_disabled()
    expect_result(held, prompt)


def test_stop_is_on_through_a_batch_read_late_and_off_after(held, fake):
    set_batch_count(held, 2)
    fake.set_faults(hold_after=1)
    hold(held)
    prompt = f"two kites over a harbour {token()}"
    held.locator(PROMPT).fill(prompt)
    held.locator("#generate").click()
    let_through(held, steps=IN_FLIGHT_STEPS)
    expect(held.locator("#batch-results .gallery-item")).to_have_count(1)
    first = expect_result(held, prompt)  # its step read late, after the status line's
    expect(held.locator("#status .status-line")).to_have_attribute("data-state", "waiting")
    expect(held.locator("#stop")).to_be_enabled()
    expect(held.locator("#retry")).to_be_hidden()
    finish(held, fake)
    expect(held.locator("#status .status-line")).to_have_attribute("data-state", "done")
    expect(held.locator("#stop")).to_be_disabled()
    expect(held.locator("#batch-results .gallery-item")).to_have_count(2)
    assert expect_result(held, prompt) != first


def _compare_two_models(page) -> None:
    page.locator(PROMPT).fill(f"a kite over a harbour {token()}")
    page.get_by_role("tab", name="Compare", exact=True).click()
    expect(page.locator("#compare-plan")).to_contain_text("This makes 2 images")


def _matrix_of_two_prompts(page) -> None:
    word = token()
    page.get_by_role("tab", name="Matrix", exact=True).click()
    page.locator("#matrix-prompts textarea").fill(f"a red kite {word}\na blue kite {word}")
    expect(page.locator("#matrix-count")).to_contain_text("This makes 2 images")


@pytest.mark.parametrize("tab, prepare, grid", [
    ("compare", _compare_two_models, "#compare-grid td img"),
    ("matrix", _matrix_of_two_prompts, "#matrix-grid img"),
], ids=["comparison", "matrix"])
def test_stop_is_on_through_a_grid_run_read_late_and_off_after(held, fake, tab, prepare, grid):
    prepare(held)
    fake.set_faults(hold_after=1)
    hold(held)
    held.locator(f"#{tab}-run").click()
    let_through(held, steps=IN_FLIGHT_STEPS)
    expect(held.locator(grid)).to_have_count(1)
    expect(held.locator(f"#{tab}-status .status-line")).to_have_attribute("data-state", "waiting")
    expect(held.locator(f"#{tab}-stop")).to_be_enabled()
    finish(held, fake)
    expect(held.locator(f"#{tab}-status .status-line")).to_have_attribute("data-state", "done")
    expect(held.locator(f"#{tab}-stop")).to_be_disabled()
    expect(held.locator(grid)).to_have_count(2)
    wait_for_images(held, f"#{tab}-grid")  # file URLs relative to the page load
