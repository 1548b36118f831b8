"""The app's own login page (webui/login_page.py): served to whoever has no session, in
their language; Gradio's page once logged in; never on an app without login."""

from __future__ import annotations

from pathlib import Path

import requests

from webui.accounts import add_user
from webui.i18n import LABELS

from .support.apps import ServedApp, serve_app


def test_the_login_page_is_ours_in_the_visitors_language_until_logged_in(tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    add_user(users, "dana", "dana-pass-5151")
    app = serve_app(tmp_path, "--users", str(users))
    try:
        for accept, lang in (("zh-CN,zh;q=0.9,en;q=0.5", "zh"), ("en-GB,en;q=0.8", "en"), ("", "en")):
            page = requests.get(app.url, headers={"Accept-Language": accept}, timeout=10)
            assert page.status_code == 200 and 'id="login-form"' in page.text
            assert LABELS[lang]["login_help"] in page.text and LABELS[lang]["login_failed"] in page.text
            assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
            assert "gradio_config" not in page.text  # not Gradio's page, not its config
        assert requests.head(app.url, timeout=10).status_code == 200

        refused = requests.post(app.url + "login", data={"username": "dana", "password": "wrong"}, timeout=10)
        assert refused.status_code == 400
        session = requests.Session()
        assert session.post(app.url + "login", data={"username": "dana", "password": "dana-pass-5151"},
                            timeout=10).ok
        page = session.get(app.url, timeout=10)
        assert page.status_code == 200 and 'id="login-form"' not in page.text
        # A cookie Gradio does not know is no session: the login page again.
        stranger = requests.get(app.url, cookies={"access-token-x": "forged"}, timeout=10)
        assert 'id="login-form"' in stranger.text
    finally:
        app.stop()


def test_an_app_without_login_never_shows_it(demo_app: ServedApp) -> None:
    page = requests.get(demo_app.url, timeout=10)
    assert page.status_code == 200 and 'id="login-form"' not in page.text
