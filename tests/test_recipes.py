"""Prompt recipes and matrices: slot syntax, filling, expansion, plans and the library file."""

from __future__ import annotations

import json

import pytest

from webui.generator import InvalidInputError
from webui.recipes import (
    LIBRARY_NAME,
    MAX_MATRIX,
    Expansion,
    Library,
    Recipe,
    Slot,
    expand,
    fill,
    parse,
    plan_matrix,
    prompt_lines,
    slots,
)


def test_slots_are_named_or_choices_and_listed_once_in_order():
    text = "a {product} on a {surface}, {red|blue} light, another {product}"
    assert slots(text) == [Slot("product"), Slot("surface"), Slot("red|blue", ("red", "blue"))]


def test_double_braces_are_literal_and_stray_braces_stay():
    assert parse("{{x}} and }{") == ["{x} and }{"]
    assert fill('json {{"a": 1}} {b}', {"b": "ok"}) == 'json {"a": 1} ok'


def test_fill_needs_every_named_slot_and_defaults_choices_to_the_first():
    assert fill("a {product} in {red|blue}", {"product": "mug"}) == "a mug in red"
    assert fill("a {product} in {red|blue}", {"product": "mug", "red|blue": "blue"}) == "a mug in blue"
    with pytest.raises(InvalidInputError) as caught:
        fill("a {product}", {"product": "  "})
    assert caught.value.code == "missing_slot" and caught.value.params == {"slot": "product"}


@pytest.mark.parametrize("text", ["{}", "{ }", "{" + "n" * 41 + "}"])
def test_a_slot_without_a_name_is_refused_by_name(text):
    with pytest.raises(InvalidInputError) as caught:
        slots(text)
    assert caught.value.code == "bad_slot"


def test_expand_makes_every_combination_with_labels_from_the_values():
    rows = expand("a {product} on {wood|marble}", {"product": ["mug", "vase"]})
    assert [r.prompt for r in rows] == ["a mug on wood", "a mug on marble", "a vase on wood", "a vase on marble"]
    assert rows[1].label == "mug · marble"
    assert expand("plain prompt") == [Expansion("plain prompt")]


def test_expand_refuses_a_grid_too_large_before_building_it():
    with pytest.raises(InvalidInputError) as caught:
        expand("{a} {b}", {"a": [str(i) for i in range(100)], "b": [str(i) for i in range(100)]})
    assert caught.value.code == "matrix_too_big" and caught.value.params["count"] > MAX_MATRIX


def test_prompt_lines_skip_blanks_and_comments():
    assert prompt_lines("a cat\n\n# note\n  a dog  \n") == ["a cat", "a dog"]


def test_a_matrix_plan_shares_one_seed_and_is_row_major():
    rows = expand("a {red|green|blue} apple")
    plan = plan_matrix(rows, ["FLUX.1-schnell", "stable-diffusion-3-5-large"], ["1024x1024"], [False], seed=7)
    assert plan.size == 6 and plan.seed == 7
    assert {job.seed for job in plan.jobs} == {7}
    assert plan.jobs[1].prompt == "a red apple" and plan.jobs[1].model == "stable-diffusion-3-5-large"
    assert plan.cell(3) == (1, 1)
    assert plan.row_labels() == ["red", "green", "blue"]
    assert plan.column_labels() == ["FLUX.1-schnell", "stable-diffusion-3-5-large"]


def test_a_random_matrix_seed_is_drawn_once():
    plan = plan_matrix([Expansion("a"), Expansion("b")], ["m"], ["1024x1024", "768x512"], [False, True], seed=-1)
    assert len({job.seed for job in plan.jobs}) == 1 and plan.jobs[0].seed == plan.seed
    assert plan.column_labels()[1] == "1024 × 1024 · +"


def test_a_matrix_refuses_bad_cells_and_empty_axes_before_anything_runs():
    with pytest.raises(InvalidInputError) as caught:
        plan_matrix([Expansion("ok")], ["m"], ["13x13"], [False])
    assert caught.value.code == "bad_size"
    with pytest.raises(InvalidInputError) as caught:
        plan_matrix([Expansion("ok")], [], ["1024x1024"], [False])
    assert caught.value.code == "matrix_empty_axis"


@pytest.fixture
def library(tmp_path):
    lib = Library(tmp_path / LIBRARY_NAME)
    yield lib
    lib.close()


def recipe(name="Product shot", text="a {product} on a {surface}, studio light", shared=True) -> Recipe:
    return Recipe(id="", name=name, text=text, model="FLUX.1-schnell", image_size="768x512", shared=shared)


def test_the_library_keeps_private_recipes_to_their_owner(library):
    mine = library.save(recipe("mine", shared=False), "ann")
    shared = library.save(recipe("team"), "ann")
    assert {r.name for r in library.visible("ann")} == {"mine", "team"}
    assert [r.name for r in library.visible("bob")] == ["team"]
    assert {r.name for r in library.visible("admin", is_admin=True)} == {"mine", "team"}
    with pytest.raises(InvalidInputError) as caught:
        library.get(mine.id, "bob")
    assert caught.value.code == "recipe_not_found"
    with pytest.raises(InvalidInputError) as caught:
        library.delete(shared.id, "bob")
    assert caught.value.code == "recipe_not_yours"
    library.delete(shared.id, "ann")
    assert [r.name for r in library.visible("bob")] == []


def test_updating_keeps_owner_and_usage_and_uses_are_counted(library):
    saved = library.save(recipe(), "ann")
    library.used(saved.id, 3)
    updated = library.save(Recipe(**{**saved.__dict__, "name": "Renamed"}), "ann")
    assert (updated.owner, updated.uses, updated.name) == ("ann", 3, "Renamed")
    assert library.get(saved.id, "ann").uses == 3


def test_a_recipe_needs_a_name_and_valid_settings(library):
    with pytest.raises(InvalidInputError) as caught:
        library.save(recipe(name="  "), None)
    assert caught.value.code == "recipe_needs_name"
    with pytest.raises(InvalidInputError) as caught:
        library.save(Recipe(id="", name="x", text="a {} b"), None)
    assert caught.value.code == "bad_slot"


def test_export_then_import_round_trips_as_the_importers_own(library, tmp_path):
    library.save(recipe("one"), "ann")
    library.save(recipe("two", text="a {red|blue} ball"), "ann")
    exported = library.export("ann")
    other = Library(tmp_path / "other.sqlite3")
    try:
        imported = other.import_json(exported, "bob")
        assert sorted(r.name for r in imported) == ["one", "two"]
        assert {r.owner for r in other.visible("bob")} == {"bob"}
        assert json.loads(other.export("bob"))["recipes"][0]["text"] in {r.text for r in imported}
    finally:
        other.close()


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"recipes": "x"}', '{"recipes": [{"name": "", "text": "a"}]}'])
def test_import_refuses_what_is_not_a_library_and_adds_nothing(library, text):
    with pytest.raises(InvalidInputError):
        library.import_json(text, "ann")
    assert library.visible("ann") == []


def test_the_library_survives_reopening(tmp_path):
    path = tmp_path / LIBRARY_NAME
    first = Library(path)
    saved = first.save(recipe(), None)
    first.close()
    again = Library(path)
    try:
        assert again.get(saved.id, None).text == saved.text
    finally:
        again.close()
