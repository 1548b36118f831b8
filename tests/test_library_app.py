"""The prompt library and the matrix through the app's API, alone and on a team link."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gradio_client.exceptions import AppError

from .support.apps import api_client
from .support.events import Events
from .support.team import login, member, users_file


def test_recipe_save_fill_and_a_matrix_from_its_choices(demo_app, tmp_path: Path) -> None:
    c = api_client(demo_app.url)
    saved = c.predict(
        "Apple",
        "a {red|green} apple on a {surface}",
        "FLUX.1-schnell",
        "768x512",
        False,
        True,
        "",
        "",
        api_name="/recipe_save",
    )
    assert saved["slots"] == ["red|green", "surface"]
    filled = c.predict(saved["id"], {"surface": "marble"}, api_name="/recipe_fill")
    assert filled["prompt"] == "a red apple on a marble"
    assert (filled["model"], filled["image_size"]) == ("FLUX.1-schnell", "768x512")

    result = c.predict(
        "",
        saved["id"],
        {"surface": ["wood"]},
        ["FLUX.1-schnell", "stable-diffusion-3-5-large"],
        ["768x512"],
        [False],
        77,
        api_name="/matrix",
    )
    assert result["rows"] == ["red · wood", "green · wood"]
    assert result["columns"] == ["FLUX.1-schnell", "stable-diffusion-3-5-large"]
    assert [(cell["row"], cell["column"]) for cell in result["cells"]] == [(r, k) for r in range(2) for k in range(2)]
    records = [cell["record"] for cell in result["cells"]]
    assert {r["seed"] for r in records} == {77}
    assert records[2]["prompt"] == "a green apple on a wood" and records[3]["model"] == "stable-diffusion-3-5-large"
    assert all((demo_app.outputs / r["file"]).is_file() for r in records)
    assert result["board"].startswith("Matrix ")
    on_board = c.predict('board:"{}"'.format(result["board"]), 0, 50, api_name="/history")
    assert {r["id"] for r in on_board} == {r["id"] for r in records}
    mine = [r for r in c.predict(api_name="/recipes") if r["id"] == saved["id"]]
    assert mine and mine[0]["uses"] == 1 + 4  # one fill, four cells


def test_the_matrix_tabs_events_receive_every_field_of_the_form(demo_app) -> None:
    """The page's count and run get each Matrix field by name (MatrixForm declares them once):
    every field changes what they answer."""
    recipe = api_client(demo_app.url).predict(
        "Cup", "a {color} cup", "", "", False, True, "", "", api_name="/recipe_save")
    events = Events(demo_app.url)
    events.call(events.find(writes=("matrix-recipe",)), [])  # this page's picker lists the recipe
    count = events.find(reads=("matrix-prompts",), writes=("matrix-count",))
    run = events.find(reads=("matrix-prompts", "seed"), writes=("matrix-grid",))
    lines = {"matrix-prompts": "a bowl\na jug\na spoon", "matrix-recipe": None, "matrix-slots": "",
             "matrix-models": ["FLUX.1-schnell", "stable-diffusion-3-5-large"],
             "matrix-sizes": ["768x512", "1024x1024"], "matrix-both": True}
    said = events.call(count, events.inputs(count, lines))["output"]["data"][0]
    assert "This makes 24 images (3 rows × 8 columns)" in str(said)
    picked = {**lines, "matrix-recipe": recipe["id"], "matrix-slots": "color: red | blue",
              "matrix-models": ["FLUX.1-schnell"], "matrix-sizes": ["768x512"]}
    said = events.call(count, events.inputs(count, picked))["output"]["data"][0]
    assert "This makes 4 images (2 rows × 2 columns)" in str(said)

    done = events.call(run, events.inputs(run, {**picked, "seed": 4242, "tz": "UTC"}))
    grid = done["output"]["data"][0]
    assert grid.count("<img") == 4 and "4242" in grid
    assert all(f"<th scope='row'>{row}</th>" in grid for row in ("red", "blue"))
    made = api_client(demo_app.url).predict("seed:4242 cup", 0, 50, api_name="/history")
    assert sorted((r["prompt"], r["prompt_enhancement"], r["model"], r["image_size"]) for r in made) == [
        (f"a {color} cup", enhanced, "FLUX.1-schnell", "768x512") for color in ("blue", "red") for enhanced in (False, True)]


def test_use_in_prompt_fills_every_slot_box_and_answers_in_the_visitors_language(demo_app) -> None:
    """The library panel's "Use in prompt" reads all six slot boxes and knows who asks."""
    recipe = api_client(demo_app.url).predict(
        "Six", "{a} {b} {c} {d} {e} {f}", "", "", False, True, "", "", api_name="/recipe_save")
    events = Events(demo_app.url)
    events.session.headers["Accept-Language"] = "zh-CN"
    events.call(events.find(writes=("recipe",)), [])  # this page's picker lists the recipe
    use = events.find(reads=("recipe", "slot-5"), writes=("prompt",))
    boxes = {f"slot-{i}": word for i, word in enumerate(["one", "two", "three", "four", "five", "six"])}
    done = events.call(use, events.inputs(use, {"recipe": recipe["id"], **boxes}))
    assert done["output"]["data"][0] == "one two three four five six"
    refused = events.call(use, events.inputs(use, {"recipe": None, **boxes}))
    assert "请先从配方库中选择一个配方" in json.dumps(refused["output"], ensure_ascii=False)


def test_a_matrix_from_pasted_lines_and_its_refusals(demo_app) -> None:
    c = api_client(demo_app.url)
    result = c.predict(
        "a cat\n# skipped\na dog",
        "",
        None,
        ["FLUX.1-schnell"],
        ["1024x1024", "576x1024"],
        [False],
        -1,
        api_name="/matrix",
    )
    assert result["rows"] == ["a cat", "a dog"] and len(result["cells"]) == 4
    named = c.predict(
        "a bird", "", None, ["FLUX.1-schnell"], ["1024x1024"], [False], 3, "Birds  study", api_name="/matrix"
    )
    assert named["board"] == "Birds study"
    assert [r["prompt"] for r in c.predict('board:"Birds study"', 0, 5, api_name="/history")] == ["a bird"]
    assert len({cell["record"]["seed"] for cell in result["cells"]}) == 1
    with pytest.raises(AppError, match="at most 64"):
        c.predict(
            "\n".join(f"p{i}" for i in range(40)),
            "",
            None,
            ["FLUX.1-schnell"],
            ["1024x1024", "768x512"],
            [False],
            1,
            api_name="/matrix",
        )
    with pytest.raises(AppError, match="model and one size"):
        c.predict("a cat", "", None, [], ["1024x1024"], [False], 1, api_name="/matrix")


def test_library_export_import_round_trip(demo_app) -> None:
    c = api_client(demo_app.url)
    c.predict("Round trip", "a {thing} in fog", "", "", False, True, "", "", api_name="/recipe_save")
    exported = c.predict(api_name="/recipes_export")
    assert "a {thing} in fog" in exported
    added = c.predict(exported, api_name="/recipes_import")
    assert "Round trip" in [r["name"] for r in added]
    with pytest.raises(AppError, match="not a recipe library"):
        c.predict("{nope", api_name="/recipes_import")


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    from .support.apps import serve_app

    folder = tmp_path_factory.mktemp("library-team")
    app = serve_app(folder, "--users", str(users_file(folder)), "--private-history", "--daily-limit", "3")
    yield app
    app.stop()


def test_private_recipes_stay_with_their_owner_and_shared_ones_reach_the_team(team) -> None:
    alice, bob, carol = (member(team, n) for n in ("alice", "bob", "carol"))
    secret = alice.predict("Secret", "alice's {thing}", "", "", False, False, "", "", api_name="/recipe_save")
    public = alice.predict("Team", "team {thing}", "", "", False, True, "", "", api_name="/recipe_save")
    assert secret["owner"] == "alice"
    assert {r["name"] for r in bob.predict(api_name="/recipes")} == {"Team"}
    assert {"Secret", "Team"} <= {r["name"] for r in carol.predict(api_name="/recipes")}
    for call in (
        lambda: bob.predict(secret["id"], {"thing": "x"}, api_name="/recipe_fill"),
        lambda: bob.predict(secret["id"], api_name="/recipe_delete"),
        lambda: bob.predict(
            "", secret["id"], {"thing": ["x"]}, ["FLUX.1-schnell"], ["1024x1024"], [False], 1, api_name="/matrix"
        ),
    ):
        with pytest.raises(AppError, match="no longer in the library"):
            call()
    with pytest.raises(AppError, match="only change or delete your own"):
        bob.predict(public["id"], api_name="/recipe_delete")
    with pytest.raises(AppError, match="only change or delete your own"):
        bob.predict("Hijack", "x", "", "", False, True, public["id"], "", api_name="/recipe_save")
    assert "alice's" not in bob.predict(api_name="/recipes_export")


def test_a_matrix_over_the_daily_limit_is_refused_before_any_image(team) -> None:
    bob = member(team, "bob")
    before = bob.predict("", 0, 500, api_name="/history")
    # At most 3 left whatever ran before on this app (the limit is 3): 4 is always too many.
    with pytest.raises(AppError, match="4 images but you have [0-3] left"):
        bob.predict("a\nb", "", None, ["FLUX.1-schnell"], ["1024x1024", "768x512"], [False], 1, api_name="/matrix")
    assert bob.predict("", 0, 500, api_name="/history") == before


def test_the_library_file_is_never_served(team) -> None:
    s = login(team, "alice")
    # Alice's own recipe, so the file exists whatever ran before (or elsewhere) on this app.
    member(team, "alice").predict("Lamp", "a lamp", "FLUX.1-schnell", "768x512", False, False, "", "",
                                  api_name="/recipe_save")
    library = team.app.core.library.path.resolve()
    assert library.exists()
    for url in (f"{team.url}gradio_api/file={library}", f"{team.url}gradio_api/file/{library}"):
        assert s.get(url, timeout=10).status_code in (403, 404), url


def test_the_picture_under_result_becomes_a_recipes_example(demo_app) -> None:
    """The library panel's "Use the current picture as this recipe's example", and what a
    visitor sees of it; refusals are words, not crashes."""
    import gradio as gr

    c = api_client(demo_app.url)
    _, record = c.predict("an example teapot", "FLUX.1-schnell", "768x512", False, 5, api_name="/generate")
    saved = c.predict("Teapot", "a {color} teapot", "FLUX.1-schnell", "768x512", True, False, "", "",
                      api_name="/recipe_save")
    panel = demo_app.app.handlers.library
    assert panel.pick(saved["id"], None)[-1] is None  # type: ignore[arg-type]  # no example yet
    shown = panel.set_example(saved["id"], record, None)  # type: ignore[arg-type]
    assert shown and Path(shown).is_file()
    assert panel.pick(saved["id"], None)[-1] == shown  # type: ignore[arg-type]
    # the example is the one change: every other field of the recipe is kept as saved
    assert next(r for r in c.predict(api_name="/recipes") if r["id"] == saved["id"]) == {
        **saved, "example_id": record["id"]}
    for recipe_id, current, words in ((None, record, "Pick a recipe"), (saved["id"], None, "no picture under Result"),
                                      (saved["id"], {"id": "not-an-image"}, "no longer in the history")):
        with pytest.raises(gr.Error, match=words):
            panel.set_example(recipe_id, current, None)  # type: ignore[arg-type]
    # the Matrix tab's slot box: made for the picked recipe, never wiping what was typed
    assert panel.slot_template(saved["id"], "", None) == "color: "  # type: ignore[arg-type]
    assert panel.slot_template(saved["id"], "color: red | blue", None) == gr.skip()  # type: ignore[arg-type]
    assert panel.slot_template(saved["id"], "size: big\ncolor: red", None) == "color: red"  # type: ignore[arg-type]
    assert panel.slot_template(None, "color: red", None) == ""  # type: ignore[arg-type]
