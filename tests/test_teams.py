"""Teams on one link: named users, private history, per-user daily limits, usage."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest
import requests
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

import launch
from webui.access import Access
from webui.handlers.history import HistoryHandlers
from webui.handlers.usage import UsageHandlers
from webui.quota import Quota
from webui.storage import Storage
from webui.trash import Trash

from .conftest import TEST_KEY
from .security import attack
from .support.apps import ServedApp, serve_app
from .support.fake_api import FakeApi
from .support.logs import logging_restored
from .support.team import PASSWORDS, login, member, users_file

LIMIT = 3


@pytest.fixture(scope="module")
def team(tmp_path_factory, fake) -> Iterator[ServedApp]:
    folder = tmp_path_factory.mktemp("team")
    app = serve_app(folder, "--users", str(users_file(folder)), "--private-history", "--daily-limit", str(LIMIT),
                    env=fake.app_env())
    yield app
    app.stop()


def generate(c: Client, prompt: str, seed: int = 1):
    return c.predict(prompt, "FLUX.1-schnell", "768x512", False, seed, api_name="/generate")


def cached_url(app: ServedApp, s: requests.Session, prompt: str) -> tuple[str, dict]:
    """Generate over Gradio's HTTP API as the session's user; the served file URL and the record."""
    event = s.post(app.url + "gradio_api/call/generate",
                   json={"data": [prompt, "FLUX.1-schnell", "768x512", False, 5]}, timeout=30).json()["event_id"]
    text = s.get(f"{app.url}gradio_api/call/generate/{event}", timeout=60).text
    data = json.loads(text.split("event: complete\ndata: ", 1)[1].splitlines()[0])
    return data[0]["url"], data[1]


def test_records_and_png_chunks_name_their_user(team: ServedApp) -> None:
    path, record = generate(member(team, "alice"), "alice's lighthouse")
    assert record["user"] == "alice"
    with Image.open(path) as img:
        assert json.loads(img.text["generation"])["user"] == "alice"
        assert "User: alice" in img.text["parameters"]


@attack(
    "Privacy",
    "In private mode, user A asks `/history` for everything",
    "only A's images; the admin sees all",
)
def test_private_history_shows_each_user_only_their_own(team: ServedApp) -> None:
    alice, bob, carol = member(team, "alice"), member(team, "bob"), member(team, "carol")
    generate(alice, "private alice picture")
    generate(bob, "private bob picture")
    assert {r["user"] for r in alice.predict("private", 0, 100, api_name="/history")} == {"alice"}
    assert {r["user"] for r in bob.predict("private", 0, 100, api_name="/history")} == {"bob"}
    assert {r["user"] for r in carol.predict("private", 0, 100, api_name="/history")} == {"alice", "bob"}


@attack(
    "Privacy",
    "User B fetches user A's image by its `file=` URL (outputs folder or Gradio's cache copy)",
    "404; A and the admin get it; without login 401/403",
)
def test_another_users_image_path_gets_nothing(team: ServedApp) -> None:
    alice, bob, carol = (login(team, n) for n in ("alice", "bob", "carol"))
    url, record = cached_url(team, alice, "alice only, by path")
    direct = f"{team.url}gradio_api/file={team.outputs.resolve() / record['file']}"
    for target in (url, direct):
        assert alice.get(target, timeout=10).status_code == 200
        assert carol.get(target, timeout=10).status_code == 200  # the admin sees all
        refused = bob.get(target, timeout=10)
        assert refused.status_code == 404 and b"IEND" not in refused.content
        assert requests.get(target, timeout=10).status_code in (401, 403, 404)  # not logged in


def test_daily_limit_refuses_without_calling_the_api_and_survives_a_restart(serve, tmp_path: Path, fake) -> None:
    users = users_file(tmp_path)
    env = fake.app_env()
    outputs = tmp_path / "outputs"
    app = serve("--users", str(users), "--daily-limit", "2", env=env, outputs=outputs)
    assert app.app.handlers.usage.quota is app.app.core.generator.quota  # one counter for the limit and Usage
    bob = member(app, "bob")
    generate(bob, "one")
    generate(bob, "two")
    before = fake.stats()["generation_requests"]
    with pytest.raises(AppError, match="used 2 of your 2 images") as caught:
        generate(bob, "three")
    assert "UTC" in str(caught.value)
    zh = member(app, "bob", headers={"Accept-Language": "zh-CN"})
    with pytest.raises(AppError, match="额度"):
        generate(zh, "three")
    assert fake.stats()["generation_requests"] == before  # no API call for a refused one
    carol = member(app, "carol")
    for _ in range(3):
        generate(carol, "admin is exempt")
    app.stop()
    again = serve("--users", str(users), "--daily-limit", "2", env=env, outputs=outputs)  # a fresh app, same folder
    with pytest.raises(AppError, match="used 2 of your 2"):
        generate(member(again, "bob"), "after restart")
    assert generate(member(again, "alice"), "alice still has hers")[1]["user"] == "alice"


@attack(
    "Flooding",
    "50 generations at once against a daily limit of 10",
    "exactly 10 made; the rest refused before any API call",
)
def test_fifty_at_once_with_a_limit_of_ten_gives_exactly_ten(serve, tmp_path: Path, fake) -> None:
    users = users_file(tmp_path)
    app = serve("--users", str(users), "--daily-limit", "10", "--concurrency", "8",
                "--visitor-queue", "50",  # the per-visitor cap would refuse first
                env=fake.app_env())
    alice = member(app, "alice")
    jobs = [alice.submit(f"burst {i}", "FLUX.1-schnell", "768x512", False, i, api_name="/generate")
            for i in range(50)]
    ok = refused = 0
    for job in jobs:
        try:
            job.result(timeout=120)
            ok += 1
        except AppError as exc:
            assert "used 10 of your 10" in str(exc)
            refused += 1
    assert (ok, refused) == (10, 40)
    assert len(list((app.outputs).rglob("*.png"))) == 10


def test_batches_count_each_image(closed_after, tmp_path: Path) -> None:
    """A generation through the generator's batch path counts once per image."""
    from webui.errors import DailyLimitError
    from webui.generator import Generator, validate
    from webui.quota import DailyLimits, Quota
    from webui.service import ImageService

    with FakeApi(api_key=TEST_KEY) as backend:
        service = ImageService(backend.base_url, TEST_KEY, timeout=10)
        storage = closed_after(Storage(tmp_path / "o").open())
        quota = Quota(storage.index, DailyLimits(per_user=3))
        gen = Generator(service, storage, 4, quota)
        jobs = [validate("batch", "FLUX.1-schnell", "768x512", False, i) for i in range(5)]
        outcomes = [o for _, o in gen.generate_many(jobs, "dave")]
        service.close()
    assert sum(isinstance(o, dict) for o in outcomes) == 3
    assert sum(isinstance(o, DailyLimitError) for o in outcomes) == 2
    assert storage.index.quota_used("dave", quota.today()) == 3


@attack("Privacy", "User B deletes user A's image by its id", "refused; only the owner or the admin can")
def test_delete_own_images_only_admin_any(closed_after, tmp_path: Path) -> None:
    from webui import i18n

    from .test_storage import png_bytes

    storage = closed_after(Storage(tmp_path / "o").open())
    alices = storage.save(png_bytes(), {"prompt": "a", "model": "m", "image_size": "768x512", "seed": 1, "user": "alice"})
    access = Access(storage.index, is_admin=lambda name: name == "carol")
    handlers = HistoryHandlers(storage, storage.index, access, Trash(storage, storage.index, access))
    as_bob = SimpleNamespace(username="bob", headers={})
    refused = handlers.delete(alices["id"], as_bob)  # said in the History status line
    said, undo_path = refused[-3], refused[-1]  # (confirm row, *opened, status, Undo, path to undo)
    assert i18n.message("not_yours", "en") in said and undo_path is None
    assert storage.index.get(alices["id"]) is not None
    handlers.delete(alices["id"], SimpleNamespace(username="carol", headers={}))
    assert storage.index.get(alices["id"]) is None


@attack("Privacy", "A user who is not the admin asks for the Usage table", "refused")
def test_usage_is_for_the_admin_only(closed_after, tmp_path: Path) -> None:
    import gradio as gr

    from .test_storage import png_bytes

    storage = closed_after(Storage(tmp_path / "o").open())
    for user, model in (("alice", "m1"), ("alice", "m1"), ("bob", "m2")):
        storage.save(png_bytes(), {"prompt": "p", "model": model, "image_size": "768x512", "seed": 1,
                                   "inference": 100, "user": user})
    usage = UsageHandlers(Quota(storage.index), is_admin=lambda name: name == "carol")
    with pytest.raises(gr.Error):
        usage.table(SimpleNamespace(username="alice", headers={}))
    table = usage.table(SimpleNamespace(username="carol", headers={"accept-language": "zh-CN"}))
    assert table.headers[1] == "用户"
    rows = usage.rows()
    assert sorted((r[1], r[2], r[3]) for r in rows) == [("alice", "m1", 2), ("bob", "m2", 1)]
    assert usage.visible(SimpleNamespace(username="alice", headers={})).visible is False


def test_bad_accounts_files_stop_the_app_with_file_and_line(tmp_path: Path, capsys) -> None:
    for content, words in (("alice:not-a-hash\n", "not a hash"), ("# ok\nbad line\n", ":2:")):
        path = tmp_path / "users.txt"
        path.write_text(content)
        with logging_restored():  # main() sets up logging as for a run
            assert launch.main(["--users", str(path), "--port", "0", "--outputs", str(tmp_path / "out")]) == 2
        stderr = capsys.readouterr().err
        assert str(path) in stderr and words in stderr
        assert "not-a-hash" not in stderr


@attack(
    "Leaks",
    "Look for any password in the page, its config, `/gradio_api/info`, the log, and fetch the accounts "
    "file by `file=`",
    "no password anywhere; the accounts file is not served",
)
def test_passwords_never_leak(team: ServedApp) -> None:
    s = login(team, "alice")
    requests.post(team.url + "login", data={"username": "bob", "password": "wrong-" + PASSWORDS["bob"]}, timeout=10)
    texts = [s.get(team.url + p, timeout=10).text for p in ("", "config", "gradio_api/info")]
    texts.append(team.log())
    for text in texts:
        for password in PASSWORDS.values():
            assert password not in text
    assert "Refused a login for user 'bob'" in team.log()
    users = (team.cwd / "users.txt").resolve()
    assert s.get(f"{team.url}gradio_api/file={users}", timeout=10).status_code in (403, 404)


@attack("Input", "A user name holding HTML and Markdown", "shown as text")
def test_user_names_are_shown_as_text() -> None:
    from webui.handlers.common import whoami

    shown = whoami(SimpleNamespace(username="<img src=x onerror=alert(1)>*bold*", headers={}))
    assert "<img" not in shown and "&lt;img" in shown and "\\*bold\\*" in shown
    assert whoami(SimpleNamespace(username=None, headers={})) == ""
