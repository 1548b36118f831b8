"""Input validation and the generate → save path, with no Gradio involved."""

from __future__ import annotations

from pathlib import Path

import pytest

from webui.errors import InvalidInputError, render
from webui.generator import MAX_PROMPT_CHARS, Generator, parse_seed, validate
from webui.service import ImageService
from webui.storage import Storage

from .conftest import TEST_KEY
from .support.fake_api import FakeApi


@pytest.mark.parametrize("seed", [None, -1, "-1", "", -1.0])
def test_random_seed_spellings(seed) -> None:
    assert parse_seed(seed) is None


@pytest.mark.parametrize(("seed", "expected"), [(0, 0), (42.0, 42), ("7", 7), (9_999_999_999, 9_999_999_999)])
def test_valid_seeds(seed, expected) -> None:
    assert parse_seed(seed) == expected


@pytest.mark.parametrize("seed", [-2, 10_000_000_000, 1.5, "abc", "1e3", True, float("nan"), float("inf"), "４２", [1]])
def test_bad_seeds_are_refused_with_a_message(seed) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_seed(seed)
    assert "0 to 9999999999" in render(caught.value, "en")
    assert "9999999999" in render(caught.value, "zh")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("", "FLUX.1-schnell", "1024x1024", False, 1), "empty_prompt"),
        (("  \n\t ", "FLUX.1-schnell", "1024x1024", False, 1), "empty_prompt"),
        ((None, "FLUX.1-schnell", "1024x1024", False, 1), "empty_prompt"),
        (("x" * (MAX_PROMPT_CHARS + 1), "FLUX.1-schnell", "1024x1024", False, 1), "prompt_too_long"),
        (("cat", "", "1024x1024", False, 1), "bad_model"),
        (("cat", "FLUX.1-schnell", "1000x1000", False, 1), "bad_size"),
        (("cat", "FLUX.1-schnell", "1024x1024", False, "x"), "bad_seed"),
    ],
)
def test_bad_input_is_refused_before_any_call(args, code) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate(*args)
    assert caught.value.code == code
    assert render(caught.value, "en") != render(caught.value, "zh")


def test_validate_normalises() -> None:
    params = validate("  a cat  ", " custom-model ", None, 1, "5")
    assert (params.prompt, params.model, params.image_size, params.prompt_enhancement, params.seed) == (
        "a cat", "custom-model", "1024x1024", True, 5)


def test_generate_saves_and_random_seed_is_recorded(closed_after, tmp_path: Path) -> None:
    with FakeApi(api_key=TEST_KEY) as backend:
        service = ImageService(backend.base_url, TEST_KEY, timeout=10)
        gen = Generator(service, closed_after(Storage(tmp_path / "o").open()), concurrency=2)
        record = gen.generate(validate("a cat", "FLUX.1-schnell", "768x512", False, -1))
        sent = backend.stats()["last_request"]
        service.close()
    assert isinstance(record["seed"], int) and sent["seed"] == record["seed"]
    assert (tmp_path / "o" / record["file"]).is_file()
    assert str(record["seed"]) in record["file"]


def test_batch_seeds_follow_on_or_are_random() -> None:
    from webui.generator import batch_params

    params = validate("a cat", "FLUX.1-schnell", "768x512", False, 41)
    assert [p.seed for p in batch_params(params, 4)] == [41, 42, 43, 44]
    randoms = [p.seed for p in batch_params(params, 8, random_each=True)]
    assert len(set(randoms)) > 1 and all(0 <= s <= 9_999_999_999 for s in randoms)
    unseeded = batch_params(validate("a cat", "FLUX.1-schnell", "768x512", False, -1), 3)
    assert unseeded[1].seed == unseeded[0].seed + 1
    for bad in (0, 9):
        with pytest.raises(InvalidInputError):
            batch_params(params, bad)


def test_compare_keeps_prompt_and_seed_and_varies_the_axes() -> None:
    from webui.generator import compare_params

    params = validate("a cat", "FLUX.1-schnell", "768x512", False, -1)
    variants = compare_params(params, ["FLUX.1-schnell", "stable-diffusion-3-5-large"], ["768x512", "1024x1024"],
                              enhancement_both=True)
    assert len(variants) == 8
    assert len({v.seed for v in variants}) == 1 and {v.prompt for v in variants} == {"a cat"}
    assert {(v.model, v.image_size, v.prompt_enhancement) for v in variants} == {
        (m, s, e) for m in ("FLUX.1-schnell", "stable-diffusion-3-5-large") for s in ("768x512", "1024x1024")
        for e in (False, True)}
    assert [v.model for v in compare_params(params, [], [])] == ["FLUX.1-schnell"]
    with pytest.raises(InvalidInputError):
        compare_params(params, ["m"], ["5x5"])


def test_generate_many_yields_each_result_or_error(closed_after, tmp_path: Path) -> None:
    with FakeApi(api_key=TEST_KEY) as backend:
        service = ImageService(backend.base_url, TEST_KEY, timeout=10)
        gen = Generator(service, closed_after(Storage(tmp_path / "o").open()), concurrency=2)
        jobs = [validate("ok", "FLUX.1-schnell", "768x512", False, i) for i in range(3)]
        jobs.append(validate("bad", "no-such-model", "768x512", False, 9))
        results = dict(gen.generate_many(jobs))
        backend_max = backend.stats()["max_in_flight"]
        service.close()
    assert sorted(results) == [0, 1, 2, 3]
    assert [results[i]["seed"] for i in range(3)] == [0, 1, 2]
    assert isinstance(results[3], Exception)
    assert backend_max <= 2
