"""The record type, the search language and how the index answers it."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from webui import metadata
from webui.history import SCHEMA_VERSION, HistoryIndex
from webui.query import Query, QueryError, Term, parse_query
from webui.record import INFOTEXT_FIELDS, ROW_COLUMNS, Record, form_values
from webui.storage import INDEX_NAME


def rec(n: int, **fields: Any) -> Record:
    base = {"id": f"r{n}", "file": f"2026-03-01/{n:05d}.png", "created_at": f"2026-03-{n:02d}T00:00:00.000Z",
            "prompt": f"prompt {n}", "model": "FLUX.1-schnell", "image_size": "1024x1024", "seed": n}
    return Record.from_mapping({**base, **fields})


# -- the record ---------------------------------------------------------------------------


def test_one_declaration_gives_json_infotext_row_and_form() -> None:
    record = rec(1, prompt="a cat", inference=1234, starred=True, rating=4, boards=["best", "best", " "])
    data = record.to_dict()
    assert list(data)[:3] == ["id", "created_at", "user"]
    assert data["boards"] == ["best"] and data["starred"] is True and data["rating"] == 4
    assert Record.from_json(record.to_json()) == record
    assert metadata.infotext(data).endswith("Seed: 1, Size: 1024x1024, Model: FLUX.1-schnell, "
                                            "Prompt enhancement: False, Inference: 1234")
    assert [f.key for f in INFOTEXT_FIELDS] == ["seed", "image_size", "model", "prompt_enhancement", "inference",
                                               "user"]
    assert len(record.row()) == len(ROW_COLUMNS) and json.loads(record.row()[-1]) == data
    assert record.form_values() == ("a cat", "FLUX.1-schnell", "1024x1024", False, 1)
    assert form_values(data, seed=-1)[-1] == -1


def test_values_from_anywhere_are_cleaned_and_unknown_keys_kept() -> None:
    record = Record.from_mapping({"id": 7, "seed": "12", "inference": float("nan"), "rating": 99, "starred": "yes",
                                  "boards": "not a list", "prompt_enhancement": 1, "raw": {"Steps": "20"}})
    assert (record.id, record.seed, record.inference, record.rating, record.starred) == ("7", None, None, 5, False)
    assert record.boards == () and record.prompt_enhancement is False
    assert record.to_dict()["raw"] == {"Steps": "20"}
    assert record.with_marks(rating=-3, starred=True).rating == 0


# -- the search language ------------------------------------------------------------------


def test_tokens_and_free_text() -> None:
    query = parse_query('red  car is:starred rating:>=4 board:"two words" -model:FLUX.1-schnell size:512X1024 '
                        "user:ann seed:42 after:2026-11-01 before:2026-12-01 photo:ok")
    assert query.text == "red car photo:ok"  # an unknown key is prompt text
    assert query.terms == (
        Term("is", "starred"), Term("rating", 4, op=">="), Term("board", "two words"),
        Term("model", "FLUX.1-schnell", negated=True), Term("size", "512x1024"), Term("user", "ann"),
        Term("seed", 42), Term("after", "2026-11-01"), Term("before", "2026-12-01"),
    )
    assert parse_query("  a  cat ") == Query("  a  cat ")  # no token: the text as typed


@pytest.mark.parametrize("token", ["is:pinned", "rating:6", "rating:>=x", "seed:-1", "size:big", "after:2026-13-01",
                                   "before:20261101", "board:", 'board:"open', "model:"])
def test_a_malformed_token_is_named(token: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(f"cat {token} dog")
    assert caught.value.token == token and token in str(caught.value)


# -- the index answering it ----------------------------------------------------------------


@pytest.fixture
def index(tmp_path: Path) -> Iterator[HistoryIndex]:
    ix = HistoryIndex(tmp_path / INDEX_NAME)
    ix.create()
    yield ix
    ix.close()


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in records]


def test_each_token_filters(index: HistoryIndex) -> None:
    index.add_many([
        rec(1, prompt="A red Car at night", starred=True, rating=5, user="ann"),
        rec(2, prompt="一只猫在草地上", rating=3, image_size="512x1024", user="bob"),
        rec(3, prompt="blue car", model="other-model", seed=42),
        rec(4, prompt="x"),
    ])
    find = lambda q: ids(index.search(q))
    assert find("RED car") == ["r1"]
    assert find("猫在") == ["r2"] and find("猫") == ["r2"] and find("car") == ["r3", "r1"]
    assert find("is:starred") == ["r1"] and find("-is:starred") == ["r4", "r3", "r2"]
    assert find("rating:>=3") == ["r2", "r1"] and find("rating:3") == ["r2"] and find("rating:<1") == ["r4", "r3"]
    assert find("model:OTHER-MODEL") == ["r3"] and find("-model:other-model car") == ["r1"]
    assert find("size:512x1024") == ["r2"] and find("user:ann") == ["r1"] and find("-user:ann") == ["r4", "r3", "r2"]
    assert find("seed:42") == ["r3"]
    assert find("after:2026-03-02 before:2026-03-04") == ["r3", "r2"]
    assert find('x"') == [] and find("%") == [] and find("_") == []  # quotes and LIKE wildcards are plain text
    assert index.count_matching("car -is:starred") == 1


def test_boards_private_shared_and_per_viewer(index: HistoryIndex) -> None:
    index.add_many([rec(1, user="ann"), rec(2, user="bob"), rec(3, user="bob")])
    ann_private = index.make_board("ann", "Picks")
    bob_shared = index.make_board("bob", "Team picks", shared=True)
    index.link(ann_private, ["r1", "r2"], add=True)
    index.link(bob_shared, ["r2"], add=True)
    assert ids(index.search("board:picks", viewer="ann")) == ["r2", "r1"]
    assert index.search("board:picks", viewer="bob") == []  # someone else's private board
    assert ids(index.search('board:"team picks"', viewer="ann")) == ["r2"]
    # private mode: ann's own images, plus teammates' on a shared board she asks for
    assert ids(index.search("", user="ann", viewer="ann")) == ["r1"]
    assert ids(index.search('board:"Team picks"', user="ann", viewer="ann")) == ["r2"]
    assert ids(index.search("-board:picks", viewer="ann")) == ["r3"]
    assert [r["boards"] for r in index.search("", viewer="ann")] == [[], ["Picks", "Team picks"], ["Picks"]]
    assert [r["boards"] for r in index.search("", viewer="bob")] == [[], ["Team picks"], []]
    assert index.on_shared_board("r2") and not index.on_shared_board("r1")
    index.remove_files(["2026-03-01/00002.png"])  # a row dropped: its board entries go too
    assert index.boards("ann") == [{"name": "Picks", "shared": False, "mine": True, "images": 1},
                                   {"name": "Team picks", "shared": True, "mine": False, "images": 0}]


def test_boards_in_records_come_back_on_a_rebuild(index: HistoryIndex) -> None:
    index.add_many([rec(1, user="ann", boards=["Picks"]), rec(2, boards=["Picks"])])
    assert ids(index.search("board:Picks", viewer="ann")) == ["r1"]
    assert ids(index.search("board:Picks")) == ["r2"]  # no login: the anonymous owner's board


def test_a_version_2_file_is_upgraded_and_searchable(closed_after, tmp_path: Path) -> None:
    path = tmp_path / INDEX_NAME
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE images (id TEXT PRIMARY KEY, file TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
            prompt TEXT NOT NULL, model TEXT NOT NULL, image_size TEXT NOT NULL, seed INTEGER, user TEXT,
            record TEXT NOT NULL, inference REAL);
        CREATE TABLE quota (user TEXT NOT NULL, day TEXT NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (user, day));
        PRAGMA user_version = 2;""")
    old = rec(1, prompt="an old lighthouse").to_dict()
    del old["starred"], old["rating"], old["boards"]
    conn.execute("INSERT INTO images (id, file, created_at, prompt, model, image_size, seed, user, record) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (old["id"], old["file"], old["created_at"], old["prompt"], old["model"], old["image_size"],
                  old["seed"], None, json.dumps(old)))
    conn.commit()
    conn.close()
    index = closed_after(HistoryIndex(path))
    index.check()
    assert index.search("LIGHTHOUSE") == [{**old, "starred": False, "rating": 0, "boards": []}]
    assert index.search("is:starred") == []
    with closing(sqlite3.connect(path)) as conn, conn:  # commit, then close
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    index.close()


# -- start-up reads only changed folders --------------------------------------------------


def test_a_start_reads_only_the_folders_that_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from webui.storage import Storage

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    store = Storage(tmp_path).open()
    saved = [store.save(buffer.getvalue(), {"prompt": f"p{n}", "model": "m", "image_size": "1x1", "seed": n})
             for n in range(3)]
    store.close()
    reads: list[Path] = []
    original = Storage._record_from_file
    monkeypatch.setattr(Storage, "_record_from_file", lambda self, path, rel=None: reads.append(path)
                        or original(self, path, rel))
    Storage(tmp_path).open().close()  # the first start after the saves: today's folder changed
    reads.clear()
    store = Storage(tmp_path).open()
    assert reads == [] and len(store.index.search()) == 3  # nothing changed: not one PNG read
    store.close()
    # by hand: one file removed, one copied into a new folder, one into the root
    (tmp_path / saved[0]["file"]).unlink()
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "copy.png").write_bytes((tmp_path / saved[1]["file"]).read_bytes().replace(
        saved[1]["id"].encode(), b"0" * 32))
    store = Storage(tmp_path).open()
    assert {r["file"] for r in store.index.search()} == {saved[1]["file"], saved[2]["file"], "extra/copy.png"}
    assert [p.name for p in reads] == ["copy.png"]
    store.close()
    # a folder removed takes its rows with it, though its parent's listing is all that changed
    (tmp_path / "extra" / "copy.png").unlink()
    (tmp_path / "extra").rmdir()
    store = Storage(tmp_path).open()
    assert {r["file"] for r in store.index.search()} == {saved[1]["file"], saved[2]["file"]}
    store.close()
