"""Validation and orchestration: form values → API call → saved PNG → record.

Framework-free, so the page, the Gradio API, the command line and tests all share
one path. Bad input is rejected here, before any API call.
"""

from __future__ import annotations

import math
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Mapping

from . import i18n
from .service import IMAGE_SIZES, KNOWN_MODELS, MAX_SEED, GenerationParams, ImageService
from .storage import SaveError, Storage

DEFAULT_MODEL = KNOWN_MODELS[0]
DEFAULT_SIZE = IMAGE_SIZES[0]
EXAMPLE_PROMPT = (
    "an island near sea, with seagulls, moon shining over the sea, light house, "
    "boats in the background, fish flying over the sea"
)
MAX_PROMPT_CHARS = 2000
MAX_MODEL_CHARS = 200
RANDOM_SEED = -1


class InvalidInputError(ValueError):
    """Form input the app refuses before calling the API; `code` keys the i18n table."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(i18n.message(code, i18n.FALLBACK, **params))
        self.code = code
        self.params = params

    def message(self, lang: str = i18n.FALLBACK) -> str:
        return i18n.message(self.code, lang, **self.params)


class StorageFailedError(Exception):
    """The API delivered an image but the outputs folder refused it.

    Carries the PNG so the UI can still hand it to the user: an image is never lost.
    """

    def __init__(self, error: SaveError, png: bytes, fields: Mapping[str, Any]) -> None:
        super().__init__(str(error))
        self.folder = error.folder
        self.detail = error.detail
        self.png = png
        self.fields = dict(fields)

    def message(self, lang: str = i18n.FALLBACK) -> str:
        return i18n.message("save_failed", lang, folder=str(self.folder), detail=self.detail)


def parse_seed(value: Any) -> int | None:
    """-1/None/"" → None (random); an integer 0…MAX_SEED → itself; anything else refused."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "-1")):
        return None
    if isinstance(value, bool):
        raise InvalidInputError("bad_seed")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidInputError("bad_seed")
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit() or not text.isascii():
            raise InvalidInputError("bad_seed")
        value = int(text)
    if not isinstance(value, int):
        raise InvalidInputError("bad_seed")
    if value == RANDOM_SEED:
        return None
    if not 0 <= value <= MAX_SEED:
        raise InvalidInputError("bad_seed")
    return value


def validate(prompt: Any, model: Any, image_size: Any, prompt_enhancement: Any, seed: Any) -> GenerationParams:
    """Turn raw form/API values into GenerationParams or raise InvalidInputError."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidInputError("empty_prompt")
    prompt = prompt.strip().replace("\x00", "")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidInputError("prompt_too_long", length=len(prompt), limit=MAX_PROMPT_CHARS)
    if not isinstance(model, str) or not model.strip() or len(model) > MAX_MODEL_CHARS:
        raise InvalidInputError("bad_model")
    size = image_size if image_size not in (None, "") else DEFAULT_SIZE
    if size not in IMAGE_SIZES:
        raise InvalidInputError("bad_size", sizes=", ".join(IMAGE_SIZES))
    return GenerationParams(
        prompt=prompt,
        model=model.strip(),
        image_size=size,
        prompt_enhancement=bool(prompt_enhancement),
        seed=parse_seed(seed),
    )


@dataclass
class Generator:
    """Runs generations with at most `concurrency` API calls in flight, across all callers."""

    service: ImageService
    storage: Storage
    concurrency: int = 4

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.concurrency)

    def generate(self, params: GenerationParams, user: str | None = None) -> dict[str, Any]:
        """Call the API, save the PNG, return its record. A random seed is drawn here,
        not by the API, so every record is reproducible even if the answer omits it."""
        if params.seed is None:
            params = GenerationParams(**{**params.__dict__, "seed": secrets.randbelow(MAX_SEED + 1)})
        with self._slots:
            image = self.service.generate(params)
        fields = {
            "prompt": params.prompt,
            "model": params.model,
            "image_size": params.image_size,
            "prompt_enhancement": params.prompt_enhancement,
            "seed": image.seed if image.seed is not None else params.seed,
            "inference": image.inference,
            "user": user,
        }
        try:
            return self.storage.save(image.png, fields)
        except SaveError as exc:
            raise StorageFailedError(exc, image.png, fields) from exc
