"""Generating: the `/generate` API, batches and comparisons for the page, the recent gallery."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from .. import i18n
from ..errors import AppError, StorageFailedError, render
from ..generator import Generator, batch_params, compare_params, validate
from ..service import GenerationParams
from ..storage import Storage
from .common import caption, fail, language, user_of

log = logging.getLogger(__name__)
RESCUE_DIR_NAME = "yunyx-webui-rescue"

RECENT = 24
GalleryItem = tuple[str, str]


@dataclass
class GenerateHandlers:
    generator: Generator
    storage: Storage

    # -- the API ----------------------------------------------------------------------

    def generate(
        self,
        prompt: str,
        model: str,
        image_size: str,
        prompt_enhancement: bool,
        seed: float | int | None,
        request: gr.Request,
    ) -> tuple[str, dict[str, Any]]:
        """Generate one image and save it with its settings.

        Args:
            prompt: what the picture should show (up to 2000 characters).
            model: model name, e.g. "FLUX.1-schnell" or "stable-diffusion-3-5-large".
            image_size: one of 1024x1024, 512x1024, 768x512, 768x1024, 1024x576, 576x1024.
            prompt_enhancement: let the service enrich the prompt (some models only).
            seed: 0-9999999999 for a reproducible picture; -1 or empty for random.
        Returns:
            The saved PNG and its record (seed used, inference time, file name...).
        """
        lang = language(request)
        try:
            params = validate(prompt, model, image_size, prompt_enhancement, seed)
            record = self.generator.generate(params, user=user_of(request))
        except StorageFailedError as exc:
            return self._rescue(exc, lang)
        except AppError as exc:
            log.info("Generation refused: %s", exc)
            raise fail(render(exc, lang), lang) from None
        except Exception as exc:  # a bug of ours: "internal error", traceback logged by render
            raise fail(render(exc, lang), lang) from None
        return str(self.storage.path_of(record)), self._warn_if_unindexed(record, lang)

    @staticmethod
    def _warn_if_unindexed(record: dict[str, Any], lang: str) -> dict[str, Any]:
        """Saved but not yet in the history index: say so (storage indexes it again before the next listing)."""
        if record.get("indexed") is not False:
            return record
        warning = i18n.message("not_indexed", lang, file=record.get("file"))
        gr.Warning(warning)
        return {**record, "warning": warning}

    def _rescue(self, exc: StorageFailedError, lang: str) -> tuple[str, dict[str, Any]]:
        """The folder refused the image: hand it over anyway, with a warning naming the folder."""
        log.error("Could not save an image in %s: %s", exc.folder, exc.detail)
        rescued = rescue(exc.png)
        warning = render(exc, lang)
        gr.Warning(warning, duration=None, title=i18n.label("warning_title", lang))
        return str(rescued), {**exc.fields, "file": None, "saved": False, "warning": warning}

    # -- the page -----------------------------------------------------------------------

    def run(
        self,
        prompt: str,
        model: str,
        image_size: str,
        prompt_enhancement: bool,
        seed: float | int | None,
        count: float | int,
        random_each: bool,
        tz: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        """The Generate button: one image, or a batch whose images appear as they finish.

        Yields (result image, record, info line, batch gallery).
        """
        lang = language(request)
        try:
            params = validate(prompt, model, image_size, prompt_enhancement, seed)
            jobs = batch_params(params, int(count or 1), bool(random_each))
        except AppError as exc:
            raise fail(render(exc, lang), lang) from None
        progress(0, desc=i18n.label("progress_generating", lang, done=0, total=len(jobs)))
        done: dict[int, dict[str, Any]] = {}
        errors: list[BaseException] = []
        for index, outcome in self.generator.generate_many(jobs, user_of(request)):
            if isinstance(outcome, StorageFailedError):
                path, record = self._rescue(outcome, lang)
                yield path, record, self.info_line(record, request), gr.skip()
                continue
            if isinstance(outcome, BaseException):
                errors.append(outcome)
                continue
            done[index] = outcome = self._warn_if_unindexed(outcome, lang)
            progress(len(done) / len(jobs), desc=i18n.label("progress_generating", lang, done=len(done), total=len(jobs)))
            yield (
                self._result_image(outcome),
                outcome,
                self.info_line(outcome, request),
                self._batch_gallery([done[i] for i in sorted(done)]) if len(jobs) > 1 else gr.skip(),
            )
        self._report(errors, len(jobs), lang, tz)

    def compare(
        self,
        prompt: str,
        model: str,
        image_size: str,
        prompt_enhancement: bool,
        seed: float | int | None,
        models: list[str],
        sizes: list[str],
        enhancement_both: bool,
        tz: str | None,
        request: gr.Request,
    ) -> Iterator[list[GalleryItem]]:
        """Same prompt and seed across models/sizes/enhancement; the grid fills as images finish.

        Axes left empty keep the form's value.
        """
        lang = language(request)
        try:
            params = validate(prompt, model, image_size, prompt_enhancement, seed)
            jobs = compare_params(params, models, sizes, bool(enhancement_both))
        except AppError as exc:
            raise fail(render(exc, lang), lang) from None
        cells: dict[int, GalleryItem] = {}
        errors: list[BaseException] = []
        for index, outcome in self.generator.generate_many(jobs, user_of(request)):
            if isinstance(outcome, BaseException):
                errors.append(outcome)
                continue
            # full PNGs, not thumbnails: comparing detail is the point of this grid
            cells[index] = (str(self.storage.path_of(outcome)), self._variant_label(jobs[index], lang, bool(enhancement_both)))
            yield [cells[i] for i in sorted(cells)]
        self._report(errors, len(jobs), lang, tz)

    @staticmethod
    def _variant_label(params: GenerationParams, lang: str, show_enhance: bool) -> str:
        label = f"{params.model} · {params.image_size} · seed {params.seed}"
        if show_enhance:
            label += " · " + i18n.label("enhance_on" if params.prompt_enhancement else "enhance_off", lang)
        return label

    @staticmethod
    def _report(errors: list[BaseException], total: int, lang: str, tz: str | None) -> None:
        """All failed: an error toast. Some failed: a warning, the rest are kept."""
        if not errors:
            return
        reasons = [render(error, lang, tz) for error in errors]  # logs every bug, not just the first
        reason = reasons[0]
        if len(errors) == total:
            raise fail(reason, lang)
        gr.Warning(i18n.message("batch_partial", lang, failed=len(errors), total=total, reason=reason))

    def _result_image(self, record: dict[str, Any]) -> gr.Image:
        """The saved PNG, described for screen readers by its prompt."""
        return gr.Image(value=str(self.storage.path_of(record)), alt_text=caption(record, 200))

    def _batch_gallery(self, records: list[dict[str, Any]]) -> list[GalleryItem]:
        return [(str(self.storage.thumbnail(r)), f"seed {r.get('seed')}") for r in records]

    def info_line(self, record: dict[str, Any] | None, request: gr.Request) -> str:
        """Seed, inference time and file name under the result, in the visitor's language."""
        if not record:
            return ""
        lang = language(request)
        inference = record.get("inference")
        timing = (
            i18n.label("inference_ms", lang, ms=round(inference))
            if isinstance(inference, (int, float))
            else i18n.label("inference_unknown", lang)
        )
        file = record.get("file") or i18n.label("saved_elsewhere", lang)
        return i18n.label("info_line", lang, seed=record.get("seed"), inference=timing, file=file)

    # -- seeds and the recent gallery ----------------------------------------------------

    @staticmethod
    def last_seed(record: dict[str, Any] | None, previous: int | None) -> int | None:
        seed = (record or {}).get("seed")
        return seed if isinstance(seed, int) else previous

    @staticmethod
    def reuse_seed(last: int | None, current: float | None) -> float | int | None:
        return last if last is not None else current

    @staticmethod
    def random_seed() -> int:
        return -1

    def recent(self, request: gr.Request) -> tuple[list[GalleryItem], list[str]]:
        """Thumbnails of the newest images (the visitor's own when logged in) and their ids."""
        records = self.storage.history("", 0, RECENT, user=user_of(request))
        return [(str(self.storage.thumbnail(r)), caption(r)) for r in records], [r["id"] for r in records]

    def show_recent(self, ids: list[str], evt: gr.SelectData, request: gr.Request) -> Any:
        """A click on a recent thumbnail shows that image full size with its details."""
        index = evt.index if isinstance(evt.index, int) else -1
        record = self.storage.get(ids[index]) if 0 <= index < len(ids) else None
        if record is None:
            return gr.skip(), gr.skip(), gr.skip()
        return self._result_image(record), record, self.info_line(record, request)


def rescue(png: bytes) -> Path:
    """Park an image the outputs folder refused in the system temp folder.

    The one write a handler makes, and only when storage could not: Gradio serves its
    temp folder, so the user can still download the picture. Kept until the user or the
    system clears the temp folder (the image exists nowhere else).
    """
    folder = Path(tempfile.gettempdir()) / RESCUE_DIR_NAME
    folder.mkdir(exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="unsaved-", suffix="-image.png", dir=folder)
    with os.fdopen(fd, "wb") as fh:
        fh.write(png)
    return Path(path)
