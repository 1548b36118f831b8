"""The REST API at /api/v1: the page's login, private history and daily limit on every route.

One in-process team app (two users and an admin, private history, a daily limit of 2),
driven over HTTP as a script would: with the login cookie, with a personal API token,
and with nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.apps import launch
from tools.appprocess import free_port
from webui.app import App, create_app
from webui.config import Settings
from webui.rest import build_rest

from .security import attack
from .support.team import users_file

PASSWORDS = {"ann": "ann-correct-horse-1", "bob": "bob-battery-staple-2", "root": "root-admin-pass-3"}
TOKENS = {"tok-bob-7f3a9c": "bob"}  # stands in for personal API tokens (issue 16.12)
LIMIT = 2
ROUTES = ("history", "images/{id}", "images/{id}/png", "generate")


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Iterator[App]:
    folder = tmp_path_factory.mktemp("rest")
    users = users_file(folder, PASSWORDS, admin="root")
    settings = Settings(outputs=folder / "outputs", demo=True, port=free_port(), users_file=users,
                        private_history=True, daily_limit=LIMIT)
    app = create_app(settings)
    core = app.core
    app.rest = build_rest(core.storage, core.generator, _history_handlers(app), login_required=True,
                          token_user=TOKENS.get)
    launch(app)
    try:
        yield app
    finally:
        app.close()


def _history_handlers(app: App):
    from webui.access import Access
    from webui.handlers import HistoryHandlers
    from webui.trash import Trash

    store = app.storage
    access = Access(store.index, private=True, is_admin=app.core.is_admin)
    return HistoryHandlers(store, store.index, access, Trash(store, store.index, access))


def api(app: App) -> str:
    return f"http://127.0.0.1:{app.settings.port}/api/v1/"


def session(app: App, user: str | None = None, token: str | None = None) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    if user is not None:
        r = s.post(f"http://127.0.0.1:{app.settings.port}/login",
                   data={"username": user, "password": PASSWORDS[user]}, timeout=10)
        assert r.ok, r.text
    if token is not None:
        s.headers["Authorization"] = f"Bearer {token}"
    return s


def generate(s: requests.Session, app: App, prompt: str, seed: int = 1) -> requests.Response:
    return s.post(api(app) + "generate", json={"prompt": prompt, "seed": seed}, timeout=60)


@pytest.fixture(scope="module")
def made(team: App) -> dict[str, dict]:
    """One image each for ann (cookie) and bob (token)."""
    ann = generate(session(team, "ann"), team, "ann's red fox", 11)
    bob = generate(session(team, token="tok-bob-7f3a9c"), team, "bob's blue whale", 12)
    assert ann.status_code == bob.status_code == 200, (ann.text, bob.text)
    return {"ann": ann.json(), "bob": bob.json()}


def test_generate_saves_for_the_caller_and_answers_the_record(team: App, made: dict) -> None:
    assert made["ann"]["user"] == "ann" and made["bob"]["user"] == "bob"
    assert made["ann"]["seed"] == 11 and made["ann"]["prompt"] == "ann's red fox"
    assert (team.settings.outputs / made["ann"]["file"]).is_file()


@pytest.mark.parametrize("route", ROUTES)
def test_no_route_answers_without_a_login(team: App, made: dict, route: str) -> None:
    url = api(team) + route.format(id=made["ann"]["id"])
    for s in (session(team), session(team, token="not-a-token")):
        r = s.post(url, json={"prompt": "x"}, timeout=30) if route == "generate" else s.get(url, timeout=30)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] in ("login_required", "bad_token")
        assert "fox" not in r.text


def test_history_shows_each_user_only_their_own(team: App, made: dict) -> None:
    def owners(s: requests.Session, q: str = "") -> dict[str, str]:
        """Each listed image's prompt → its owner, as the admin's index knows it (other tests of
        this module add images too: what matters is whose they are)."""
        r = s.get(api(team) + "history", params={"q": q, "limit": 500}, timeout=30)
        assert r.status_code == 200, r.text
        return {rec["prompt"]: team.storage.index.get(rec["id"])["user"] for rec in r.json()}

    fox, whale = made["ann"]["prompt"], made["bob"]["prompt"]
    ann = owners(session(team, "ann"))
    assert fox in ann and set(ann.values()) == {"ann"}
    bob = owners(session(team, token="tok-bob-7f3a9c"))
    assert whale in bob and set(bob.values()) == {"bob"}
    assert owners(session(team, "bob")) == bob  # cookie and token: the same person
    assert owners(session(team, "root")) == {**ann, **bob}
    # query tokens are the page's: user:ann from bob finds nothing of ann's
    assert owners(session(team, token="tok-bob-7f3a9c"), "user:ann") == {}
    assert owners(session(team, "root"), "user:ann") == ann


def test_another_users_image_is_not_found_by_record_or_file(team: App, made: dict) -> None:
    ann_id = made["ann"]["id"]
    for other in (session(team, "bob"), session(team, token="tok-bob-7f3a9c")):
        for route in ("images/{id}", "images/{id}/png"):
            r = other.get(api(team) + route.format(id=ann_id), timeout=30)
            assert r.status_code == 404 and "fox" not in r.text
    ann = session(team, "ann")
    assert ann.get(api(team) + f"images/{ann_id}", timeout=30).json()["prompt"] == "ann's red fox"
    png = ann.get(api(team) + f"images/{ann_id}/png", timeout=30)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content == (team.settings.outputs / made["ann"]["file"]).read_bytes()  # byte for byte
    assert "private" in png.headers["cache-control"] and png.headers.get("etag")
    assert session(team, "root").get(api(team) + f"images/{ann_id}/png", timeout=30).status_code == 200


def test_daily_limit_holds_across_cookie_and_token(team: App, made: dict) -> None:
    bob_cookie, bob_token = session(team, "bob"), session(team, token="tok-bob-7f3a9c")
    assert generate(bob_cookie, team, "bob again", 13).status_code == 200  # 2 of 2 today
    refused = generate(bob_token, team, "bob once more", 14)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "daily_limit"
    zh = bob_token.post(api(team) + "generate", json={"prompt": "x"}, headers={"Accept-Language": "zh-CN"}, timeout=30)
    assert zh.status_code == 429 and any("\u4e00" <= c <= "\u9fff" for c in zh.json()["error"]["message"])


def test_bad_input_is_a_clear_400_and_saves_nothing(team: App, made: dict) -> None:
    root = session(team, "root")
    before = root.get(api(team) + "history", params={"limit": 500}, timeout=30).json()
    cases = [
        root.post(api(team) + "generate", json={"prompt": "   "}, timeout=30),
        root.post(api(team) + "generate", json={"prompt": "x", "image_size": "9x9"}, timeout=30),
        root.post(api(team) + "generate", data=json.dumps({"prompt": "x"}), timeout=30,
                  headers={"Content-Type": "text/plain"}),  # a cross-site form can't send JSON
        root.get(api(team) + "history", params={"q": "rating:lots"}, timeout=30),
        root.get(api(team) + "history", params={"limit": 0}, timeout=30),
    ]
    for r in cases:
        assert r.status_code == 400, r.text
        assert r.json()["error"]["message"]
    assert root.get(api(team) + "history", params={"limit": 500}, timeout=30).json() == before


@attack(
    "Logins",
    "Open the REST API's documentation (`/api/v1/docs`, `/api/v1/openapi.json`) of a team app without "
    "logging in, or with a wrong token",
    "401; with the login cookie or a personal token they answer; an app without login keeps them open",
)
def test_openapi_docs_describe_every_route_behind_the_login(team: App) -> None:
    for s in (session(team), session(team, token="not-a-token")):
        for route in ("openapi.json", "docs"):
            r = s.get(api(team) + route, timeout=30)
            assert r.status_code == 401 and "/generate" not in r.text and "swagger" not in r.text.lower(), route
    for s in (session(team, "ann"), session(team, token="tok-bob-7f3a9c")):
        schema = s.get(api(team) + "openapi.json", timeout=30).json()
        assert set(schema["paths"]) == {"/history", "/images/{record_id}", "/images/{record_id}/png", "/generate"}
        docs = s.get(api(team) + "docs", timeout=30)
        assert docs.status_code == 200 and "swagger" in docs.text.lower() and "/api/v1/openapi.json" in docs.text


def test_without_logins_the_api_is_open_like_the_page(tmp_path: Path) -> None:
    app = create_app(Settings(outputs=tmp_path / "outputs", demo=True, port=free_port()))
    launch(app)
    try:
        s = requests.Session()
        s.trust_env = False
        made = generate(s, app, "a lighthouse", 3)
        assert made.status_code == 200 and made.json()["user"] is None
        assert [r["id"] for r in s.get(api(app) + "history", timeout=30).json()] == [made.json()["id"]]
        assert s.get(api(app) + "history", headers={"Authorization": "Bearer nope"}, timeout=30).status_code == 401
        assert s.get(api(app) + "openapi.json", timeout=30).json()["paths"]
        assert s.get(api(app) + "docs", timeout=30).status_code == 200
    finally:
        app.close()
