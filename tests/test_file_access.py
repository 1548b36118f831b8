"""What the file routes serve, over HTTP against a running app: only the app's images from the outputs
folder; in private mode every file route and URL form, GET, HEAD and Range, with two users' cookies
and the admin's; events that take a file; lists."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

import pytest
import requests

from .security import attack
from .support.apps import ServedApp, serve_app
from .support.events import Events, file_data
from .support.team import login, users_file

RANGE = {"Range": "bytes=0-99"}


def call(app: ServedApp, s: requests.Session, name: str, data: list) -> list:
    """Call a named endpoint over Gradio's HTTP API as the session's user; its output data."""
    event = s.post(f"{app.url}gradio_api/call/{name}", json={"data": data}, timeout=30).json()["event_id"]
    text = s.get(f"{app.url}gradio_api/call/{name}/{event}", timeout=60).text
    assert "event: complete" in text, text[-500:]
    return json.loads(text.split("event: complete\ndata: ", 1)[1].splitlines()[0])


def generate(app: ServedApp, s: requests.Session, prompt: str, model: str = "FLUX.1-schnell",
             size: str = "768x512") -> tuple[str, dict]:
    """Generate over Gradio's HTTP API as the session's user: the served cache copy's path and the record."""
    data = call(app, s, "generate", [prompt, model, size, False, 5])
    return data[0]["path"], data[1]


def on_two_boards(app: ServedApp, s: requests.Session, prompt: str, shared: str, private: str) -> tuple[str, dict]:
    """The session's user generates an image and puts it on a board shared with the team and on a
    private board (each set so, in either mode): as `generate`, the cache copy's path and the record."""
    path, record = generate(app, s, prompt)
    call(app, s, "board", [[record["id"]], [shared, private], []])
    call(app, s, "board_edit", [shared, None, True])
    call(app, s, "board_edit", [private, None, False])
    return path, record


def url_forms(path: str) -> list[str]:
    """The same file named every way Gradio's routes accept: both routes, encoded, dotted, doubled, relative."""
    folder, name = path.rsplit("/", 1)
    up = "/%2e%2e/" + folder.rsplit("/", 1)[-1] + "/"
    relative = os.path.relpath(path).replace("..", "%2e%2e")
    forms = [path, quote(path, safe=""), f"{folder}/./{name}".replace("/./", "/%2e/"), f"{folder}{up}{name}",
             f"{folder}//{name}", relative]
    return [f"gradio_api/file={f}" for f in forms] + [f"gradio_api/file/{path}", f"gradio_api/file/{quote(path)}"]


def fetch_all(app: ServedApp, s: requests.Session | None, path: str) -> list[tuple[str, int, bytes]]:
    """(what, status, body) for GET, HEAD and a Range GET of every URL form of `path`."""
    s = s or requests.Session()
    out = []
    for form in url_forms(path):
        url = app.url + form
        for method, headers in (("GET", {}), ("HEAD", {}), ("GET", RANGE)):
            r = s.request(method, url, headers=headers, timeout=10)
            out.append((f"{method} {form} {headers}", r.status_code, r.content))
    return out


def no_head(how: str, status: int) -> bool:
    """Gradio's `file/` route has no HEAD (405 for everyone)."""
    return how.startswith("HEAD gradio_api/file/") and status == 405


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Iterator[ServedApp]:
    folder = tmp_path_factory.mktemp("private-files")
    app = serve_app(folder, "--users", str(users_file(folder)), "--private-history")
    yield app
    app.stop()


@pytest.fixture(scope="module")
def alices(team: ServedApp) -> dict[str, str]:
    """Alice's image as every file the app serves: the PNG, its thumbnail, and Gradio's cache copies of both."""
    alice = login(team, "alice")
    cached_png, record = generate(team, alice, "alice's secret garden")
    events = Events(team.url, alice)
    page = events.find(writes=("history_gallery",))
    answer = events.call(page, ["", "", "", False, "", 1, None])
    assert answer["success"], answer
    gallery = answer["output"]["data"][0]["value"]
    cached_thumb = next(i["image"]["path"] for i in gallery if i["image"]["path"].endswith(f"{record['id']}.webp"))
    outputs = team.outputs.resolve()
    link = outputs / "innocent-looking.png"
    link.symlink_to(outputs / record["file"])
    return {
        "png": str(outputs / record["file"]),
        "thumbnail": str(team.app.storage.thumbnail(record)),
        "cached png": cached_png,
        "cached thumbnail": cached_thumb,
        "symlink to the png": str(link),
        "id": record["id"],
    }


@attack(
    "Privacy",
    "User B fetches user A's PNG, thumbnail, or Gradio's cache copy of either, through `file=` and `file/`, "
    "URL-encoded, with `.`, `..` and `//` segments, relative to the working folder, or via a symlink; "
    "by GET, HEAD and Range",
    "404 for every one; A and the admin get 200 (206 for a range)",
)
@pytest.mark.parametrize("what", ["png", "thumbnail", "cached png", "cached thumbnail", "symlink to the png"])
def test_every_file_route_decides_on_the_resolved_file(team: ServedApp, alices: dict[str, str], what: str) -> None:
    path = alices[what]
    assert Path(path).is_file()
    for name in ("alice", "carol"):
        for how, status, _ in fetch_all(team, login(team, name), path):
            assert status in (200, 206) or no_head(how, status), (name, how, status)
    for how, status, body in fetch_all(team, login(team, "bob"), path):
        assert (status == 404 or no_head(how, status)) and b"IEND" not in body and b"WEBP" not in body, (how, status)
    for how, status, body in fetch_all(team, None, path):
        assert (status in (401, 403, 404) or no_head(how, status)) and b"IEND" not in body and b"WEBP" not in body, (how, status)


@pytest.fixture(scope="module")
def open_app(tmp_path_factory) -> Iterator[ServedApp]:
    """An app without login whose outputs folder is its working folder (`--outputs .`), holding
    what a project folder holds, a moved-aside index, and a PNG that is not ours."""
    folder = tmp_path_factory.mktemp("outputs-dot")
    (folder / ".env").write_text("MAIL_PASSWORD=never-served\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("[core]\n\tsecret = never-served\n")
    shutil.copy(Path(__file__).resolve().parent.parent / "launch.py", folder / "launch.py")
    (folder / "notes.txt").write_text("never-served\n")
    app = serve_app(folder, outputs=folder)
    yield app
    app.stop()


@attack(
    "Files",
    "With `--outputs .`, `GET` every file in the outputs folder that is not an image of ours: "
    "`history.sqlite3.broken-<epoch>` (a moved-aside index), `.env`, `.git/config`, the source, a text file, "
    "a PNG the app did not make, a stray `.webp` in `.thumbs/`, a trashed image; every URL form, GET, HEAD, Range",
    "404; the app's own PNGs and thumbnails are still served",
)
def test_only_the_apps_own_images_are_served_from_the_outputs_folder(open_app: ServedApp) -> None:
    from PIL import Image

    _, record = generate(open_app, requests.Session(), "mine to serve")
    root = open_app.outputs.resolve()
    storage = open_app.app.storage
    thumb = storage.thumbnail(record)
    index = storage.index.path
    broken = storage.index.aside_path(1700000000)
    shutil.copy(index, broken)
    Image.new("RGB", (8, 8), "red").save(root / "not-ours.png")
    stray = thumb.with_name("0123456789abcdef.webp")
    stray.write_bytes(thumb.read_bytes())
    trashed = open_app.app.trash.delete(generate(open_app, requests.Session(), "to the trash")[1]["id"])
    refused = [broken, index, root / ".env", root / ".git" / "config", root / "launch.py", root / "notes.txt",
               root / "not-ours.png", stray, trashed]
    for path in refused:
        assert path.is_file(), path
        for how, status, body in fetch_all(open_app, None, str(path)):
            assert status in (403, 404) or no_head(how, status), (how, status)
            assert b"SQLite format 3" not in body and b"never-served" not in body and b"IEND" not in body, how
    for path in (root / record["file"], thumb):
        for how, status, _ in fetch_all(open_app, None, str(path)):
            assert status in (200, 206) or no_head(how, status), (how, status)


@attack(
    "Privacy",
    "User B sends user A's file paths (Gradio's cache copy, the PNG in the outputs folder, a symlink to it) "
    "as the PNG Info input over `/gradio_api/queue/join`",
    "refused as not found: nothing of A's prompt, seed or name; A and the admin read it",
)
def test_png_info_applies_the_owner_rule_to_a_named_file(team: ServedApp, alices: dict[str, str]) -> None:
    def inspect(name: str, what: str) -> dict:
        events = Events(team.url, login(team, name))
        return events.call(events.find(reads=("pnginfo-file",)), [file_data(alices[what]), "UTC"])

    for what in ("cached png", "png", "symlink to the png"):
        refused = inspect("bob", what)
        assert not refused["success"], (what, refused)
        assert "secret garden" not in json.dumps(refused) and "alice" not in json.dumps(refused), what
    for name in ("alice", "carol"):
        answer = inspect(name, "cached png")
        assert answer["success"] and "secret garden" in json.dumps(answer), answer


@attack(
    "Privacy",
    "User A calls the history-filters event (the page's, over `/gradio_api/queue/join`) to list every user, "
    "model and size",
    "A receives only A's own name, models and sizes; the admin receives everyone's",
)
def test_filter_choices_carry_only_the_users_own_values(team: ServedApp) -> None:
    generate(team, login(team, "bob"), "bob's own", model="stable-diffusion-3-5-large", size="1024x576")
    generate(team, login(team, "alice"), "alice's own")

    def choices(name: str) -> str:
        events = Events(team.url, login(team, name))
        answer = events.call(events.find(writes=("history-model", "history-size", "history-user", "history-mine")), [])
        assert answer["success"], answer
        return json.dumps(answer["output"]["data"])

    seen = choices("alice")
    assert "FLUX.1-schnell" in seen and "768x512" in seen
    assert "bob" not in seen and "stable-diffusion-3-5-large" not in seen and "1024x576" not in seen
    assert all(word in choices("carol") for word in ("alice", "bob", "stable-diffusion-3-5-large", "1024x576"))


@pytest.fixture(scope="module")
def alices_made(team: ServedApp) -> dict[str, str]:
    """Files the app made for alice in Gradio's folders: a share pack, a library export, a trash
    preview, a PNG Info download, and an upload of hers."""
    alice = login(team, "alice")
    _, record = generate(team, alice, "alice's zipped secret")
    call(team, alice, "recipe_save", ["alice's private recipe", "a {secret} plan", "", "", False, False, "", ""])
    events = Events(team.url, alice)
    library = events.call(events.find(writes=("library-export",)), [])
    assert library["success"], library
    _, trashed = generate(team, alice, "alice's trashed secret")
    call(team, alice, "delete", [trashed["id"]])
    trash = events.call(events.find(writes=("trash",)), ["UTC"])
    assert trash["success"], trash
    uploaded = alice.post(team.url + "gradio_api/upload", files={"files": ("mine.json", b'{"recipes": []}')},
                          timeout=10)
    assert uploaded.ok, uploaded.text
    return {
        "share pack": call(team, alice, "export", ["", [record["id"]], False])[0]["path"],
        "library export": library["output"]["data"][0]["path"],
        "trash preview": trash["output"]["data"][0]["value"][0]["image"]["path"],
        "upload": uploaded.json()[0],
    }


@attack(
    "Privacy",
    "User B fetches files the app made for user A in Gradio's cache: A's share-pack ZIP (`/export`), A's "
    "prompt-library export, A's trash preview, A's upload; through `file=` and `file/`, encoded, dotted, "
    "relative; by GET, HEAD and Range",
    "404 for every one: a file in Gradio's folders goes only to the users the app handed it to (and the admin)",
)
@pytest.mark.parametrize("what", ["share pack", "library export", "trash preview", "upload"])
def test_files_made_for_a_user_go_to_that_user_only(team: ServedApp, alices_made: dict[str, str],
                                                    what: str) -> None:
    path = alices_made[what]
    assert Path(path).is_file(), path
    for name in ("alice", "carol"):
        for how, status, _ in fetch_all(team, login(team, name), path):
            assert status in (200, 206) or no_head(how, status), (name, how, status)
    for how, status, body in fetch_all(team, login(team, "bob"), path):
        assert status == 404 or no_head(how, status), (how, status)
        assert b"secret" not in body and b"PK" not in body[:2], how


@attack(
    "Privacy",
    "User B sends user A's prompt-library export (its path in Gradio's cache) as the library-import input "
    "over `/gradio_api/queue/join`",
    "refused as not found: none of A's private recipes becomes B's",
)
def test_the_library_import_reads_only_the_visitors_own_files(team: ServedApp, alices_made: dict[str, str]) -> None:
    bob = login(team, "bob")
    events = Events(team.url, bob)
    answer = events.call(events.find(reads=("library-import",)), [file_data(alices_made["library export"])])
    assert not answer["success"], answer
    assert "alice's private recipe" not in json.dumps(call(team, bob, "recipes", []))


def clicked(events: Events, button: str) -> int:
    """The event a click on the button with this elem_id runs first."""
    target = events._ids[button]
    found = [d["id"] for d in events._deps if [target, "click"] in d.get("targets", [])]
    assert found, button
    return found[0]


def refused(app: ServedApp, s: requests.Session, name: str, data: list) -> str:
    """Call a named endpoint that must fail; the error event's text."""
    event = s.post(f"{app.url}gradio_api/call/{name}", json={"data": data}, timeout=30).json()["event_id"]
    text = s.get(f"{app.url}gradio_api/call/{name}/{event}", timeout=60).text
    assert "event: error" in text and "event: complete" not in text, text[-500:]
    return text


@attack(
    "Privacy",
    "User B reads, by id over the REST API (`/api/v1/images/{id}`), user A's image that A put on a board "
    "shared with the team, A also keeping it on a private board",
    "B gets the record without A's name and with only the boards B may see; A's private board stays unnamed",
)
def test_the_rest_api_shows_a_shared_image_as_the_visitor_may_read_it(team: ServedApp) -> None:
    alice, bob = login(team, "alice"), login(team, "bob")
    _, record = on_two_boards(team, alice, "a shared canyon", "Canyon team", "Alice private plans")
    seen = bob.get(f"{team.url}api/v1/images/{record['id']}", timeout=30)
    assert seen.status_code == 200, seen.text
    assert seen.json()["user"] is None and seen.json()["boards"] == ["Canyon team"], seen.json()
    assert "alice" not in seen.text.lower()
    mine = alice.get(f"{team.url}api/v1/images/{record['id']}", timeout=30).json()
    assert mine["user"] == "alice" and sorted(mine["boards"]) == ["Alice private plans", "Canyon team"]


@attack(
    "Privacy",
    "User B lists the prompt library, fills, runs as a matrix, updates and deletes user A's private recipe by "
    "its id, and saves a recipe of his own with A's private image as its example",
    "A's private recipe is in none of B's answers and every call on it is refused as not found; the example "
    "image is refused; A's shared recipe is listed without A's name",
)
def test_private_recipes_stay_private(team: ServedApp) -> None:
    alice, bob = login(team, "alice"), login(team, "bob")
    _, image = generate(team, alice, "alice's recipe example")
    private = call(team, alice, "recipe_save", ["Alice's hidden recipe", "a {color} kite", "", "", False, False,
                                                 "", image["id"]])[0]
    call(team, alice, "recipe_save", ["Alice's team recipe", "a {color} boat", "", "", False, True, "", ""])
    listed = call(team, bob, "recipes", [])[0]
    assert "Alice's hidden recipe" not in json.dumps(listed)
    [team_recipe] = [r for r in listed if r["name"] == "Alice's team recipe"]
    assert team_recipe["owner"] is None and "alice" not in json.dumps(listed).lower().replace("alice's", "")
    for name, data in (("recipe_fill", [private["id"], {"color": "red"}]),
                       ("recipe_save", ["taken", "a kite", "", "", False, True, private["id"], ""]),
                       ("recipe_delete", [private["id"]]),
                       ("matrix", ["", private["id"], {"color": ["red"]}, ["FLUX.1-schnell"], ["768x512"],
                                   [False], 1, ""]),
                       ("recipe_save", ["bob's", "a kite", "", "", False, True, "", image["id"]])):
        assert "kite" not in refused(team, bob, name, data).replace("a kite", ""), name
    assert call(team, alice, "recipe_fill", [private["id"], {"color": "red"}])[0]["prompt"] == "a red kite"


@attack(
    "Privacy",
    "User B lists the trash (`/trash` and the page's trash view), restores user A's trashed image by its id "
    "(`/restore`) and by its trash path (the page's Restore and Undo events), and lists A's saved searches",
    "B sees none of A's trashed images or searches; every restore is refused and A's image stays in the trash",
)
def test_another_users_trash_and_searches_are_out_of_reach(team: ServedApp) -> None:
    alice, bob = login(team, "alice"), login(team, "bob")
    _, record = generate(team, alice, "alice's binned sketch")
    call(team, alice, "search_save", ["alice's hunt", "binned sketch"])
    call(team, alice, "delete", [record["id"]])
    [(trash_path, _)] = [(p, r) for p, r in team.app.trash.items("alice") if r["id"] == record["id"]]
    assert "binned sketch" not in json.dumps(call(team, bob, "trash", []))
    assert "alice's hunt" not in json.dumps(call(team, bob, "searches", []))
    events = Events(team.url, bob)
    page_trash = events.call(events.find(writes=("trash",)), ["UTC"])
    assert page_trash["success"] and trash_path not in json.dumps(page_trash)
    refused(team, bob, "restore", [record["id"]])
    for button in ("trash-restore", "undo"):  # the path is sent where the page keeps it in a (server-side) state
        fn = clicked(events, button)
        answer = events.call(fn, [trash_path if value is None else value for value in events.inputs(fn, {})])
        assert "data" in answer["output"], answer  # the event ran (a malformed call would prove nothing)
        assert "binned" not in json.dumps(answer) and "restored" not in json.dumps(answer).lower(), answer
    assert any(r["id"] == record["id"] for _, r in team.app.trash.items("alice"))
    assert record["id"] not in {r["id"] for r in call(team, bob, "history", ["", 0, 500])[0]}


@attack(
    "Input",
    "Import into the prompt library (the `/recipes_import` endpoint and the page's upload) a 5 MB JSON text, "
    "JSON nested 100,000 deep, 2,000 recipes, a binary file and a 2 MB file",
    "each refused with the plain message that the file is not a prompt library; nothing is added; "
    "the app keeps answering",
)
def test_a_hostile_library_import_is_refused_cleanly(team: ServedApp) -> None:
    bob = login(team, "bob")
    before = call(team, bob, "recipes", [])[0]
    one = {"name": "n", "text": "a kite"}
    texts = [json.dumps({"recipes": [one] * 60_000}), "[" * 100_000 + "]" * 100_000,
             json.dumps({"recipes": [one] * 2000}), json.dumps({"recipes": {"deep": "[" * 100_000}})]
    for text in texts:
        answer = refused(team, bob, "recipes_import", [text])
        assert "not a prompt library" in answer or "library" in answer.lower(), answer[-300:]
    events = Events(team.url, bob)
    importing = events.find(reads=("library-import",))
    for name, body in (("binary.json", bytes(range(256)) * 64), ("huge.json", b"[" + b" " * 2_000_000 + b"]"),
                       ("deep.json", b"[" * 100_000 + b"]" * 100_000)):
        uploaded = bob.post(team.url + "gradio_api/upload", files={"files": (name, body)}, timeout=30)
        assert uploaded.ok, uploaded.text
        answer = events.call(importing, [file_data(uploaded.json()[0])])
        assert not answer["success"] and "library" in json.dumps(answer).lower(), (name, answer)
    assert call(team, bob, "recipes", [])[0] == before


def png_record(body: bytes) -> dict:
    """The `generation` record and the `parameters` text a PNG's bytes carry."""
    from webui import metadata

    chunks = metadata.read_text_chunks(body)
    return {**json.loads(chunks["generation"]), "parameters": chunks.get("parameters", "")}


def same_pixels(a: bytes, b: bytes) -> bool:
    from PIL import Image

    with Image.open(io.BytesIO(a)) as one, Image.open(io.BytesIO(b)) as two:
        return one.tobytes() == two.tobytes() and one.size == two.size


PRIVATE_CURATION = ("Alice's secret plans", '"starred":true', '"rating":4', "User: alice", '"user":"alice"')


@attack(
    "Privacy",
    "User A stars and rates an image and puts it on a board shared with the team and on a private board; user B "
    "fetches it by every door: `file=` and `file/` (every URL form; GET, HEAD, Range), `/api/v1/images/{id}/png`, "
    "a share pack (`/export`), PNG Info (the page's event and `/png_info`) with its chunk download, the History "
    "grid and pick; and filters the board by `is:starred`, `rating:`, `user:`",
    "B gets the same pixels and the generation settings, with the record in its chunks as B may read it: the "
    "shared board only, no star, rating or name of A's (a range is a slice of that copy; no badge in the grid; "
    "no filter matches A's marks or name); A's own downloads and share pack stay byte for byte as saved",
)
def test_a_shared_image_carries_none_of_its_owners_private_curation(team: ServedApp) -> None:
    alice, bob = login(team, "alice"), login(team, "bob")
    _, record = on_two_boards(team, alice, "alice's shared lighthouse", "Lighthouse team", "Alice's secret plans")
    call(team, alice, "mark", [record["id"], True, 4])
    png = team.outputs.resolve() / record["file"]
    saved = png.read_bytes()
    assert all(secret in png_record(saved)["parameters"] + json.dumps(png_record(saved), separators=(",", ":"))
               for secret in PRIVATE_CURATION)  # the owner's file holds it all

    def clean(body: bytes, what: str) -> None:
        assert not any(secret.encode() in body for secret in PRIVATE_CURATION), what

    received = []
    for how, status, body in fetch_all(team, bob, str(png)):
        assert status in (200, 206) or no_head(how, status), (how, status)
        clean(body, how)
        if status == 200 and how.startswith("GET") and "Range" not in how:
            received.append(body)
        if status == 206:
            assert len(body) == 100, how
    copy = received[0]
    assert all(body == copy for body in received) and same_pixels(copy, saved)
    seen = png_record(copy)
    assert seen["prompt"] == record["prompt"] and seen["seed"] == record["seed"] and seen["id"] == record["id"]
    assert seen["boards"] == ["Lighthouse team"] and not seen["starred"] and seen["rating"] == 0
    assert seen["user"] is None and "Seed: 5" in seen["parameters"]
    head = bob.get(f"{team.url}gradio_api/file={png}", headers=RANGE, timeout=10)
    assert head.status_code == 206 and head.content == copy[:100]

    def found(query: str) -> bool:
        return record["id"] in {r["id"] for r in call(team, bob, "history", [query, 0, 50])[0]}

    assert found('board:"Lighthouse team"') and found('board:"Lighthouse team" -is:starred rating:0')
    for probe in ("is:starred", "rating:>=4", "rating:4", "-rating:0", "user:alice"):  # filters can't tell either
        assert not found(f'board:"Lighthouse team" {probe}'), probe

    rest = bob.get(f"{team.url}api/v1/images/{record['id']}/png", timeout=30)
    assert rest.status_code == 200 and rest.content == copy

    pack = call(team, bob, "export", ["", [record["id"]], False])[0]["path"]
    fetched = bob.get(f"{team.url}gradio_api/file={pack}", timeout=30)
    assert fetched.status_code == 200
    with zipfile.ZipFile(io.BytesIO(fetched.content)) as archive:
        for name in archive.namelist():
            clean(archive.read(name), name)
        [image] = [n for n in archive.namelist() if n.startswith("images/")]
        assert archive.read(image) == copy

    events = Events(team.url, bob)  # bob picks it in his History grid: the page hands him a copy to show
    listed = events.call(events.find(writes=("history_gallery",)), ['board:"Lighthouse team"', "", "", False, "", 1,
                                                                     None])
    assert listed["success"], listed
    clean(json.dumps(listed["output"]["data"], separators=(",", ":")).encode(), "the History grid")
    assert "4/5" not in json.dumps(listed["output"]["data"]), "a star or rating badge of A's"
    picked = events.call(events.find(writes=("history-image", "history-record")), [None, "UTC"],
                         event_data={"index": 0, "value": None, "selected": True})
    assert picked["success"], picked
    handed = picked["output"]["data"][0]["path"]
    clean(json.dumps(picked["output"]["data"], separators=(",", ":")).encode(), "the History pick")
    fetched = bob.get(f"{team.url}gradio_api/file={handed}", timeout=10)
    assert fetched.status_code == 200 and fetched.content == copy
    page = events.call(events.find(reads=("pnginfo-file",)), [file_data(handed), "UTC"])
    assert page["success"] and "lighthouse" in json.dumps(page), page
    clean(json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode(), "PNG Info")
    clean(json.dumps(call(team, bob, "png_info", [file_data(handed)]), separators=(",", ":")).encode(), "/png_info")

    # the owner's own doors: the file as saved, byte for byte
    assert alice.get(f"{team.url}gradio_api/file={png}", timeout=10).content == saved
    assert alice.get(f"{team.url}api/v1/images/{record['id']}/png", timeout=30).content == saved
    with zipfile.ZipFile(call(team, alice, "export", ["", [record["id"]], False])[0]["path"]) as archive:
        assert archive.read(next(n for n in archive.namelist() if n.startswith("images/"))) == saved


def test_a_served_pngs_record_is_read_once_per_request(team: ServedApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file route decides in one step: the record that says whether a teammate's PNG may go is the
    one its copy is rewritten from (the verdict and the copy each read it before)."""
    alice, bob, carol = login(team, "alice"), login(team, "bob"), login(team, "carol")
    cached_png, record = on_two_boards(team, alice, "a lighthouse whose record is read once", "Read-once team",
                                       "Alice's read-once plans")
    png = str(team.outputs.resolve() / record["file"])
    reads: list[str] = []
    files = team.app.files

    def counted(name: str, read: Callable[[Path], object]) -> Callable[[Path], object]:
        return lambda path: (reads.append(name), read(path))[1]

    for owner, name in ((files.store, "image_at"), (files, "owner_record")):  # every record read of the guard's
        monkeypatch.setattr(owner, name, counted(name, getattr(owner, name)))
    for who, session, path, read in (("bob, a shared board's PNG", bob, png, "image_at"),
                                     ("the admin, alice's cache copy", carol, cached_png, "owner_record")):
        reads.clear()
        answer = session.get(f"{team.url}gradio_api/file={path}", timeout=10)
        assert answer.status_code == 200 and b"Alice's read-once plans" not in answer.content, who
        assert png_record(answer.content)["boards"] == ["Read-once team"], who  # the copy, made from that record
        assert reads == [read], (who, reads)


@attack(
    "Privacy",
    "Two app processes share an outputs folder (`--users --private-history`); user A generates and exports a "
    "share pack on the first, which is then killed (`kill -9`); A and user B fetch A's Gradio cache copies "
    "(the PNG, the ZIP) through the second",
    "A (and the admin) get them: the owner ledger lives in the history index, not in one process's memory; "
    "B still gets 404",
)
@pytest.mark.process
def test_files_handed_out_stay_their_owners_across_processes(tmp_path: Path) -> None:
    from .conftest import launch_apps

    users = users_file(tmp_path)
    folders = [tmp_path / "one", tmp_path / "two"]
    for folder in folders:
        folder.mkdir()
    first, second = launch_apps(folders, "--users", str(users), "--private-history",
                                outputs=tmp_path / "outputs")
    try:
        alice = login(first, "alice")
        cached_png, record = generate(first, alice, "alice's lasting secret")
        pack = call(first, alice, "export", ["", [record["id"]], False])[0]["path"]
        first.proc.kill()  # no clean stop: the cache copies stay, the memory is gone
        first.proc.wait(timeout=30)
        for path in (cached_png, pack):
            url = f"{second.url}gradio_api/file={path}"
            for name in ("alice", "carol"):
                assert login(second, name).get(url, timeout=30).status_code == 200, (name, path)
            refused = login(second, "bob").get(url, timeout=30)
            assert refused.status_code == 404 and b"secret" not in refused.content, path
    finally:
        first.stop()
        second.stop()


def test_without_private_mode_a_teammates_file_still_hides_their_private_boards(tmp_path: Path) -> None:
    """Without private history everyone sees every image, its author and its (shared) stars, but a
    private board is its owner's: its name leaves in no file handed to anyone else."""
    app = serve_app(tmp_path, "--users", str(users_file(tmp_path)))
    try:
        alice, bob = login(app, "alice"), login(app, "bob")
        _, record = on_two_boards(app, alice, "alice's open meadow", "Meadows", "Alice's drafts")
        call(app, alice, "mark", [record["id"], True, 3])
        png = app.outputs.resolve() / record["file"]
        assert b"Alice's drafts" in png.read_bytes()
        for body in (bob.get(f"{app.url}gradio_api/file={png}", timeout=10).content,
                     bob.get(f"{app.url}api/v1/images/{record['id']}/png", timeout=30).content):
            seen = png_record(body)
            assert b"Alice's drafts" not in body and same_pixels(body, png.read_bytes())
            assert seen["boards"] == ["Meadows"] and seen["user"] == "alice" and seen["starred"] and seen["rating"] == 3
        assert alice.get(f"{app.url}gradio_api/file={png}", timeout=10).content == png.read_bytes()
    finally:
        app.stop()


@attack(
    "Privacy",
    "User B uploads to PNG Info a PNG he made up whose `generation` record names the id of user A's private "
    "image (as his own, and as A's)",
    "B reads only what his file holds: nothing of A's prompt, seed or boards comes from the index",
)
def test_a_made_up_record_does_not_fetch_another_users_record(team: ServedApp) -> None:
    from PIL import Image

    from webui import metadata

    _, secret = generate(team, login(team, "alice"), "alice's unlisted observatory")
    call(team, login(team, "alice"), "board", [[secret["id"]], ["Alice's stargazing"], []])
    bob = login(team, "bob")
    events = Events(team.url, bob)
    inspect = events.find(reads=("pnginfo-file",))
    for owner in ("bob", "alice"):
        raw = io.BytesIO()
        Image.new("RGB", (8, 8), "black").save(raw, format="PNG")
        made_up = metadata.embed_record(raw.getvalue(), {"id": secret["id"], "user": owner, "prompt": "bob's probe",
                                                         "model": "m", "seed": 1})
        uploaded = bob.post(team.url + "gradio_api/upload", files={"files": ("probe.png", made_up)}, timeout=10)
        assert uploaded.ok, uploaded.text
        answer = json.dumps(events.call(inspect, [file_data(uploaded.json()[0]), "UTC"]))
        assert "observatory" not in answer and "stargazing" not in answer, (owner, answer[:500])


@pytest.mark.parametrize("header, answer", [
    ("", None), ("bytes=0-99", (0, 99)), ("bytes=-10", (90, 99)), ("bytes=10-", (10, 99)),
    ("bytes=0-1000", (0, 99)), ("bytes=200-", False), ("bytes=-0", False), ("bytes=5-3", False),
    ("bytes=0-1,5-6", None), ("items=0-1", None), ("bytes=a-b", None), ("bytes=-", None),
])
def test_a_rewritten_copy_answers_ranges_as_a_file_would(header: str, answer: object) -> None:
    """The Range header a teammate's copy is cut by (100 bytes): one range, the last N bytes, an open end;
    False is 416; None the whole copy (several ranges, another unit, nonsense)."""
    from webui.guard import _byte_range

    assert _byte_range(header, 100) == answer
