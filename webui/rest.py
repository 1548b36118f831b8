"""A REST API for scripts at `/api/v1`, beside Gradio's own API, as `/sdapi/v1` is for AUTOMATIC1111.

    GET  /api/v1/history?q=&offset=&limit=   records, newest first (the page's query tokens)
    GET  /api/v1/images/{id}                 one record
    GET  /api/v1/images/{id}/png             the saved PNG, byte for byte (someone else's: as they may read it)
    POST /api/v1/generate                    JSON in, the saved record out (waits for the image)
    GET  /api/v1/docs                        OpenAPI documentation (schema at /api/v1/openapi.json),
                                             behind the same login as the rest

One plain HTTP request per call: no queue, no event stream, no per-call Gradio session,
so a listing costs about what its SQLite query and JSON cost (bench/scale.py).

The rules are the page's, taken from the same objects: the visitor is the Gradio login
cookie's user or a personal API token's (`Authorization: Bearer ...`); with logins on,
nobody else gets an answer. Listing goes through `HistoryHandlers.history` (validation,
query tokens, private history), a single image through `Access.may_see`,
generating through `Generator.generate` (validation, daily limit, the concurrency cap).
Errors are JSON `{"error": {"code", "message"}}`, the message in the visitor's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr
import orjson
from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from . import i18n
from .errors import AppError, DailyLimitError, ImageApiError, InvalidInputError, StorageFailedError, render
from .generator import DEFAULT_MODEL, DEFAULT_SIZE, MAX_SEED, RANDOM_SEED, Generator, validate
from .guard import current_user
from .handlers import HistoryHandlers
from .history import MAX_LIMIT
from .storage import Storage

PREFIX = "/api/v1"
TokenCheck = Callable[[str], "str | None"]  # a personal API token -> its user, or None


class Record(BaseModel):
    """A saved image's record (the same dict `/history` returns over Gradio's API)."""

    id: str
    prompt: str
    model: str
    image_size: str
    prompt_enhancement: bool = False
    seed: int | None = None
    inference: float | None = None
    file: str | None = None
    created_at: str
    user: str | None = None
    starred: bool = False
    rating: int = 0
    boards: list[str] = []

    model_config = {"extra": "allow"}


class GenerateRequest(BaseModel):
    prompt: str = Field(description="what the picture should show (up to 2000 characters)")
    model: str = Field(DEFAULT_MODEL, description="model name")
    image_size: str = Field(DEFAULT_SIZE, description="one of the six sizes, e.g. 1024x1024")
    prompt_enhancement: bool = Field(False, description="let the service enrich the prompt")
    seed: int | None = Field(RANDOM_SEED, description=f"0-{MAX_SEED} for a reproducible picture; -1 or null for random")


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorAnswer(BaseModel):
    error: ErrorBody


@dataclass(frozen=True)
class Visitor:
    """Who is asking, shaped like the part of `gr.Request` the handlers read."""

    username: str | None
    headers: Mapping[str, str]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


# Typed failures of a generation and the HTTP status each answers with.
_STATUS: tuple[tuple[type[AppError], int], ...] = (
    (InvalidInputError, 400),
    (DailyLimitError, 429),
    (StorageFailedError, 507),
    (ImageApiError, 502),
)


def status_of(error: AppError) -> int:
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 500)


class _KeepGradioApp:
    """Mounted apps replace `scope["app"]`; keep Gradio's (its login tokens) for `current_user`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("gradio_app", scope.get("app"))
        await self.app(scope, receive, send)


def build_rest(
    storage: Storage,
    generator: Generator,
    history: HistoryHandlers,
    *,
    login_required: bool,
    token_user: TokenCheck | None = None,
    copy_for: Callable[[Path, str | None], bytes | None] | None = None,
) -> ASGIApp:
    """The `/api/v1` app, to mount on Gradio's (see `App.launch_kwargs`).

    `copy_for` is `ServedFiles.copy_for`: another user's image goes as they may read it."""
    api = FastAPI(
        title="YUNYX text to image: REST API",
        version="1",
        description=__doc__.split("\n\n")[0] + " Log in with the page's cookie or `Authorization: Bearer <token>`.",
        docs_url=None,  # served below, behind the login like every other route
        redoc_url=None,
        openapi_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    errors: dict[int | str, dict[str, Any]] = {401: {"model": ErrorAnswer}, 400: {"model": ErrorAnswer},
                                               404: {"model": ErrorAnswer}}

    def visitor(request: Request) -> tuple[Visitor, str]:
        lang = i18n.pick_language(request.headers.get("accept-language"))
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            user = token_user(auth[7:].strip()) if token_user is not None else None
            if user is None:
                raise ApiError(401, "bad_token", i18n.message("api_bad_token", lang))
        else:
            user = current_user({**request.scope, "app": request.scope.get("gradio_app")})
            if user is None and login_required:
                raise ApiError(401, "login_required", i18n.message("api_login_required", lang))
        return Visitor(user, request.headers), lang

    def not_found(lang: str) -> ApiError:
        return ApiError(404, "not_found", i18n.message("not_found", lang))

    def visible_record(record_id: str, who: Visitor, lang: str) -> dict[str, Any]:
        record = history.index.get(record_id)
        if record is None or not history.access.may_see(record, who.username):  # another's image: as if absent
            raise not_found(lang)
        return record

    @api.exception_handler(ApiError)
    async def answer_error(request: Request, exc: ApiError) -> Response:
        return json_response({"error": {"code": exc.code, "message": exc.message}}, exc.status)

    @api.exception_handler(RequestValidationError)
    async def answer_bad_request(request: Request, exc: RequestValidationError) -> Response:
        """FastAPI's own refusals (a limit out of range, a body that is not JSON) in the same shape."""
        where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors())
        return json_response({"error": {"code": "bad_request", "message": where[:500]}}, 400)

    @api.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> Response:
        visitor(request)
        return json_response(api.openapi())

    @api.get("/docs", include_in_schema=False)
    def docs(request: Request) -> Response:
        visitor(request)
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(openapi_url=root + "/openapi.json", title=api.title)

    @api.get("/history", response_model=list[Record], responses=errors, summary="Saved images, newest first")
    def list_history(
        request: Request,
        q: str = Query("", description="text to find in the prompt, with filter tokens (is:starred, "
                                       "rating:>=4, board:NAME, model:NAME, size:WxH, user:NAME, seed:N, "
                                       "after:YYYY-MM-DD, before:YYYY-MM-DD; a leading - excludes)"),
        offset: int = Query(0, ge=0, description="how many of the newest records to skip"),
        limit: int = Query(50, ge=1, le=MAX_LIMIT, description=f"how many records (1-{MAX_LIMIT})"),
    ) -> Response:
        who, lang = visitor(request)
        try:
            records = history.history(q, offset, limit, request=who)  # type: ignore[arg-type]
        except gr.Error as exc:  # the page's own refusal (a malformed token...), in the visitor's words
            raise ApiError(400, "bad_query", str(exc.message)) from None
        return json_response(records)

    @api.get("/images/{record_id}", response_model=Record, responses=errors, summary="One saved image's record")
    def get_image(request: Request, record_id: str) -> Response:
        who, lang = visitor(request)
        return json_response(history.access.readable(visible_record(record_id, who, lang), who.username))

    @api.get("/images/{record_id}/png", response_class=FileResponse, responses=errors,
             summary="The saved PNG, with its metadata chunks")
    def get_png(request: Request, record_id: str) -> Response:
        who, lang = visitor(request)
        record = visible_record(record_id, who, lang)
        try:
            path = storage.path_of(record)
        except ValueError:
            raise not_found(lang) from None
        if not path.is_file():
            raise not_found(lang)
        try:
            copy = copy_for(path, who.username) if copy_for is not None else None
        except ValueError:
            raise not_found(lang) from None
        if copy is not None:  # someone else's: their curation cut out of the chunks
            return Response(copy, media_type="image/png", headers={
                "Cache-Control": "private, no-cache", "Content-Disposition": f'inline; filename="{quote(path.name)}"'})
        # private: a shared proxy must not hand one user's image to another
        return FileResponse(path, media_type="image/png", filename=path.name,
                            content_disposition_type="inline", headers={"Cache-Control": "private, max-age=3600"})

    @api.post("/generate", response_model=Record, responses={**errors, 429: {"model": ErrorAnswer},
                                                            502: {"model": ErrorAnswer}},
              summary="Generate one image; answers when it is saved")
    async def generate(request: Request, body: GenerateRequest) -> Response:
        who, lang = visitor(request)
        try:
            params = validate(body.prompt, body.model, body.image_size, body.prompt_enhancement, body.seed)
            record = await run_in_threadpool(generator.generate, params, who.username)
        except AppError as exc:
            raise ApiError(status_of(exc), exc.code, render(exc, lang)) from None
        return json_response(record)

    return _KeepGradioApp(api)


def json_response(value: Any, status: int = 200) -> Response:
    """JSON without FastAPI's validation pass: records are already plain JSON values."""
    return Response(orjson.dumps(value), status_code=status, media_type="application/json")
