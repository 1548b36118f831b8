"""Stars, ratings, boards, bulk actions, trash and share packs, over `gradio_client` as a script
sees them; and private mode with two users for boards and exports."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from webui import metadata
from webui.db import database_files
from webui.storage import Storage

from .security import attack
from .support.apps import ServedApp, api_client, serve_app
from .support.team import login, member, users_file


def generate(client: Client, prompt: str, seed: int = 1) -> tuple[str, dict[str, Any]]:
    return client.predict(prompt, "FLUX.1-schnell", "768x512", False, seed, api_name="/generate")


def history(client: Client, query: str = "") -> list[dict[str, Any]]:
    return client.predict(query, 0, 500, api_name="/history")


def idat(png: bytes) -> bytes:
    """The image data chunks: what a rewrite of the marks must leave alone."""
    return b"".join(png[pos : pos + 12 + length] for pos, ctype, length in metadata._iter_chunks(png)
                    if ctype == b"IDAT")


@pytest.fixture(scope="module")
def app(module_app: ServedApp) -> ServedApp:
    """This module's own demo app (conftest `module_app`)."""
    return module_app


@pytest.fixture(scope="module")
def client(app: ServedApp) -> Client:
    return api_client(app.url)


def test_marks_go_into_the_index_and_the_png_but_never_the_pixels(app: ServedApp, client: Client) -> None:
    _, record = generate(client, "a marked lighthouse")
    path = app.outputs / record["file"]
    before = path.read_bytes()
    marked = client.predict(record["id"], True, 4, api_name="/mark")
    assert (marked["starred"], marked["rating"]) == (True, 4)
    after = path.read_bytes()
    assert idat(after) == idat(before) and after != before
    assert json.loads(metadata.read_text_chunks(after)["generation"])["rating"] == 4
    assert client.predict(record["id"], None, 0, api_name="/mark")["starred"] is True  # None leaves it
    assert [r["id"] for r in history(client, "lighthouse is:starred rating:0")] == [record["id"]]
    with pytest.raises(AppError, match="0 \\(none\\) to 5"):
        client.predict(record["id"], None, 9, api_name="/mark")
    with pytest.raises(AppError, match="is:pinned"):
        history(client, "lighthouse is:pinned")


def test_boards_bulk_and_saved_searches(client: Client) -> None:
    ids = [generate(client, f"a boarded fox {n}", seed=n)[1]["id"] for n in range(3)]
    records = client.predict(ids[:2], ["Foxes", "two words"], [], api_name="/board")
    assert [r["boards"] for r in records] == [["Foxes", "two words"]] * 2
    assert {r["id"] for r in history(client, 'board:"two words"')} == set(ids[:2])
    assert {r["id"] for r in history(client, "boarded fox -board:foxes")} == {ids[2]}
    client.predict(ids[:1], [], ["two words"], api_name="/board")
    assert [r["id"] for r in history(client, 'board:"two words"')] == [ids[1]]
    board = client.predict("Foxes", "Best foxes", None, api_name="/board_edit")
    assert board["name"] == "Best foxes" and board["images"] == 2
    assert history(client, "board:foxes") == []
    # bulk: the whole filter, not one page
    assert client.predict("boarded fox", [], True, 5, ["Everything"], [], False, api_name="/bulk") == {"count": 3}
    assert len(history(client, "board:Everything rating:>=5 is:starred")) == 3
    client.predict("Everything", api_name="/board_delete")
    assert history(client, "board:Everything") == [] and len(history(client, "boarded fox")) == 3
    assert "Everything" not in [b["name"] for b in client.predict(api_name="/boards")]
    saved = client.predict("top foxes", "boarded fox rating:5", api_name="/search_save")
    assert {"name": "top foxes", "query": "boarded fox rating:5"} in saved
    with pytest.raises(AppError, match="rating:9"):
        client.predict("bad", "rating:9", api_name="/search_save")


def test_delete_and_restore_by_record_id(app: ServedApp, client: Client) -> None:
    _, record = generate(client, "a restorable owl")
    client.predict(record["id"], True, 3, api_name="/mark")
    assert client.predict(record["id"], api_name="/delete") is None
    assert history(client, "restorable owl") == []
    assert record["id"] in [r["id"] for r in client.predict(api_name="/trash")]
    back = client.predict(record["id"], api_name="/restore")
    assert back["id"] == record["id"] and back["rating"] == 3 and (app.outputs / back["file"]).exists()
    assert [r["id"] for r in history(client, "restorable owl")] == [record["id"]]
    with pytest.raises(AppError, match="no longer in the history"):
        client.predict(record["id"], api_name="/restore")


def test_export_is_a_share_pack(app: ServedApp, client: Client) -> None:
    made = [generate(client, f'an exported "cat" <b>{n}</b>', seed=n)[1] for n in range(3)]
    client.predict(made[0]["id"], True, 5, api_name="/mark")
    client.predict([made[1]["id"]], ["Pack"], [], api_name="/board")
    pack = client.predict("exported", [], None, api_name="/export")
    with zipfile.ZipFile(pack) as archive:
        names = archive.namelist()
        listed = json.loads(archive.read("metadata.json"))
        rows = list(csv.DictReader(io.StringIO(archive.read("metadata.csv").decode("utf-8-sig"))))
        page = archive.read("index.html").decode()
        for record in made:
            assert archive.read(f"images/{record['file']}") == (app.outputs / record["file"]).read_bytes()
    assert {"metadata.json", "metadata.csv", "index.html"} <= set(names)
    assert [r["id"] for r in listed] == [r["id"] for r in made[::-1]] == [r["id"] for r in rows]
    assert listed[2]["starred"] is True and listed[1]["boards"] == ["Pack"]
    assert "&lt;b&gt;0&lt;/b&gt;" in page and "<b>0" not in page  # prompts are text, not markup
    assert "http" not in page.replace("http-equiv", "")  # no network
    only = client.predict("", [made[2]["id"]], None, api_name="/export")
    with zipfile.ZipFile(only) as archive:
        assert [n for n in archive.namelist() if n.startswith(("images/", "labelled/"))] == [
            f"images/{made[2]['file']}"]
    labelled = client.predict("", [made[2]["id"]], True, api_name="/export")
    with zipfile.ZipFile(labelled) as archive:
        original = archive.read(f"images/{made[2]['file']}")
        stamped = archive.read(f"labelled/{made[2]['file']}")
        assert original == (app.outputs / made[2]["file"]).read_bytes() and idat(stamped) != idat(original)
        assert f'src="labelled/{made[2]["file"]}"' in archive.read("index.html").decode()
    with pytest.raises(AppError, match="No images match"):
        client.predict("no such prompt anywhere", [], None, api_name="/export")


def test_png_info_batch_and_compare(client: Client) -> None:
    path, record = generate(client, "an inspected heron")
    info = client.predict(handle_file(path), api_name="/png_info")
    assert info["format"] == "png" and info["kind"] == "ours" and info["record"]["id"] == record["id"]
    batch = client.predict("a batch of stars", "FLUX.1-schnell", "768x512", False, 100, 3, False, api_name="/batch")
    assert [r["seed"] for _, r in batch] == [100, 101, 102] and all(Path(p).exists() for p, _ in batch)
    grid = client.predict("a compared moon", 7, ["FLUX.1-schnell", "stable-diffusion-3-5-large"], ["768x512"],
                          [False, True], api_name="/compare")
    assert [(r["model"], r["prompt_enhancement"], r["seed"]) for _, r in grid] == [
        ("FLUX.1-schnell", False, 7), ("FLUX.1-schnell", True, 7),
        ("stable-diffusion-3-5-large", False, 7), ("stable-diffusion-3-5-large", True, 7)]


def test_marks_and_boards_survive_a_rebuilt_index(tmp_path: Path) -> None:
    app = serve_app(tmp_path)
    try:
        c = api_client(app.url)
        _, record = generate(c, "a rebuilt crane")
        c.predict(record["id"], True, 2, api_name="/mark")
        c.predict([record["id"]], ["Cranes"], [], api_name="/board")
    finally:
        app.stop()
    for file in database_files(app.app.storage.index.path):
        file.unlink(missing_ok=True)
    store = Storage(app.outputs).open()
    try:
        [found] = store.index.search("board:Cranes is:starred")
        assert (found["id"], found["rating"], found["boards"]) == (record["id"], 2, ["Cranes"])
    finally:
        store.close()


# -- private mode, two users ---------------------------------------------------------------


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Iterator[ServedApp]:
    folder = tmp_path_factory.mktemp("team")
    served = serve_app(folder, "--users", str(users_file(folder)), "--private-history", "--demo")
    yield served
    served.stop()


def test_private_mode_boards_and_exports(team: ServedApp) -> None:
    alice, bob = member(team, "alice"), member(team, "bob")
    _, shared_one = generate(alice, "alice team heron")
    _, private_one = generate(alice, "alice secret heron")
    _, bobs = generate(bob, "bob own heron")
    alice.predict([shared_one["id"]], ["Team herons"], [], api_name="/board")
    alice.predict("Team herons", None, True, api_name="/board_edit")  # private by default: now shared
    alice.predict([private_one["id"]], ["Secret"], [], api_name="/board")

    # bob sees alice's image only on the shared board, and never her name
    assert [r["id"] for r in history(bob, "heron")] == [bobs["id"]]
    [seen] = history(bob, 'board:"team herons"')
    assert seen["id"] == shared_one["id"] and seen["user"] is None and seen["boards"] == ["Team herons"]
    assert history(bob, "board:Secret") == []
    # of others' boards he sees only the shared one (his own, from other tests here, may show too)
    assert [b["name"] for b in bob.predict(api_name="/boards") if not b["mine"]] == ["Team herons"]
    # he can neither change, delete nor rename what is hers
    for call in (lambda: bob.predict(shared_one["id"], True, None, api_name="/mark"),
                 lambda: bob.predict(private_one["id"], True, None, api_name="/mark"),
                 lambda: bob.predict(private_one["id"], api_name="/delete"),
                 lambda: bob.predict([private_one["id"]], ["Mine now"], [], api_name="/board")):
        with pytest.raises(AppError, match="no longer in the history"):
            call()
    with pytest.raises(AppError, match="Only the board's owner"):
        bob.predict("Team herons", "Bob's herons", None, api_name="/board_edit")
    # exports follow the same rules
    def exported(client: Client, query: str, ids: list[str]) -> list[dict[str, Any]]:
        with zipfile.ZipFile(client.predict(query, ids, api_name="/export")) as archive:
            return json.loads(archive.read("metadata.json"))
    assert [r["id"] for r in exported(bob, "heron", [])] == [bobs["id"]]
    team_pack = exported(bob, "board:\"Team herons\"", [])
    assert [r["id"] for r in team_pack] == [shared_one["id"]] and team_pack[0]["user"] is None
    with pytest.raises(AppError, match="no longer in the history"):
        exported(bob, "", [private_one["id"]])
    # the file routes follow: the shared image is served to him, the private one is not
    browser = login(team, "bob")
    outputs = team.outputs.resolve()
    assert browser.get(f"{team.url}gradio_api/file={outputs / shared_one['file']}", timeout=10).status_code == 200
    assert browser.get(f"{team.url}gradio_api/file={outputs / private_one['file']}", timeout=10).status_code == 404
    # the admin sees every image
    carol = member(team, "carol")
    assert {r["id"] for r in history(carol, "heron")} == {shared_one["id"], private_one["id"], bobs["id"]}



@attack(
    "Privacy",
    "In private mode bob shares a board `Trip` and keeps a board `Hidden`; alice, who has neither, puts images "
    "on `Trip` and `Hidden` (`/board`, `/bulk`), lists boards and searches `board:Trip`, `board:Hidden` (Gradio "
    "API and REST)",
    "alice's images go to her own new boards, bob's boards keep only his; alice's `board:Trip` finds her `Trip` "
    "and bob's shared one, `board:Hidden` only hers; bob sees none of alice's boards",
)
def test_board_names_belong_to_their_owner(team: ServedApp) -> None:
    alice, bob, carol = member(team, "alice"), member(team, "bob"), member(team, "carol")
    _, b_trip = generate(bob, "bob's lake trip")
    _, b_hidden = generate(bob, "bob's hidden cave")
    bob.predict([b_trip["id"]], ["Trip"], [], api_name="/board")
    bob.predict("Trip", None, True, api_name="/board_edit")
    bob.predict([b_hidden["id"]], ["Hidden"], [], api_name="/board")
    _, a_trip = generate(alice, "alice's dune trip")
    _, a_hidden = generate(alice, "alice's hidden dune")
    _, a_bulk = generate(alice, "alice's bulk dune")
    [added] = alice.predict([a_trip["id"]], ["Trip"], [], api_name="/board")
    assert added["boards"] == ["Trip"]
    alice.predict([a_hidden["id"]], ["hidden"], [], api_name="/board")
    assert alice.predict("bulk dune", [], None, None, ["Trip"], [], False, api_name="/bulk") == {"count": 1}

    def ids(client: Client, query: str) -> set[str]:
        return {r["id"] for r in history(client, query)}

    def boards(client: Client) -> list[dict]:
        return [b for b in client.predict(api_name="/boards") if b["name"].casefold() in ("trip", "hidden")]

    assert ids(bob, "board:Trip") == {b_trip["id"]} and ids(bob, "board:Hidden") == {b_hidden["id"]}
    assert boards(bob) == [{"name": "Hidden", "shared": False, "mine": True, "images": 1},
                                              {"name": "Trip", "shared": True, "mine": True, "images": 1}]
    assert ids(alice, "board:Trip") == {a_trip["id"], a_bulk["id"], b_trip["id"]}
    assert ids(alice, "board:Hidden") == {a_hidden["id"]}
    assert boards(alice) == [
        {"name": "hidden", "shared": False, "mine": True, "images": 1},
        {"name": "Trip", "shared": False, "mine": True, "images": 2},
        {"name": "Trip", "shared": True, "mine": False, "images": 1},
    ]
    assert ids(carol, "board:Trip") == {b_trip["id"]}  # the admin's own (none) and the shared one
    # taking an image off `Trip` touches alice's board only
    alice.predict([a_trip["id"]], [], ["Trip"], api_name="/board")
    assert ids(alice, "board:Trip") == {a_bulk["id"], b_trip["id"]} and ids(bob, "board:Trip") == {b_trip["id"]}
    # the REST API resolves names the same way
    rest = login(team, "alice")
    listed = rest.get(team.url + "api/v1/history", params={"q": "board:Trip"}, timeout=30).json()
    assert {r["id"] for r in listed} == {a_bulk["id"], b_trip["id"]}
    assert {r["id"] for r in rest.get(team.url + "api/v1/history", params={"q": "board:Hidden"},
                                      timeout=30).json()} == {a_hidden["id"]}


def test_the_history_tab_exports_its_whole_filter(app: ServedApp, client: Client) -> None:
    made = [generate(client, f'a filtered "quoted" gull {n}', seed=n)[1] for n in range(2)]
    page = app.app.handlers.curation
    pack, said = page.export_filter("filtered", "FLUX.1-schnell", "768x512", False, "", 1, None)  # type: ignore[arg-type]
    assert said == ""
    with zipfile.ZipFile(pack) as archive:
        assert {r["id"] for r in json.loads(archive.read("metadata.json"))} == {r["id"] for r in made}
    record, _, said = page.board_selected(made[0]["id"], "Gulls", True, None)  # type: ignore[arg-type]
    assert record["boards"] == ["Gulls"] and "“Gulls”" in said
    assert page.rate_selected(made[0]["id"], 2, None)[0]["rating"] == 2  # type: ignore[arg-type]
    # a refusal stays in the History status line in the visitor's words, not a toast
    _, _, said = page.board_selected(made[0]["id"], "   ", True, None)  # type: ignore[arg-type]
    assert 'data-state="error"' in said and "Error" not in said.replace('data-state="error"', "")
    _, box, said = page.star_selected("no-such-image", True, None)  # type: ignore[arg-type]
    assert box is False and 'data-state="error"' in said
    # done is said too (a board shows on no badge), in the visitor's words
    _, _, said = page.board_selected(made[0]["id"], "  Sea   trips ", True, None)  # type: ignore[arg-type]
    assert 'data-state="done"' in said and "Put this picture on the board “Sea trips”." in said
    _, _, said = page.board_selected(made[0]["id"], "Sea trips", False, None)  # type: ignore[arg-type]
    assert "Took this picture off the board “Sea trips”." in said
    # the marks come with the selection itself (one answer: nothing later can undo a star)
    from types import SimpleNamespace

    from webui.handlers.history import picture_controls

    select = app.app.handlers.history.select
    controls = select([made[0]["id"]], None, SimpleNamespace(index=0), None)[5:-1]  # (image … id, *controls, status)
    assert len(controls) == len(picture_controls(None))
    star, rating = controls[3:5]
    assert (star.value, rating.value) == (False, 2)
    # they act on the open picture: usable with one open, not with none (a stale id, a deleted image)
    assert all(c.interactive for c in controls)
    none = select([made[0]["id"]], None, SimpleNamespace(index=5), None)[5:-1]
    assert not any(c.interactive for c in none) and (none[3].value, none[4].value, none[5].value) == (False, 0, None)
    assert "value" not in controls[5].constructor_args  # opening a picture keeps a name typed before


def test_the_history_grid_acts_on_picked_images_or_the_whole_filter(app: ServedApp, client: Client) -> None:
    """The page's bulk buttons: picked ids, "all in this filter", never "everything" by accident."""
    from webui.handlers.selection import filter_query, read_picked

    made = [generate(client, f"a picked heron {n}", seed=n)[1] for n in range(3)]
    other = generate(client, "an unpicked crane", seed=9)[1]
    page = app.app.handlers.curation
    filters = ("picked heron", "", "", False, "")
    picked = json.dumps({"ids": [made[0]["id"], made[2]["id"]], "all": False})
    bar, dock, count = page.picks(picked, *filters, None)  # type: ignore[arg-type]
    assert "2 selected" in bar and "Select all 3 in this filter" in bar and dock.visible is True
    assert "2 selected" in count and 'data-picks="clear"' in count
    said = page.bulk_star(picked, True, *filters, None)  # type: ignore[arg-type]
    assert "2 pictures" in said and 'data-state="done"' in said
    starred = {r["id"] for r in client.predict("is:starred picked heron", 0, 50, api_name="/history")}
    assert starred == {made[0]["id"], made[2]["id"]}
    everything = json.dumps({"ids": [], "all": True})
    page.bulk_board(everything, "Herons", True, *filters, None)  # type: ignore[arg-type]
    on_board = {r["id"] for r in client.predict('board:"Herons"', 0, 50, api_name="/history")}
    assert on_board == {r["id"] for r in made}  # the whole filter, and nothing else
    pack, said = page.bulk_export(picked, *filters, None)  # type: ignore[arg-type]
    assert said == ""
    with zipfile.ZipFile(pack) as archive:
        assert {r["id"] for r in json.loads(archive.read("metadata.json"))} == {made[0]["id"], made[2]["id"]}
    for nothing in ("", "{}", '{"ids": [], "all": false}', "not json", '{"ids": "x", "all": 1}'):
        assert read_picked(nothing).empty
        said, _ = page.bulk_trash(nothing, "", "", "", False, "", None)  # type: ignore[arg-type]
        assert 'data-state="error"' in said and "No images match" in said
    assert 'data-state="done"' in page.bulk_trash(picked, *filters, None)[0]  # type: ignore[arg-type]
    left = {r["id"] for r in client.predict("", 0, 500, api_name="/history")}
    assert made[1]["id"] in left and other["id"] in left and made[0]["id"] not in left
    assert filter_query('a "b"', "M 1", "768x512", True, "ann", "bob") == 'a "b" model:"M 1" size:768x512 user:bob'


def test_query_chips_offer_tokens_and_saved_searches(app: ServedApp, client: Client) -> None:
    from webui.handlers.selection import active_tokens

    generate(client, "a chip test kestrel", seed=1)
    page = app.app.handlers.curation
    page.curator.board([r["id"] for r in client.predict("kestrel", 0, 5, api_name="/history")], None,
                       add=["AAA two words"])
    html = page.chips("kestrel is:starred", "Asia/Shanghai", None)  # type: ignore[arg-type]
    assert 'data-add="board:&quot;AAA two words&quot;"' in html and 'data-add="size:768x512"' in html
    assert 'data-remove="is:starred"' in html and 'data-add="is:starred"' not in html  # active: a chip to remove
    assert 'title="is:starred">★ Starred <span' in html  # an active token reads like its chip
    assert 'data-add="user:' not in html  # no login: nobody to filter by
    assert active_tokens('red -board:"a b" rating:>=4 photo:x') == ['-board:"a b"', "rating:>=4"]
    _, chips, _ = page.save_search_page("Kestrels", "kestrel", "", "", False, "", None, None)  # type: ignore[arg-type]
    assert 'data-run="kestrel"' in chips and "Kestrels" in chips
    query, chips = page.chip_clicked(json.dumps({"forget": "Kestrels"}), "kestrel", None, None)  # type: ignore[arg-type]
    assert query == "kestrel" and "Kestrels" not in chips
    assert "Kestrels" not in {s["name"] for s in page.searches(None)}  # type: ignore[arg-type]
    for action, before, after in (
        ({"add": 'board:"Two words"'}, "kestrel", 'kestrel board:"Two words"'),
        ({"remove": "board:a"}, "board:ab x board:a board:a", "board:ab x"),
        ({"remove": "rating:>=4"}, "rating:>=4 red", "red"),
        ({"run": "is:starred"}, "anything", "is:starred"),
    ):
        assert page.chip_clicked(json.dumps(action), before, None, None)[0] == after  # type: ignore[arg-type]
