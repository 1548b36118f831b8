"""Generating: the `/generate` API, batches and comparisons for the page, the recent gallery."""

from __future__ import annotations

import html
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import gradio as gr

from .. import i18n
from ..errors import AppError, DailyLimitError, InvalidInputError, StorageFailedError, render
from ..generator import Generator, StoppedError, batch_params, compare_params, validate
from ..history import HistoryIndex
from ..service import GenerationParams
from ..storage import Storage
from . import card, status
from .common import as_text, caption, explain, fail, file_url, language, user_of
from .steps import Steps, job_state, refused, stop_button

log = logging.getLogger(__name__)
RESCUE_DIR_NAME = "yunyx-webui-rescue"

RECENT = 24
GalleryItem = tuple[str, str]
# The page event's outputs, in the order `run` yields them (webui/ui/generate_tab.py wires them).
RUN_OUTPUTS = ("image", "record", "card", "info", "batch", "status", "stop", "retry")
GRID_OUTPUTS = ("grid", "status", "stop", "retry")  # Compare and Matrix


def _session(request: gr.Request | None) -> str:
    """The browser tab a job belongs to (Stop acts on that tab's jobs only)."""
    return str(getattr(request, "session_hash", None) or id(request))


def compare_grid(jobs: Sequence[GenerationParams], cells: Mapping[int, dict[str, Any]], storage: Storage,
                 lang: str) -> str:
    """Compare's results as a table: a column per model, a row per size (and enhancement).

    Waiting cells show a placeholder, so the grid's shape is clear from the start.
    Images are the saved PNGs, served through Gradio's file route.
    """
    esc = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    models = list(dict.fromkeys(j.model for j in jobs))
    rows = list(dict.fromkeys((j.image_size, j.prompt_enhancement) for j in jobs))
    show_enhance = len({e for _, e in rows}) > 1
    at = {(j.model, j.image_size, j.prompt_enhancement): i for i, j in enumerate(jobs)}
    head = "".join(f'<th scope="col">{esc(m)}</th>' for m in models)
    body = []
    for size, enhance in rows:
        name = card.size_label(size, lang)
        if show_enhance:
            name += " · " + i18n.label("enhance_on" if enhance else "enhance_off", lang)
        tds = []
        for model in models:
            index = at.get((model, size, enhance))
            record = cells.get(index) if index is not None else None
            if record is None:
                tds.append(f'<td><div class="cell waiting">{esc(i18n.label("compare_waiting", lang))}</div></td>')
                continue
            url = file_url(str(storage.path_of(record)))
            alt = esc(f"{model} · {name}")
            tds.append(f'<td><a href="{url}" target="_blank" rel="noopener"><img src="{url}" alt="{alt}" '
                       f'loading="lazy"></a><div class="cell-caption">'
                       f'{esc(i18n.label("seed_caption", lang, seed=record.get("seed")))}</div></td>')
        body.append(f'<tr><th scope="row">{esc(name)}</th>{"".join(tds)}</tr>')
    return (f'<table class="compare-table"><thead><tr><th></th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


@dataclass
class GenerateHandlers:
    generator: Generator
    storage: Storage
    index: HistoryIndex  # the recent gallery and typical durations
    # whoever runs the app (no login, or the admin): only they see setup steps in messages
    is_operator: Callable[[gr.Request | None], bool] = lambda request: True  # noqa: E731
    _stops: dict[str, set[threading.Event]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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
            raise fail(self.explain(exc, lang, None, request), lang) from None
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
        return str(rescued), {**exc.fields, "file": None, "saved": False, "warning": warning}

    # -- the page -----------------------------------------------------------------------

    def run(
        self,
        count: float | int,
        random_each: bool,
        tz: str | None,
        request: gr.Request,
        **form: Any,
    ) -> Iterator[tuple[Any, ...]]:
        """The one generation event of the page (Generate, Enter, Try again, Variation).

        `form`: the Generate form's fields by name, the names of `validate`'s parameters
        (`ui.common.Form.named`): declared there once, not again here.
        Yields (image, record, card, info line, batch gallery, status, stop, try again);
        errors go to the status line, where they stay until the next action.
        """
        lang = language(request)
        step = Steps(*RUN_OUTPUTS)  # every step whole: see webui/handlers/steps.py
        try:
            params = validate(**form)
            jobs = batch_params(params, int(count or 1), bool(random_each))
        except AppError as exc:
            yield step(**self.refusal(exc, lang, tz, request))
            return
        done: dict[int, dict[str, Any]] = {}
        for kind, value in self.progress(jobs, lang, tz, request):
            if kind == "record":
                done[value["__index"]] = record = value["record"]
                batch = {"batch": self._batch_gallery([done[i] for i in sorted(done)], lang)} if len(jobs) > 1 else {}
                yield step(**self._shown(str(self.storage.path_of(record)), record, lang, tz, request), **batch)
            elif kind == "rescued":
                path, record = value
                yield step(**self._shown(str(path), record, lang, tz, request))
            else:
                yield step(**job_state(kind, value))

    def compare(
        self,
        models: list[str],
        sizes: list[str],
        enhancement_both: bool,
        tz: str | None,
        request: gr.Request,
        **form: Any,
    ) -> Iterator[tuple[Any, ...]]:
        """Same prompt and seed across models/sizes/enhancement; the labelled grid fills as
        images finish. Axes left empty keep the form's value. `form`: as for `run`.

        Yields (grid HTML, status, stop, try again), like `run`.
        """
        lang = language(request)
        step = Steps(*GRID_OUTPUTS)
        try:
            params = validate(**form)
            jobs = compare_params(params, models, sizes, bool(enhancement_both))
        except AppError as exc:
            yield step(**self.refusal(exc, lang, tz, request))
            return
        cells: dict[int, dict[str, Any]] = {}
        for kind, value in self.progress(jobs, lang, tz, request):
            if kind == "record":
                cells[value["__index"]] = value["record"]
            grid = {"grid": compare_grid(jobs, cells, self.storage, lang)} if kind in ("start", "record") else {}
            yield step(**grid, **job_state(kind, value))

    def progress(self, jobs: Sequence[GenerationParams], lang: str, tz: str | None,
                  request: gr.Request) -> Iterator[tuple[str, Any]]:
        """Run `jobs`, telling what happens: ("start"|"status"|"stopping", html), ("record", {index, record}),
        ("rescued", (path, record)), and last ("end", (html, offer Try again)); `steps.job_state`
        says what each means for the page.

        Stop (see `stop`) keeps jobs not yet sent from being sent; those already with the
        API still land, are saved and shown.
        """
        stop = self._arm(request)
        started = time.monotonic()
        typical = self.typical_seconds(jobs[0].model, jobs[0].image_size)
        total, made, not_sent = len(jobs), 0, 0
        errors: list[BaseException] = []
        warnings: list[str] = []
        stopping = False
        try:
            yield "start", status.waiting(lang, total, 0, 0.0, typical)
            for index, outcome in self.generator.generate_many(jobs, user_of(request), stop):
                if stop.is_set() and not stopping:  # Stop was pressed meanwhile: its button stays off from now
                    stopping = True
                    yield "stopping", status.stopping(lang)
                if isinstance(outcome, StorageFailedError):
                    made += 1
                    warnings.append(self.explain(outcome, lang, tz, request))
                    yield "rescued", self._rescue(outcome, lang)
                elif isinstance(outcome, StoppedError):
                    not_sent += 1
                elif isinstance(outcome, BaseException):
                    errors.append(outcome)
                else:
                    made += 1
                    yield "record", {"__index": index, "record": self._warn_if_unindexed(outcome, lang)}
                if made + not_sent + len(errors) < total and not stop.is_set():
                    yield "status", status.waiting(lang, total, made, time.monotonic() - started, typical)
            yield "end", self._verdict(lang, tz, request, total, made, not_sent, errors, warnings,
                                       time.monotonic() - started, stop.is_set())
        finally:
            self._disarm(request, stop)

    def _verdict(self, lang: str, tz: str | None, request: gr.Request, total: int, made: int, not_sent: int,
                 errors: list[BaseException], warnings: list[str], seconds: float,
                 stopped: bool) -> tuple[str, bool]:
        """The last status line and whether to offer Try again."""
        reasons = [self.explain(error, lang, tz, request) for error in errors]  # logs every bug
        if stopped and (not_sent or not errors):
            return status.stopped(lang, made, not_sent), False
        if errors:
            reason = reasons[0]
            retry = not isinstance(errors[0], (DailyLimitError, InvalidInputError))
            return status.failed(lang, reason, partial=(made, total) if made else None), retry
        if warnings:
            return status.failed(lang, warnings[0]), False
        return status.done(lang, made, total, seconds), False

    def explain(self, error: BaseException, lang: str, tz: str | None, request: gr.Request | None) -> str:
        """The message for this visitor; what only the app's operator can fix, to them alone."""
        return explain(error, lang, tz, operator=self.is_operator(request))

    def refusal(self, error: AppError, lang: str, tz: str | None, request: gr.Request | None) -> dict[str, Any]:
        """A page run (Generate, Compare, Matrix) refused before anything was sent (bad input, the
        daily limit): the step that leaves its reason, for this visitor, in the status line."""
        return refused(status.failed(lang, self.explain(error, lang, tz, request)))

    # -- Stop -----------------------------------------------------------------------------

    def _arm(self, request: gr.Request) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._stops.setdefault(_session(request), set()).add(event)
        return event

    def _disarm(self, request: gr.Request, event: threading.Event) -> None:
        with self._lock:
            events = self._stops.get(_session(request))
            if events is not None:
                events.discard(event)
                if not events:
                    del self._stops[_session(request)]

    def stop(self, request: gr.Request) -> tuple[Any, Any]:
        """Stop this visitor's running jobs: nothing more is sent; what was sent still lands.

        Returns (status, stop button); a no-op (status unchanged) when nothing runs.
        """
        with self._lock:
            events = list(self._stops.get(_session(request), ()))
        if not events:
            return gr.skip(), stop_button(False)
        for event in events:
            event.set()
        return status.stopping(language(request)), stop_button(False)

    def typical_seconds(self, model: str, image_size: str) -> float | None:
        """Median inference of this app's last images with this model and size."""
        records = self.index.search("", 0, status.TYPICAL_SAMPLE, None, model=model, image_size=image_size)
        return status.typical_seconds(r.get("inference") for r in records)

    # -- quota ----------------------------------------------------------------------------

    def quota_left(self, request: gr.Request | None) -> tuple[int, int] | None:
        """(left, limit) today for a logged-in user with a daily limit, else None."""
        user = user_of(request)
        return self.generator.allowance(user) if user is not None else None

    def quota(self, request: gr.Request) -> gr.Markdown:
        """"2 of 3 left today" beside Generate (hidden without a daily limit)."""
        left = self.quota_left(request)
        if left is None:
            return gr.Markdown(visible=False)
        return gr.Markdown(i18n.label("quota_left", language(request), left=left[0], limit=left[1]), visible=True)

    def plan(self, count: float | int, request: gr.Request) -> str:
        """Before a batch: how many images a click makes, and a warning if over today's limit."""
        return self._plan_text(int(count or 1), request)

    def compare_plan(self, prompt: str, models: list[str], sizes: list[str], enhancement_both: bool,
                     request: gr.Request) -> tuple[str, str]:
        """The Compare tab's prompt line and "This makes N images" (with a quota warning)."""
        lang = language(request)
        n = max(1, len([m for m in models or [] if m and str(m).strip()])) * max(1, len(sizes or [])) * \
            (2 if enhancement_both else 1)
        shown = (prompt or "").strip()
        prompt_line = (i18n.label("compare_prompt", lang, prompt=as_text(shown)) if shown
                       else i18n.label("compare_no_prompt", lang))
        return prompt_line, self._plan_text(n, request)

    def _plan_text(self, n: int, request: gr.Request) -> str:
        lang = language(request)
        text = i18n.label("plan_one" if n == 1 else "plan_many", lang, n=n)
        left = self.quota_left(request)
        if left is not None and n > left[0]:
            text += " " + i18n.label("plan_over", lang, left=left[0], n=n)
        return status.plain(text)

    # -- pieces of the page ---------------------------------------------------------------

    def _shown(self, path: str, record: dict[str, Any], lang: str, tz: str | None,
               request: gr.Request) -> dict[str, Any]:
        """A finished picture under Result: the image, its record, settings card and info line."""
        return {"image": self._result_image(path, record), "record": record,
                "card": card.settings_card(record, lang, tz), "info": self.info_line(record, request)}

    @staticmethod
    def _result_image(path: str, record: dict[str, Any]) -> gr.Image:
        """The picture at `path` (the saved PNG, or a rescued one), described for screen readers by its prompt."""
        return gr.Image(value=path, alt_text=caption(record, 200))

    def _batch_gallery(self, records: list[dict[str, Any]], lang: str) -> list[GalleryItem]:
        return [(str(self.storage.thumbnail(r)), i18n.label("seed_caption", lang, seed=r.get("seed"))) for r in records]

    def info_line(self, record: dict[str, Any] | None, request: gr.Request) -> str:
        """Seed, time taken and file name under the result, in the visitor's language."""
        if not record:
            return ""
        lang = language(request)
        timing = card.made_in(record.get("inference"), lang) or i18n.label("inference_unknown", lang)
        file = record.get("file") or i18n.label("saved_elsewhere", lang)
        return i18n.label("info_line", lang, seed=record.get("seed"), inference=timing, file=file)

    # -- seeds and the recent gallery ----------------------------------------------------

    @staticmethod
    def last_seed(record: dict[str, Any] | None, previous: int | None) -> tuple[int | None, gr.Button]:
        """The seed of the picture shown last, and "Reuse last seed" enabled once there is one."""
        seed = (record or {}).get("seed")
        seed = seed if isinstance(seed, int) else previous
        return seed, gr.Button(interactive=seed is not None)

    @staticmethod
    def example(number: int) -> Callable[[gr.Request], str]:
        """An example prompt button's handler: the prompt in the visitor's language."""
        def fill(request: gr.Request) -> str:
            return i18n.label(f"example_{number}", language(request))
        return fill

    @staticmethod
    def reuse_seed(last: int | None, current: float | None) -> float | int | None:
        return last if last is not None else current

    @staticmethod
    def random_seed() -> int:
        return -1

    def recent(self, request: gr.Request) -> tuple[list[GalleryItem], list[str]]:
        """Thumbnails of the newest images (the visitor's own when logged in) and their ids."""
        records = self.index.search("", 0, RECENT, user=user_of(request))
        return [(str(self.storage.thumbnail(r)), caption(r)) for r in records], [r["id"] for r in records]

    def show_recent(self, ids: list[str], tz: str | None, evt: gr.SelectData, request: gr.Request) -> Any:
        """A click on a recent thumbnail shows that image full size with its details.

        Returns (image, record, card, info line, status): the status line clears.
        """
        index = evt.index if isinstance(evt.index, int) else -1
        record = self.index.get(ids[index]) if 0 <= index < len(ids) else None
        if record is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        lang = language(request)
        return (self._result_image(str(self.storage.path_of(record)), record), record, card.settings_card(record, lang, tz),
                self.info_line(record, request), "")


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
