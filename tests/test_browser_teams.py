"""Two users and an admin on one shared app, in real Chromium: each sees what they should.

The app runs with --users, --private-history and a daily limit. Alice and Bob log in
from their own browsers; Carol is the admin.
"""

from __future__ import annotations

import re
from typing import Iterator

import pytest

from webui.i18n import LABELS

from .browser import PROMPT, SCREENS, generate, open_history, require_playwright, set_batch_count, wait_until_ready
from .conftest import ARTIFACTS
from .support.apps import ServedApp, serve_app
from .support.team import PASSWORDS, users_file

pytestmark = pytest.mark.browser
expect = require_playwright()

@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Iterator[ServedApp]:
    folder = tmp_path_factory.mktemp("team-browser")
    app = serve_app(folder, "--users", str(users_file(folder)), "--private-history", "--daily-limit", "2")
    yield app
    app.stop()


def log_in(browser, app: ServedApp, name: str, password: str | None = None, locale: str = "en-US"):
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(app.url)
    page.locator("#login-name").fill(name)
    page.locator("#login-password").fill(password or PASSWORDS[name])
    page.locator("#login-submit").click()
    return context, page


def test_two_users_and_an_admin_see_what_they_should(browser, team: ServedApp) -> None:
    alice_ctx, alice = log_in(browser, team, "alice")
    bob_ctx, bob = log_in(browser, team, "bob")
    carol_ctx, carol = log_in(browser, team, "carol")
    try:
        for page in (alice, bob, carol):
            wait_until_ready(page)
        alice.locator(PROMPT).fill("alice's secret garden")
        alice.locator("#generate").click()
        expect(alice.locator("#result img")).to_have_attribute("src", re.compile(r"\.png"))
        alice_src = alice.locator("#result img").get_attribute("src")

        bob.locator(PROMPT).fill("bob's harbour")
        bob.locator("#generate").click()
        expect(bob.locator("#result img")).to_have_attribute("src", re.compile(r"\.png"))

        # Bob's history holds his image only; Alice's is nowhere on his page.
        open_history(bob)
        expect(bob.locator("#history-page")).to_contain_text("1 found")
        expect(bob.locator("#history_gallery")).to_contain_text("bob's harbour")
        expect(bob.locator("#history_gallery")).not_to_contain_text("alice")
        expect(bob.locator("#gallery")).not_to_contain_text("alice")
        # …and Alice's image URL, copied into his browser, gives him nothing.
        url = alice_src if alice_src.startswith("http") else team.url + alice_src.lstrip("/")
        assert bob.request.get(url).status == 404
        assert alice.request.get(url).status == 200

        # The admin sees her own by default, everyone's with one click, and the Usage tab.
        open_history(carol)
        expect(carol.locator("#history-page")).to_contain_text("0 found")
        carol.locator("#history-mine input").uncheck()
        expect(carol.locator("#history-page")).to_contain_text("2 found")
        carol.get_by_role("tab", name="Usage").click()
        expect(carol.locator("#usage-table")).to_contain_text("alice")
        expect(carol.locator("#usage-table")).to_contain_text("bob")
        carol.screenshot(path=str(ARTIFACTS / "teams-usage.png"), full_page=True)

        # Non-admins have no Usage tab.
        expect(alice.get_by_role("tab", name="Usage")).to_have_count(0)
        expect(bob.get_by_role("tab", name="Usage")).to_have_count(0)

        # Bob's second image is his last for today; the third is refused with guidance.
        bob.get_by_role("tab", name="Generate").click()
        expect(bob.locator("#quota")).to_contain_text("1 of 2 left today")
        generate(bob, "bob again")  # waits for this new result, not the last one
        expect(bob.locator("#quota")).to_contain_text("0 of 2 left today")
        set_batch_count(bob, 3)
        expect(bob.locator("#batch-plan")).to_contain_text("You have 0 left today")
        set_batch_count(bob, 1)
        bob.locator(PROMPT).fill("bob once more")
        bob.locator("#generate").click()
        expect(bob.locator("#status .status-line")).to_contain_text("used 2 of your 2 images")
        expect(bob.locator("#retry")).to_be_hidden()
        bob.screenshot(path=str(ARTIFACTS / "teams-limit.png"))
    finally:
        for context in (alice_ctx, bob_ctx, carol_ctx):
            context.close()


@pytest.mark.parametrize("screen", ["laptop", "phone"])
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_login_page_speaks_the_visitors_language_keeps_the_name_and_says_whom_to_ask(
        browser, team: ServedApp, locale: str, screen: str) -> None:
    lang = locale[:2]
    words = LABELS[lang]
    context = browser.new_context(locale=locale, **SCREENS[screen])
    page = context.new_page()
    try:
        page.goto(team.url)
        expect(page).to_have_title(re.compile(re.escape(words["login_title"])))
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh" else "en")
        expect(page.locator("label[for=login-name]")).to_have_text(words["login_name"])
        expect(page.locator("#login-help")).to_have_text(words["login_help"])
        expect(page.locator("#login-submit")).to_have_text(words["login_button"])
        for selector in ("#login-name", "#login-password", "#login-submit", "#login-help"):
            expect(page.locator(selector)).to_be_in_viewport(ratio=1)
        page.locator("#login-name").fill("alice")
        page.locator("#login-password").fill("not-her-password")
        page.locator("#login-password").press("Enter")
        message = page.locator("#login-message")
        expect(message).to_have_text(words["login_failed"])
        expect(page.locator("#login-name")).to_have_value("alice")  # kept; only the password is cleared
        expect(page.locator("#login-password")).to_have_value("")
        expect(page.get_by_text(re.compile("incorrect|credentials|凭据", re.I))).to_have_count(0)
        expect(page.locator("#prompt")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / f"login-failed-{screen}-{locale}.png"))
        # The kept name and the right password: in, on the app's page.
        page.locator("#login-password").fill(PASSWORDS["alice"])
        page.locator("#login-submit").click()
        wait_until_ready(page)
    finally:
        context.close()
    assert "not-her-password" not in team.log()


def test_the_login_page_says_how_long_to_wait_when_throttled(browser, team: ServedApp) -> None:
    # As if through the share tunnel from its own address: the back-off it earns is its own.
    context = browser.new_context(locale="en-US", extra_http_headers={"X-Forwarded-For": "203.0.113.77"})
    page = context.new_page()
    try:
        page.goto(team.url)
        page.locator("#login-name").fill("nobody-here")
        message = page.locator("#login-message")
        for attempt in range(12):  # five free failures, then a wait that doubles each time
            page.locator("#login-password").fill(f"guess-{attempt}")
            page.locator("#login-submit").click()
            expect(message).not_to_be_empty()
            expect(page.locator("#login-submit")).to_be_enabled()
            if "Wait" in message.inner_text():
                break
        expect(message).to_have_text(re.compile(r"^Too many tries in a row\. Wait \d+ s and try again\.$"))
    finally:
        context.close()
