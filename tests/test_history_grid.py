"""The History grid's handlers in-process: bulk actions answer in the History status line
(in the visitor's language, never a toast), thumbnails carry their star and rating, and
every board, model and size can be reached from the chips."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest

from webui.handlers import selection
from webui.i18n import LABELS, MESSAGES

from .support.apps import ServedApp, api_client

ZH = SimpleNamespace(headers={"accept-language": "zh-CN,zh;q=0.9"}, username=None)
FILTERS = ("grid heron", "", "", False, "")


@pytest.fixture(scope="module")
def app(module_app: ServedApp) -> ServedApp:
    """This module's own demo app (conftest `module_app`)."""
    return module_app


@pytest.fixture(scope="module")
def made(app: ServedApp) -> list[dict[str, Any]]:
    client = api_client(app.url)
    jobs = [client.submit(f"a grid heron {n}", "FLUX.1-schnell", "768x512", False, n, api_name="/generate")
            for n in range(3)]  # all submitted up front
    return [job.result()[1] for job in jobs]


def error_text(said: str) -> str:
    assert 'data-state="error"' in said and 'role="alert"' in said, said
    text = re.sub(r"<[^>]+>", " ", said)
    assert not re.search(r"\b(Error|错误)\b", text), text  # the message, never a bare "Error"
    return " ".join(text.split())


@pytest.mark.parametrize("request_", [None, ZH], ids=["en", "zh"])
def test_every_bulk_refusal_is_said_in_the_status_line_in_the_visitors_language(app: ServedApp, made, request_):
    page = app.app.handlers.curation
    lang = "zh" if request_ else "en"
    picked = json.dumps({"ids": [made[0]["id"]], "all": False})
    nothing = ""
    nothing_chosen = MESSAGES[lang]["nothing_chosen"]
    # nothing picked: each bulk button refuses with words, and nothing raises (no toast)
    assert nothing_chosen in error_text(page.bulk_star(nothing, True, *FILTERS, request_))
    said, radio = page.bulk_rate(nothing, 3, *FILTERS, request_)
    assert nothing_chosen in error_text(said) and radio.value is None
    assert nothing_chosen in error_text(page.bulk_board(nothing, "Herons", True, *FILTERS, request_)[0])
    row, _, said = page.bulk_ask_delete(nothing, *FILTERS, request_)
    assert row.visible is False and nothing_chosen in error_text(said)
    assert nothing_chosen in error_text(page.bulk_trash(nothing, *FILTERS, request_)[0])
    assert nothing_chosen in error_text(page.bulk_export(nothing, *FILTERS, request_)[1])
    # an empty board name in the bulk row
    said, choices, _ = page.bulk_board(picked, "   ", True, *FILTERS, request_)
    assert MESSAGES[lang]["bad_board_name"] in error_text(said)
    # a saved search without a name, or of nothing
    _, _, said = page.save_search_page("", "grid heron", "", "", False, "", None, request_)
    assert MESSAGES[lang]["bad_search_name"] in error_text(said)
    _, _, said = page.save_search_page("Nothing", "", "", "", False, "", None, request_)
    assert MESSAGES[lang]["empty_search"] in error_text(said)
    # a success says what was done, in the same place (and so replaces the refusal)
    said, *_ = page.bulk_board(picked, "Herons", True, *FILTERS, request_)
    assert 'data-state="done"' in said and "Herons" in said
    _, _, said = page.save_search_page("Herons", "grid heron", "", "", False, "", None, request_)
    assert 'data-state="done"' in said


def test_thumbnails_carry_their_star_and_rating_for_eyes_and_screen_readers(app: ServedApp, made) -> None:
    app.app.handlers.curation.curator.mark([made[1]["id"]], None, starred=True, rating=4)
    app.app.handlers.curation.curator.mark([made[2]["id"]], None, rating=2)
    for request_, lang in ((None, "en"), (ZH, "zh")):
        shown = app.app.handlers.history.page("grid heron", "", "", False, "", 1, None, request_)
        data = json.loads(shown[-1])
        by_id = dict(zip(data["ids"], zip(data["badges"], data["words"])))
        words = LABELS[lang]
        assert by_id[made[1]["id"]] == ("★ · 4/5", f'{words["mark_starred"]}, {words["mark_rated"].format(n=4)}')
        assert by_id[made[2]["id"]] == ("2/5", words["mark_rated"].format(n=2))
        assert by_id[made[0]["id"]] == ("", "")
        # the caption (and the thumbnail's alt text) says it in words too
        captions = [item["caption"] for item in shown[0].value]
        assert sum(words["mark_starred"] in c for c in captions) == 1
        assert sum(words["mark_rated"].format(n=2) in c for c in captions) == 1


def test_every_board_model_and_size_is_reachable_from_the_chips(app: ServedApp, made) -> None:
    page = app.app.handlers.curation
    names = [f"Shelf {n:02d}" for n in range(30)]
    page.curator.board([made[0]["id"]], None, add=names)
    html = page.chips("", None, None)  # type: ignore[arg-type]
    for name in names:  # all 30, not the first 12
        assert f'data-add="board:&quot;{name}&quot;"' in html
    menu = re.search(r'<details class="chip-menu" data-kind="board">.*?</details>', html)
    assert menu and "Boards (" in menu[0] and 'class="chip-menu-find"' in menu[0]  # one chip, a find box
    assert html.count('class="chip-menu"') == 1  # one model and one size: plain chips
    few = selection.chips("", selection.Choices(boards=("A", "B")), [], "zh", None)
    assert "chip-menu" not in few and "画板：A" in few


def test_the_bulk_bar_has_one_event_so_a_late_answer_cannot_bring_it_back(app: ServedApp) -> None:
    """What is picked and a re-listed grid both redraw the bar. As two events their answers
    could cross: Esc right after a bulk action, then the re-listing's answer (made with the
    picks of before) arrived last and the bar stayed with nothing picked (seen in a CI-like
    run). One event, `always_last`, answers in order and ends on the latest picks."""
    blocks = app.app.blocks
    ids = {block._id: getattr(block, "elem_id", None) for block in blocks.blocks.values()}
    picks = {"history-picked", "history-page-ids"}
    drawing_the_bar = [fn for fn in blocks.fns.values()
                       if "bulk-actions" in {ids[o._id] for o in fn.outputs} and {ids[t[0]] for t in fn.targets} & picks]
    assert len(drawing_the_bar) == 1
    (bar,) = drawing_the_bar
    assert {(ids[block], event) for block, event in bar.targets} == {(name, "change") for name in picks}
    assert bar.trigger_mode == "always_last"
