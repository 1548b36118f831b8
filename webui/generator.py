"""Validation and orchestration: form values → API call → saved PNG → record.

Framework-free, so the page, the Gradio API, the command line and tests all share
one path. Bad input is rejected here, before any API call.
"""

from __future__ import annotations

import math
import secrets
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from typing import Any, Iterator, Sequence

from .errors import InvalidInputError, StorageFailedError
from .quota import Quota
from .service import IMAGE_SIZES, KNOWN_MODELS, MAX_SEED, GenerationParams, ImageService
from .storage import SaveError, Storage

DEFAULT_MODEL = KNOWN_MODELS[0]
DEFAULT_SIZE = IMAGE_SIZES[0]
EXAMPLE_PROMPT = (
    "an island near sea, with seagulls, moon shining over the sea, light house, "
    "boats in the background, fish flying over the sea"
)
MAX_PROMPT_CHARS = 2000
MAX_BATCH = 8
MAX_MODEL_CHARS = 200
RANDOM_SEED = -1


class StoppedError(Exception):
    """The person pressed Stop before this image was sent to the API: nothing was spent."""


def parse_seed(value: Any) -> int | None:
    """-1/None/"" → None (random); an integer 0…MAX_SEED → itself; anything else refused."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "-1")):
        return None
    if isinstance(value, bool):
        raise InvalidInputError("bad_seed", max=MAX_SEED)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidInputError("bad_seed", max=MAX_SEED)
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit() or not text.isascii():
            raise InvalidInputError("bad_seed", max=MAX_SEED)
        value = int(text)
    if not isinstance(value, int):
        raise InvalidInputError("bad_seed", max=MAX_SEED)
    if value == RANDOM_SEED:
        return None
    if not 0 <= value <= MAX_SEED:
        raise InvalidInputError("bad_seed", max=MAX_SEED)
    return value


def clean_text(value: str) -> str:
    """`value` without what no PNG chunk, index or JSON answer can hold: lone surrogates
    (`"\\ud800"` arrives fine in JSON) and control characters other than newline and tab."""
    return "".join(c for c in value if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs")).strip()


def validate(prompt: Any, model: Any, image_size: Any, prompt_enhancement: Any, seed: Any) -> GenerationParams:
    """Turn raw form/API values into GenerationParams or raise InvalidInputError.

    Text is cleaned before it is checked, so what passes is what the API, the PNG and
    the index all get: a prompt of only NULs is empty, not sent.
    """
    prompt = clean_text(prompt) if isinstance(prompt, str) else ""
    if not prompt:
        raise InvalidInputError("empty_prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidInputError("prompt_too_long", length=len(prompt), limit=MAX_PROMPT_CHARS)
    model = clean_text(model) if isinstance(model, str) else ""
    if not model or len(model) > MAX_MODEL_CHARS:
        raise InvalidInputError("bad_model")
    size = image_size if image_size not in (None, "") else DEFAULT_SIZE
    if size not in IMAGE_SIZES:
        raise InvalidInputError("bad_size", sizes=", ".join(IMAGE_SIZES))
    return GenerationParams(
        prompt=prompt,
        model=model,
        image_size=size,
        prompt_enhancement=bool(prompt_enhancement),
        seed=parse_seed(seed),
    )


def random_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


def with_seed(params: GenerationParams) -> GenerationParams:
    """Fix a random seed now, so the record is reproducible even if the API omits it."""
    return params if params.seed is not None else replace(params, seed=random_seed())


def batch_params(
    params: GenerationParams, count: int, random_each: bool = False, limit: int = MAX_BATCH
) -> list[GenerationParams]:
    """`count` variations: seeds seed, seed+1, … (wrapping at MAX_SEED), or a new random seed each."""
    if not 1 <= count <= limit:
        raise InvalidInputError("bad_count", limit=limit)
    if random_each:
        return [replace(params, seed=random_seed()) for _ in range(count)]
    first = with_seed(params).seed or 0
    return [replace(params, seed=(first + i) % (MAX_SEED + 1)) for i in range(count)]


def compare_params(
    params: GenerationParams,
    models: Sequence[str],
    sizes: Sequence[str],
    enhancement_both: bool = False,
) -> list[GenerationParams]:
    """One variant per model × size (× enhancement off/on); same prompt and seed.

    Like A1111's X/Y plot: only the chosen axes change, so differences are theirs.
    """
    base = with_seed(params)
    models = [m for m in (clean_text(m) for m in models if isinstance(m, str)) if m] or [base.model]
    if any(len(m) > MAX_MODEL_CHARS for m in models):
        raise InvalidInputError("bad_model")
    sizes = [s for s in sizes if s] or [base.image_size]
    for size in sizes:
        if size not in IMAGE_SIZES:
            raise InvalidInputError("bad_size", sizes=", ".join(IMAGE_SIZES))
    enhancements = [False, True] if enhancement_both else [base.prompt_enhancement]
    variants = [
        (model, size, enhance) for model in models for size in sizes for enhance in enhancements
    ]
    if len(variants) > MAX_BATCH * 2:
        raise InvalidInputError("too_many_variants", count=len(variants), limit=MAX_BATCH * 2)
    return [
        replace(base, model=model, image_size=size, prompt_enhancement=enhance)
        for model, size, enhance in variants
    ]


@dataclass
class Generator:
    """Runs generations with at most `concurrency` API calls in flight, across all callers."""

    service: ImageService
    storage: Storage
    concurrency: int = 4
    quota: Quota | None = None  # daily limits; None: none apply

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.concurrency)

    def generate(
        self, params: GenerationParams, user: str | None = None, stop: threading.Event | None = None
    ) -> dict[str, Any]:
        """Call the API, save the PNG, return its record. A random seed is drawn here,
        not by the API, so every record is reproducible even if the answer omits it.

        `stop`, once set, keeps a job that has not reached the API yet from being sent
        (StoppedError); a job already sent runs to the end, so its picture is not lost.
        """
        params = with_seed(params)
        if stop is not None and stop.is_set():
            raise StoppedError()
        day = self.quota.take(user) if self.quota is not None else None
        try:
            with self._slots:
                if stop is not None and stop.is_set():
                    raise StoppedError()
                image = self.service.generate(params)
        except BaseException:
            if day is not None and self.quota is not None:  # no image, so it doesn't count
                self.quota.give_back(user, day)
            raise
        fields = {
            **asdict(params),  # the request's fields are record fields of the same names
            "seed": image.seed if image.seed is not None else params.seed,
            "inference": image.inference,
            "user": user,
        }
        try:
            return self.storage.save(image.png, fields, produce_id=image.api_id)
        except SaveError as exc:
            raise StorageFailedError(exc.folder, exc.detail, image.png, fields) from exc

    def allowance(self, user: str | None) -> tuple[int, int] | None:
        """(images `user` may still make today, their daily limit); None when no limit applies."""
        return self.quota.allowance(user) if self.quota is not None else None

    def generate_many(
        self, jobs: Sequence[GenerationParams], user: str | None = None, stop: threading.Event | None = None
    ) -> Iterator[tuple[int, dict[str, Any] | Exception]]:
        """Run jobs concurrently and yield (index, record or error) as each one finishes.

        Threads are cheap here (they wait on HTTP); the semaphore in `generate` keeps the
        API at `concurrency` calls in flight however many batches run at once.
        """
        if not jobs:
            return
        with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="batch") as pool:
            futures = {pool.submit(self.generate, job, user, stop): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                error = future.exception()
                if isinstance(error, Exception):
                    yield futures[future], error
                elif error is not None:
                    raise error  # KeyboardInterrupt and the like are not a job's outcome
                else:
                    yield futures[future], future.result()
